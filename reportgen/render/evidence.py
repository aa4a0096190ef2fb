"""What a page shows, decided by what was harvested: template choice, checklists, comparisons.

The practice's page appears when the practice's evidence is there; any other notebook gets the
generic skeleton (Contexto, Objetivos, Actividades, Desarrollo, Evidencias, Reflexión, Checklist,
Referencias) filled from its executed notebook and from what it recorded through the Recorder.
Registered into the templates' Jinja environment by `register`.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import pass_context

from reportgen.read import NotebookHarvest, Section
from reportgen.read.page import section_html, shown_on_run_page
from reportgen.render.strings import strings
from reportgen.results import NOTEBOOK, Metric, Output, Record, RunResults
from reportgen.errors import CorruptResults
from reportgen.read.pasted import located
from reportgen.safe import printable, sanitize_html, shown

PRACTICE_TEMPLATE, NOTEBOOK_TEMPLATE = "run_page.md.j2", "notebook_run.md.j2"
# Figures the practice's template places itself; any other recorded figure goes under its stage.
PRACTICE_FIGURES = {"samples", "class_distribution", "mosaic", "mixing", "curves", "robustness", "reliability",
                    "confusion_baseline", "confusion_advanced", "top5", "gradcam_hits", "gradcam_errors",
                    "methods_baseline", "methods_advanced", "deletion_insertion", "tsne", "lr_sensitivity"}
PRACTICE_TABLES = {"history", "metrics", "lr_sweep"}  # offered as downloads
FAILED_NOTEBOOK = "notebook-fallido.ipynb"  # a failed attempt's executed notebook, among the downloads
FAILED_FIGURES = "figures/intento-fallido"  # its figures, apart from the last good results' figures
MAX_TABLE_ROWS = 20
MAX_COMPARED = 8  # metric columns side by side; more would not read at 1280 px
MAX_PARAMETER_ROWS = 60  # a run file may hold thousands of values: the page lists the first ones
MAX_PARAMETER_CHARS = 80  # a value longer than this is cut (the whole of it is in run.json)
OPEN_PARAMETERS = 12  # a short parameters table is shown open, a long one (the practice's) folded


def is_practice(run: RunResults) -> bool:
    """The practice's evidence: both pipelines' metrics and the pipelines' description."""
    metrics = run.facts.get("metrics")
    return (isinstance(metrics, dict) and "baseline" in metrics.get("pipelines", {})
            and "pipelines" in run.facts)


def run_template(run: RunResults) -> str:
    """The practice's rich page when its evidence is present; the generic skeleton otherwise."""
    return PRACTICE_TEMPLATE if is_practice(run) else NOTEBOOK_TEMPLATE


# ------------------------------------------------------------------ recorded

def other_records(run: RunResults) -> list[Record]:
    """Recorded figures, tables and metrics the practice's page does not place itself."""
    if not is_practice(run):
        return list(run.records)
    return [r for r in run.records
            if not (r.kind == "figure" and r.name in PRACTICE_FIGURES)
            and not (r.kind == "table" and r.name in PRACTICE_TABLES)]


def by_stage(records: list[Record]) -> list[tuple[str | None, list[Record]]]:
    """Records grouped under their stage, stages in the order they first recorded something."""
    groups: dict[str | None, list[Record]] = {}
    for record in records:
        groups.setdefault(record.stage, []).append(record)
    return list(groups.items())


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def recorded_pngs(run: RunResults) -> frozenset[str]:
    """Digests of recorded figures: the notebook's copy of one (Recorder.show) is not shown twice."""
    return frozenset(_file_digest(r.path, r.path.stat().st_mtime_ns)
                     for r in run.records if r.kind == "figure" and r.path)


@functools.lru_cache(maxsize=256)
def _file_digest(path: Path, _mtime: int) -> str:
    """A file's digest, read once per version (every section of a page asks again)."""
    return digest(path.read_bytes())


def visible_outputs(run: RunResults, outputs: list[Output]) -> list[Output]:
    shown = recorded_pngs(run) if run.records else frozenset()
    return [o for o in outputs if not (o.kind == "figure" and digest(o.data) in shown)]


def shown_attempt(run: RunResults) -> tuple[NotebookHarvest | None, bool]:
    """The notebook the run page shows, and whether it is the failed attempt: a failed run shows
    what its last attempt produced, up to the failing cell; otherwise the last good results."""
    if (run.status == "failed" and run.failure is not None and run.failure.notebook is not None
            and not is_practice(run)):
        return run.failure.notebook, True
    return run.notebook, False


