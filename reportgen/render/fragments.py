"""Notebook HTML on a page, out of reach of Markdown: placeholders swapped after rendering.

Python-Markdown's preprocessors (pymdownx.superfences, pymdownx.snippets) read a page's raw text
before raw HTML is set aside, so sanitised HTML pasted into a page's Markdown would not be inert:
a fence inside an output, or `--8<--`, would be read again. Instead a page's Markdown holds a
placeholder paragraph per notebook part (`rgnb` and a digest: a word no extension changes), and:

- the MkDocs plugin swaps each `<p>placeholder</p>` for its HTML in `on_page_content`, after
  Markdown and before the search plugin indexes the page;
- `render --out` writes the HTML itself into the Markdown, with the characters that Markdown's
  preprocessors look for (backticks, tildes) written as character references.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "rgnb"
PLACEHOLDER = re.compile(rf"<p>({PREFIX}[0-9a-f]{{32}})</p>")
IN_MARKDOWN = re.compile(rf"^({PREFIX}[0-9a-f]{{32}})$", re.M)
INERT = str.maketrans({"`": "&#96;", "~": "&#126;"})


class Fragments(dict):
    """Placeholder -> sanitised HTML, for the pages of one build."""

    def add(self, html: str) -> str:
        """The placeholder paragraph for `html` (already sanitised)."""
        key = PREFIX + hashlib.sha256(html.encode("utf-8")).hexdigest()[:32]
        self[key] = html
        return f"\n\n{key}\n\n"

    def used_by(self, markdown: str) -> dict[str, str]:
        return {key: self[key] for key in IN_MARKDOWN.findall(markdown) if key in self}


def swap(page_html: str, fragments: dict[str, str]) -> str:
    """A rendered page with each placeholder replaced by its HTML (an unknown one by nothing)."""
    if PREFIX not in page_html:
        return page_html
    return PLACEHOLDER.sub(lambda match: fragments.get(match.group(1), ""), page_html)


def inline(markdown: str, fragments: dict[str, str]) -> str:
    """A page's Markdown with the HTML in place of its placeholders, inert for Markdown."""
    if PREFIX not in markdown:
        return markdown
    return IN_MARKDOWN.sub(lambda match: '<div class="rg-notebook" markdown="0">\n'
                           + fragments.get(match.group(1), "").translate(INERT) + "\n</div>", markdown)
