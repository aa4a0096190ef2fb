"""The course site: Markdown pages made from the summaries with the course's own templates, built by
MkDocs Material into a folder that works from the file system and under any sub-path.

    index.md                      the roster table (sortable), the flags' legend, the grading CSV
    estudiantes/<slug>.md         one student: their runs, readings, flags, links to their pages
    estudiantes/<slug>/runs/...   a copy of their run pages where the roster gives no published site
    comparacion/<notebook>.md     runs of one notebook across students: a table and a plot
    calificaciones.csv            one row per student and run, for grading

Templates, Markdown settings and assets are the reviewer's (this package's), never a student's.
Every string that comes from a portfolio or the roster passes the pages' `md` filter.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import logging

from reportgen.course import cache
from reportgen.course.copies import copied
from reportgen.course.roster import Roster
from reportgen.safe import run_id_problem
from reportgen.course.summary import FLAGS, RunSummary, StudentSummary
from reportgen.render.strings import DEFAULT as DEFAULT_LANGUAGE

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
ASSETS = HERE / "assets"
# The reviewer's vendored scripts (tablesort, MathJax, the file:// search shim), as the portfolio site uses them.
VENDOR = HERE.parents[1] / "docs" / "assets" / "vendor"
SITE_JS = HERE.parents[1] / "docs" / "javascripts" / "site.js"  # MathJax settings, sortable tables
GRADES = "calificaciones.csv"
NOTEBOOK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")  # notebooks compared on a page of their own
log = logging.getLogger("reportgen")


# ------------------------------------------------------------------ the build

def build_site(roster: Roster, summaries: list[StudentSummary], work: Path, out: Path) -> None:
    """Write the course's docs into a staging folder, build them, move the site to `out`."""
    from reportgen.course.build import replace_folder

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".course-", dir=out.parent))
    try:
        source = staging / "source"
        docs = source / "docs"
        mkdocs_yml = write_config(source, roster, summaries)
        for path, content in pages(roster, summaries).items():
            _write(docs / path, content)
        for student, summary in zip(roster.students, summaries):
            made = copied(work, summary, cache.key(summary.identity, roster.language)) \
                if not student.site and not summary.problem else None
            if made is not None:
                shutil.copytree(made, docs / "estudiantes" / summary.slug, ignore=shutil.ignore_patterns(".course-key"))
        _write(docs / "assets" / "course.css", (ASSETS / "course.css").read_bytes())
        _write(docs / "assets" / "site.js", SITE_JS.read_bytes())
        shutil.copytree(VENDOR, docs / "assets" / "vendor")
        _mkdocs_build(mkdocs_yml, staging / "site")
        replace_folder(staging / "site", out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def write_config(source: Path, roster: Roster, summaries: list[StudentSummary] = ()) -> Path:
    """The course site's mkdocs.yml, from the course's own template (values JSON-quoted: valid YAML).
    The navigation lists the course's own pages only, each titled by its (escaped) front matter: no
    title comes from a folder's name, and the copies of run pages are reached through links."""
    nav = [f"estudiantes/{s.slug}.md" for s in summaries]
    text = _environment(roster.language).get_template("mkdocs.yml.j2").render(
        course=roster.course, language=roster.language, t=_words(roster.language), students=nav,
        notebooks=[f"comparacion/{name}.md" for name in sorted(by_notebook(list(summaries)))])
    path = source / "mkdocs.yml"
    _write(path, text)
    return path


def _mkdocs_build(mkdocs_yml: Path, site_dir: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    from reportgen.errors import BuildFailed
    from reportgen.site import _mkdocs_warnings

    with _mkdocs_warnings() as warnings:
        try:
            build(load_config(str(mkdocs_yml), site_dir=str(site_dir)))
        except MkDocsException as exc:
            raise BuildFailed(f"the course site did not build ({exc}):\n" + "\n".join(warnings[:20])) from None


# ------------------------------------------------------------------ the pages

def _environment(language: str = DEFAULT_LANGUAGE):
    """The pages' Jinja environment (their filters: `md`, `code`, numbers in the page's language) with
    the course's templates and the cells of its tables."""
    from reportgen.render import numbers
    from reportgen.render.pages import environment, md_text

    env = environment(TEMPLATES)
    words = _words(language)

    def status_cell(status: str) -> str:
        css = "rg-ok" if status == "ok" else "rg-bad" if status in ("failed", "corrupt", "unreadable") else ""
        return f'<span class="{css}">{words["status_words"].get(status, status)}</span>'

    def flags_cell(flags: list[str]) -> str:
        return " ".join(f'<span class="rg-flag" title="{_attribute(words["flag_help"][f])}">'
                        f'{words["flag_words"][f]}</span>' for f in flags if f in words["flag_words"]) or "—"

    def headline_cell(student: StudentSummary) -> str:
        parts = []
        for run in student.runs:
            if run.status != "ok":
                continue
            if {"baseline", "advanced"} <= set(run.accuracy):
                verdict = accuracy_verdict(run)
                parts.append(f"{md_text(run.id)}: {numbers.percent(run.accuracy['baseline'], language)} → "
                             f"{numbers.percent(run.accuracy['advanced'], language)}"
                             + (f" ({verdict})" if verdict else ""))
            elif run.readings:
                first = run.readings[0]
                value = numbers.number(first.value, language, 3) if first.value is not None else numbers.MISSING
                parts.append(f"{md_text(run.id)}: {md_text(first.metric)} {value}")
        return "; ".join(parts[:3]) + (" …" if len(parts) > 3 else "") or "—"

    def accuracy_verdict(run: RunSummary) -> str:
        verdict = next((r.verdict for r in run.readings if r.metric == "accuracy" and r.verdict), None)
        return words["verdicts"][verdict] if verdict else "—"

    def reading_value(run: RunSummary, metric: str, group: str | None):
        return next((r.value for r in run.readings if r.metric == metric and r.group == group), None)

    def fraction(pair) -> str:
        done, total = pair
        return f"{done}/{total}" if total else "—"

    def totals(student: StudentSummary) -> dict:
        runs = [run for run in student.runs if run.status == "ok"]
        return {"reflection": (sum(r.reflection[0] for r in runs), sum(r.reflection[1] for r in runs)),
                "checklist": (sum(r.checklist[0] for r in runs), sum(r.checklist[1] for r in runs))}

    env.filters.update(url=_url)
    env.tests.update(safe_run_id=lambda run_id: run_id_problem(str(run_id)) is None)
    env.globals.update(status_cell=status_cell, flags_cell=flags_cell, headline_cell=headline_cell,
                       accuracy_verdict=accuracy_verdict, reading_value=reading_value, fraction=fraction,
                       totals=totals)
    return env


def _attribute(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def _url(value: str) -> str:
    """A roster's site URL inside a Markdown link: characters that would end the link, encoded."""
    return str(value).replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _words(language: str) -> dict:
    from reportgen.render.strings import strings

    return strings(language)["course"]


def pages(roster: Roster, summaries: list[StudentSummary]) -> dict[str, str | bytes]:
    """Every generated page of the course site (path -> content), the plots and the CSV included."""
    language = roster.language
    env = _environment(language)
    context = {"t": _words(language), "language": language, "course": roster.course, "flag_names": FLAGS}
    groups = by_notebook(summaries)
    files: dict[str, str | bytes] = {}
    files["index.md"] = env.get_template("index.md.j2").render(
        **context, students=summaries, notebooks=sorted(groups), grades=GRADES)
    for summary, student in zip(summaries, roster.students):
        files[f"estudiantes/{summary.slug}.md"] = env.get_template("student.md.j2").render(
            **context, student=summary, copy=not student.site and not summary.problem)
    for notebook, rows in groups.items():
        plot = accuracy_plot(rows, language)
        if plot is not None:
            files[f"comparacion/{notebook}.png"] = plot
        files[f"comparacion/{notebook}.md"] = env.get_template("notebook.md.j2").render(
            **context, notebook=notebook, rows=rows, plot=plot is not None, metrics=shared_metrics(rows))
    files[GRADES] = grades_csv(summaries)
    return files


def by_notebook(summaries: list[StudentSummary]) -> dict[str, list[tuple[StudentSummary, RunSummary]]]:
    """Runs grouped by the notebook they executed: the same assignment across students."""
    groups: dict[str, list] = defaultdict(list)
    for summary in summaries:
        for run in summary.runs:
            if NOTEBOOK_NAME.fullmatch(run.notebook):  # the page's file name: no path, no markup
                groups[run.notebook].append((summary, run))
    return dict(groups)


def shared_metrics(rows) -> list[tuple[str, str | None]]:
    """The (metric, group) pairs of a notebook's runs, in first-seen order (the practice's: by pipeline)."""
    seen: dict[tuple[str, str | None], None] = {}
    for _student, run in rows:
        for reading in run.readings:
            seen.setdefault((reading.metric, reading.group), None)
    return list(seen)[:8]


def accuracy_plot(rows, language: str) -> bytes | None:
    """Baseline vs advanced test accuracy, one point per student and run, with the diagonal and chance."""
    points = [(run.accuracy["baseline"], run.accuracy["advanced"], run.chance) for _s, run in rows
              if run.status == "ok" and {"baseline", "advanced"} <= set(run.accuracy)]
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reportgen.render.figures import PIPELINE_COLORS, STYLE

    words = _words(language)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4.8, 4.4))
        ax.plot([0, 1], [0, 1], color="0.6", linewidth=1, zorder=1)
        chances = {round(c, 4) for _b, _a, c in points if c}
        for chance in chances:
            ax.axvline(chance, color="0.75", linestyle=":", linewidth=1)
            ax.axhline(chance, color="0.75", linestyle=":", linewidth=1)
            ax.annotate(words["plot_chance"], (chance, 0.01), fontsize=8, color="0.4")
        ax.scatter([b for b, _a, _c in points], [a for _b, a, _c in points], s=22, alpha=0.75,
                   color=PIPELINE_COLORS["advanced"], edgecolor="white", linewidth=0.5, zorder=2)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel(words["plot_x"])
        ax.set_ylabel(words["plot_y"])
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        plt.close(fig)
    return buffer.getvalue()


def grades_csv(summaries: list[StudentSummary]) -> str:
    """One row per student and run (a student without runs, or unreadable, gets one row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "page", "repository", "status", "run", "notebook", "run_status",
                     "accuracy_baseline", "accuracy_advanced", "accuracy_verdict", "reflection_answered",
                     "reflection_questions", "checklist_done", "checklist_items", "flags", "finished", "problem"])
    for summary in summaries:
        for run in summary.runs or [None]:
            verdict = next((r.verdict for r in run.readings if r.metric == "accuracy" and r.verdict), "") if run else ""
            writer.writerow([_cell(summary.name), summary.slug, _cell(summary.repo), summary.status,
                             _cell(run.id) if run else "", _cell(run.notebook) if run else "",
                             run.status if run else "",
                             _fraction(run.accuracy.get("baseline")) if run else "",
                             _fraction(run.accuracy.get("advanced")) if run else "", verdict,
                             *(run.reflection if run else ("", "")), *(run.checklist if run else ("", "")),
                             " ".join(run.flags if run else summary.flags), run.finished or "" if run else "",
                             _cell(run.problem if run else summary.problem)])
    return buffer.getvalue()


def _fraction(value) -> str:
    return "" if value is None else f"{value:.4f}"


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading =, +, - or @ would be read as a formula."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
