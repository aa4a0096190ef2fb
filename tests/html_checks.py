"""Checks of a built site that every safety test shares: no live script, no control characters.

A portfolio is untrusted input. Whatever it holds, the built HTML may run only the site's own
scripts (MkDocs Material's, glightbox's and the vendored assets), never a script, an event
handler or a script URL that came from a notebook, a run file or a results folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from bs4 import BeautifulSoup

# Inline scripts the theme and its plugins write into every page, by how they start.
SITE_INLINE_SCRIPTS = ("__md_scope=", "var palette=__md_get(", "var tabs=__md_get(",
                       "var target=document.getElementById(location.hash", '{"annotate":',
                       "const lightbox = GLightbox(", "document$.subscribe(")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "poster", "xlink:href", "background",
                  "cite", "srcset", "ping", "lowsrc", "dynsrc")
LIVE_ELEMENTS = ("iframe", "frame", "object", "embed", "applet", "base", "portal")
CONTENT = "md-content__inner"  # the page's own content; the theme's chrome (search, palette forms) is outside
SCRIPT_URL = re.compile(r"^\s*(javascript|vbscript|livescript|data)\s*:", re.I)
# data: URLs a page may hold: raster images only (an SVG data URL is a document that may run script).
RASTER_DATA_URL = re.compile(r"^data:image/(?:png|jpeg|jpg|gif|webp|bmp|avif|x-icon)[;,]", re.I)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\x1b\[")


def _own_script(page: Path, site: Path, src: str) -> bool:
    """A script file of the site itself (theme, plugins, vendored assets), not a URL from content."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith("//"):
        return False
    target = (page.parent / src.split("?")[0]).resolve() if not src.startswith("/") else (site / src.lstrip("/")).resolve()
    return target.is_file() and site.resolve() in target.parents


def _script_url(value: str) -> bool:
    cleaned = re.sub(r"[\x00-\x20]", "", unquote(value))
    return bool(SCRIPT_URL.match(cleaned)) and not RASTER_DATA_URL.match(cleaned)


def live_script_problems(site: Path) -> list[str]:
    """Every place in the built site where content could run script: '<page>: <what>'."""
    problems = []
    site = Path(site)
    for page in sorted(site.rglob("*.html")):
        where = page.relative_to(site)
        soup = BeautifulSoup(page.read_text(encoding="utf-8", errors="replace"), "html.parser")
        for script in soup.find_all("script"):
            src = script.get("src")
            if src:
                if not _own_script(page, site, src):
                    problems.append(f"{where}: <script src={src!r}>")
            elif (script.get("type") or "").lower() not in ("application/json", "text/x-mathjax-config") \
                    and not (script.string or "").lstrip().startswith(SITE_INLINE_SCRIPTS):
                problems.append(f"{where}: inline <script> {(script.string or '')[:80]!r}")
            elif script.get("type") == "application/json" and not (script.string or "").lstrip().startswith('{"annotate":'):
                problems.append(f"{where}: JSON <script> {(script.string or '')[:80]!r}")
        for element in soup.find_all(True):
            if element.name in LIVE_ELEMENTS or (element.name == "form" and element.find_parent(class_=CONTENT)):
                problems.append(f"{where}: <{element.name}>")
            if element.name == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
                problems.append(f"{where}: <meta http-equiv=refresh>")
            for name, value in element.attrs.items():
                text = " ".join(value) if isinstance(value, list) else str(value)
                if name.lower().startswith("on"):
                    problems.append(f"{where}: <{element.name} {name}=...>")
                elif name.lower() in URL_ATTRIBUTES and any(_script_url(part) for part in re.split(r",\s*", text)):
                    problems.append(f"{where}: <{element.name} {name}={text[:60]!r}>")
                elif name.lower() == "style" and re.search(r"expression\s*\(|javascript:|behavior\s*:", text, re.I):
                    problems.append(f"{where}: <{element.name} style={text[:60]!r}>")
    return problems


def control_character_problems(site: Path) -> list[str]:
    """Pages holding a control character (other than tab and newline) or an ANSI escape, and entries
    of the search index holding one once its JSON is read (where it is written as `\\u001b`)."""
    import json

    problems = []
    for page in sorted(Path(site).rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        match = CONTROL.search(text)
        if match:
            problems.append(f"{page.relative_to(site)}: {match.group()!r} near {text[max(0, match.start() - 40):match.start()]!r}")
    for index in sorted(Path(site).rglob("search_index.json")):
        for entry in json.loads(index.read_text(encoding="utf-8")).get("docs", []):
            for field in ("title", "text", "location"):
                match = CONTROL.search(str(entry.get(field, "")))
                if match:
                    problems.append(f"{index.relative_to(site)}: {entry.get('location')!r} {field}: {match.group()!r}")
    return problems
