"""Run matrices: one run file, one run per combination of the values listed in its `matrix:`.

    matrix:
      model.backbone: [small_cnn, mobilenetv2]
      training.seeds: [[0], [1], [2]]

gives 2 x 3 = 6 runs. Each key is a parameter's dotted path under `parameters:`; each combination
replaces those values and is validated like a run file of its own, before anything executes.
A run's id is the file's name and its values (`grid-small_cnn-0`), or a short hash of them where the
values do not make a short, safe and unique name. The id depends only on the run's values, so a run
keeps its results and cache entry when other values are added to the matrix.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reportgen.errors import ConfigError
from reportgen.runs.config import RunFile
from reportgen.safe import run_id_problem

SAFE_WORD = re.compile(r"[A-Za-z0-9_]+(-[A-Za-z0-9_]+)*")  # no dots: "<id>.failed" is a results folder
MAX_READABLE = 40
MAX_COMBINATIONS = 256  # runs one matrix may give unless asked for (`--large-matrix`): 10,000 is a typo
LARGE_MATRIX_VARIABLE = "REPORTGEN_LARGE_MATRIX"  # set by --large-matrix, so the build's plugin agrees


def matrix_limit(large_matrix: bool = False) -> int | None:
    """The most runs one matrix may give: MAX_COMBINATIONS, or no limit when asked for."""
    return None if large_matrix or os.environ.get(LARGE_MATRIX_VARIABLE) else MAX_COMBINATIONS


@dataclass(frozen=True)
class Variant:
    """One run of a run file: its id, its validated configuration and, for a matrix, its values."""

    id: str
    config: RunFile
    values: dict[str, Any] = field(default_factory=dict)  # dotted path -> value; empty without matrix


def expand(path: Path, config: RunFile, max_combinations: int | None = MAX_COMBINATIONS) -> list[Variant]:
    """The runs of one run file: itself without a matrix, one per combination with one; ConfigError
    when a matrix gives more than `max_combinations` runs (counted before any is made)."""
    if not config.matrix:
        return [Variant(path.stem, config)]
    count = math.prod(len(values) for values in config.matrix.values())
    if max_combinations is not None and count > max_combinations:
        sizes = " x ".join(str(len(values)) for values in config.matrix.values())
        raise ConfigError(f"{path}: field 'matrix': {sizes} = {count:,} combinations, each a run to execute; "
                          f"at most {max_combinations} without --large-matrix (python -m reportgen run "
                          f"--large-matrix ...), so that a typo does not start {count:,} trainings.")
    if hasattr(config.parameters, "model_dump"):  # a schema (the practice): its paths are known
        defaults = config.parameters.model_dump(mode="json")
        for dotted in config.matrix:
            _check_path(path, defaults, dotted)
    # Other notebooks: each combination is checked against the notebook's parameters cell (discover).
    combinations = [dict(zip(config.matrix, values)) for values in itertools.product(*config.matrix.values())]
    ids = variant_ids(path.stem, combinations)
    return [Variant(run_id, _variant_config(path, config, values), values)
            for run_id, values in zip(ids, combinations)]


def _check_path(path: Path, parameters: dict, dotted: str) -> None:
    """A matrix key must name a parameter (defaults included), through sections only."""
    node: Any = parameters
    walked = []
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            known = ", ".join(sorted(node)) if isinstance(node, dict) else "none (not a section)"
            where = ".".join(walked) or "parameters"
            raise ConfigError(f"{path}: field 'matrix.{dotted}': unknown parameter; the keys of a matrix "
                              f"are paths under 'parameters:' such as 'model.backbone'; keys of '{where}': "
                              f"{known}.")
        node = node[part]
        walked.append(part)


def _variant_config(path: Path, config: RunFile, values: dict[str, Any]) -> RunFile:
    """The run file with the combination's values in place, validated, titled with its values."""
    data = config.model_dump(mode="json", exclude_unset=True, exclude={"matrix"})
    for dotted, value in values.items():
        *sections, leaf = dotted.split(".")
        node = data.setdefault("parameters", {})
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = value
    try:
        variant = RunFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"'{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: field 'matrix': the combination {label(values)} makes the run "
                          f"invalid: {problems}.") from None
    return variant.model_copy(update={"title": f"{config.title} ({label(values)})"})


def label(values: dict[str, Any]) -> str:
    """`model.backbone=small_cnn, training.seeds=[0]`: the values, as a reader would write them."""
    return ", ".join(f"{dotted}={json.dumps(value, ensure_ascii=False)}".replace('"', "")
                     for dotted, value in values.items())


# ------------------------------------------------------------------------- ids

def variant_ids(stem: str, combinations: list[dict[str, Any]]) -> list[str]:
    """`<stem>-<values>` where every combination reads well and differs; `<stem>-<hash>` otherwise."""
    readable = [_readable(values) for values in combinations]
    if None in readable or len(set(readable)) < len(readable) or \
            any(run_id_problem(f"{stem}-{slug}") for slug in readable):
        return [f"{stem}-{_hash(values)}" for values in combinations]
    return [f"{stem}-{slug}" for slug in readable]


def _readable(values: dict[str, Any]) -> str | None:
    words = [_word(value) for value in values.values()]
    if None in words:
        return None
    slug = "-".join(words)
    return slug if len(slug) <= MAX_READABLE else None


def _word(value: Any) -> str | None:
    """A value as part of an id: `small_cnn`, `0.001`, `0_1` for [0, 1]; None if it makes a bad name."""
    items = value if isinstance(value, list) else [value]
    if not items:
        return None
    parts = []
    for item in items:
        if isinstance(item, bool) or item is None:
            parts.append(str(item).lower())
        elif isinstance(item, (int, float)):
            parts.append(repr(item).replace(".", "p"))
        elif isinstance(item, str) and SAFE_WORD.fullmatch(item):
            parts.append(item.lower())  # run ids are lower case (one folder on every file system)
        else:
            return None
    return "_".join(parts)


def _hash(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:8]
