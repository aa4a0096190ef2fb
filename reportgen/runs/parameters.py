"""A run's parameters, checked against the notebook they are for, before anything executes.

Any notebook under `experiments/` can be named by a run file; to receive parameters it needs a cell
tagged `parameters` (papermill's convention). Its parameters are read with papermill's own inspection
(`papermill.inspect_notebook`): a name the cell does not define, or a value whose type does not fit
the default's, is refused with the closest name. A notebook may also declare a typed schema in its
metadata, checked after that::

    "metadata": {"reportgen": {"parameters_schema": "reportgen.practice.config:RunParameters"}}

The shipped practice does so; both kinds of notebook go through `validate_parameters`. `null` is
accepted for any parameter, as papermill passes None for any (a schema still decides for its fields).
A parameter that a cell below the parameters cell assigns again is named before the run executes
(`reassignment_warnings`): the notebook would go on with that cell's value, not the run file's.
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reportgen.errors import ConfigError
from reportgen.safe import shown

SCHEMA_KEY = "parameters_schema"
# Names papermill reports when a parameter has no annotation, and the Python types they stand for.
TYPE_NAMES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": list,
              "dict": dict, "List": list, "Dict": dict, "Tuple": list}


@dataclass(frozen=True)
class NotebookParameters:
    """What a notebook accepts: its parameters cell's names and defaults, and its optional schema."""

    defaults: dict[str, Any]  # name -> default value (None when papermill cannot evaluate it)
    types: dict[str, type | None]  # name -> the type a value must have (None: any)
    schema: type[BaseModel] | None
    has_cell: bool = True  # a notebook without a parameters cell runs as it is, with no parameters


