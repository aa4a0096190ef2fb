"""A student's run pages made by the reviewer, for a student who gives no published site.

The pages are the portfolio's own run pages (`reportgen.render.Renderer`), made with the reviewer's
templates and Markdown settings (course/summary.py `StudentProject`), never the student's. What the
student wrote in Markdown (the reflection) is rendered and passes the notebook HTML's sanitiser, as a
notebook's Markdown does: on a course site it is someone else's input. Notebook parts are written
into the page inert for Markdown (`SiteFile.standalone`, as `render --out` does).
"""

from __future__ import annotations

import logging
from pathlib import Path

from reportgen.course.summary import StudentProject
from reportgen.render.pages import Renderer
from reportgen.safe import sanitize_html

log = logging.getLogger("reportgen")


class CourseRenderer(Renderer):
    """The portfolio's pages, with the student's reflection as sanitised HTML."""

    def reflection(self, run, verdicts=None) -> tuple[str, bool]:
        text, written = super().reflection(run, verdicts)
        return self.fragments.add(sanitize_html(self.site_markdown().html(text))), written


def run_pages(checkout: Path, mkdocs_yml: Path) -> list[tuple[str, str | bytes]]:
    """(path, content) of every run's pages, figures and downloads of the portfolio at `checkout`."""
    from reportgen.harvest import harvest_run
    from reportgen.runs import discover

    project = StudentProject(Path(checkout).resolve(), mkdocs_yml)
    renderer = CourseRenderer(project)
    files = []
    for run in discover(project, check_notebooks=False):
        results = harvest_run(project, run)
        for item in renderer.run_files(results):
            if item.source is None or _inside(item.source, project.root, renderer.figure_cache):
                files.append((item.path, item.standalone()))
            else:
                log.warning("%s: left out %s (it lies outside the portfolio)", project.root.name, item.path)
    return files


def _inside(path: Path, *folders: Path) -> bool:
    """Whether a file to publish lies in the portfolio (or the figures drawn for it), links resolved.
    The course's own check at its boundary; harvest's containment (reportgen/safe.py) comes first."""
    resolved = Path(path).resolve()
    return resolved.is_file() and any(resolved.is_relative_to(folder.resolve()) for folder in folders)
