"""The site's own Markdown engine, for a notebook's Markdown: what renders as a heading is a heading.

Python-Markdown with the extensions and settings of the site's mkdocs.yml, loaded the way MkDocs
loads them (its option and YAML loader, its built-in toc/tables/fenced_code), so a notebook's cell reads
on its page exactly as the same text in a page of docs/ would. Left out: `pymdownx.snippets`,
which would read files of the project into a page. The HTML is sanitised right away
(`reportgen.safe`), and links that point next to the notebook (not into the site) become text.

`blocks` splits one cell's HTML at its top-level headings: each is a section of the page.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from reportgen.safe import sanitize_html

LEFT_OUT = {"pymdownx.snippets"}  # reads files: never for a notebook's text
DEFAULT_EXTENSIONS = ["toc", "tables", "fenced_code"]  # MkDocs' built-ins, when there is no mkdocs.yml
HEADINGS = {f"h{n}": n for n in range(1, 7)}
ABSOLUTE = re.compile(r"^(?:[a-zA-Z][\w+.-]*:|#|/)")  # a scheme, a fragment or a site path
# reStructuredText's overlined title, as sphinx-gallery scripts start (jupytext keeps it): the
# overline makes it a paragraph in Markdown; without it, it is the setext heading it means.
RST_OVERLINE = re.compile(r"\A\s*([=\-])\1{2,}[ \t]*\n(?=[^\n]+\n\1{3,}[ \t]*(?:\n|\Z))")


@dataclass
class Heading:
    level: int  # 1-6, as the site renders it
    title: str  # its text


@dataclass
class Chunk:
    html: str  # sanitised HTML between headings


class SiteMarkdown:
    """One Python-Markdown instance configured as the site's (reused: reset between texts)."""

    def __init__(self, extensions: list, configs: dict):
        import markdown

        self.extensions = [name for name in extensions if not (isinstance(name, str) and name in LEFT_OUT)]
        self.configs = {name: value for name, value in configs.items() if name not in LEFT_OUT}
        self.key = hashlib.sha256(_stable(self.extensions, self.configs).encode()).hexdigest()[:16]
        self._markdown = markdown.Markdown(extensions=[*self.extensions, _notebook_links()],
                                           extension_configs=self.configs)
        self._lock = threading.Lock()

    def html(self, text: str) -> str:
        """A notebook's Markdown as sanitised HTML."""
        text = RST_OVERLINE.sub("", text)
        with self._lock:
            self._markdown.reset()
            rendered = self._markdown.convert(text)
        return sanitize_html(rendered)

    def code(self, source: str, language: str = "python") -> str:
        """A code block highlighted as the site highlights fenced code (sanitised)."""
        longest = max((len(run) for run in re.findall(r"`+", source)), default=0)
        fence = "`" * max(3, longest + 1)
        with self._lock:
            self._markdown.reset()
            rendered = self._markdown.convert(f"{fence}{language}\n{source}\n{fence}")
        return sanitize_html(rendered)

    def blocks(self, text: str) -> list[Heading | Chunk]:
        """One cell's Markdown, split at the headings that render at its top level."""
        return split_at_headings(self.html(text))


def _stable(*values) -> str:
    """A text of the settings that is the same in every process (functions by name, not address)."""
    def plain(value):
        if callable(value):
            return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__name__)}"
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda item: str(item[0]))}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    import json

    return json.dumps(plain(list(values)), sort_keys=True)


def split_at_headings(html: str) -> list[Heading | Chunk]:
    """Top-level headings of an HTML fragment, and the HTML between them."""
    if "<h" not in html:
        return [Chunk(html)] if html.strip() else []
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    blocks: list[Heading | Chunk] = []
    pending: list[str] = []

    def flush():
        chunk = "".join(pending).strip()
        if chunk:
            blocks.append(Chunk(chunk))
        pending.clear()

    for node in soup.contents:
        if getattr(node, "name", None) in HEADINGS:
            flush()
            for link in node.find_all("a", class_="headerlink"):
                link.decompose()
            blocks.append(Heading(HEADINGS[node.name], " ".join(node.get_text(" ").split())))
        else:
            pending.append(str(node))
    flush()
    return blocks