def page_assets(run: RunResults) -> dict[str, bytes]:
    """For the generic page: the notebook's figures it shows (figures/), glued figures, and the
    executed notebook(s) among the downloads (datos/), by path relative to the run's folder."""
    if is_practice(run):
        return {}
    files = {}
    notebook, failed = shown_attempt(run)
    if notebook is not None:
        folder = FAILED_FIGURES if failed else "figures"
        outputs = [o for s in notebook.sections for o in visible_outputs(run, s.outputs)]
        outputs += [g.output for g in notebook.glued if g.output is not None]
        files.update({f"{folder}/{o.file}": o.data for o in outputs if o.kind == "figure"})
    if run.folder is not None:
        files[f"datos/{NOTEBOOK}"] = (run.folder / NOTEBOOK).read_bytes()
    return files


def glued_figures(run: RunResults) -> list[Output]:
    """Figures the notebook glued under a name, as the Recorder's named figures."""
    notebook, _ = shown_attempt(run)
    return [g.output for g in notebook.glued if g.output is not None and g.output.kind == "figure"] \
        if notebook is not None else []


def csv_rows(path: Path, limit: int = MAX_TABLE_ROWS) -> tuple[list[str], list[list[str]], int]:
    """Header, the first rows and the row count of a recorded CSV table (CorruptResults when it is not
    UTF-8 CSV text)."""
    try:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CorruptResults(Path(path).parent, f"{Path(path).name} is not a UTF-8 CSV table: {shown(str(exc))}") from None
    if not rows:
        return [], [], 0
    return rows[0], rows[1:limit + 1], len(rows) - 1


def activities(run: RunResults) -> list[tuple[str, float | None]]:
    """Rows of 'Actividades': the Recorder's stages when it timed any, else the notebook's sections."""
    notebook, failed = shown_attempt(run)
    if run.timings and not failed:
        return [(t["stage"], t.get("seconds")) for t in run.timings if not _skipped(run, t["stage"])]
    if notebook is None:
        return []
    return [(s.title, s.seconds) for s in notebook.sections if s.has_code]


def _skipped(run: RunResults, stage: str) -> bool:
    """A practice stage its parameters turned off (the learning-rate sweep without learning rates):
    timed, but nothing ran."""
    training = run.parameters.get("training") if isinstance(run.parameters, dict) else None
    return stage == "lr_sweep" and is_practice(run) and isinstance(training, dict) and not training.get("lr_sweep")


def activities_total(run: RunResults) -> float | None:
    """The run's whole time: as recorded, or the failed attempt's cells added up."""
    notebook, failed = shown_attempt(run)
    if failed:
        measured = [s.seconds for s in notebook.sections if s.seconds is not None]
        return sum(measured) if measured else None
    return run.record.get("seconds")


# ------------------------------------------------------------------ checklist

def evidence_names(run: RunResults, reflection_written: bool) -> set[str]:
    """Names a checklist item can point at: headings, recorded names, 'reflection'."""
    names = {r.name for r in run.records} | set(run.figures) | set(run.tables)
    notebook, _ = shown_attempt(run)
    if notebook is not None:
        names |= {s.title for s in notebook.sections} | {g.name for g in notebook.glued}
    if reflection_written:
        names.add("reflection")
    return {name.casefold() for name in names}


def checklist(run: RunResults, reflection_written: bool) -> list[tuple[str, bool]]:
    """The run file's checklist, each item ticked only when its evidence was harvested."""
    if run.folder is None:
        return [(item.label, False) for item in run.config.checklist]
    names = evidence_names(run, reflection_written)
    items = []
    for item in run.config.checklist:
        wanted = (item.evidence or item.label).casefold()
        items.append((item.label, any(wanted == name or wanted in name for name in names)))
    return items


# ----------------------------------------------------------------- comparison

@dataclass
class Comparison:
    """Metrics shared by runs side by side; each run's own metrics listed apart."""

    columns: list[str]
    values: dict[str, dict[str, float | None]]  # run id -> metric key -> value
    rest: dict[str, list[Metric]]  # run id -> metrics not in the columns
    metrics: dict[str, Metric] = field(default_factory=dict)  # metric key -> one of its metrics (its name and group, for the header)
    # run id -> metric key -> the practice's metric it is (e.g. "accuracy"), whose one form it reads in
    # (render/numbers.py QUANTITIES, as on the run page and its card); a notebook's own metrics: none
    names: dict[str, dict[str, str]] = field(default_factory=dict)


