"""The results contract: what a results folder holds, read without any ML library.

Layout of `experiments/results/<run-id>/` (written by `reportgen.record.Recorder` inside the
notebook and by `reportgen.runs.execution` around it)::

    run.json            provenance and status (written by the runner, not the notebook)
    notebook.ipynb      the executed notebook
    <name>.json         facts and numbers (dataset, protocol, metrics, explanations, ...)
    <name>.csv          tables (history, metrics, ...)
    figures/<name>.png  figures, listed with their captions in figures.json
    timings.json        seconds spent in each stage of the notebook, in order
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.runs.config import RunFile

RUN_RECORD = "run.json"
NOTEBOOK = "notebook.ipynb"
FIGURE_INDEX = "figures.json"
TIMINGS = "timings.json"
STATUS = "status.json"


def read_run_json(folder: Path) -> dict | None:
    """A results folder's run record, or None when it has none (or an unreadable one)."""
    path = Path(folder) / RUN_RECORD
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


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
    config: "RunFile"
    status: str  # ok | failed | new
    folder: Path | None = None
    record: dict = field(default_factory=dict)  # run.json: provenance, timings, parameters
    facts: dict = field(default_factory=dict)  # <name>.json files: dataset, protocol, metrics, ...
    history: "pd.DataFrame | None" = None
    figures: dict[str, Figure] = field(default_factory=dict)
    timings: list[dict] = field(default_factory=list)
    tables: dict[str, Path] = field(default_factory=dict)  # <name>.csv files, for download
    failure: Failure | None = None
    group: str | None = None  # the run file of a matrix run (runs of one matrix are compared together)
    matrix: dict = field(default_factory=dict)  # a matrix run's values: dotted parameter path -> value

    @property
    def language(self) -> str:
        return self.config.language

    @property
    def title(self) -> str:
        return self.config.title

    def figure(self, name: str) -> Figure | None:
        return self.figures.get(name)
