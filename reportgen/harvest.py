"""Harvest: read a run's results folder into typed objects for the templates.

Templates never read files; everything a page shows comes through `RunResults`.
The folder layout is the one `reportgen.record.Recorder` writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from reportgen.project import Project
from reportgen.results import read_run_json
from reportgen.runs import Run
from reportgen.runs.config import RunFile


@dataclass
class Figure:
    name: str
    path: Path  # absolute path of the PNG in the results folder
    caption: str


@dataclass
class Failure:
    """The last failed attempt of a run."""

    summary: str
    tail: str
    cell: int | None
    finished: str | None
    folder: Path


@dataclass
class RunResults:
    """Everything a run page shows about one run."""

    id: str
    config: RunFile
    status: str  # ok | failed | new
    folder: Path | None = None
    record: dict = field(default_factory=dict)  # run.json: provenance, timings, parameters
    facts: dict = field(default_factory=dict)  # <name>.json files: dataset, protocol, metrics, ...
    history: pd.DataFrame | None = None
    figures: dict[str, Figure] = field(default_factory=dict)
    timings: list[dict] = field(default_factory=list)
    tables: dict[str, Path] = field(default_factory=dict)  # <name>.csv files, for download
    failure: Failure | None = None

    @property
    def language(self) -> str:
        return self.config.language

    @property
    def title(self) -> str:
        return self.config.title

    def figure(self, name: str) -> Figure | None:
        return self.figures.get(name)


RESERVED_JSON = {"run", "figures", "timings", "status"}


def harvest_run(project: Project, run: Run) -> RunResults:
    """Read the latest successful results and the latest failure (if any) of one run."""
    results = RunResults(id=run.id, config=run.config, status="new")
    folder = project.results(run.id)
    record = read_run_json(folder)
    if record and record.get("status") == "ok":
        results.status = "ok"
        results.folder = folder
        results.record = record
        _read_folder(folder, results)
    failed = read_run_json(project.failed_results(run.id))
    if failed and failed.get("status") == "failed":
        results.failure = Failure(
            summary=failed.get("error_summary", ""), tail=failed.get("error_tail", ""),
            cell=failed.get("failed_cell"), finished=failed.get("finished"),
            folder=project.failed_results(run.id))
        if results.status != "ok" or _newer(failed, record):
            results.status = "failed"
    return results


def _newer(failed: dict, record: dict | None) -> bool:
    return not record or failed.get("finished", "") >= record.get("finished", "")


def _read_folder(folder: Path, results: RunResults) -> None:
    for path in sorted(folder.glob("*.json")):
        if path.stem not in RESERVED_JSON:
            results.facts[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    for path in sorted(folder.glob("*.csv")):
        results.tables[path.stem] = path
    if "history" in results.tables:
        results.history = pd.read_csv(results.tables["history"])
    index_path = folder / "figures.json"
    if index_path.exists():
        for name, entry in json.loads(index_path.read_text(encoding="utf-8")).items():
            path = folder / entry["file"]
            if path.exists():
                results.figures[name] = Figure(name=name, path=path, caption=entry.get("caption", ""))
    timings_path = folder / "timings.json"
    if timings_path.exists():
        results.timings = json.loads(timings_path.read_text(encoding="utf-8"))


def harvest_all(project: Project, runs: list[Run]) -> list[RunResults]:
    return [harvest_run(project, run) for run in runs]
