"""Read an executed notebook on its own: headings, outputs, cell timings, publishing tags.

Any notebook papermill executed becomes a page without any reportgen code in it:
- its Markdown headings group the code cells into sections, in order, each timed with the
  durations papermill writes in `cell.metadata.papermill.duration`;
- image outputs become figures, printed text becomes text, HTML outputs (DataFrames) become
  tables (sanitised as nbconvert's `SanitizeHTML` does: no scripts, no event handlers), errors
  become errors;
- output noise (stderr warnings, progress bars, TensorFlow/absl log lines) is left out of the
  pages and kept in the executed notebook file;
- the Jupyter Book / MyST-NB cell tags decide what a reader sees: `remove-cell`, `remove-input`,
  `remove-output` drop, `hide-input`, `hide-output` collapse (a `??? ` details block).

`harvest_notebook` feeds the run page, `notebook_markdown` the notebook page; both show every
string from the notebook literally (escaped) and every HTML output sanitised.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from reportgen.results import NotebookHarvest, Output, Section

REMOVE_CELL, REMOVE_INPUT, REMOVE_OUTPUT = "remove-cell", "remove-input", "remove-output"
HIDE_INPUT, HIDE_OUTPUT = "hide-input", "hide-output"
PAPERMILL_TAGS = {"parameters", "injected-parameters"}  # values, not results: not on the run page
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg"}  # base64 in the notebook
SVG = "image/svg+xml"
WIDGET = "application/vnd.jupyter.widget-view+json"

# Lines that are log or progress noise, not results (the executed notebook keeps them).
NOISE_LINES = re.compile("|".join([
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d",  # absl/glog: I0000 00:00:1732... file.cc:12] ...
    r"^WARNING: All log messages before absl::InitializeLog\(\)",
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.,]\d+: [IWEF] ",  # TensorFlow C++ logging
    r"━",  # Keras progress bars
    r"\d+%\|",  # tqdm
    r"^Epoch \d+/\d+\s*$",  # Keras' epoch counter above its progress bar
    r"^\d+/\d+ - \d+m?s - ",  # Keras' per-epoch log line (verbose=2)
    r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:",  # Python logging's default format (tensorflow, absl)
]))
MATPLOTLIB_REPRS = re.compile(r"^(<Figure size .*>|\[?<matplotlib\..* at 0x[0-9a-f]+>.*|Text\(.*\))$", re.S)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CODE_IN_MARKDOWN = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]+`)", re.S)  # split keeps them at odd indexes
# A relative link or image in a notebook's Markdown points next to the notebook, not into the site:
# MkDocs (strict) would fail the build on it, so it is shown as its text.
RELATIVE_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\((?![a-zA-Z][\w+.-]*:|#|/)[^)\s]+(?:\s+\"[^\"\n]*\")?\)")
EVENT_ATTRIBUTES = re.compile(r"\{[^}\n]*\bon\w+\s*=[^}\n]*\}")  # attr_list: `{ onclick=... }`

SAFE_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "div", "em", "h1", "h2", "h3",
             "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "small", "span", "strong",
             "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"}
SAFE_ATTRIBUTES = {"*": ["class", "title"], "a": ["href", "title", "id"], "img": ["src", "alt", "title"],
                   "td": ["colspan", "rowspan", "align"], "th": ["colspan", "rowspan", "align"]}
DROPPED_WITH_CONTENT = ["script", "style", "iframe", "object", "embed", "template", "noscript"]


# ---------------------------------------------------------------------- cleaning

def sanitize_html(html: str) -> str:
    """HTML from a notebook with nbconvert's sanitiser (bleach), allowing tables; scripts, styles and
    event handlers are dropped. Blank lines are removed so Markdown keeps it one HTML block."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(DROPPED_WITH_CONTENT):
        element.decompose()
    clean = _sanitizer().sanitize_html_tags(str(soup))
    return "\n".join(line for line in clean.splitlines() if line.strip())


def _sanitizer():
    """nbconvert's SanitizeHTML with tables allowed and no inline styles."""
    from bleach.css_sanitizer import CSSSanitizer
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    sanitizer = SanitizeHTML(tags=sorted(SAFE_TAGS), attributes=SAFE_ATTRIBUTES, strip=True,
                             safe_protocols={"http", "https", "mailto"})
    sanitizer.css_sanitizer = CSSSanitizer(allowed_css_properties=[])
    return sanitizer


