"""The one gate for untrusted input: a portfolio's results folders, run files and notebooks.

Everything a portfolio contains may have been written by someone else: a reviewer renders other
people's work. What crosses from a portfolio onto a page passes here:

- paths read from a results folder resolve inside that folder (no symlink out, no '..', no absolute
  path), and a run's notebook lies under experiments/;
- run ids follow one rule, checked once, for run files and matrix expansions;
- HTML that comes from a notebook (its Markdown rendered, its HTML outputs) passes an allow-list
  sanitiser after Markdown has been rendered, so no script, event handler or script URL survives;
- no text reaches a page with a control character (other than tab and newline) or an ANSI escape
  (`printable`): a terminal's colours and redraws mean nothing in HTML and show as boxes.
"""

from __future__ import annotations

import os
import re
import reprlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from reportgen.errors import ConfigError, CorruptResults

# ------------------------------------------------------------------ control characters

# ECMA-48 escape sequences: CSI (colours, cursor moves), OSC (titles, links), and two-byte escapes.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # C0 controls and DEL, but tab and newline


def printable(text: str) -> str:
    """Text without ANSI escapes and control characters (a carriage return ends a line)."""
    if not CONTROL.search(text):
        return text
    return CONTROL.sub("", ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


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
# The only data: URLs a notebook may keep: raster images. An SVG data URL (opened from a lightbox or a new
# tab, or nested in another SVG) is a document that may hold script of its own.
RASTER_DATA_URL = re.compile(r"^data:image/(?:png|jpeg|jpg|gif|webp|bmp|avif|x-icon)[;,]", re.I)
# MathJax commands that make links, attributes, styles or load code: a notebook's formula shows them as text.
LIVE_TEX = re.compile(r"\\(?=(?:href|url|class|cssId|style|unicode|require|data|html|mmlToken|attr)\b)")


def _attribute(tag: str, name: str, value: str) -> str | None:
    """Per-attribute rules that an allow-list of names cannot say."""
    if name in ("href", "src"):
        compact = re.sub(r"[\x00-\x20]", "", value)
        if UNSAFE_URL.match(compact) and not (tag == "img" and RASTER_DATA_URL.match(compact)):
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
    so no Markdown extension can add an attribute or a URL afterwards. Control characters and
    ANSI escapes go too."""
    import nh3

    cleaned = nh3.clean(printable(html), tags=HTML_TAGS, clean_content_tags=DROPPED_WITH_CONTENT, attributes=HTML_ATTRIBUTES,
                        attribute_filter=_attribute, url_schemes=URL_SCHEMES, strip_comments=True,
                        link_rel="noopener noreferrer")
    return inert_tex(cleaned) if "arithmatex" in cleaned and LIVE_TEX.search(cleaned) else cleaned


def inert_tex(html: str) -> str:
    """`\\href{javascript:...}`, `\\class`, `\\require`... shown as text in what MathJax typesets (every
    element of class `arithmatex`, which notebook HTML may also claim): MathJax would make live links,
    attributes and styles of them. Entities are decoded by then, so `&#92;href` is caught too."""
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(class_="arithmatex"):
        for text in list(element.find_all(string=True)):
            if LIVE_TEX.search(text):
                text.replace_with(NavigableString(LIVE_TEX.sub(r"\\backslash{}", str(text))))
    return str(soup)


# An SVG image is published as a file: opened on its own, a browser would run what it holds.
SVG_LIVE_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "animate",
                     "set", "animatemotion", "animatetransform", "discard"}


# CSS that fetches or runs something (old browsers ran `url(javascript:)` and `expression()`).
LIVE_CSS = re.compile(r"@import|javascript:|vbscript:|expression\s*\(|behavior\s*:|-moz-binding|url\s*\(\s*['\"]?\s*(?!#)",
                      re.I)


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
                                           and not RASTER_DATA_URL.match(value)
                                           and not value.lower().startswith("data:font/")) \
                    or (local == "style" and LIVE_CSS.search(value)):
                del element.attrib[name]
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag.rsplit("}", 1)[-1].lower() == "style" and LIVE_CSS.search("".join(child.itertext())):
                parent.remove(child)
    if root.tag.rsplit("}", 1)[-1].lower() != "svg":
        return None
    return ElementTree.tostring(root, encoding="utf-8")


# ------------------------------------------------------------------ messages

_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxdict, _SHOWN.maxlist, _SHOWN.maxtuple, _SHOWN.maxset = 2, 4, 4, 4, 4
_SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlong = 60, 60, 40


def shown(value) -> str:
    """A value as a message repeats it: its repr, bounded however large or deeply nested it is."""
    return _SHOWN.repr(value)


# ------------------------------------------------------------------ run ids

MAX_ID_LENGTH = 80
RUN_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
# Folder names reportgen gives a run's other folders; an id ending so would take one of them.
RESERVED_SUFFIXES = (".failed",)
# Names Windows refuses for a file or folder, whatever follows the dot (a portfolio is cloned anywhere).
WINDOWS_DEVICES = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?")
RUN_ID_RULE = (f"a run id is 1 to {MAX_ID_LENGTH} lower-case letters, digits, '.', '_' and '-', starting with a "
               f"letter or digit and not ending in {' or '.join(repr(s) for s in RESERVED_SUFFIXES)}")


def run_id_problem(run_id: str) -> str | None:
    """Why `run_id` cannot name a run (it names a file, a folder and a page), or None when it can.

    Upper case is refused rather than folded: on macOS and Windows `Demo` and `demo` are the same
    folder, so two runs would share their results."""
    if not isinstance(run_id, str) or not run_id:
        return f"is empty; {RUN_ID_RULE}"
    if len(run_id) > MAX_ID_LENGTH:
        return f"is {len(run_id)} characters long; {RUN_ID_RULE}"
    if RUN_ID.fullmatch(run_id.lower()) and run_id != run_id.lower():
        return (f"has upper-case letters, and macOS and Windows take 'Demo' and 'demo' for the same folder; "
                f"{RUN_ID_RULE} (rename it {run_id.lower()!r})")
    if not RUN_ID.fullmatch(run_id):
        return f"has characters a run id cannot have; {RUN_ID_RULE}"
    for suffix in RESERVED_SUFFIXES:
        if run_id.endswith(suffix):
            return f"ends in {suffix!r}, the name of a run's failed-attempt folder; {RUN_ID_RULE}"
    if run_id.endswith(".") or WINDOWS_DEVICES.fullmatch(run_id):
        return f"is not a file name on Windows; {RUN_ID_RULE}"
    return None


def check_run_id(run_id: str, where: str) -> str:
    """`run_id`, or ConfigError naming `where` (the run file) when it breaks the rule."""
    problem = run_id_problem(run_id)
    if problem:
        raise ConfigError(f"{where}: run id {shown(run_id)} {problem}.")
    return run_id


# ------------------------------------------------------------------ paths written in files

def relative_path_problem(written) -> str | None:
    """Why `written` (a path read from a file) is not a plain relative path that stays in its folder."""
    if not isinstance(written, str) or not written.strip():
        return "is not a path"
    if "\x00" in written or "\\" in written:
        return "holds a backslash or a NUL character"
    if PurePosixPath(written).is_absolute() or PureWindowsPath(written).drive or written.startswith("~"):
        return "is an absolute path"
    if ".." in PurePosixPath(written).parts:
        return "leaves its folder ('..')"
    return None


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, links followed, lies in `folder` (links followed too); a link that loops is not."""
    try:
        resolved, root = Path(path).resolve(), Path(folder).resolve()
    except (RuntimeError, OSError):  # a symlink loop (RuntimeError before Python 3.13)
        return False
    return resolved == root or root in resolved.parents


# ------------------------------------------------------------------ results folders

def results_file(folder: Path, written, source: str, suffixes: tuple[str, ...] = ()) -> Path:
    """The file that `source` (a file of the results folder, e.g. figures.json) names by `written`,
    checked to stay inside the folder and, given `suffixes`, to be of one of those kinds; CorruptResults
    naming both otherwise. The file may not exist."""
    problem = relative_path_problem(written)
    if not problem and suffixes and not written.lower().endswith(suffixes):
        problem = f"is not a {' or '.join(s.lstrip('.') for s in suffixes)} file"
    if problem:
        raise CorruptResults(folder, f"{source} names the file {shown(written)}, which {problem}")
    path = Path(folder) / written
    if not inside(path, folder):
        raise CorruptResults(folder, f"{source} names {shown(written)}, which is a link leading out of the folder")
    return path


def contained_file(folder: Path, path: Path) -> Path:
    """`path`, a file found in a results folder, checked: a regular file whose links stay inside it, with
    a name that can be written on a page (UTF-8) and no other name elsewhere (a hard link)."""
    name = Path(path).relative_to(folder).as_posix() if Path(path).is_relative_to(folder) else str(path)
    if not _utf8(name):
        raise CorruptResults(folder, f"{shown(name)} has a name that is not UTF-8 text")
    if not inside(path, folder):
        loops = Path(path).is_symlink() and not Path(os.path.realpath(path)).exists()
        raise CorruptResults(folder, f"{name} is a link " + ("that leads nowhere (a loop, or a missing file)"
                                                            if loops else "leading out of the folder"))
    if not Path(path).is_file():
        raise CorruptResults(folder, f"{name} is not a regular file")
    if os.stat(path).st_nlink > 1:
        raise CorruptResults(folder, f"{name} is a hard link: the same file has another name, possibly outside "
                                     f"the folder (a results folder holds its own copies)")
    return Path(path)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 come back from the file system as surrogates
        return False
    return True


def contained_files(folder: Path, pattern: str) -> list[Path]:
    """The files of a results folder matching `pattern` (e.g. '*.json'), each checked by `contained_file`."""
    return [contained_file(folder, path) for path in sorted(Path(folder).glob(pattern))]


def results_folder(folder: Path, results_dir: Path) -> Path:
    """A run's results folder, checked to be a folder of `results_dir` itself, not a link elsewhere."""
    folder = Path(folder)
    if folder.is_symlink() or Path(folder).resolve().parent != Path(results_dir).resolve():
        raise CorruptResults(folder, "the folder is a link; a results folder must be a real folder "
                                     "of experiments/results")
    if not folder.is_dir():
        raise CorruptResults(folder, "it is not a folder")
    return folder


# ------------------------------------------------------------------ notebooks of run files

def notebook_name_problem(name) -> str | None:
    """Why `name` (a run file's `notebook:`) does not name a notebook under experiments/, or None.

    Written without '.ipynb', relative to experiments/; sub-folders are allowed (`week2/cnn`)."""
    problem = relative_path_problem(name)
    if problem:
        return problem.replace("its folder", "experiments/")
    if any(part.startswith(".") for part in PurePosixPath(name).parts):
        return "names a hidden file or folder"
    return None


def notebook_file(experiments: Path, name: str, where: str) -> Path:
    """experiments/<name>.ipynb, checked to be a file whose links stay under experiments/; ConfigError
    naming `where` (the run file) and the field otherwise."""
    path = Path(experiments) / f"{name}.ipynb"
    if not inside(path, experiments):
        raise ConfigError(f"{where}: field 'notebook': {shown(name)} is a link leading out of experiments/; "
                          f"a run's notebook is a file under experiments/.")
    return path
