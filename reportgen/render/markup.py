"""Escaping for text that reaches a page's Markdown: data and user strings render as text, never markup."""

from __future__ import annotations

import html

from reportgen.safe import printable
import re

# Parentheses stay as they are: "\(" would start a MathJax formula, and without "[" they link nothing.
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]#+\-.!|~>])")
CODE_SPECIALS = re.compile(r"[\\`*_{}\[\]()#+\-.!|~>:$^=]")


def md_text(value) -> str:
    """Escape a dataset- or user-derived string so it renders as text, never as markup."""
    text = html.escape(printable(str(value)), quote=False)
    text = MARKDOWN_SPECIALS.sub(r"\\\1", text).replace("$", "&#36;")  # "$x$" would be a formula
    return text.replace("\n", " ")


def code(value) -> str:
    """Inline code for a user- or dataset-derived string: HTML-escaped, never Markdown. Markdown still
    reads the text inside raw `<code>` (a link, an attribute list would form there): every character
    it could take for syntax is written as a character reference, which it leaves alone."""
    text = html.escape(printable(str(value)), quote=False)
    return "<code>" + CODE_SPECIALS.sub(lambda m: f"&#{ord(m.group())};", text).replace("\n", " ") + "</code>"