def sanitize_markdown(text: str) -> str:
    """A notebook's Markdown with its raw HTML sanitised (code spans and blocks left as written, since
    Markdown shows them literally) and attribute lists carrying event handlers removed."""
    text = no_snippets(text)
    sanitizer = _sanitizer()
    sanitizer.strip = False  # an unknown tag in prose ("<corrida>") stays visible as text
    parts = CODE_IN_MARKDOWN.split(text)
    return "".join(part if index % 2 else _clean_prose(sanitizer, part) for index, part in enumerate(parts))


def _clean_prose(sanitizer, text: str) -> str:
    text = RELATIVE_LINK.sub(lambda m: f"*{m.group(2)}*" if m.group(1) else m.group(2), text)
    text = EVENT_ATTRIBUTES.sub("", text)
    if "<" not in text:
        return text
    return sanitizer.sanitize_html_tags(text).replace("&gt;", ">")  # Markdown needs '>' for quotes


def no_snippets(text: str) -> str:
    """Keep pymdownx.snippets from reading `--8<--` in notebook text as an include of another file."""
    return text.replace("--8<--", "-\u200b-8<--")


def clean_text(text: str) -> str:
    """Printed text without progress bars, log lines and terminal colours."""
    text = ANSI.sub("", text)
    lines: list[str] = []
    for line in text.splitlines():
        line = line.rsplit("\r", 1)[-1].rstrip()  # what a terminal leaves after carriage returns
        if NOISE_LINES.search(line) or (not line and (not lines or not lines[-1])):
            continue  # noise, or a second blank line in a row (what noise leaves behind)
        lines.append(line)
    return "\n".join(lines).strip("\n")


def fenced(text: str, language: str = "text") -> str:
    """A code block that shows `text` literally, whatever backticks it contains."""
    text = no_snippets(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []) or [])


# --------------------------------------------------------------------- outputs

def cell_outputs(cell, index: int) -> list[Output]:
    """The outputs of one code cell that a page shows, noise left out."""
    if _tags(cell) & {REMOVE_CELL, REMOVE_OUTPUT}:
        return []
    hidden = HIDE_OUTPUT in _tags(cell)
    outputs: list[Output] = []
    for number, output in enumerate(cell.get("outputs", [])):
        item = _output(output, f"celda{index}-{number}")
        if item is None:
            continue
        item.hidden = hidden
        if item.kind == "text" and outputs and outputs[-1].kind == "text":
            outputs[-1].text += "\n" + item.text  # one block for what one cell printed
        else:
            outputs.append(item)
    return outputs


