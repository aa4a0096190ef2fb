"""Render: harvested runs -> Markdown pages in docs/, through the Jinja templates in templates/.

Generated pages carry GENERATED_MARKER; the renderer overwrites only files that carry it
(or do not exist yet). Everything else in docs/ is the student's: a reflection created
once from a template, hand-written pages, images. Those are never touched again.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reportgen.results import Figure, RunResults
from reportgen.project import Project
from reportgen.render import figures as drawn
from reportgen.render import interpretation
from reportgen.render.strings import strings

GENERATED_MARKER = "<!-- reportgen: página generada; se reescribe en cada informe. -->"
STUDENT_FILE = "reflexion.md"
# Parentheses stay as they are: "\(" would start a MathJax formula, and without "[" they link nothing.
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]#+\-.!|~>])")


# ----------------------------------------------------------------------- filters

def md_text(value) -> str:
    """Escape a dataset- or user-derived string so it renders as text, never as markup."""
    text = html.escape(str(value), quote=False)
    text = MARKDOWN_SPECIALS.sub(r"\\\1", text).replace("$", "&#36;")  # "$x$" would be a formula
    return text.replace("\n", " ")


def code(value) -> str:
    """Inline code for a user- or dataset-derived string: HTML-escaped, never Markdown."""
    return f"<code>{html.escape(str(value), quote=False)}</code>"


def number(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def percent(value, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def points(value, digits: int = 1) -> str:
    """A difference of two accuracies, in percentage points with its sign."""
    return "—" if value is None else f"{100 * value:+.{digits}f} pp"


def duration(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def headline(run: RunResults, metric: str) -> dict | None:
    """{'baseline': mean, 'advanced': mean} of one metric over seeds, or None without results."""
    pipelines = run.facts.get("metrics", {}).get("pipelines", {})
    try:
        return {name: pipelines[name]["aggregate"][metric]["mean"] for name in ("baseline", "advanced")}
    except KeyError:
        return None


STATUS_LABELS = {"ok": "ok", "failed": "falló", "new": "sin ejecutar"}


def status_badge(run: RunResults) -> str:
    return f'<span class="rg-status rg-status--{run.status}">{STATUS_LABELS[run.status]}</span>'


def caption(run: RunResults, name: str) -> str:
    """A figure's caption in the page's language: the practice's from the strings table, else as recorded."""
    table = strings(run.language)
    known = {**table["verdicts"]["captions"], **table.get("captions", {})}
    if name in known:
        return known[name]
    figure = run.figure(name)
    return figure.caption if figure else ""


# ---------------------------------------------------------------------- helpers

def environment(templates_dir: Path) -> Environment:
    env = Environment(loader=FileSystemLoader(str(templates_dir)), undefined=StrictUndefined,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                      autoescape=False)
    env.filters.update(md=md_text, code=code, number=number, percent=percent, points=points, duration=duration,
                       tojson=lambda v: json.dumps(v, ensure_ascii=False))
    env.globals.update(headline=headline, status_badge=status_badge, caption=caption,
                       verdicts=interpretation.page_words)
    return env


def load_strings(language: str) -> dict:
    """The fixed words of the pages in the page's language (reportgen/render/strings/)."""
    return strings(language)["page"]


def is_generated(path: Path) -> bool:
    if not path.exists():
        return True
    with path.open(encoding="utf-8", errors="replace") as handle:
        head = "".join(handle.readline() for _ in range(12))
    return GENERATED_MARKER in head


def write_generated(path: Path, text: str) -> bool:
    """Write a generated page unless a student owns that file; returns whether it was written."""
    if not is_generated(path):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return True


def _copy_if_changed(source: Path, target: Path) -> None:
    if target.exists() and target.stat().st_size == source.stat().st_size \
            and target.read_bytes() == source.read_bytes():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


# ------------------------------------------------------------------------ pages

