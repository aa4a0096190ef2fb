"""`python -m reportgen new`: a run file (and, when asked, a notebook) that runs without edits.

The run file lists every field with a comment saying what it does; the notebook's parameters are
listed commented out with their defaults (read from its parameters cell), so uncommenting one is
all it takes to change it. A notebook named with --notebook that does not exist yet is created
from the starter notebook shipped in `reportgen/starter/`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from reportgen.errors import ConfigError
from reportgen.project import Project
from reportgen.runs.config import DEFAULT_NOTEBOOK, RUN_FIELDS_INJECTED
from reportgen.runs.parameters import inspect
from reportgen.safe import check_run_id, notebook_name_problem, shown

STARTER = Path(__file__).resolve().parents[1] / "starter" / "notebook.ipynb"
STARTER_NAME = "mi_notebook"

RUN_FILE = """\
# Run '{run_id}': `python -m reportgen report` (or `make report`) executes it and publishes its page.
# Every field but `title` is optional; a wrong name or type stops the report before anything runs.

# The notebook to execute: experiments/<notebook>.ipynb, with a cell tagged `parameters`.
notebook: {notebook}

# The page's title (shown as written) and date.
title: {title}
date: {date}

# Language of the page's fixed words: es | en.
language: es

# Keras backend of the kernel: tensorflow | jax.
# backend: tensorflow

# Contexto: without it, the page uses the notebook's first Markdown cell.
# description: >-
#   What this run tries to find out, in a few sentences.

# Objetivos: one line each.
# objectives:
#   - Compare ...

# Checklist: each item is ticked only when its evidence exists on the page
# (a notebook heading, a recorded figure/table/metric, or "reflection").
# checklist:
#   - {{label: "Training curves", evidence: "Entrenamiento"}}
#   - {{label: "Reflection written", evidence: reflection}}

# Referencias.
# references:
#   - {{title: "Keras documentation", url: "https://keras.io"}}

# The notebook's parameters (its `parameters` cell); uncomment a line to change a value.
{parameters}
"""


def new_run(project: Project, run_id: str, notebook: str | None = None, title: str | None = None) -> list[Path]:
    """Write the run file (and the notebook, when it does not exist yet); returns what was written."""
    check_run_id(run_id, "python -m reportgen new RUN_ID")  # the rule every run file is held to
    if notebook is not None and (problem := notebook_name_problem(notebook)):
        raise ConfigError(f"--notebook {shown(notebook)} {problem}; name a notebook under experiments/ without "
                          f".ipynb (e.g. mi_notebook or semana2/cnn)")
    run_file = project.run_file(run_id)
    if run_file.exists():
        raise ConfigError(f"{run_file.relative_to(project.root)} already exists; pick another run id")
    if notebook is None:  # the shipped practice where there is one, else a notebook to begin from
        notebook = DEFAULT_NOTEBOOK if project.notebook(DEFAULT_NOTEBOOK).exists() else STARTER_NAME
    written = []
    notebook_path = project.notebook(notebook)
    if not notebook_path.exists():
        notebook_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STARTER, notebook_path)
        written.append(notebook_path)
    run_file.parent.mkdir(parents=True, exist_ok=True)
    run_file.write_text(RUN_FILE.format(
        run_id=run_id, notebook=notebook, title=json.dumps(title or run_id.replace("_", " ").capitalize(),
                                                           ensure_ascii=False),
        date=dt.date.today().isoformat(), parameters=_parameters_block(notebook_path)), encoding="utf-8")
    written.append(run_file)
    return written


def _parameters_block(notebook: Path) -> str:
    """`parameters:` with each of the notebook's parameters commented out at its default."""
    spec = inspect(notebook)
    lines = ["parameters:"]
    if spec.schema is not None:
        lines.append(f"  # checked against {spec.schema.__module__}.{spec.schema.__name__}")
    for name, default in spec.defaults.items():
        if name in RUN_FIELDS_INJECTED:
            continue  # set by the fields above
        kind = spec.types[name].__name__ if spec.types[name] else "any"
        lines.append(f"  # {name}: {json.dumps(default, ensure_ascii=False)}    # {kind}")
    return "\n".join(lines)