def split_paragraph(html: str) -> str:
    """The first top-level paragraph of an HTML fragment ("" when there is none)."""
    if "<p" not in html:
        return ""
    from bs4 import BeautifulSoup

    paragraph = BeautifulSoup(html, "html.parser").find("p", recursive=False)
    return str(paragraph) if paragraph is not None and paragraph.get_text(strip=True) else ""


def inline_html(html: str) -> str:
    """A one-paragraph fragment without its `<p>` (a caption's text); other fragments as they are."""
    text = html.strip()
    if text.startswith("<p>") and text.endswith("</p>") and text.count("<p>") == 1:
        return text[3:-4]
    return text


def demote_headings(html: str, level: int | None) -> str:
    """Headings inside prose or an output sit below their section: all at `level` (at most h6);
    with no level (prose outside any section), they read as bold paragraphs."""
    if not re.search(r"<h[1-6][\s>]", html):
        return html
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for heading in soup.find_all(list(HEADINGS)):
        for link in heading.find_all("a", class_="headerlink"):
            link.decompose()
        if level is None:
            strong = soup.new_tag("strong")
            strong.extend(list(heading.contents))
            heading.name, heading.attrs = "p", {}
            heading.append(strong)
        else:
            heading.name = f"h{min(6, level)}"
    return str(soup)


def _notebook_links():
    """A tree processor: links and images relative to the notebook point at nothing on the site."""
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    class Unlink(Treeprocessor):
        def run(self, root):
            for parent in root.iter():
                for child in list(parent):
                    if child.tag == "a" and not ABSOLUTE.match(child.get("href", "#")):
                        child.tag, child.attrib = "span", {}
                    elif child.tag == "img" and not ABSOLUTE.match(child.get("src", "#")):
                        alt = child.get("alt", "")
                        child.tag, child.attrib, child.text = "em", {}, alt

    class NotebookLinks(Extension):
        def extendMarkdown(self, md):
            md.treeprocessors.register(Unlink(md), "reportgen_notebook_links", 1)

    return NotebookLinks()



# -------------------------------------------------------------------- the site's configuration

_ENGINES: dict[tuple, SiteMarkdown] = {}


def site_markdown(mkdocs_yml: Path | None) -> SiteMarkdown:
    """The engine of the site configured by `mkdocs_yml` (MkDocs' defaults where there is none).

    Loaded once per version of the file; the MkDocs plugin hands over the configuration it has
    already loaded (`use_config`)."""
    path = Path(mkdocs_yml) if mkdocs_yml else None
    if path is None or not path.is_file():
        key = ("defaults",)
        if key not in _ENGINES:
            _ENGINES[key] = SiteMarkdown(DEFAULT_EXTENSIONS, {})
        return _ENGINES[key]
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _ENGINES:
        extensions, configs = _markdown_settings(path)
        _ENGINES[key] = SiteMarkdown(extensions, configs)
    return _ENGINES[key]


def _markdown_settings(path: Path) -> tuple[list, dict]:
    """mkdocs.yml's `markdown_extensions` and their settings, read and checked by MkDocs' own
    option (its YAML loader: `!ENV`, `!relative`, `!!python/name`, `INHERIT`), and nothing else of
    the file: rendering does not need docs/, the theme or the plugins to exist."""
    from mkdocs import exceptions
    from mkdocs.config import config_options
    from mkdocs.config.base import Config

    from reportgen.errors import ConfigError

    class MarkdownSettings(Config):
        markdown_extensions = config_options.MarkdownExtensions(builtins=DEFAULT_EXTENSIONS, configkey="mdx_configs")
        mdx_configs = config_options.Private()

    settings = MarkdownSettings(config_file_path=str(path))
    try:
        with path.open("rb") as handle:
            settings.load_file(handle)
    except (OSError, exceptions.ConfigurationError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    errors, _ = settings.validate()  # warnings: the file's other options, not read here
    if errors:
        name, error = errors[0]
        raise ConfigError(f"{path}: {name}: {error}")
    return settings["markdown_extensions"], settings["mdx_configs"]


def use_config(config) -> SiteMarkdown:
    """Register the configuration MkDocs loaded for this build (no second load of mkdocs.yml)."""
    path = Path(config.config_file_path)
    engine = SiteMarkdown(config["markdown_extensions"], config["mdx_configs"])
    if path.is_file():
        _ENGINES[(str(path.resolve()), path.stat().st_mtime_ns)] = engine
    return engine