class Renderer:
    """Writes the site's generated pages for a list of harvested runs."""

    def __init__(self, project: Project):
        self.project = project
        self.env = environment(project.templates_dir)

    def run_dir(self, run: RunResults) -> Path:
        return self.project.docs_dir / "runs" / run.id

    def render_all(self, runs: list[RunResults]) -> list[Path]:
        written = []
        for run in runs:
            written += self.render_run(run)
        written.append(self._page("index.md", "index.md.j2", runs=runs))
        written.append(self._page("comparacion.md", "comparison.md.j2", runs=runs))
        self._remove_orphans({run.id for run in runs})
        return written

    def _page(self, relative: str, template: str, language: str = "es", **context) -> Path:
        path = self.project.docs_dir / relative
        text = self.env.get_template(template).render(
            marker=GENERATED_MARKER, t=load_strings(language), **context)
        write_generated(path, text)
        return path

    def render_run(self, run: RunResults) -> list[Path]:
        folder = self.run_dir(run)
        folder.mkdir(parents=True, exist_ok=True)
        reflection_written = self._student_reflection(run, folder)
        if run.folder is not None:
            self._copy_assets(run, folder)
            self._draw_figures(run, folder)
            self._notebook_page(run.folder / "notebook.ipynb", folder / "notebook.md", run)
        if run.failure is not None:
            self._notebook_page(run.failure.folder / "notebook.ipynb", folder / "notebook-fallido.md",
                                run, failed=True)
        downloads = sorted(p.name for p in (folder / "datos").glob("*")) if run.folder else []
        page = self._page(f"runs/{run.id}/index.md", "run_page.md.j2", language=run.language, run=run,
                          reflection_written=reflection_written, downloads=downloads)
        return [page]

    def _student_reflection(self, run: RunResults, folder: Path) -> bool:
        """Create the reflection once, seeded with prompts from the results; never rewrite it.

        Returns whether the student has written in it (it differs from the seed).
        """
        path = folder / STUDENT_FILE
        seed = self.env.get_template("reflection.md.j2").render(
            run=run, t=load_strings(run.language))
        if not path.exists():
            path.write_text(seed, encoding="utf-8")
        return path.read_text(encoding="utf-8") != seed

    def _copy_assets(self, run: RunResults, folder: Path) -> None:
        for figure in run.figures.values():
            _copy_if_changed(figure.path, folder / "figures" / figure.path.name)
        for name, path in run.tables.items():
            _copy_if_changed(path, folder / "datos" / path.name)
        for name in ("metrics", "run"):
            source = run.folder / f"{name}.json"
            if source.exists():
                _copy_if_changed(source, folder / "datos" / source.name)

    def _draw_figures(self, run: RunResults, folder: Path) -> None:
        """Draw the figures made of numbers in the page's language; the page shows them like recorded ones."""
        for name in drawn.names():
            png = drawn.draw(run, name, run.language)
            if png is not None:
                path = folder / "figures" / f"{name}.png"
                _write_bytes_if_changed(path, png)
                run.figures[name] = Figure(name=name, path=path, caption="")

    def _notebook_page(self, notebook: Path, target: Path, run: RunResults, failed: bool = False) -> None:
        """The executed notebook as a page of the site (the practice's evidence)."""
        if not notebook.exists():
            return
        import nbformat
        from nbconvert import MarkdownExporter

        nb = nbformat.read(str(notebook), as_version=4)
        for cell in nb.cells:  # papermill's bookkeeping is noise on a published page
            cell.get("metadata", {}).pop("papermill", None)
        if failed and run.failure.cell is not None:  # the run page links straight to the failing cell
            nb.cells.insert(run.failure.cell, nbformat.v4.new_markdown_cell('<a id="celda-fallida"></a>'))
        body, resources = MarkdownExporter().from_notebook_node(
            nb, resources={"output_files_dir": target.stem + "_files"})
        for name, data in resources.get("outputs", {}).items():
            _write_bytes_if_changed(target.parent / name, data)
        header = self.env.get_template("notebook_page.md.j2").render(
            marker=GENERATED_MARKER, run=run, failed=failed,
            t=load_strings(run.language))
        write_generated(target, header + "\n" + _demote_headings(body))

    def _remove_orphans(self, run_ids: set[str]) -> None:
        """Drop generated pages of runs whose run file is gone; keep anything a student wrote."""
        runs_root = self.project.docs_dir / "runs"
        if not runs_root.exists():
            return
        for folder in runs_root.iterdir():
            if not folder.is_dir() or folder.name in run_ids:
                continue
            for page in folder.glob("*.md"):
                if page.name != STUDENT_FILE and is_generated(page):
                    page.unlink()
            for generated in ("figures", "datos", "notebook_files", "notebook-fallido_files"):
                shutil.rmtree(folder / generated, ignore_errors=True)


def _write_bytes_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _demote_headings(markdown: str) -> str:
    """The notebook's own '# Title' would compete with the page title: shift headings one level."""
    out, in_code = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and re.match(r"#{1,5} ", line):
            line = "#" + line
        out.append(line)
    return "\n".join(out) + "\n"
