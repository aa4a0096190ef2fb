"""Runs: find them, decide which are stale, execute them with papermill, keep results safe.

A run is `experiments/runs/<run-id>.yaml` (schema: `runs.config`). Executing it means papermill
runs `experiments/<notebook>.ipynb` with the run's parameters in a staging folder (`runs.execute`);
only a successful execution is moved into `experiments/results/<run-id>/`, under one lock
(`runs.lock`), and only when the results cache says it is stale (`runs.cache`). A run file with a
`matrix:` gives one run per combination of values (`runs.matrix`); `--workers N` or a Dask scheduler
executes stale runs concurrently (`runs.distributed`). A run file with `executed: elsewhere` is a
notebook executed on Colab or another machine and imported (`runs.imported`): never executed here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportgen.errors import ConfigError
from reportgen.project import Project
from reportgen.runs.config import RunFile, check_against_notebook, load_run_file
from reportgen.runs.imported import check_run_file as check_imported
from reportgen.runs.matrix import Variant, expand, label, matrix_limit
from reportgen.safe import check_run_id, run_id_problem, shown


@dataclass
class Run:
    """One run to execute and show: a run file, or one combination of a run file's matrix."""

    id: str
    path: Path
    config: RunFile
    group: str | None = None  # the run file's name when it has a matrix (the comparison page groups by it)
    matrix: dict[str, Any] = field(default_factory=dict)  # this run's matrix values: dotted path -> value


def discover(project: Project, run_ids: list[str] | None = None, *, check_notebooks: bool = True,
             large_matrix: bool = False) -> list[Run]:
    """Load and validate run files, expand their matrices; all problems are reported together,
    before anything runs. `run_ids` selects run files (all their runs) or single runs of a matrix.
    `check_notebooks=False` skips the check of parameters against each notebook (papermill's
    inspection): rendering committed results needs neither it nor the practice's libraries.
    A matrix of more than MAX_COMBINATIONS runs is refused unless `large_matrix` (or its variable)."""
    problems: list[str] = []
    paths = _run_files(project, run_ids, problems) if run_ids else run_files(project)
    runs = []
    for path in paths:
        try:
            check_run_id(path.stem, str(path))  # the id names the results folder: checked before anything reads it
            config = load_run_file(path, notebooks_dir=project.experiments if check_notebooks else None)
            problems += check_imported(path, config)  # an imported run takes no parameters nor matrix
            variants = expand(path, config, matrix_limit(large_matrix))
            if config.matrix and check_notebooks:  # each combination is checked against the notebook like a run file
                variants = [_checked_variant(v, project, path) for v in variants]
        except ConfigError as exc:
            problems.append(str(exc).replace(str(project.root) + os.sep, ""))
            continue
        group = path.stem if config.matrix else None
        for variant in variants if config.matrix else []:
            if problem := run_id_problem(variant.id):
                problems.append(f"{_shown_path(project, path)}: field 'matrix': the run id {variant.id!r} of the "
                                f"combination {label(variant.values)} {problem}; shorten the file's name.")
                break
        runs += [Run(v.id, path, v.config, group, v.values) for v in variants]
    problems += _duplicate_ids(runs)
    if run_ids and not problems:
        runs = _select(runs, run_ids, problems)
    if problems:
        raise ConfigError("\n".join(problems))
    return runs


def run_files(project: Project) -> list[Path]:
    """Every run file: `experiments/runs/*.yaml` (also hidden names such as `..yaml`, which are refused
    by the id rule rather than skipped unseen)."""
    return sorted(path for path in project.runs_dir.glob("*.yaml") if path.is_file() or path.is_symlink())


def _shown_path(project: Project, path: Path) -> str:
    return str(path).replace(str(project.root) + os.sep, "")


def _checked_variant(variant: Variant, project: Project, path: Path) -> Variant:
    """One combination of a matrix, its parameters checked against the notebook."""
    try:
        return dataclasses.replace(variant, config=check_against_notebook(variant.config, project.experiments, path))
    except ConfigError as exc:
        problem = str(exc).removeprefix(f"{path}: ")
        raise ConfigError(f"{path}: field 'matrix': the combination {label(variant.values)} makes the run "
                          f"invalid ({problem})") from None


def _run_files(project: Project, run_ids: list[str], problems: list[str]) -> list[Path]:
    """The run files that hold the requested runs: `<id>.yaml`, or the matrix file `<stem>.yaml`
    whose runs are named `<stem>-...`."""
    available = run_files(project)
    paths = []
    for run_id in run_ids:
        holders = [p for p in available if p.stem == run_id] or \
                  [p for p in available if run_id.startswith(p.stem + "-")]
        if not holders:
            names = ", ".join(p.stem for p in available) or "none"
            where = project.run_file(run_id).relative_to(project.root) if not run_id_problem(run_id) else shown(run_id)
            problems.append(f"{where}: no such run; available runs: {names}.")
        paths += [p for p in holders if p not in paths]
    return paths


def _select(runs: list[Run], run_ids: list[str], problems: list[str]) -> list[Run]:
    selected = [run for run in runs if run.id in run_ids or run.path.stem in run_ids]
    known = {run.id for run in runs} | {run.path.stem for run in runs}
    for run_id in run_ids:
        if run_id not in known:
            given = [run.id for run in runs if run.group]
            where = run_id if not run_id_problem(run_id) else shown(run_id)
            problems.append(f"{where}: no such run; the matrices give: " + ", ".join(given[:20])
                            + (f" and {len(given) - 20} more" if len(given) > 20 else "") + ".")
    return selected


def _duplicate_ids(runs: list[Run]) -> list[str]:
    """Two run files must not give the same run id (e.g. `grid-a.yaml` and a matrix `grid.yaml`)."""
    files: dict[str, list[str]] = {}
    for run in runs:
        files.setdefault(run.id, []).append(run.path.name)
    return [f"run id {run_id!r} is given by several run files ({', '.join(names)}); rename one."
            for run_id, names in files.items() if len(names) > 1]




from reportgen.runs.cache import RunState, state_of  # noqa: E402  (re-exported: the package's surface)
from reportgen.runs.execution import execute, execute_stale  # noqa: E402

__all__ = ["Run", "RunState", "discover", "execute", "execute_stale", "state_of"]
