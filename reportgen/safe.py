"""The one gate for untrusted input: a portfolio's results folders, run files and notebooks.

Everything a portfolio contains may have been written by someone else: a reviewer renders other
people's work. What crosses from a portfolio onto a page passes here:

- paths read from a results folder resolve inside that folder (no symlink out, no '..', no absolute
  path), and a run's notebook lies under experiments/;
- run ids follow one rule, checked once, for run files and matrix expansions;
- HTML that comes from a notebook (its Markdown rendered, its HTML outputs) passes an allow-list
  sanitiser after Markdown has been rendered, so no script, event handler or script URL survives.
"""

from __future__ import annotations

import re

# ------------------------------------------------------------------ HTML from notebooks

# What notebook HTML may keep: text structure, tables, images, code, the markup the site's own
# Markdown extensions write (admonitions, details, tabs, task lists, footnotes, MathJax spans,
# Pygments' spans, emoji SVG). Nothing that runs: no script, no style, no event attribute, no form.
HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "input", "ins", "kbd", "label", "li", "mark", "ol", "p", "pre", "q", "s", "samp",
    "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul", "var", "wbr", "svg", "path",
}
DROPPED_WITH_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "embed", "textarea",
                        "select", "math", "title", "xmp", "noembed", "noframes"}
HTML_ATTRIBUTES = {
    "*": {"class", "title", "id", "lang", "dir"},
    "a": {"href"},
    "abbr": set(),
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"}, "colgroup": {"span"},
    "ol": {"start", "type"},
    "details": {"open"},
    "input": {"type", "checked", "disabled"},  # pymdownx.tasklist's check boxes, only as check boxes
    "label": {"for"},
    "svg": {"xmlns", "viewbox", "viewBox", "width", "height"},  # pymdownx.emoji's inline icons
    "path": {"d"},
}
URL_SCHEMES = {"http", "https", "mailto", "data"}  # data: only for images, checked below
ID_PREFIX = "nb-"  # ids from a notebook never clash with the theme's own (#__drawer, #__search, ...)
UNSAFE_URL = re.compile(r"^\s*(?:javascript|vbscript|livescript|data)\s*:", re.I)


def _attribute(tag: str, name: str, value: str) -> str | None:
    """Per-attribute rules that an allow-list of names cannot say."""
    if name in ("href", "src"):
        compact = re.sub(r"[\x00-\x20]", "", value)
        if UNSAFE_URL.match(compact) and not (tag == "img" and compact.lower().startswith("data:image/")):
            return None
    if tag == "input" and name == "type" and value.lower() != "checkbox":
        return None
    if name == "id" or (name == "for" and tag == "label"):
        return value if value.startswith(ID_PREFIX) else ID_PREFIX + value
    if name == "href" and value.startswith("#fn"):  # footnote links follow their prefixed ids
        return "#" + ID_PREFIX + value[1:]
    return value


def sanitize_html(html: str) -> str:
    """Notebook-derived HTML through an allow-list (nh3): whatever it held, nothing in it can run.

    Called on the final HTML of every notebook part of a page, after Markdown has been rendered,
    so no Markdown extension can add an attribute or a URL afterwards."""
    import nh3

    return nh3.clean(html, tags=HTML_TAGS, clean_content_tags=DROPPED_WITH_CONTENT, attributes=HTML_ATTRIBUTES,
                     attribute_filter=_attribute, url_schemes=URL_SCHEMES, strip_comments=True,
                     link_rel="noopener noreferrer")


# An SVG image is published as a file: opened on its own, a browser would run what it holds.
SVG_LIVE_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "animate",
                     "set", "animatemotion", "animatetransform", "discard"}


def sanitize_svg(svg: bytes) -> bytes | None:
    """An SVG from a notebook without scripts, event attributes, animations or links out of itself
    (None when it is not well-formed XML: such an image is not published)."""
    from xml.etree import ElementTree

    ElementTree.register_namespace("", "http://www.w3.org/2000/svg")  # written back without ns0: prefixes
    ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError:
        return None
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str) or child.tag.rsplit("}", 1)[-1].lower() in SVG_LIVE_ELEMENTS:
                parent.remove(child)
    for element in root.iter():
        for name in list(element.attrib):
            local, value = name.rsplit("}", 1)[-1].lower(), element.attrib[name].strip()
            if local.startswith("on") or (local == "href" and not value.startswith("#")
                                           and not value.lower().startswith("data:image/")
                                           and not value.lower().startswith("data:font/")):
                del element.attrib[name]
    if root.tag.rsplit("}", 1)[-1].lower() != "svg":
        return None
    return ElementTree.tostring(root, encoding="utf-8")
