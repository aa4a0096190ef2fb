"""A notebook's sections as HTML for its pages, and the whole-notebook page.

The pages' Markdown carries only the section headings (escaped text, so the table of contents
and permalinks are MkDocs' own); each section's body is HTML made here, sanitised as a whole, and
stands in the Markdown as a placeholder (`reportgen.render.fragments`) that the MkDocs plugin
swaps for it after Markdown has run. So no Markdown extension ever reads a notebook's text.

The markup is Material's: admonitions for errors, `<details class="note">` for what a tag hides
(`hide-input`, `hide-output`, `hide-cell`), Pygments' code blocks, MathJax's `arithmatex` class.
"""

from __future__ import annotations

import html

from reportgen.read.markdown import SiteMarkdown
from reportgen.read.model import HIDE_CELL, HIDE_INPUT, Cell, NotebookHarvest, Output, Prose, Section
from reportgen.read.pasted import located
from reportgen.safe import sanitize_html

FAILED_ANCHOR = "nb-celda-fallida"  # the failing cell on a notebook page (ids from notebooks start nb-)


def output_html(output: Output, t: dict, figures_dir: str, notebook_link: str) -> str:
    """One output as HTML; a cut one ends with a note linking to the full executed notebook."""
    if output.kind == "figure":
        size = "".join(f' {name}="{value}"' for name, value in (("width", output.width), ("height", output.height))
                       if value)
        caption = f"<figcaption>{output.caption}</figcaption>" if output.caption else ""
        body = (f'<figure class="rg-output rg-figure"><img src="{html.escape(figures_dir)}/{html.escape(output.file)}"'
                f' alt="{html.escape(output.alt)}"{size} loading="lazy">{caption}</figure>')
    elif output.kind in ("html", "markdown"):
        body = f'<div class="rg-output rg-output-{output.kind}">{output.html}</div>' if output.html else ""
    elif output.kind == "latex":
        formula = html.escape(output.text, quote=False)
        math = formula if output.text.lstrip().startswith("\\begin") else f"\\[{formula}\\]"
        body = f'<div class="rg-output arithmatex">{math}</div>'
    elif output.kind == "error":
        body = (f'<div class="admonition failure rg-output rg-error"><p class="admonition-title">'
                f'{html.escape(output.alt or "Error")}</p><pre><code>{html.escape(output.text, quote=False)}'
                f'</code></pre></div>')
    else:  # stdout, stderr, result: text as the terminal left it
        body = (f'<pre class="rg-output rg-{output.kind}"><code>{html.escape(output.text, quote=False)}'
                f'</code></pre>')
    if output.cut is not None:
        note = t["salida_recortada"].format(shown=output.cut.shown, total=output.cut.total)
        body += (f'<p class="rg-cut"><small>{html.escape(note)} <a href="{html.escape(notebook_link)}">'
                 f'{html.escape(t["notebook_completo"])}</a></small></p>')
    return body


def _details(summary: str, body: str, prompt: str = "") -> str:
    """What a tag hides, collapsed; `prompt`: the cell's own words for it (MyST-NB's
    `code_prompt_show`, its `{type}` the part's name)."""
    if prompt:
        summary = prompt.replace("{type}", summary.lower())
    return f'<details class="note"><summary>{html.escape(summary)}</summary>{body}</details>'


def cell_html(cell: Cell, engine: SiteMarkdown, t: dict, figures_dir: str, notebook_link: str,
              with_input: bool, skip_figures: frozenset[str] = frozenset()) -> str:
    """A code cell: its input (on the notebook page, or when it is the failing cell) and outputs."""
    outputs = "".join(output_html(o, t, figures_dir, notebook_link) for o in cell.outputs
                      if not (o.kind == "figure" and _digest(o.data) in skip_figures))
    if outputs and any(o.hidden for o in cell.outputs) and HIDE_CELL not in cell.tags:
        outputs = _details(t["salida"], outputs, cell.prompt)
    code = ""
    if (with_input or cell.failed) and cell.input_shown:
        code = engine.code(cell.source)
        if HIDE_INPUT in cell.tags and HIDE_CELL not in cell.tags:
            code = _details(t["codigo"], code, cell.prompt)
    body = code + outputs
    if HIDE_CELL in cell.tags and body:
        body = _details(t["celda"] if with_input else t["salida"], body, cell.prompt)
    if cell.failed:
        body = f'<div id="{FAILED_ANCHOR}" class="rg-failed-cell">{body}</div>'
    return body


def section_html(section: Section, engine: SiteMarkdown, t: dict, figures_dir: str, notebook_link: str,
                 with_input: bool = False, skip_figures: frozenset[str] = frozenset()) -> str:
    """A section's body, sanitised as a whole: its prose and cells in notebook order.

    The run page leaves out the parameters cells (values, not results) and every cell's input
    but the failing one's; the notebook page shows them all."""
    parts = []
    for part in section.parts:
        if isinstance(part, Prose):
            parts.append(located(part.html, figures_dir))
        elif with_input or not part.is_parameters:
            parts.append(cell_html(part, engine, t, figures_dir, notebook_link, with_input, skip_figures))
    return sanitize_html("\n".join(p for p in parts if p))


def shown_on_run_page(section: Section) -> bool:
    """A section with something for the run page (not only a parameters cell)."""
    return bool(section.prose.strip()) or any(c.outputs or c.failed for c in section.cells if not c.is_parameters) \
        or bool(section.title)


def notebook_page(harvest: NotebookHarvest, engine: SiteMarkdown, t: dict, files_dir: str, notebook_link: str,
                  fragment, escape) -> str:
    """The whole executed notebook as a page: Markdown headings, each section's body a fragment.

    `fragment(html)` stores a sanitised HTML body and returns the placeholder that stands for it;
    `escape(text)` makes a heading's text literal Markdown."""
    parts = []
    if harvest.title:
        parts.append(f"## {escape(harvest.title)}")
    if harvest.preamble:
        parts.append(fragment(sanitize_html(located(harvest.preamble, files_dir))))
    top = 3 if harvest.title else 2  # below the notebook's own title, or right below the page's
    for section in harvest.sections:
        if section.title:
            parts.append(f"{'#' * min(6, top + section.level)} {escape(section.title)}")
        body = section_html(section, engine, t, files_dir, notebook_link, with_input=True)
        if body.strip():
            parts.append(fragment(body))
    return "\n\n".join(parts) + "\n"


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
