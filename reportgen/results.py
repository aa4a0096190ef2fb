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

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from reportgen.errors import CorruptResults
from reportgen.read.model import NotebookHarvest, Output, Section  # noqa: F401  (the notebook's typed view)
from reportgen.record import RECORDS, to_jsonable
from reportgen.safe import contained_file, contained_files, results_file, results_folder, shown

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.runs.config import RunFile

RUN_RECORD = "run.json"
NOTEBOOK = "notebook.ipynb"
FIGURE_INDEX = "figures.json"
TIMINGS = "timings.json"
STATUS = "status.json"
# What a recorded figure or table may be: published as it is, an SVG or an HTML file would be a document
# of the site's own origin, running whatever script it holds.
FIGURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
TABLE_SUFFIXES = (".csv",)


# ------------------------------------------------------------------ the files, typed

class _Entry(BaseModel):
    """What the renderer reads of a results folder's JSON: the types it relies on, other keys allowed."""

    model_config = ConfigDict(extra="allow")


def _iso_time(value: str | None) -> str | None:
    if value is not None:
        dt.datetime.fromisoformat(value)  # ValueError: not a time
    return value


IsoTime = Annotated[str | None, AfterValidator(_iso_time)]
Seconds = Annotated[float | None, Field(ge=0, allow_inf_nan=False)]
CellIndex = Annotated[int | None, Field(ge=0)]


class RunRecord(_Entry):
    """run.json: a run's provenance and status, written by reportgen.runs (never by the notebook)."""

    status: Literal["ok", "failed", "running"]
    run_id: str | None = None
    notebook: str | None = None
    title: str | None = None
    cache_key: str | None = None
    cache_components: dict[str, str] = {}
    parameters: dict[str, Any] = {}
    libraries: dict[str, str] = {}
    timeout_minutes: Seconds = None
    started: IsoTime = None
    finished: IsoTime = None
    seconds: Seconds = None
    python: str | None = None
    platform: str | None = None
    device: dict[str, str | int | list[str] | None] | str | None = None
    git_commit: str | None = None
    error_summary: str = ""
    error_tail: str = ""
    failed_cell: CellIndex = None
    failed_cell_number: CellIndex = None


class FigureEntry(_Entry):
    file: str
    caption: str = ""


class RecordEntry(_Entry):
    kind: str
    name: str = ""
    stage: str | None = None
    file: str | None = None
    caption: str = ""
    value: Annotated[float | None, Field(allow_inf_nan=False)] = None
    group: str | None = None


class Timing(_Entry):
    stage: str
    seconds: Seconds = None


FIGURES_TYPE = TypeAdapter(dict[str, FigureEntry])
RECORDS_TYPE = TypeAdapter(list[RecordEntry])
TIMINGS_TYPE = TypeAdapter(list[Timing])


def read_json(folder: Path, path: Path, schema: TypeAdapter | type[BaseModel] | None = None) -> Any:
    """One JSON file of a results folder (checked to lie inside it), typed by `schema` where given;
    CorruptResults naming the file when it cannot be read or does not fit."""
    name = Path(path).relative_to(folder).as_posix()
    contained_file(folder, path)
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CorruptResults(folder, f"{name} is unreadable: {shown(str(exc))}") from None
    if schema is None:
        return value
    try:
        if isinstance(schema, TypeAdapter):
            return schema.validate_python(value)
        return schema.model_validate(value)
    except ValidationError as exc:
        raise CorruptResults(folder, f"{name} does not fit the results contract: {_type_problems(exc)}") from None


def _type_problems(exc: ValidationError) -> str:
    problems = [f"'{'.'.join(map(str, err['loc'])) or '(top level)'}': {err['msg']}" for err in exc.errors()[:3]]
    more = len(exc.errors()) - len(problems)
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")


