"""A student's run pages made by the reviewer, for a student who gives no published site.

The pages are the portfolio's own run pages (`reportgen.render.Renderer`), made with the reviewer's
templates and Markdown settings (course/summary.py `StudentProject`), never the student's. What the
student wrote in Markdown (the reflection) is rendered and passes the notebook HTML's sanitiser, as a
notebook's Markdown does: on a course site it is someone else's input. Notebook parts are written
into the page inert for Markdown (`SiteFile.standalone`, as `render --out` does).
"""

from __future__ import annotations

from pathlib import Path

from reportgen.course.summary import StudentProject
from reportgen.render.pages import Renderer
from reportgen.safe import sanitize_html


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
            files.append((item.path, item.standalone()))
    return files
