"""What the course shows of one portfolio: a summary per run, read from its committed results.

A reviewer's table needs far less than a page: each run's status, its headline numbers with their
verdicts (`render/interpretation.py`, the test every page uses), how many reflection questions are
answered and checklist items done, and the flags a reviewer acts on. A summary is plain data
(pydantic, JSON), cached by the portfolio's commit (course/cache.py), so an unchanged portfolio
is never read again.

Reading is the light install's: run files validated without inspecting notebooks
(`discover(..., check_notebooks=False)`: a notebook's `parameters_schema` would import code),
results harvested by `reportgen.harvest`, notebooks read with the reviewer's Markdown settings, never
the student's mkdocs.yml (its YAML tags import modules) and never the student's templates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from reportgen.errors import ConfigError, CorruptResults
from reportgen.project import Project
from reportgen.render.reflection import answered, questions
from reportgen.render.summary import at_chance

REVIEWER_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"  # the reviewer's, never a student's
MAX_JSON_BYTES = 20 * 1024 * 1024  # a results file larger than this is not read (metrics.json is ~40 kB)
# Flags, in the order a reviewer reads them; their words are the strings' `course.flags`.
FLAGS = ("unreadable", "corrupt", "failed", "chance", "stale", "reflection")


@dataclass(frozen=True)
class StudentProject(Project):
    """A student's checkout read as a project, with the reviewer's templates and Markdown settings."""

    markdown_config: Path | None = None  # the reviewer's mkdocs.yml (None: MkDocs' default Markdown)

    @property
    def templates_dir(self) -> Path:
        return REVIEWER_TEMPLATES

    @property
    def mkdocs_yml(self) -> Path:
        return self.markdown_config or self.root / ".no-mkdocs.yml"  # absent: MkDocs' default Markdown


class Reading(BaseModel):
    """One headline number: a metric of a pipeline (or a notebook's own metric), with its verdict."""

    metric: str
    group: str | None = None
    value: float | None = None
    verdict: str | None = None  # better | worse | inconclusive (advanced vs baseline), None: no comparison
    sentence: str = ""


class RunSummary(BaseModel):
    id: str
    title: str = ""
    notebook: str = ""
    status: str  # ok | failed | new | corrupt
    practice: bool = False
    finished: str | None = None
    problem: str = ""  # the failure's summary, or why the results are corrupt
    readings: list[Reading] = Field(default_factory=list)
    accuracy: dict[str, float] = Field(default_factory=dict)  # practice: pipeline -> mean test accuracy
    chance: float | None = None  # 1 / classes, where the run recorded its classes
    reflection: tuple[int, int] = (0, 0)  # answered, questions
    checklist: tuple[int, int] = (0, 0)  # done, items
    flags: list[str] = Field(default_factory=list)


class StudentSummary(BaseModel):
    name: str
    slug: str
    repo: str
    site: str | None = None
    identity: str = ""
    problem: str = ""  # why the portfolio could not be fetched or read: the row says so
    runs: list[RunSummary] = Field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        found = {"unreadable"} if self.problem else set()
        for run in self.runs:
            found.update(run.flags)
        return [flag for flag in FLAGS if flag in found]

    @property
    def status(self) -> str:
        if self.problem:
            return "unreadable"
        if any(run.status in ("failed", "corrupt") for run in self.runs):
            return "failed"
        if not any(run.status == "ok" for run in self.runs):
            return "new"
        return "ok"

    @property
    def last_updated(self) -> str | None:
        dates = [run.finished for run in self.runs if run.finished]
        return max(dates) if dates else None


# ------------------------------------------------------------------ reading

def summarize(root: Path, mkdocs_yml: Path | None, language: str) -> list[RunSummary]:
    """Every run of the portfolio checked out at `root`, summarised; problems of one run stay in its row."""
    from reportgen.runs import discover

    project = StudentProject(Path(root).resolve(), mkdocs_yml)
    _refuse_large_results(project)
    try:
        runs = discover(project, check_notebooks=False)
    except ConfigError as exc:
        raise ConfigError(" ".join(str(exc).split())[:500]) from None
    return [_run_summary(project, run, language) for run in runs]


def _refuse_large_results(project: Project) -> None:
    if not project.results_dir.is_dir():
        return
    for path in project.results_dir.rglob("*.json"):
        if path.stat().st_size > MAX_JSON_BYTES:
            raise CorruptResults(path.relative_to(project.root), f"larger than {MAX_JSON_BYTES // 2**20} MB")


def _run_summary(project: StudentProject, run, language: str) -> RunSummary:
    from reportgen.harvest import harvest_run

    summary = RunSummary(id=run.id, title=run.config.title, notebook=run.config.notebook, status="new")
    try:
        results = harvest_run(project, run)
    except CorruptResults as exc:
        return _corrupt(summary, exc.problem)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # e.g. a results JSON cut short
        where = project.results(run.id).relative_to(project.root).as_posix()
        return _corrupt(summary, f"{where}: unreadable results ({type(exc).__name__}: {exc})")
    summary.status = results.status
    summary.finished = _text_or_none((results.record or {}).get("finished")) or \
        (_text_or_none(results.failure.finished) if results.failure else None)
    if results.failure is not None and results.status == "failed":
        summary.problem = str(results.failure.summary)[:300]
    if results.folder is not None:
        try:
            _read_results(project, results, summary, language)
        except Exception as exc:  # noqa: BLE001  (numbers of the wrong shape anywhere: this run's row says so)
            return _corrupt(summary, f"{type(exc).__name__}: {exc}")
    summary.flags = _flags(project, results, summary)
    return summary


def _corrupt(summary: RunSummary, problem: str) -> RunSummary:
    summary.status, summary.problem, summary.flags = "corrupt", " ".join(problem.split())[:300], ["corrupt"]
    summary.readings, summary.accuracy = [], {}
    return summary


def _text_or_none(value) -> str | None:
    return value[:40] if isinstance(value, str) and value else None


def _read_results(project: StudentProject, results, summary: RunSummary, language: str) -> None:
    from reportgen.facts import read_facts
    from reportgen.render import evidence, interpretation
    from reportgen.render.pages import Renderer

    summary.practice = evidence.is_practice(results)
    page = interpretation.page_words(results)  # the run page's readings (in the run's language), once
    verdicts = {}
    if summary.practice:
        facts = read_facts(results.facts)  # FactError: the file and the field, in this run's row
        for pipeline, report in facts.metrics.pipelines.items():
            if "accuracy" in report.aggregate:
                summary.accuracy[pipeline] = report.aggregate["accuracy"].mean
        classes = facts.dataset.num_classes if facts.dataset else len(facts.metrics.class_names)
        summary.chance = 1 / classes if classes else None
        found = page["comparisons"] if results.language == language else interpretation.comparisons(results, language)
        verdicts = {item["metric"]: item for item in found if item["comparison"] == "advanced_vs_baseline"}
    for metric in results.metrics[:6]:
        found = verdicts.get(metric.name) if metric.group == "advanced" else None
        summary.readings.append(Reading(metric=metric.name, group=metric.group, value=_number(metric.value),
                                        verdict=found["verdict"] if found else None,
                                        sentence=found["sentence"] if found else ""))
    renderer = Renderer(project, language=results.language)
    seed = renderer.reflection_seed(results, page)
    path = renderer.reflection_path(results.id)
    written = _read_text(path) if path.is_file() and not path.is_symlink() else seed
    summary.reflection = answered(seed, written, _questions(results), results.language)
    done, asked = summary.reflection
    summary.checklist = _checklist(results, 0 < done == asked)  # the reflection item: every question answered


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _read_text(path: Path) -> str:
    with open(path, "rb") as handle:
        return handle.read(1_000_000).decode("utf-8", errors="replace")


# ---------------------------------------------------------------- reflection

def _questions(results) -> list[str]:
    from reportgen.render import evidence

    return questions(results.language, evidence.is_practice(results))


# ----------------------------------------------------------------- checklist

# The practice page's checklist (reportgen/render/views.py `practice_checklist`): each item with what it rests on,
# read from what the run recorded (a recorded PNG, the arrays a page draws it from, or the facts).
PRACTICE_CHECKLIST = (
    lambda r: bool(r.facts.get("pipelines")),
    lambda r: _figure(r, "mosaic"),
    lambda r: _figure(r, "mixing"),
    lambda r: r.history is not None and bool(r.facts.get("metrics")),
    lambda r: bool(((r.facts.get("metrics") or {}).get("pipelines", {}).get("baseline") or {}).get("tta")),
    lambda r: bool(((r.facts.get("metrics") or {}).get("pipelines", {}).get("baseline") or {}).get("robustness")),
    lambda r: _figure(r, "gradcam_hits") and _figure(r, "gradcam_errors"),
    lambda r: _figure(r, "methods_baseline"),
    lambda r: bool(r.facts.get("explanations")),
    lambda r: bool(r.facts.get("tsne")),
)


def _figure(results, name: str) -> bool:
    return name in results.figures or name in results.arrays


def _checklist(results, reflection_written: bool) -> tuple[int, int]:
    from reportgen.render import evidence

    if evidence.is_practice(results):
        done = [bool(check(results)) for check in PRACTICE_CHECKLIST] + [reflection_written]
    else:
        done = [ticked for _label, ticked in evidence.checklist(results, reflection_written)]
    return sum(done), len(done)


# --------------------------------------------------------------------- flags

def _flags(project: StudentProject, results, summary: RunSummary) -> list[str]:
    flags = []
    if summary.status == "corrupt":
        flags.append("corrupt")
    if summary.status == "failed":
        flags.append("failed")
    if summary.status == "ok" and summary.chance and any(
            at_chance(value, summary.chance, _test_size(results)) for value in summary.accuracy.values()):
        flags.append("chance")
    if summary.status == "ok" and stale_key(project, results):
        flags.append("stale")
    if summary.status == "ok" and summary.reflection[0] < summary.reflection[1]:
        flags.append("reflection")
    return flags


def _test_size(results) -> int:
    size = (results.facts.get("metrics") or {}).get("test_size")
    return size if isinstance(size, int) and size > 0 else 0


def stale_key(project: StudentProject, results) -> bool:
    """Whether the committed notebook's code, or the portfolio's practice code, differs from what the
    results' cache key recorded: the numbers were not produced by the code committed beside them.
    Library versions and the data are the student's machine's, not compared here."""
    from reportgen.runs.cache import notebook_code_hash, package_code_hash

    recorded = (results.record or {}).get("cache_components")
    if not isinstance(recorded, dict):
        return True
    notebook = project.notebook(results.config.notebook)
    try:
        if not notebook.is_file() or notebook_code_hash(notebook) != recorded.get("notebook"):
            return True
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return True
    package = project.root / "reportgen"
    if (package / "practice").is_dir() and (package / "record.py").is_file() and "package" in recorded:
        return package_code_hash(package) != recorded["package"]
    return False


def read_summary(text: str) -> StudentSummary:
    return StudentSummary.model_validate(json.loads(text))
