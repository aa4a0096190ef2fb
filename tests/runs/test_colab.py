"""reportgen inside Colab (no venv, Colab's own TensorFlow, its GPU), results that come back from
another machine, and the pages' links back: the Open in Colab button and the notebook's download."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.project import Project
from reportgen.results import RunResults
from reportgen.runs import discover, state_of
from reportgen.runs.config import RunFile

from conftest import committed_project, write_notebook, write_run

FAKE_GPU = "Tesla T4"


def _fake_nvidia_smi(folder: Path) -> Path:
    """An `nvidia-smi` answering the query reportgen makes, as Colab's does on a T4 runtime."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\necho '{FAKE_GPU}'\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


@pytest.fixture
def colab_environment(tmp_path, monkeypatch):
    """This process as a Colab runtime sees it: Colab's variables, a GPU behind nvidia-smi, no venv."""
    monkeypatch.setenv("PATH", f"{_fake_nvidia_smi(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20261201-060000_RC00")
    monkeypatch.setenv("COLAB_GPU", "1")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)


def test_colab_runtime_and_its_gpu_are_detected(colab_environment):
    from reportgen.runs.execution import device_description, runtime_service

    assert device_description() == {"kind": "gpu", "names": [FAKE_GPU]}
    assert runtime_service() == "Google Colab"


def test_the_kernel_registers_for_the_user_when_the_system_prefix_is_not_writable(monkeypatch):
    """A system Python (no venv) whose prefix the user cannot write: the kernel goes to the user's folder."""
    from ipykernel import kernelspec
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from reportgen.runs.execution import KERNEL_NAME, ensure_kernel

    calls = []

    def install(**kwargs):
        calls.append(kwargs)
        if "prefix" in kwargs:
            raise PermissionError(13, "Permission denied", f"{kwargs['prefix']}/share/jupyter/kernels")
        return "/root/.local/share/jupyter/kernels/reportgen"

    def no_kernel(self, name):
        raise NoSuchKernel(name)

    monkeypatch.setattr(kernelspec, "install", install)
    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", no_kernel)
    assert ensure_kernel() == KERNEL_NAME
    assert calls[0]["prefix"] == sys.prefix and calls[1]["user"] is True


TF_NOTEBOOK = """
import tensorflow as tf
print("tensorflow", tf.__version__)
"""


@pytest.mark.slow
def test_a_run_executed_in_colab_comes_back_fresh_and_its_page_says_whether_its_code_matches(
        project, colab_environment, monkeypatch):
    """`python -m reportgen run` as in the Colab recipe, then the results folder back on a laptop."""
    write_notebook(project / "experiments" / "gpu.ipynb", TF_NOTEBOOK, parameters="epochs = 1")
    write_run(project, "gpu", notebook="gpu")
    assert main(["--project", str(project), "run", "gpu", "--quiet"]) == 0
    results = project / "experiments" / "results" / "gpu"
    record = json.loads((results / "run.json").read_text(encoding="utf-8"))
    assert record["device"] == {"kind": "gpu", "names": [FAKE_GPU]} and record["runtime"] == "Google Colab"
    import tensorflow as tf  # Colab's preinstalled TensorFlow: the one the kernel imported, not a reinstall

    assert f"tensorflow {tf.__version__}" in (results / "notebook.ipynb").read_text(encoding="utf-8")
    assert "tensorflow-cpu" in record["libraries"] or "tensorflow" in record["libraries"]

    # Back on another machine: Colab's machine and library versions are not this one's.
    record.update(machine="c01ab0000000", cache_key="from-colab")
    record["cache_components"]["libraries"] = "colab-versions"
    record["libraries"]["numpy"] = "1.26.4"
    (results / "run.json").write_text(json.dumps(record), encoding="utf-8")
    for name in ("COLAB_RELEASE_TAG", "COLAB_GPU"):
        monkeypatch.delenv(name)
    proj = Project.at(project)
    state = state_of(proj, next(r for r in discover(proj) if r.id == "gpu"))
    assert state.state == "fresh" and "Google Colab" in state.reason and "not re-executed here" in state.reason
    assert main(["--project", str(project), "build"]) == 0
    text = _article(project, "gpu").get_text(" ")
    assert "Ejecutado en otra máquina" in text and "coincide con el código de este proyecto" in text
    assert "numpy 1.26.4 → " in text

    # The notebook's code changed here: stale (re-executed by the next run), and the page says where it differs.
    write_notebook(project / "experiments" / "gpu.ipynb", TF_NOTEBOOK + "print('otra línea')", parameters="epochs = 1")
    assert state_of(proj, next(r for r in discover(proj) if r.id == "gpu")).state == "stale"
    assert main(["--project", str(project), "build"]) == 0
    text = _article(project, "gpu").get_text(" ")
    assert "no coincide con el código de este proyecto" in text and "el código del notebook" in text


