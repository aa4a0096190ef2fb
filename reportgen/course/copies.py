"""A student's run pages made by the reviewer, for a student who gives no published site.

The pages are the portfolio's own run pages (`reportgen.render.Renderer`), made with the reviewer's
templates and Markdown settings (course/summary.py `StudentProject`), never the student's. What the
student wrote in Markdown (the reflection) is rendered and passes the notebook HTML's sanitiser, as a
notebook's Markdown does: on a course site it is someone else's input. Notebook parts are written
into the page inert for Markdown (`SiteFile.standalone`, as `render --out` does).

Copies are made in the reader processes, beside the summaries, and kept under the course's cache by
the portfolio's identity: an unchanged portfolio's pages are not made again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import shutil

from reportgen.course.summary import StudentProject, StudentSummary
from reportgen.errors import CorruptResults
from reportgen.render.pages import Renderer
from reportgen.safe import inside, run_id_problem, sanitize_html

log = logging.getLogger("reportgen")


class CourseRenderer(Renderer):
    """The portfolio's pages, with the student's reflection as sanitised HTML."""

    def reflection_text(self, found) -> str:
        return self.fragments.add(sanitize_html(self.site_markdown().html(found.text)))


def run_pages(checkout: Path, mkdocs_yml: Path) -> list[tuple[str, str | bytes]]:
    """(path, content) of every run's pages, figures and downloads of the portfolio at `checkout`."""
    from reportgen.harvest import harvest_run
    from reportgen.runs import discover

    project = StudentProject(Path(checkout).resolve(), mkdocs_yml)
    renderer = CourseRenderer(project)
    files = []
    for run in discover(project, check_notebooks=False):
        if run_id_problem(run.id):  # discover checks it too: its pages' paths would carry markup into the site
            log.warning("%s: no copy of run %r (not a valid run id)", project.root.name, run.id[:80])
            continue
        try:
            results = harvest_run(project, run)
        except CorruptResults:  # its row says why; the other runs' pages are made
            continue
        for item in renderer.run_files(results):
            if item.source is None or _inside(item.source, project.root, renderer.figure_cache):
                files.append((item.path, item.standalone()))
            else:
                log.warning("%s: left out %s (it lies outside the portfolio)", project.root.name, item.path)
    return files


def _inside(path: Path, *folders: Path) -> bool:
    """Whether a file to publish lies in the portfolio (or the figures drawn for it), links resolved:
    the course's own check at its boundary, after harvest's (reportgen/safe.py)."""
    return Path(path).is_file() and any(inside(path, folder) for folder in folders)


def copies_folder(work: Path, slug: str) -> Path:
    return work / "copies" / slug


def ensure_copies(work: Path, summary: StudentSummary, checkout: Path | None, mkdocs_yml: Path, key: str) -> None:
    """The student's run pages under the cache (`copies_folder`), made unless already made for `key`."""
    folder = copies_folder(work, summary.slug)
    marker = folder / ".course-key"
    if marker.is_file() and marker.read_text(encoding="utf-8") == key:
        return
    shutil.rmtree(folder, ignore_errors=True)
    if checkout is None:
        return
    try:
        files = run_pages(checkout, mkdocs_yml)
    except Exception as exc:  # noqa: BLE001  (the summary already says what is wrong; the course builds)
        log.warning("%s: no copy of the run pages (%s: %s)", summary.name, type(exc).__name__, str(exc)[:200])
        files = []
    staging = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    for path, content in files:
        target = staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    staging.mkdir(parents=True, exist_ok=True)
    (staging / ".course-key").write_text(key, encoding="utf-8")
    staging.rename(folder)


def copied(work: Path, summary: StudentSummary, key: str) -> Path | None:
    """The folder of a student's copied pages when they were made for `key`."""
    folder = copies_folder(work, summary.slug)
    marker = folder / ".course-key"
    return folder if marker.is_file() and marker.read_text(encoding="utf-8") == key else None
