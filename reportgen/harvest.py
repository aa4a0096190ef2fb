"""Harvest: read a run's results folder into typed objects for the templates.

Templates never read files; everything a page shows comes through `RunResults`. The folder is
read through `reportgen.results.read_folder`, which checks that every file it names stays inside
the folder (no link out, no '..', no absolute path) and that its JSON has the contract's types.
The folder layout is the one `reportgen.record.Recorder` writes.
"""

from __future__ import annotations

from pathlib import Path

from reportgen.errors import CorruptResults
from reportgen.facts import headline_metrics
from reportgen.project import Project
from reportgen.read import glued_records, read_notebook, until_failure
from reportgen.results import NOTEBOOK, Failure, Metric, Record, RunResults, read_folder, read_run_json
from reportgen.runs import Run
from reportgen.safe import contained_file, inside, shown

# The practice's headline numbers the comparison page and home cards line up (the contract says which).
PRACTICE_METRICS = tuple(name for name, shown in headline_metrics().items() if shown["card"])
PRACTICE_PIPELINES = ("baseline", "advanced")


def harvest_run(project: Project, run: Run) -> RunResults:
    """Read the latest successful results and the latest failure (if any) of one run."""
    results = RunResults(id=run.id, config=run.config, status="new", group=run.group, matrix=run.matrix)
    folder, failed_folder = project.results(run.id), project.failed_results(run.id)
    record = _run_record(project, folder)
    if record and record.get("status") == "ok":
        results.status = "ok"
        results.folder = folder
        results.record = record
        _read_folder(folder, results, project)
    failed = _run_record(project, failed_folder)
    if failed and failed.get("status") == "failed":
        notebook = failed_folder / NOTEBOOK
        if notebook.exists() or notebook.is_symlink():
            contained_file(failed_folder, notebook)
        results.failure = Failure(
            summary=failed.get("error_summary", ""), tail=failed.get("error_tail", ""),
            cell=failed.get("failed_cell"), cell_number=failed.get("failed_cell_number"),
            finished=failed.get("finished"), folder=failed_folder,
            notebook=until_failure(_notebook(project, failed_folder, notebook, run.config.notebook)))
        if results.status != "ok" or _newer(failed, record):
            results.status = "failed"
    return results


def _run_record(project: Project, folder: Path) -> dict | None:
    """run.json of a results folder that lies inside the project (experiments/results may not lead elsewhere)."""
    if (folder.exists() or folder.is_symlink()) and not inside(folder, project.root):
        raise CorruptResults(folder, "it is a link leading out of the project")
    return read_run_json(folder)


def _newer(failed: dict, record: dict | None) -> bool:
    return not record or (failed.get("finished") or "") >= (record.get("finished") or "")


def _read_folder(folder: Path, results: RunResults, project: Project) -> None:
    contents = read_folder(folder)
    results.facts, results.tables, results.figures = contents.facts, contents.tables, contents.figures
    results.arrays, results.timings = contents.arrays, contents.timings
    if "history" in results.tables:
        import pandas as pd  # here, not at the top: only the practice's runs record a history

        try:
            results.history = pd.read_csv(results.tables["history"])
        except (ValueError, UnicodeDecodeError) as exc:  # pandas' ParserError and EmptyDataError are ValueErrors
            raise CorruptResults(folder, f"history.csv is unreadable: {shown(str(exc))}") from None
    results.notebook = _notebook(project, folder, contents.notebook, results.config.notebook)
    recorded = contents.records if contents.records is not None else [
        Record("figure", f.name, caption=f.caption, path=f.path) for f in results.figures.values()]
    results.records = recorded + glued_records(results.notebook)
    results.metrics = [r.metric for r in results.records if r.metric] or practice_metrics(results.facts)


def _notebook(project: Project, folder: Path, executed: Path, name: str):
    """The executed notebook of a results folder (already checked to lie inside it), its prose from
    the notebook as it is now; CorruptResults when it is not a notebook nbformat can read."""
    if executed is None:
        return None
    try:
        return read_notebook(executed, project.notebook(name), project.mkdocs_yml,
                             cache=project.root / ".cache" / "reportgen" / "notebooks")
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, RecursionError) as exc:
        raise CorruptResults(folder, f"{NOTEBOOK} is not a readable notebook: {shown(str(exc))}") from None


def practice_metrics(facts: dict) -> list[Metric]:
    """The practice's test metrics (mean over seeds) per pipeline, from its metrics.json."""
    metrics = []
    for name in PRACTICE_METRICS:
        for pipeline in PRACTICE_PIPELINES:
            aggregate = _walk(facts, "metrics", "pipelines", pipeline, "aggregate", name)
            mean = aggregate.get("mean") if isinstance(aggregate, dict) else None
            if isinstance(aggregate, dict) and (mean is None or isinstance(mean, (int, float))):
                metrics.append(Metric(name, mean, pipeline))
    return metrics


def _walk(value, *keys):
    """value[k1][k2]..., or None where a level is missing or not a mapping."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def harvest_all(project: Project, runs: list[Run]) -> list[RunResults]:
    return [harvest_run(project, run) for run in runs]