def _article(root, run_id):
    html = (root / "site" / "runs" / run_id / "index.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser").select_one("article")


# ------------------------------------------------------------------ links back

def _with_repo(project: Path, *lines: str) -> None:
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("docs_dir: docs\n", "docs_dir: docs\n" + "".join(f"{line}\n" for line in lines)),
                      encoding="utf-8")


def _results(run_id: str, notebook: str, folder: Path | None, executed: str = "here") -> RunResults:
    return RunResults(id=run_id, config=RunFile(title="t", notebook=notebook, executed=executed), status="ok",
                      folder=folder)


@pytest.mark.parametrize("lines, expected", [
    (["repo_url: https://github.com/ana-p/portafolio", "edit_uri: edit/entregas/docs/"],
     "https://colab.research.google.com/github/ana-p/portafolio/blob/entregas/experiments/tiny.ipynb"),
    (["repo_url: https://github.com/ana-p/portafolio.git/"],
     "https://colab.research.google.com/github/ana-p/portafolio/blob/main/experiments/tiny.ipynb"),
    (["repo_url: https://github.com/ana-p/portafolio", "edit_uri: https://github.com/ana-p/portafolio/blob/dev/docs/"],
     "https://colab.research.google.com/github/ana-p/portafolio/blob/dev/experiments/tiny.ipynb"),
    (["repo_url: https://gitlab.com/ana-p/portafolio"], None),  # Colab opens GitHub notebooks only
    (["repo_url: 'https://github.com/a/b\"onmouseover=alert(1)'"], None),
    (["repo_url: javascript:alert(1)"], None),
    ([], None),
])
def test_open_in_colab_url_from_repo_url_and_edit_uri(project, lines, expected):
    from reportgen.render.elsewhere import colab_url

    _with_repo(project, *lines)
    assert colab_url(Project.at(project), _results("tiny", "tiny", None)) == expected
    if expected:  # a run whose notebook is not under experiments/ has nothing to open
        assert colab_url(Project.at(project), _results("x", "absent", None)) is None


def test_an_imported_run_opens_its_executed_notebook_in_colab(project, tmp_path):
    from reportgen.render.elsewhere import colab_url

    _with_repo(project, "repo_url: https://github.com/ana-p/portafolio")
    run = _results("practica-2", "practica-2", tmp_path, executed="elsewhere")
    assert colab_url(Project.at(project), run) == ("https://colab.research.google.com/github/ana-p/portafolio/"
                                                   "blob/main/experiments/results/practica-2/notebook.ipynb")


def test_the_practice_page_has_the_colab_button_and_the_notebook_download(tmp_path):
    """The committed demo, rendered: the button (with Material's Colab icon) and the .ipynb among the downloads."""
    from reportgen.harvest import harvest_all
    from reportgen.render import Renderer

    root = committed_project(tmp_path / "portfolio")
    _with_repo(root, "repo_url: https://github.com/ana-p/portafolio")
    project = Project.at(root)
    files = Renderer(project).files(harvest_all(project, [r for r in discover(project, check_notebooks=False)
                                                         if r.id == "demo"]))
    paths = {item.path: item for item in files}
    assert "runs/demo/datos/notebook.ipynb" in paths
    page = BeautifulSoup(paths["runs/demo/index.md"].content, "html.parser")
    button = page.select_one("a.rg-colab")
    assert button["href"] == ("https://colab.research.google.com/github/ana-p/portafolio/blob/main/"
                              "experiments/augmentation_xai.ipynb")
    assert button.select_one("svg") is not None and "Abrir en Colab" in button.get_text()
    assert page.select_one("a.rg-download")["href"] == "datos/notebook.ipynb"
    assert "(datos/notebook.ipynb)" in paths["runs/demo/index.md"].content  # also listed under Evidencias


def test_the_readme_recipe_installs_no_backend_over_colabs_tensorflow():
    """The recipe's `pip install` names only extras without a backend: Colab's TensorFlow (CUDA build) stays.
    (`pip install --dry-run -e ".[practice]"` next to an installed TensorFlow installs only reportgen.)"""
    import re
    import tomllib

    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    recipe = readme.split("### Run reportgen inside Colab", 1)[1].split("###", 1)[0]
    (line,) = [line for line in recipe.splitlines() if line.startswith("!pip install")]
    extras = re.search(r'\.\[([\w,]+)\]', line).group(1).split(",")
    optional = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    backends = {"tensorflow", "tensorflow-cpu", "jax", "jaxlib", "torch"}
    for extra in extras:
        names = {re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower() for requirement in optional[extra]}
        assert not names & backends, (extra, names & backends)
    assert "constraints.txt" not in line and "venv" not in recipe.split("```python", 1)[1].split("```", 1)[0]
    assert "!python -m reportgen run" in recipe