def read_run_json(folder: Path) -> dict | None:
    """A results folder's run record, or None when there is no such folder.

    Raises CorruptResults when run.json cannot be read or its fields have the wrong types, a
    successful run lacks its notebook, or either is a link leading out of the folder: a damaged
    folder must not pass for a new run (re-executed), for fresh results nor for results (shown).
    """
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return None
    results_folder(folder, folder.parent)
    path = folder / RUN_RECORD
    if not path.exists() and not path.is_symlink():
        raise CorruptResults(folder, f"{RUN_RECORD} is missing")
    record = read_json(folder, path)
    if not isinstance(record, dict) or "status" not in record:
        raise CorruptResults(folder, f"{RUN_RECORD} is not a run record (no 'status')")
    read_json(folder, path, RunRecord)  # the types the renderer relies on; the record stays as written
    if record["status"] == "ok":
        notebook = folder / NOTEBOOK
        if not notebook.exists() and not notebook.is_symlink():
            raise CorruptResults(folder, f"{NOTEBOOK} is missing")
        contained_file(folder, notebook)
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


# ------------------------------------------------------------------ a folder, read safely

RESERVED_JSON = {Path(name).stem for name in (RUN_RECORD, FIGURE_INDEX, TIMINGS, STATUS, RECORDS)}


@dataclass
class FolderContents:
    """Every file of a successful results folder the renderer reads, each checked to lie inside it
    (links included) and each JSON file typed: what harvest builds the page objects from."""

    facts: dict[str, Any] = field(default_factory=dict)  # <name>.json -> its value
    tables: dict[str, Path] = field(default_factory=dict)  # <name>.csv
    figures: dict[str, Figure] = field(default_factory=dict)  # figures.json, files that exist
    records: list[Record] | None = None  # records.json in order (None: results made before it existed)
    arrays: dict[str, Path] = field(default_factory=dict)  # <name>.npz, drawn at render time
    timings: list[dict] = field(default_factory=list)
    notebook: Path | None = None


def read_folder(folder: Path) -> FolderContents:
    """Read a successful results folder's files; CorruptResults naming the file when one is unreadable,
    of the wrong type, or resolves outside the folder (a link, '..', an absolute path)."""
    folder = Path(folder)
    contents = FolderContents(notebook=contained_file(folder, folder / NOTEBOOK))
    for path in contained_files(folder, "*.json"):
        if path.stem not in RESERVED_JSON:
            contents.facts[path.stem] = read_json(folder, path)
    contents.tables = {path.stem: _utf8_text(folder, path) for path in contained_files(folder, "*.csv")}
    contents.arrays = {path.stem: path for path in contained_files(folder, "*.npz")}
    if _present(folder / FIGURE_INDEX):
        for name, entry in read_json(folder, folder / FIGURE_INDEX, FIGURES_TYPE).items():
            path = results_file(folder, entry.file, FIGURE_INDEX, suffixes=FIGURE_SUFFIXES)
            if _present(path):
                contents.figures[name] = Figure(name, contained_file(folder, path), entry.caption)
    if _present(folder / TIMINGS):
        contents.timings = [t.model_dump() for t in read_json(folder, folder / TIMINGS, TIMINGS_TYPE)]
    if _present(folder / RECORDS):
        contents.records = [record for entry in read_json(folder, folder / RECORDS, RECORDS_TYPE)
                            if (record := _record(folder, entry)) is not None]
    return contents


def _utf8_text(folder: Path, path: Path) -> Path:
    """`path`, checked to be UTF-8 text (a table is shown on the page and in `status`, never guessed at)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise CorruptResults(folder, f"{path.relative_to(folder).as_posix()} is not UTF-8 text ({exc.reason})") from None
    return path


def _present(path: Path) -> bool:
    """Whether a file is there (a dangling link counts: it is checked, and refused, not skipped)."""
    return path.exists() or path.is_symlink()


def _record(folder: Path, entry: RecordEntry) -> Record | None:
    if entry.kind == "metric":
        return Record("metric", entry.name, entry.stage, metric=Metric(entry.name, entry.value, entry.group, entry.stage))
    if entry.kind in ("figure", "table") and entry.file is not None:
        path = results_file(folder, entry.file, RECORDS,
                            suffixes=FIGURE_SUFFIXES if entry.kind == "figure" else TABLE_SUFFIXES)
        if _present(path):
            return Record(entry.kind, entry.name, entry.stage, entry.caption, contained_file(folder, path))
    return None
