"""Runs: find them, decide which are stale, execute them with papermill, keep results safe.

A run is `experiments/runs/<run-id>.yaml` (schema: `runs.config`). Executing it means papermill
runs `experiments/<notebook>.ipynb` with the run's parameters in a staging folder (`runs.execute`);
only a successful execution is moved into `experiments/results/<run-id>/`, under one lock
(`runs.lock`), and only when the results cache says it is stale (`runs.cache`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import ConfigError
from reportgen.project import Project
from reportgen.runs.config import RunFile, load_run_file


@dataclass
class Run:
    id: str
    path: Path
    config: RunFile


def discover(project: Project, run_ids: list[str] | None = None) -> list[Run]:
    """Load and validate run files; all problems are reported together, before anything runs."""
    if run_ids:
        paths = [project.run_file(run_id) for run_id in run_ids]
    else:
        paths = sorted(project.runs_dir.glob("*.yaml"))
    runs, problems = [], []
    for path in paths:
        if not path.exists():
            available = ", ".join(sorted(p.stem for p in project.runs_dir.glob("*.yaml"))) or "none"
            problems.append(f"{path.relative_to(project.root)}: no such run; available runs: {available}.")
            continue
        try:
            config = load_run_file(path, notebooks_dir=project.experiments)
        except ConfigError as exc:
            problems.append(str(exc).replace(str(project.root) + os.sep, ""))
            continue
        runs.append(Run(id=path.stem, path=path, config=config))
    if problems:
        raise ConfigError("\n".join(problems))
    return runs




from reportgen.runs.cache import RunState, state_of  # noqa: E402  (re-exported: the package's surface)
from reportgen.runs.execution import execute, execute_stale  # noqa: E402

__all__ = ["Run", "RunState", "discover", "execute", "execute_stale", "state_of"]
