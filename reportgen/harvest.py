"""Harvest: read a run's results folder into typed objects for the templates.

Templates never read files; everything a page shows comes through `RunResults`.
The folder layout is the one `reportgen.record.Recorder` writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from reportgen.project import Project
from reportgen.read import glued_records, read_notebook, until_failure
from reportgen.record import RECORDS
from reportgen.results import (FIGURE_INDEX, NOTEBOOK, RUN_RECORD, STATUS, TIMINGS, Failure, Figure, Metric,
                               Record, RunResults, read_run_json)
from reportgen.runs import Run

RESERVED_JSON = {Path(name).stem for name in (RUN_RECORD, FIGURE_INDEX, TIMINGS, STATUS, RECORDS)}
# The practice's headline numbers, as metrics the comparison page and home cards line up.
PRACTICE_METRICS = ("accuracy", "macro_f1", "ece")
PRACTICE_PIPELINES = ("baseline", "advanced")


def harvest_run(project: Project, run: Run) -> RunResults:
    """Read the latest successful results and the latest failure (if any) of one run."""
    results = RunResults(id=run.id, config=run.config, status="new", group=run.group, matrix=run.matrix)
    folder = project.results(run.id)
    record = read_run_json(folder)
    if record and record.get("status") == "ok":
        results.status = "ok"
        results.folder = folder
        results.record = record
        _read_folder(folder, results, project)
    failed = read_run_json(project.failed_results(run.id))
    if failed and failed.get("status") == "failed":
        results.failure = Failure(
            summary=failed.get("error_summary", ""), tail=failed.get("error_tail", ""),
            cell=failed.get("failed_cell"), cell_number=failed.get("failed_cell_number"),
            finished=failed.get("finished"),
            folder=project.failed_results(run.id),
            notebook=until_failure(_notebook(project, project.failed_results(run.id), run.config.notebook)))
        if results.status != "ok" or _newer(failed, record):
            results.status = "failed"
    return results


def _newer(failed: dict, record: dict | None) -> bool:
    return not record or failed.get("finished", "") >= record.get("finished", "")


def _read_folder(folder: Path, results: RunResults, project: Project) -> None:
    for path in sorted(folder.glob("*.json")):
        if path.stem not in RESERVED_JSON:
            results.facts[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    for path in sorted(folder.glob("*.csv")):
        results.tables[path.stem] = path
    results.arrays = {path.stem: path for path in sorted(folder.glob("*.npz"))}  # figures' data (render.figures)
    if "history" in results.tables:
        results.history = pd.read_csv(results.tables["history"])
    index_path = folder / FIGURE_INDEX
    if index_path.exists():
        for name, entry in json.loads(index_path.read_text(encoding="utf-8")).items():
            path = folder / entry["file"]
            if path.exists():
                results.figures[name] = Figure(name=name, path=path, caption=entry.get("caption", ""))
    timings_path = folder / TIMINGS
    if timings_path.exists():
        results.timings = json.loads(timings_path.read_text(encoding="utf-8"))
    results.notebook = _notebook(project, folder, results.config.notebook)
    results.records = _records(folder, results) + glued_records(results.notebook)
    results.metrics = [r.metric for r in results.records if r.metric] or practice_metrics(results.facts)


def _notebook(project: Project, folder: Path, name: str):
    """The executed notebook of a results folder, its prose from the notebook as it is now."""
    return read_notebook(folder / NOTEBOOK, project.notebook(name), project.mkdocs_yml,
                         cache=project.root / ".cache" / "reportgen" / "notebooks")


def _records(folder: Path, results: RunResults) -> list[Record]:
    """The Recorder's manifest in order; results recorded before it existed list their figures."""
    path = folder / RECORDS
    if not path.exists():
        return [Record("figure", f.name, caption=f.caption, path=f.path) for f in results.figures.values()]
    records = []
    for entry in json.loads(path.read_text(encoding="utf-8")):
        kind, name, stage = entry.get("kind"), entry.get("name", ""), entry.get("stage")
        if kind == "metric":
            metric = Metric(name, entry.get("value"), entry.get("group"), stage)
            records.append(Record(kind, name, stage, metric=metric))
        elif kind in ("figure", "table") and (folder / entry.get("file", "")).is_file():
            records.append(Record(kind, name, stage, entry.get("caption", ""), folder / entry["file"]))
    return records


def practice_metrics(facts: dict) -> list[Metric]:
    """The practice's test metrics (mean over seeds) per pipeline, from its metrics.json."""
    pipelines = facts.get("metrics", {}).get("pipelines", {}) if isinstance(facts.get("metrics"), dict) else {}
    metrics = []
    for name in PRACTICE_METRICS:
        for pipeline in PRACTICE_PIPELINES:
            aggregate = pipelines.get(pipeline, {}).get("aggregate", {}).get(name)
            if isinstance(aggregate, dict):
                metrics.append(Metric(name, aggregate.get("mean"), pipeline))
    return metrics


def harvest_all(project: Project, runs: list[Run]) -> list[RunResults]:
    return [harvest_run(project, run) for run in runs]