def comparison(runs: list[RunResults]) -> Comparison:
    counts: dict[str, int] = {}
    for run in runs:
        for key in dict.fromkeys(m.key for m in run.metrics):
            counts[key] = counts.get(key, 0) + 1
    measured = sum(1 for run in runs if run.metrics)
    shared = [key for key, count in counts.items() if count >= min(2, measured)][:MAX_COMPARED]
    values = {run.id: {m.key: m.value for m in run.metrics} for run in runs}
    rest = {run.id: [m for m in run.metrics if m.key not in shared] for run in runs}
    names = {run.id: {m.key: m.name for m in run.metrics} if is_practice(run) else {} for run in runs}
    named = {m.key: m for run in reversed(runs) for m in run.metrics}
    return Comparison(shared, values, rest, named, names)


@pass_context
def metric_label(context, metric: Metric) -> str:
    """A metric's name as a header reads it: the practice's metrics and pipelines in the page's
    words ("F1 macro · avanzado"), any other metric as the notebook named it."""
    words = strings(context["language"])
    name = words["page"]["metric_names"].get(metric.name, metric.name)
    group = words["verdicts"]["pipelines"].get(metric.group, metric.group)
    return f"{name} · {group}" if group else name


def headline_metrics(run: RunResults, count: int = 3) -> list[Metric]:
    """The first metrics a run recorded, for its home card."""
    return run.metrics[:count]


# ----------------------------------------------------------------- parameters

def parameter_rows(run: RunResults) -> tuple[list[tuple[str, str]], int]:
    """The parameters the run used, one (name, value) row per value (nested mappings as dotted names,
    `data.image_size`), each value as a run file writes it and cut to MAX_PARAMETER_CHARS; and how
    many rows beyond MAX_PARAMETER_ROWS were left out. The template escapes both."""
    rows = list(_flattened(run.parameters))
    return [(name, _shortened(value)) for name, value in rows[:MAX_PARAMETER_ROWS]], \
        max(0, len(rows) - MAX_PARAMETER_ROWS)


def _flattened(values: dict, prefix: str = ""):
    for name, value in values.items():
        if isinstance(value, dict) and value:
            yield from _flattened(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def _shortened(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_PARAMETER_CHARS else text[:MAX_PARAMETER_CHARS - 1] + "…"


# ----------------------------------------------------------------- Jinja

def front_matter_title(title: str) -> str:
    """A page title for the front matter: the theme puts it into the header and the navigation
    unescaped, so it is escaped here; JSON is valid YAML and quotes anything."""
    return json.dumps(html.escape(printable(str(title)), quote=False), ensure_ascii=False)


@pass_context
def notebook_html(context, part: Section | str) -> str:
    """The placeholder of a notebook section's body (or of prose HTML) on the run page; the HTML
    itself, sanitised, replaces it after Markdown (`render.fragments`)."""
    run: RunResults = context["run"]
    env = context.environment
    _, failed = shown_attempt(run)
    if isinstance(part, str):
        return env.globals["fragments"].add(sanitize_html(located(part, FAILED_FIGURES if failed else "figures")))
    body = section_html(part, env.globals["site_markdown"](), context["t"], FAILED_FIGURES if failed else "figures",
                        f"datos/{FAILED_NOTEBOOK if failed else NOTEBOOK}",
                        skip_figures=recorded_pngs(run) if run.records else frozenset())
    return env.globals["fragments"].add(body) if body.strip() else ""


@pass_context
def glued_figure_html(context, output: Output) -> str:
    """The placeholder of a glued figure, placed under "recorded" with its name as caption, like
    the Recorder's figures."""
    from reportgen.read.page import output_html

    _, failed = shown_attempt(context["run"])
    image = output_html(output, context["t"], FAILED_FIGURES if failed else "figures", f"datos/{NOTEBOOK}")
    body = image.replace("</figure>", f"<figcaption>{html.escape(output.glue or '')}</figcaption></figure>")
    return context.environment.globals["fragments"].add(sanitize_html(body))


def register(env) -> None:
    """Make these helpers available to every template."""
    env.globals.update(other_records=other_records,
                       by_stage=by_stage, csv_rows=csv_rows,
                       comparison=comparison, headline_metrics=headline_metrics,
                       visible_outputs=visible_outputs, activities_total=activities_total, shown_attempt=shown_attempt,
                       notebook_html=notebook_html, shown_on_run_page=shown_on_run_page,
                       glued_figures=glued_figures, glued_figure_html=glued_figure_html,
                       parameter_rows=parameter_rows, open_parameters=OPEN_PARAMETERS)
    env.filters.update(front_matter_title=front_matter_title, metric_label=metric_label)
    env.tests.update(practice_run=is_practice)