def _output(output, stem: str) -> Output | None:
    kind = output.get("output_type")
    if kind == "stream":
        if output.get("name") != "stdout":
            return None  # warnings and logs go to stderr
        text = clean_text(_joined(output.get("text", "")))
        return Output("text", text=text) if text else None
    if kind == "error":
        trace = ANSI.sub("", "\n".join(output.get("traceback", [])[-20:]))
        return Output("error", text=trace or f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
    if kind in ("display_data", "execute_result"):
        return _rich(output.get("data", {}), stem)
    return None


def _rich(data: dict, stem: str) -> Output | None:
    if WIDGET in data:
        return None  # live widgets (tqdm.notebook bars, sliders) mean nothing on a static page
    for mime, suffix in IMAGE_TYPES.items():
        if mime in data:
            return Output("figure", data=base64.b64decode(_joined(data[mime])), file=f"{stem}.{suffix}")
    if SVG in data:  # shown through <img>, where a browser runs no script inside it
        return Output("figure", data=_joined(data[SVG]).encode("utf-8"), file=f"{stem}.svg")
    if "text/markdown" in data:
        return Output("markdown", text=sanitize_markdown(_joined(data["text/markdown"])))
    if "text/html" in data:
        html = sanitize_html(_joined(data["text/html"]))
        return Output("table", text=html) if html else None
    if "text/plain" in data:
        text = clean_text(_joined(data["text/plain"]))
        if text and not MATPLOTLIB_REPRS.match(text):
            return Output("text", text=text)
    return None


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


# --------------------------------------------------------------------- harvest

def harvest_notebook(path: Path) -> NotebookHarvest | None:
    """Sections, outputs and timings of an executed notebook (None when there is no notebook)."""
    import nbformat

    path = Path(path)
    if not path.exists():
        return None
    nb = nbformat.read(str(path), as_version=4)
    harvest = NotebookHarvest(title=None, intro="")
    current: Section | None = None
    for index, cell in enumerate(nb.cells):
        if REMOVE_CELL in _tags(cell):
            continue
        if cell.cell_type == "markdown":
            current = _markdown_cell(harvest, current, _source(cell))
        elif cell.cell_type == "code" and not (_tags(cell) & PAPERMILL_TAGS):
            if current is None:
                current = Section(title=harvest.title or "", level=1)
                harvest.sections.append(current)
            _add_code_cell(current, cell, index)
    harvest.sections = [s for s in harvest.sections if s.seconds is not None or s.outputs or s.prose]
    return harvest


def _markdown_cell(harvest: NotebookHarvest, current: Section | None, text: str) -> Section | None:
    """A heading starts a section; the notebook's first level-1 heading is its title; the first
    Markdown is the notebook's introduction; later Markdown stays in place among the outputs."""
    lines = text.strip().splitlines()
    heading = HEADING.match(lines[0]) if lines else None
    body = _subheadings(sanitize_markdown("\n".join(lines[1:] if heading else lines).strip()))
    first = harvest.title is None and not harvest.sections and not harvest.intro
    if heading and first and len(heading.group(1)) == 1:
        harvest.title, harvest.intro = heading.group(2), body
        return current
    if first:
        harvest.intro = body
    if heading:
        section = Section(title=heading.group(2), level=len(heading.group(1)), prose=body)
        harvest.sections.append(section)
        return section
    if current is not None and body:
        current.outputs.append(Output("markdown", text=body))
    elif not first and body:
        harvest.intro = f"{harvest.intro}\n\n{body}".strip()
    return current


def _subheadings(markdown: str) -> str:
    """Headings inside a section's Markdown sit below the section's own (level 3 on the page)."""
    out, fence = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        match = None if fence else HEADING.match(line)
        out.append(f"#### {match.group(2)}" if match else line)
    return "\n".join(out)


def _add_code_cell(section: Section, cell, index: int) -> None:
    duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
    if isinstance(duration, (int, float)):
        section.seconds = (section.seconds or 0.0) + float(duration)
    section.outputs += cell_outputs(cell, index)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ Markdown

def output_markdown(output: Output, figures_dir: str = "figures", labels: dict | None = None) -> str:
    """One output as Markdown: figures as images, text and errors literally, tables sanitised."""
    labels = labels or {}
    if output.kind == "figure":
        body = f"![]({figures_dir}/{output.file}){{ loading=lazy }}"
    elif output.kind == "table":
        body = f'<div class="rg-output-table" markdown="0">\n{output.text}\n</div>'
    elif output.kind == "markdown":
        body = output.text
    elif output.kind == "error":
        body = f'!!! failure "Error"\n\n{_indent(fenced(output.text))}'
    else:
        body = fenced(output.text)
    if output.hidden:
        return f'??? note "{labels.get("salida", "Output")}"\n\n{_indent(body)}'
    return body


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else "" for line in text.splitlines())


def notebook_markdown(nb, files_dir: str, labels: dict | None = None) -> tuple[str, dict[str, bytes]]:
    """The whole notebook as a page: code, outputs and Markdown, tags honoured, nothing live.

    Returns the Markdown and the image files it links to ({relative path: bytes}), like nbconvert's
    MarkdownExporter, whose output would pass a notebook's HTML and Markdown through unsanitised.
    """
    labels = labels or {}
    parts, files = [], {}
    for index, cell in enumerate(nb.cells):
        tags = _tags(cell)
        if REMOVE_CELL in tags:
            continue
        if cell.cell_type == "markdown":
            parts.append(sanitize_markdown(_source(cell)))
            continue
        if cell.cell_type != "code":
            continue
        if REMOVE_INPUT not in tags and _source(cell).strip():
            code = fenced(_source(cell), "python")
            parts.append(f'??? note "{labels.get("codigo", "Code")}"\n\n{_indent(code)}'
                         if HIDE_INPUT in tags else code)
        for output in cell_outputs(cell, index):
            if output.kind == "figure":
                files[f"{files_dir}/{output.file}"] = output.data
            parts.append(output_markdown(output, files_dir, labels))
    return "\n\n".join(parts) + "\n", files
