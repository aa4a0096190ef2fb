"""Run files: the schema of `experiments/runs/<run-id>.yaml` and its validation.

A run file names the notebook to execute, the page's title/date/language and the
notebook's parameters. Everything is checked here, before any data is loaded or any
notebook starts, so a typo costs a second, not an hour of GPU time.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reportgen.errors import ConfigError
from reportgen.practice.config import AUGMENTATION_OPS, RunParameters


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunFile(_Strict):
    """One run: which notebook, how its page is titled, and the notebook's parameters."""

    notebook: str = "augmentation_xai"
    title: str = Field(..., min_length=1, max_length=200)
    date: _dt.date | None = None
    language: Literal["es", "en"] = "es"
    backend: Literal["tensorflow", "jax"] = Field(
        "tensorflow", description="Keras backend the notebook runs on (jax: TensorFlow not needed, "
                                  "except for TFDS data)")
    description: str = ""
    parameters: RunParameters = Field(default_factory=RunParameters)
    matrix: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(
        default_factory=dict, description="parameter path -> values: one run per combination "
                                          "(expanded by reportgen.runs.matrix)")

    @model_validator(mode="after")
    def _backend_supports_data(self) -> "RunFile":
        if self.backend == "jax" and self.parameters.data.source == "tfds":
            raise ValueError("backend 'jax' cannot read TensorFlow Datasets here; use backend "
                             "'tensorflow' or an embedded/folder source")
        return self


# ------------------------------------------------------------------- loading

def _field_path(loc: tuple) -> str:
    # Discriminated unions add the tag ("rotation") to the location: keep it, it helps.
    return ".".join(str(part) for part in loc)


def load_run_file(path: Path, notebooks_dir: Path | None = None) -> RunFile:
    """Parse and validate one run file; raise ConfigError naming the file and the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: run file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a run file must be a mapping with keys such as 'title' and "
                          f"'parameters', not a {type(raw).__name__}")
    try:
        run = RunFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = _field_path(err["loc"]) or "(top level)"
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = "unknown key"
            elif err["type"] == "union_tag_invalid":
                message = f"unknown operation; allowed: {', '.join(AUGMENTATION_OPS)}"
            elif err["type"] == "literal_error":
                message = f"{message} (got {err['input']!r})"
            problems.append(f"field '{field}': {message}")
        raise ConfigError(f"{path}: invalid run file; " + "; ".join(problems) + ".") from None
    if notebooks_dir is not None:
        notebook = Path(notebooks_dir) / f"{run.notebook}.ipynb"
        if not notebook.is_file():
            available = sorted(p.stem for p in Path(notebooks_dir).glob("*.ipynb"))
            raise ConfigError(f"{path}: field 'notebook': unknown notebook {run.notebook!r}; "
                              f"available: {', '.join(available) or 'none'}.")
    return run
