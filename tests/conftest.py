"""Shared fixtures: a throw-away portfolio project with tiny notebooks."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Generated datasets go to a per-session folder, never the user's cache."""
    monkeypatch.setenv("REPORTGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


PRACTICE_SCHEMA = "reportgen.practice.config:RunParameters"


def write_notebook(path: Path, *code_cells: str, parameters: str = "", schema: str | None = None) -> Path:
    """A notebook whose first code cell is papermill's 'parameters' cell; `schema` names the typed
    schema its parameters are checked against (as the practice's notebook does in its metadata)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if schema:
        nb.metadata["reportgen"] = {"parameters_schema": schema}
    params = nbformat.v4.new_code_cell(textwrap.dedent(parameters) or "language = 'es'\nepochs = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Notebook de prueba"), params]
    nb.cells += [nbformat.v4.new_code_cell(textwrap.dedent(code)) for code in code_cells]
    nbformat.write(nb, str(path))
    return path


def write_cells(path: Path, cells) -> None:
    """A notebook of (kind, tags, source) cells, e.g. ("code", ["parameters"], "epochs = 1")."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, tags, source in cells:
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(textwrap.dedent(source).strip())
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.write(nb, str(path))


# A notebook that records a small but complete set of results, in well under a second.
RECORDING_CELL = """
import time
from reportgen.record import Recorder
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rec = Recorder()
with rec.stage("Datos"):
    time.sleep(0.01)
    rec.json("notes", {"dataset": "synthetic_flowers", "class_names": ["a", "b"]})
fig, ax = plt.subplots()
ax.plot([0, 1], [0, 1])
rec.figure(fig, "curves", caption="Curvas")
print("notebook finished")
"""


@pytest.fixture
def project(tmp_path) -> Path:
    """A portfolio project in a temp folder: the repo's templates and site config, tiny notebooks."""
    root = tmp_path / "portfolio"
    (root / "experiments" / "runs").mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for folder in ("javascripts", "stylesheets", "assets"):
        shutil.copytree(REPO / "docs" / folder, root / "docs" / folder)
    write_notebook(root / "experiments" / "tiny.ipynb", RECORDING_CELL)
    write_notebook(root / "experiments" / "broken.ipynb", "raise ValueError('la celda falló a propósito')")
    return root


def write_run(root: Path, run_id: str, notebook: str = "tiny", **overrides) -> Path:
    content = {"notebook": notebook, "title": f"Corrida {run_id}", "language": "es"}
    content.update(overrides)
    path = root / "experiments" / "runs" / f"{run_id}.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return path


TINY_PARAMETERS = {
    "data": {"image_size": 32, "num_classes": 4, "train_size": 96, "val_size": 24, "test_size": 48},
    "augmentation": {"mixup": {"alpha": 0.4, "probability": 0.5}, "cutmix": {"alpha": 1.0, "probability": 0.5}},
    "training": {"epochs": 2, "batch_size": 16, "seeds": [0], "lr_sweep": [0.01, 0.001], "lr_sweep_epochs": 1},
    "evaluation": {"top_k": 3, "severities": 2, "tsne_points": 40},
    "explanations": {"num_images": 2, "ig_steps": 8, "checks_images": 8},
}


def make_project(root: Path) -> Path:
    """A project with the repo's real notebook, templates and site configuration."""
    (root / "experiments" / "runs").mkdir(parents=True)
    shutil.copy(REPO / "experiments" / "augmentation_xai.ipynb", root / "experiments")
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for folder in ("javascripts", "stylesheets", "assets"):
        shutil.copytree(REPO / "docs" / folder, root / "docs" / folder)
    return root


def committed_project(root: Path) -> Path:
    """A copy of this repository's portfolio: run files, committed results, templates, docs, config."""
    for folder in ("templates", "docs", "experiments/runs", "experiments/results/demo",
                   "experiments/results/shortcut"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "experiments" / "augmentation_xai.ipynb", root / "experiments")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    return root


@pytest.fixture(scope="session")
def committed_site(tmp_path_factory) -> Path:
    """The shipped runs' site built from their committed results (`report --no-execute`)."""
    from reportgen.cli import main

    root = committed_project(tmp_path_factory.mktemp("committed") / "portfolio")
    assert main(["--project", str(root), "report", "--no-execute", "--quiet"]) == 0
    return root / "site"


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory) -> Path:
    """The real notebook executed once on tiny data through `report`: a built site to inspect."""
    from reportgen.cli import main

    root = make_project(tmp_path_factory.mktemp("demo") / "portfolio")
    write_run(root, "tiny", notebook="augmentation_xai", parameters=TINY_PARAMETERS,
              title="Corrida mínima", date="2026-11-23")
    assert main(["--project", str(root), "report", "--quiet"]) == 0
    return root


def run_under_jax(test_file: str, selection: str, allow_skips: bool = False) -> None:
    """Re-run tests of `test_file` in a subprocess whose Keras runs on JAX (skips without jax)."""
    import importlib.util
    import os
    import subprocess
    import sys

    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "pytest", test_file, "-q", "-p", "no:cacheprovider",
                          "-k", selection], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "passed" in run.stdout
    assert allow_skips or "skipped" not in run.stdout.splitlines()[-1]


@pytest.fixture(autouse=True)
def _kernels_only_in_slow_tests(request, monkeypatch):
    """A test that starts a Jupyter kernel must be marked slow, so `make test-quick` (-m "not slow")
    stays quick: here such a test fails, naming itself, instead of quietly slowing the inner loop."""
    if request.node.get_closest_marker("slow"):
        yield
        return
    from jupyter_client.manager import KernelManager

    started = []

    async def refuse(self, **kwargs):
        started.append(True)
        raise RuntimeError("kernels start only in tests marked @pytest.mark.slow")

    monkeypatch.setattr(KernelManager, "_async_pre_start_kernel", refuse)
    yield
    if started:
        pytest.fail(f"{request.node.nodeid} starts a kernel: mark it @pytest.mark.slow")
