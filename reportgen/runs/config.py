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
from reportgen.render.strings import DEFAULT as DEFAULT_LANGUAGE, check_language
from reportgen.runs.parameters import inspect, schema_problems, validate_parameters
from reportgen.safe import notebook_file, notebook_name_problem, shown

DEFAULT_NOTEBOOK = "augmentation_xai"
RUN_FIELDS_INJECTED = {"language", "backend"}  # run-file fields a notebook may declare as parameters
MAX_TIMEOUT_MINUTES = 7 * 24 * 60  # a week: any longer limit is a typo (or .inf)
MAX_VALUES = 100_000  # scalars a run file may expand to, its YAML aliases followed (a YAML bomb is refused)
MAX_RUN_FILE_BYTES = 1_000_000


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
    url: str | None = Field(None, pattern=r"^https?://[^\s<>\"'`\\]+$", max_length=2000)


class RunFile(_Strict):
    """One run: which notebook, how its page is titled and introduced, and the notebook's parameters."""

    notebook: str = DEFAULT_NOTEBOOK
    # "elsewhere": an imported run (`python -m reportgen import`), executed on Colab, Kaggle or a lab
    # machine; its results folder is published as it is and reportgen never executes it (runs.imported).
    executed: Literal["here", "elsewhere"] = "here"
    title: str = Field(..., min_length=1, max_length=200)
    date: _dt.date | None = None
    language: str = Field(DEFAULT_LANGUAGE, description="the page's language: one of the strings files "
                                                      "in reportgen/render/strings/")
    backend: Literal["tensorflow", "jax"] = Field(
        "tensorflow", description="Keras backend the notebook runs on (jax: TensorFlow not needed, "
                                  "except for TFDS data)")
    description: str = ""
    objectives: list[str] = Field(default_factory=list)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    timeout_minutes: float = Field(240, gt=0, le=MAX_TIMEOUT_MINUTES, allow_inf_nan=False,
                                   description="the longest one notebook cell may run; a cell that takes "
                                               "longer fails the run (papermill's execution_timeout)")
    # A dict as written; after `load_run_file` checks it against the notebook: the notebook
    # schema's model (the practice) or the plain dict.
    parameters: Any = Field(default_factory=dict)
    _declared: frozenset[str] | None = PrivateAttr(None)
    matrix: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(
        default_factory=dict, description="parameter path -> values: one run per combination "
                                          "(expanded by reportgen.runs.matrix)")

    @field_validator("notebook")
    @classmethod
    def _under_experiments(cls, value: str) -> str:
        problem = notebook_name_problem(value)
        if problem:
            raise ValueError(f"{problem}; a run's notebook is named relative to experiments/, without "
                             f".ipynb (e.g. 'mi_notebook' or 'semana2/cnn')")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return check_language(value)

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


class _RunFileLoader(yaml.SafeLoader):
    """YAML's safe loader, dates left as text: pydantic reads them and names the field when one is
    not a date (`date: 2026-02-30`), where PyYAML would raise a ValueError of its own."""


_RunFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _read_yaml(path: Path) -> dict:
    try:
        if path.stat().st_size > MAX_RUN_FILE_BYTES:
            raise ConfigError(f"{path}: a run file is at most {MAX_RUN_FILE_BYTES // 1000} kB; this one is "
                              f"{path.stat().st_size // 1000} kB")
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_RunFileLoader)  # noqa: S506 - a safe loader
    except FileNotFoundError:
        raise ConfigError(f"{path}: run file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: unreadable run file ({shown(str(exc))})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())[:500]})") from None
    except (ValueError, RecursionError) as exc:  # PyYAML's constructors (e.g. a binary or a float) raise these
        raise ConfigError(f"{path}: a value of the run file cannot be read ({shown(str(exc))})") from None
    if _too_large(raw):
        raise ConfigError(f"{path}: the run file expands to more than {MAX_VALUES:,} values (YAML anchors "
                          f"and aliases included); a run file holds a run's settings, not data")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a run file must be a mapping with keys such as 'title' and "
                          f"'parameters', not a {type(raw).__name__}")
    return raw


def _too_large(value: Any) -> bool:
    """Whether `value`, aliases followed (a shared list counts each time it is named), has more than
    MAX_VALUES scalars: counted without expanding anything, so a YAML bomb is refused in milliseconds."""
    sizes: dict[int, int] = {}

    def size(node: Any, depth: int) -> int:
        if depth > 100:
            return MAX_VALUES + 1
        if not isinstance(node, (dict, list)):
            return 1
        if id(node) not in sizes:
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            sizes[id(node)] = min(MAX_VALUES + 1, sum(size(child, depth + 1) for child in children))
        return sizes[id(node)]

    return size(value, 0) > MAX_VALUES


def check_against_notebook(run: RunFile, notebooks_dir: Path, path: Path) -> RunFile:
    """The run with its parameters checked against its notebook: typed by the notebook's schema
    (the practice) or by its parameters cell; raise ConfigError naming the file and the field."""
    notebook = notebook_file(notebooks_dir, run.notebook, str(path))
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
