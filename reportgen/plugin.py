"""The MkDocs plugin `reportgen`: the run pages are generated inside `mkdocs build` / `mkdocs serve`.

Listed in mkdocs.yml (`plugins: [reportgen]`) and registered as an entry point of the
`mkdocs.plugins` group, the way mkdocs-gen-files and Material's blog plugin add pages. On
every build it harvests `experiments/results/` and adds, as in-memory files, the home page
(cards), the comparison page and each run's page, notebook page(s), figures and downloads
(`reportgen.render.Renderer`). docs/ holds only what the student writes:

- a file of theirs at the same path as a generated one wins (e.g. `docs/runs/demo/index.md`
  replaces the generated run page; `python -m reportgen render --out DIR` writes the generated
  pages to start from);
- `docs/runs/<run-id>/reflexion.md` is included in its run page, not built as a page of its own.

Notebook text never passes through MkDocs' Markdown: a generated page carries a placeholder per
notebook part, and `on_page_content` swaps in its sanitised HTML (`reportgen.render.fragments`),
before the search plugin indexes the page and glightbox wraps its images. No page, generated or
the student's, keeps a control character or an ANSI escape (`reportgen.safe.printable`): not in
its Markdown, its title, nor its HTML, and so not in the search index.

`mkdocs serve` rebuilds when a reflection, a template, a run file, a notebook or a result changes.
The plugin never writes into docs/ and imports no ML library.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel

from reportgen.errors import ReportgenError
from reportgen.project import Project
from reportgen.render.pages import STUDENT_FILE, Renderer, SiteFile
from reportgen.render.strings import DEFAULT as DEFAULT_LANGUAGE
from reportgen.render.strings import strings

log = logging.getLogger("mkdocs.plugins.reportgen")


class ReportgenConfig(Config):
    # The portfolio's root (experiments/, templates/); default: the folder of mkdocs.yml.
    project = config_options.Optional(config_options.Dir(exists=True))


class ReportgenPlugin(BasePlugin[ReportgenConfig]):
    """Adds the generated pages of every run to the site."""

    def project(self, config) -> Project:
        root = self.config.project or Path(config.config_file_path).parent
        return Project.at(root)

    fragments: dict[str, str] = {}

    def on_files(self, files: Files, *, config) -> Files:
        from reportgen.read.markdown import use_config

        project = self.project(config)
        use_config(config)  # notebooks render with this build's Markdown settings, loaded once
        generated = self.generated_files(project, language=config.theme.get("language") or DEFAULT_LANGUAGE)
        self.fragments = {key: html for item in generated for key, html in item.fragments.items()}
        for item in generated:
            if files.get_file_from_path(item.path) is None:  # a student's file at that path wins
                files.append(_mkdocs_file(config, item))
        for file in files:
            if file.src_uri.startswith("runs/") and file.src_uri.endswith("/" + STUDENT_FILE):
                file.inclusion = InclusionLevel.EXCLUDED  # part of its run page, not a page of its own
        return files

    @staticmethod
    def generated_files(project: Project, language: str) -> list[SiteFile]:
        from reportgen.harvest import harvest_all
        from reportgen.runs import discover

        from jinja2 import TemplateError

        try:
            runs = harvest_all(project, discover(project, check_notebooks=False))
            return Renderer(project, language=language).files(runs)
        except ReportgenError as exc:
            raise PluginError(f"reportgen: {exc}") from exc  # site.build keeps its exit code
        except TemplateError as exc:
            where = f"{exc.filename}:{exc.lineno}: " if getattr(exc, "lineno", None) else ""
            raise PluginError(f"reportgen: template error: {where}{exc}") from None

    def on_env(self, env, *, config, files):
        """The theme's templates compiled once, not at every build or `mkdocs serve` rebuild."""
        from reportgen.render.templating import keep_compiled

        return keep_compiled(env)

    @event_priority(50)  # before other plugins read the page's HTML (glightbox, search)
    def on_page_content(self, html: str, *, page, config, files) -> str:
        """The notebook parts of a page, in place of their placeholders."""
        from reportgen.render.fragments import swap
        from reportgen.safe import printable

        return printable(swap(html, self.fragments))

    @event_priority(50)  # before other plugins read the page's Markdown
    def on_page_markdown(self, markdown: str, *, page, config, files) -> str:
        """The navigation reads as the pages do, not as the folders are named ("Runs", "Demo"): a
        run's folder takes its page's title, the runs' folder the site's word for them."""
        parts = page.file.src_uri.split("/")
        if len(parts) == 3 and parts[0] == "runs" and parts[2] == "index.md" and page.parent is not None:
            page.parent.title = page.title  # escaped already, as the theme needs (front_matter_title)
            if page.parent.parent is not None:
                language = config.theme.get("language") or "es"
                page.parent.parent.title = strings(language)["page"]["corridas"]
        # Without control characters: a page's headings, table of contents and navigation entry come from it.
        from reportgen.safe import printable

        if isinstance(page.meta.get("title"), str):
            page.meta["title"] = printable(page.meta["title"])
        return printable(markdown)

    def on_serve(self, server, *, config, builder):
        """Rebuild when what the pages are made of changes (docs/ is watched by MkDocs itself);
        editing a notebook's prose shows at once, its outputs staying those of its last run."""
        project = self.project(config)
        for folder in (project.templates_dir, project.runs_dir, project.results_dir):
            if folder.exists():
                server.watch(str(folder))
        for notebook in project.experiments.glob("*.ipynb") if project.experiments.exists() else []:
            server.watch(str(notebook))
        return server


def _mkdocs_file(config, item: SiteFile) -> File:
    if item.source is not None:
        return File.generated(config, item.path, abs_src_path=str(item.source))
    return File.generated(config, item.path, content=item.content)
