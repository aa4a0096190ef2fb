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
from pathlib import Path

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