def inspect(notebook: Path) -> NotebookParameters:
    """The notebook's parameters, read once per notebook version."""
    notebook = Path(notebook)
    return _inspect(str(notebook), notebook.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _inspect(path: str, _mtime: int) -> NotebookParameters:
    import logging

    import papermill

    if not _has_parameters_cell(path):
        return NotebookParameters({}, {}, _schema(path), has_cell=False)
    _check_syntax(path)
    papermill_log = logging.getLogger("papermill")
    level = papermill_log.level
    papermill_log.setLevel(logging.WARNING)  # "Input Notebook: ..." is noise here
    try:
        found = papermill.inspect_notebook(path)
    except ValueError:  # no kernelspec in the notebook's metadata: it runs on the project's Python kernel
        found = _inspect_as_python(path)
    except Exception as exc:  # noqa: BLE001 - a notebook papermill cannot read is a bad run file
        raise ConfigError(f"{Path(path).name}: papermill cannot read its parameters ({exc})") from None
    finally:
        papermill_log.setLevel(level)
    defaults, types = {}, {}
    for name, entry in found.items():
        defaults[name] = _literal(entry.get("default"))
        types[name] = _expected_type(entry.get("inferred_type_name"), defaults[name])
    return NotebookParameters(defaults, types, _schema(path))


def _inspect_as_python(path: str) -> dict:
    """papermill's inspection of the parameters cell, told the language the notebook lacks."""
    from papermill.inspection import _infer_parameters
    from papermill.iorw import load_notebook_node

    return {p.name: p._asdict() for p in _infer_parameters(load_notebook_node(path), "python3", "python")}


def _notebook(path: str):
    """The notebook as nbformat 4 (older formats upgraded with nbformat's converter, as papermill does)."""
    import nbformat

    try:
        return nbformat.reads(Path(path).read_text(encoding="utf-8"), as_version=4)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ConfigError(f"{Path(path).name}: not a readable notebook ({shown(str(exc))})") from None


def _parameters_cells(path: str) -> list:
    return [cell for cell in _notebook(path).cells
            if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", [])]


def _has_parameters_cell(path: str) -> bool:
    return bool(_parameters_cells(path))


def _check_syntax(path: str) -> None:
    """A parameters cell that is not valid Python fails before anything executes (IPython's magics and
    shell escapes allowed, as the kernel would read them)."""
    from IPython.core.inputtransformer2 import TransformerManager

    for cell in _parameters_cells(path):
        try:
            compile(TransformerManager().transform_cell(cell.source), "parameters cell", "exec")
        except (SyntaxError, ValueError) as exc:
            where = f"line {exc.lineno}: " if getattr(exc, "lineno", None) else ""
            raise ConfigError(f"{Path(path).name}: the cell tagged 'parameters' is not valid Python ({where}"
                              f"{shown(getattr(exc, 'msg', str(exc)))}); fix it in the notebook") from None


def _literal(source: str | None) -> Any:
    try:
        return ast.literal_eval(source) if source else None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _expected_type(annotation: str | None, default: Any) -> type | None:
    if annotation and annotation != "None":
        return TYPE_NAMES.get(annotation.split("[")[0])
    if default is None:
        return None
    return list if isinstance(default, tuple) else type(default)


def _schema(path: str) -> type[BaseModel] | None:
    """The pydantic class named in the notebook's metadata, if any."""
    metadata = _notebook(path).get("metadata", {})
    target = metadata.get("reportgen", {}).get(SCHEMA_KEY) if isinstance(metadata.get("reportgen"), dict) else None
    if not target:
        return None
    where = f"{Path(path).name}: metadata reportgen.{SCHEMA_KEY} names {shown(target)}"
    module_name, _, class_name = target.partition(":") if isinstance(target, str) else ("", "", "")
    if not module_name or not class_name.isidentifier():
        raise ConfigError(f"{where}; expected 'package.module:ClassName', a pydantic model class.")
    try:
        schema = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{where}, which cannot be imported ({shown(str(exc))}).") from None
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise ConfigError(f"{where}, which is a {type(schema).__name__}, not a pydantic model class "
                          f"(a class deriving from pydantic.BaseModel).")
    return schema


# ------------------------------------------------------------------ validation

def validate_parameters(notebook: Path, parameters: dict, context: dict | None = None) -> Any:
    """The run's parameters checked against the notebook; a schema's model, or the plain dict.

    Raises ConfigError (one paragraph, naming each field) when a name is unknown or a value's type
    does not fit. `context` reaches the schema's validators (e.g. the run's backend).
    """
    spec = inspect(notebook)
    if parameters and not spec.has_cell:
        raise ConfigError(f"{Path(notebook).name} has no cell tagged 'parameters' to receive "
                          f"{', '.join(sorted(parameters))}; tag the cell that defines them "
                          f"(Jupyter: View > Cell toolbar > Tags)")
    problems = [problem for name, value in parameters.items()
                for problem in [_problem(spec, name, value)] if problem]
    if problems:
        raise ConfigError("; ".join(problems))
    if spec.schema is None:
        return dict(parameters)
    try:
        return spec.schema.model_validate(parameters, context=context)
    except ValidationError as exc:
        raise ConfigError("; ".join(schema_problems(exc, prefix="parameters"))) from None


def _problem(spec: NotebookParameters, name: str, value: Any) -> str | None:
    if name not in spec.defaults:
        known = sorted(spec.defaults)
        closest = difflib.get_close_matches(name, known, n=1)
        hint = f" (closest: {closest[0]!r})" if closest else ""
        return (f"field 'parameters.{name}': the notebook has no parameter {name!r}{hint}; "
                f"its parameters: {', '.join(known) or 'none'}")
    expected = spec.types[name]
    if value is None or expected is None or _fits(value, expected):  # papermill passes None for any parameter
        return None
    return (f"field 'parameters.{name}': expected {expected.__name__} like the notebook's default "
            f"{shown(spec.defaults[name])}, got {type(value).__name__} {shown(value)}")


def _fits(value: Any, expected: type) -> bool:
    if expected is bool or isinstance(value, bool):
        return isinstance(value, bool) and expected is bool
    if expected is float:
        return isinstance(value, (int, float))
    return isinstance(value, expected)


def schema_problems(exc: ValidationError, prefix: str = "") -> list[str]:
    """Pydantic's errors as "field 'a.b': message" phrases."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(part) for part in (prefix, *err["loc"]) if part != "") or "(top level)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "union_tag_invalid":
            allowed = err.get("ctx", {}).get("expected_tags", "")
            message = f"unknown operation; allowed: {allowed}".replace("'", "")
        elif err["type"] == "value_error" and err.get("ctx", {}).get("error") is not None:
            message = str(err["ctx"]["error"])  # a validator's own sentence, without pydantic's "Value error, "
        elif err["type"] == "literal_error":
            message = f"{message} (got {shown(err['input'])})"
        problems.append(f"field '{field}': {message}")
    return problems


# ------------------------------------------------------------------ reassigned below

def reassignment_warnings(notebook: Path, names, injected: dict) -> list[str]:
    """One sentence per parameter of `names` that a cell below the parameters cell assigns again,
    naming the cell (its number and first line) and the value papermill injects (`injected`)."""
    from reportgen.runs.cells import reassigned

    warnings = []
    for found in reassigned(notebook, names):
        given = (f"the run's value {shown(injected[found.name])}" if found.name in injected
                 else "the parameters cell's default")
        warnings.append(f"parameter {found.name!r} is assigned again in cell {found.cell.number} "
                        f"({shown(found.cell.first_line)}), below the parameters cell: the notebook goes on "
                        f"with the value assigned there, not {given}")
    return warnings
