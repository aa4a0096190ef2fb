"""The results contract: what a results folder holds, read without any ML library.

Layout of `experiments/results/<run-id>/` (written by `reportgen.record.Recorder` inside the
notebook and by `reportgen.runs.execution` around it)::

    run.json            provenance and status (written by the runner, not the notebook)
    notebook.ipynb      the executed notebook
    <name>.json         facts and numbers (dataset, protocol, metrics, explanations, ...)
    <name>.csv          tables (history, metrics, ...)
    <name>.npz          arrays the page draws a figure from (reportgen.render.figures)
    figures/<name>.png  figures, listed with their captions in figures.json
    timings.json        seconds spent in each stage of the notebook, in order
    records.json        what the Recorder saved, in order, each with its stage (figures, tables, metrics)

Any executed notebook is also read on its own (`reportgen.read`): its headings, outputs and
cell timings become `NotebookHarvest`, so a notebook without any reportgen code still gets a page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.errors import CorruptResults
from reportgen.read.model import NotebookHarvest, Output, Section  # noqa: F401  (the notebook's typed view)
from reportgen.record import to_jsonable

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.runs.config import RunFile

RUN_RECORD = "run.json"
NOTEBOOK = "notebook.ipynb"
FIGURE_INDEX = "figures.json"
TIMINGS = "timings.json"
STATUS = "status.json"


def read_run_json(folder: Path) -> dict | None:
    """A results folder's run record, or None when there is no such folder.

    Raises CorruptResults when run.json cannot be read, or a successful run lacks its notebook:
    a damaged folder must not pass for a new run (re-executed) nor for results (shown).
    """
    path = Path(folder) / RUN_RECORD
    if not Path(folder).exists():
        return None
    if not path.exists():
        raise CorruptResults(folder, f"{RUN_RECORD} is missing")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptResults(folder, f"{RUN_RECORD} is unreadable: {exc}") from None
    if not isinstance(record, dict) or "status" not in record:
        raise CorruptResults(folder, f"{RUN_RECORD} is not a run record (no 'status')")
    if record["status"] == "ok" and not (Path(folder) / NOTEBOOK).is_file():
        raise CorruptResults(folder, f"{NOTEBOOK} is missing")
    return record


@dataclass
class Figure:
    name: str
    path: Path  # absolute path of the PNG in the results folder
    caption: str


@dataclass
class Metric:
    """A number for the comparison page and the home cards; `group` tells apart e.g. pipelines."""

    name: str
    value: float | None
    group: str | None = None
    stage: str | None = None

    @property
    def key(self) -> str:
        return f"{self.name} · {self.group}" if self.group else self.name


@dataclass
class Record:
    """One thing the Recorder saved, in recorded order: a figure, a table or a metric."""

    kind: str  # figure | table | metric
    name: str
    stage: str | None = None
    caption: str = ""
    path: Path | None = None  # figure / table file
    metric: Metric | None = None


@dataclass
class Failure:
    """The last failed attempt of a run."""

    summary: str
    tail: str
    cell: int | None  # index in the executed notebook (papermill's added cells included)
    finished: str | None
    folder: Path
    cell_number: int | None = None  # the same cell as the student counts it in their notebook
    notebook: NotebookHarvest | None = None  # what the attempt showed, up to its failing cell

    @property
    def shown_cell(self) -> int | None:
        """The failing cell's number for the reader (their own count where it was recorded)."""
        return self.cell_number or self.cell

    @property
    def has_notebook(self) -> bool:
        """Whether the attempt left a notebook (a run can fail before its first cell)."""
        return (self.folder / NOTEBOOK).is_file()


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
    arrays: dict[str, Path] = field(default_factory=dict)  # <name>.npz files, drawn at render time
    failure: Failure | None = None
    notebook: NotebookHarvest | None = None  # the executed notebook, read on its own (prose as it is now)
    records: list[Record] = field(default_factory=list)  # the Recorder's manifest, in order
    metrics: list[Metric] = field(default_factory=list)  # recorded (or derived) headline numbers
    group: str | None = None  # the run file of a matrix run (runs of one matrix are compared together)
    matrix: dict = field(default_factory=dict)  # a matrix run's values: dotted parameter path -> value

    @property
    def language(self) -> str:
        return self.config.language

    @property
    def title(self) -> str:
        return self.config.title

    @property
    def parameters(self) -> dict:
        """The parameters the run executed with (run.json, defaults filled in); before a first
        execution, the run file's own."""
        executed = self.record.get("parameters")
        if isinstance(executed, dict):
            return executed
        return to_jsonable(self.config.parameters)

    def figure(self, name: str) -> Figure | None:
        return self.figures.get(name)
