"""Glued values pasted into a notebook's prose, as MyST-NB pastes them.

A Markdown cell may show a value that a code cell glued (`myst_nb.glue`, `scrapbook.glue`):
roles inline, ``{glue}`key` `` (also `{glue:}`, `{glue:any}`: its richest representation),
``{glue:text}`key:.2f` `` (its text, with a format spec for numbers), ``{glue:md}`key` ``; and
directives on their own, fenced with backticks or colons: ```` ```{glue} key ```` (`{glue:any}`),
`{glue:figure}` (its body after the `:name:` options a caption), `{glue:math}`, `{glue:md}`.

The reference becomes a placeholder word before the site's Markdown renders the cell, and the
value's HTML (escaped text, sanitised HTML, MathJax, an image) takes its place afterwards, so the
Markdown engine never reads a value. Images point at `PASTED_FILES`, which each page replaces
with the folder it writes the notebook's figures to (`located`). A key that names no glued value
in this notebook (another notebook's, `nb.ipynb::key`) stays as written.
"""

from __future__ import annotations

import ast
import html
import re
from dataclasses import dataclass

from reportgen.read.markdown import Chunk, Heading, SiteMarkdown, inline_html, split_at_headings
from reportgen.read.model import Output
from reportgen.safe import sanitize_html

PASTED_FILES = "rg-pasted-files"  # stands for the page's figures folder in prose HTML
DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{glue(?::(?P<kind>any|figure|math|md|text)?)?\}[ \t]+(?P<key>\S+)"
                       r"[ \t]*\n(?P<body>.*?)(?:^(?P=fence)[ \t]*$|\Z)", re.M | re.S)
ROLE = re.compile(r"\{glue(?::(?P<kind>any|text|md)?)?\}`(?P<key>[^`\n]+)`")
OPTION = re.compile(r"^:[\w-]+:.*$")
TOKEN = "rgpasted{}z"
TOKENS = re.compile(r"(<p>)?rgpasted(\d+)z(</p>)?")


@dataclass
class Value:
    """A glued value: what the page shows of it, and its text/plain (what `{glue:text}` pastes)."""

    output: Output
    text: str


def blocks(engine: SiteMarkdown, text: str, glued: dict[str, Value]) -> list[Heading | Chunk]:
    """One Markdown cell split at its headings, with the glued values it references in place."""
    if "{glue" not in text or not glued:
        return engine.blocks(text)
    pasted: list[tuple[str, str]] = []  # (inline HTML, block HTML) per placeholder

    def directive(match):
        value = glued.get(match["key"])
        if value is None:
            return match.group(0)
        body = "\n".join(line for line in match["body"].strip("\n").splitlines() if not OPTION.match(line))
        caption = inline_html(_with_values(engine, body.strip(), glued)) if match["kind"] == "figure" else ""
        pasted.append(("", _block(value.output, match["kind"] or "any", caption)))
        return "\n\n" + TOKEN.format(len(pasted) - 1) + "\n\n"

    def role(match):
        key, _, spec = match["key"].partition(":") if match["kind"] == "text" else (match["key"], "", "")
        value = glued.get(key)
        if value is None:
            return match.group(0)
        pasted.append((_inline(value, match["kind"] or "any", spec), ""))
        return TOKEN.format(len(pasted) - 1)

    source = ROLE.sub(role, DIRECTIVE.sub(directive, text))
    if not pasted:
        return engine.blocks(text)

    def placed(match):
        inline, block = pasted[int(match.group(2))]
        if block and match.group(1) and match.group(3):
            return block
        return (match.group(1) or "") + (inline or block) + (match.group(3) or "")

    result = []
    for part in split_at_headings(engine.html(source)):
        if isinstance(part, Heading):
            plain = TOKENS.sub(lambda m: _text_of(pasted[int(m.group(2))][0] or pasted[int(m.group(2))][1]), part.title)
            result.append(Heading(part.level, plain))
        else:
            result.append(Chunk(sanitize_html(TOKENS.sub(placed, part.html))))
    return result


def located(prose: str, folder: str) -> str:
    """Prose HTML with its pasted images pointing at the page's figures folder."""
    return prose.replace(f'src="{PASTED_FILES}/', f'src="{html.escape(folder)}/') if PASTED_FILES in prose else prose


def _with_values(engine: SiteMarkdown, text: str, glued: dict[str, Value]) -> str:
    """A caption's Markdown as HTML, its roles pasted."""
    return "".join(part.html if isinstance(part, Chunk) else html.escape(part.title)
                   for part in blocks(engine, text, glued)) if text else ""


def _inline(value: Value, kind: str, spec: str) -> str:
    output = value.output
    if kind == "text" or (kind == "any" and output.kind in ("result", "stdout")):
        return f'<span class="rg-pasted">{html.escape(_formatted(value.text, spec if kind == "text" else None))}</span>'
    if output.kind == "figure":
        return f'<img src="{PASTED_FILES}/{html.escape(output.file)}" alt="{html.escape(output.alt or output.glue or "")}">'
    if output.kind == "latex":
        return f'<span class="arithmatex">\\({html.escape(output.text, quote=False)}\\)</span>'
    if output.kind in ("markdown", "html"):
        return inline_html(output.html) if kind == "md" or output.kind == "markdown" else output.html
    return html.escape(output.text)


def _block(output: Output, kind: str, caption: str) -> str:
    if output.kind == "figure":
        figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
        return (f'<figure class="rg-output rg-figure"><img src="{PASTED_FILES}/{html.escape(output.file)}" '
                f'alt="{html.escape(output.alt or output.glue or "")}">{figcaption}</figure>')
    if output.kind == "latex" or kind == "math":
        return f'<div class="rg-output arithmatex">\\[{html.escape(output.text, quote=False)}\\]</div>'
    if output.kind in ("html", "markdown"):
        return f'<div class="rg-output rg-output-{output.kind}">{output.html}</div>'
    return f'<pre class="rg-output rg-result"><code>{html.escape(output.text, quote=False)}</code></pre>'


def _formatted(text: str, spec: str | None) -> str:
    """A value's text as `{glue:text}` shows it: a string without its quotes, a number formatted."""
    if spec is None:
        return text
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    if isinstance(value, str):
        return value
    try:
        return format(value, spec) if spec else str(value)
    except (ValueError, TypeError):
        return text


def _text_of(fragment: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(fragment, "html.parser").get_text(" ", strip=True)
