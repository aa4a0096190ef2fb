"""Run files: the schema of `experiments/runs/<run-id>.yaml` and its validation.

A run file names the notebook to execute, the page's title/date/language, optional page fields
(description, objectives, checklist, references) and the notebook's parameters. The parameters
are checked against the notebook itself (`runs.parameters`). Everything is checked here, before
any data is loaded or any notebook starts, so a typo costs a second, not an hour of GPU time.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from reportgen.errors import ConfigError
from reportgen.runs.parameters import inspect, schema_problems, validate_parameters

DEFAULT_NOTEBOOK = "augmentation_xai"
RUN_FIELDS_INJECTED = {"language", "backend"}  # run-file fields a notebook may declare as parameters


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChecklistItem(_Strict):
    """One line of the page's checklist, ticked only when its evidence was harvested.

    `evidence` names a notebook heading, a recorded figure, table or metric, or "reflection"
    (the student wrote the reflection); without it, the label itself is looked up.
    """

    label: str = Field(..., min_length=1, max_length=300)
    evidence: str | None = None


class Reference(_Strict):
    title: str = Field(..., min_length=1, max_length=400)
    url: str | None = Field(None, pattern=r"^https?://")


class RunFile(_Strict):
    """One run: which notebook, how its page is titled and introduced, and the notebook's parameters."""

    notebook: str = DEFAULT_NOTEBOOK
    # "elsewhere": an imported run (`python -m reportgen import`), executed on Colab, Kaggle or a lab
    # machine; its results folder is published as it is and reportgen never executes it (runs.imported).
    executed: Literal["here", "elsewhere"] = "here"
    title: str = Field(..., min_length=1, max_length=200)
    date: _dt.date | None = None
    language: Literal["es", "en"] = "es"
    backend: Literal["tensorflow", "jax"] = Field(
        "tensorflow", description="Keras backend the notebook runs on (jax: TensorFlow not needed, "
                                  "except for TFDS data)")
    description: str = ""
    objectives: list[str] = Field(default_factory=list)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    timeout_minutes: float = Field(240, gt=0, description="the longest one notebook cell may run; "
                                   "a cell that takes longer fails the run (papermill's execution_timeout)")
    # A dict as written; after `load_run_file` checks it against the notebook: the notebook
    # schema's model (the practice) or the plain dict.
    parameters: Any = Field(default_factory=dict)
    _declared: frozenset[str] | None = PrivateAttr(None)
    matrix: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(
        default_factory=dict, description="parameter path -> values: one run per combination "
                                          "(expanded by reportgen.runs.matrix)")

    @field_validator("parameters", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if value is None:  # `parameters:` with every line commented out
            return {}
        if isinstance(value, dict) or isinstance(value, BaseModel):
            return value
        raise ValueError(f"must be a mapping of the notebook's parameter names to values, "
                         f"not a {type(value).__name__}")

    @field_validator("checklist", mode="before")
    @classmethod
    def _plain_items(cls, value: Any) -> Any:
        return [{"label": item} if isinstance(item, str) else item for item in value or []]

    @field_validator("references", mode="before")
    @classmethod
    def _plain_references(cls, value: Any) -> Any:
        return [{"title": item} if isinstance(item, str) else item for item in value or []]

    @property
    def declared_parameters(self) -> frozenset[str] | None:
        """Names the notebook's parameters cell defines (None before validation)."""
        return self._declared


# ------------------------------------------------------------------- loading

def load_run_file(path: Path, notebooks_dir: Path | None = None) -> RunFile:
    """Parse and validate one run file; raise ConfigError naming the file and the field.

    With `notebooks_dir`, the notebook must exist there and the parameters are checked against it.
    """
    path = Path(path)
    raw = _read_yaml(path)
    try:
        run = RunFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid run file; " + "; ".join(schema_problems(exc)) + ".") from None
    if notebooks_dir is not None and run.executed == "here":  # an imported run's notebook never runs here
        run = check_against_notebook(run, Path(notebooks_dir), path)
    return run


def _read_yaml(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: run file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a run file must be a mapping with keys such as 'title' and "
                          f"'parameters', not a {type(raw).__name__}")
    return raw


def check_against_notebook(run: RunFile, notebooks_dir: Path, path: Path) -> RunFile:
    """The run with its parameters checked against its notebook: typed by the notebook's schema
    (the practice) or by its parameters cell; raise ConfigError naming the file and the field."""
    notebook = notebooks_dir / f"{run.notebook}.ipynb"
    if not notebook.is_file():
        available = sorted(p.stem for p in notebooks_dir.glob("*.ipynb"))
        raise ConfigError(f"{path}: field 'notebook': unknown notebook {run.notebook!r}; "
                          f"available: {', '.join(available) or 'none'}.")
    for field in RUN_FIELDS_INJECTED & set(run.parameters):
        raise ConfigError(f"{path}: field 'parameters.{field}': set it with the run file's own "
                          f"'{field}:' field, which the notebook receives as its '{field}' parameter.")
    try:
        parameters = validate_parameters(notebook, run.parameters,
                                         context={"backend": run.backend, "language": run.language})
    except ConfigError as exc:
        raise ConfigError(f"{path}: invalid parameters for notebook {run.notebook!r}; {exc}.") from None
    checked = run.model_copy(update={"parameters": parameters})
    checked._declared = frozenset(inspect(notebook).defaults)
    return checked
