"""`python -m reportgen import`: a notebook executed on Colab becomes a run that is never executed here."""

from __future__ import annotations

import json

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.project import Project
from reportgen.runs import discover, state_of
from reportgen.runs.imported import output_problems, versions_shown, when_it_ran, where_it_ran

from conftest import write_run
from html_checks import live_script_problems

NVIDIA_SMI = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
|   0  Tesla T4                       Off |   00000000:00:04.0 Off |                    0 |
+-----------------------------------------+------------------------+----------------------+
"""
START = 1764583200000  # 2025-12-01 10:00:00 UTC, in Colab's milliseconds


def _code(source: str, count: int | None, text: str = "", *, error: str | None = None, tags=()):
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []
    if error:
        outputs.append(nbformat.v4.new_output("error", ename=error, evalue="x", traceback=[]))
    cell = nbformat.v4.new_code_cell(source, execution_count=count, outputs=outputs)
    cell.metadata = {"id": f"c{count}", "colab": {"base_uri": "https://localhost:8080/"}}
    if count is not None:  # as Colab saves it: when it ran, how long, and who ran it
        cell.metadata["executionInfo"] = {"status": "ok", "timestamp": START + 60_000 * count, "elapsed": 2000,
                                          "user_tz": 180, "user": {"displayName": "Ana Pérez", "userId": "4242"}}
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def colab_notebook(path, cells=None, accuracy="0.91"):
    """An executed notebook as Colab downloads it: its metadata, per-cell execution info, outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"accelerator": "GPU",
                   "colab": {"gpuType": "T4", "machine_shape": "hm", "provenance": [], "name": "Práctica 2.ipynb",
                             "authorship_tag": "ABX9TyN"},
                   "kernelspec": {"name": "python3", "display_name": "Python 3"},
                   "language_info": {"name": "python", "version": "3.12.11"}}
    nb.cells = cells or [
        nbformat.v4.new_markdown_cell("# Aumentar en Colab\n\nUn notebook ejecutado en la GPU de Colab."),
        _code("!nvidia-smi", 1, NVIDIA_SMI),
        _code("import tensorflow as tf\nprint(tf.__version__)", 2, "2.19.0\n"),
        _code("!pip list | grep -i keras", 3, "keras                      3.10.0\nkeras-hub   0.21.1\n"),
        nbformat.v4.new_markdown_cell("## Entrenamiento"),
        _code("print('accuracy', acc)", 4, f"accuracy {accuracy}\n"),
    ]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def no_kernel(monkeypatch):
    """Any attempt to execute a notebook fails the test."""
    import papermill

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was started for an imported run")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)
    monkeypatch.setattr("reportgen.runs.execution.ensure_kernel", refuse)


def _article(root, run_id):
    html = (root / "site" / "runs" / run_id / "index.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser").select_one("article")


def test_colab_notebook_imported_gives_a_page_with_its_outputs_and_where_it_ran(project, tmp_path, no_kernel, capsys):
    download = colab_notebook(tmp_path / "Práctica 2.ipynb")
    assert main(["--project", str(project), "import", str(download)]) == 0

    run_file = yaml.safe_load((project / "experiments" / "runs" / "practica-2.yaml").read_text(encoding="utf-8"))
    assert run_file["executed"] == "elsewhere" and run_file["title"] == "Aumentar en Colab"
    assert str(run_file["date"]) == "2025-12-01"
    results = project / "experiments" / "results" / "practica-2"
    record = json.loads((results / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "ok" and record["platform"] == "Google Colab"
    assert record["device"] == {"kind": "gpu", "names": ["Tesla T4"]}
    assert record["libraries"] == {"cuda": "12.4", "keras": "3.10.0", "tensorflow": "2.19.0"}
    assert record["python"] == "3.12.11"
    assert record["imported"]["gpu_type"] == "T4" and record["imported"]["machine_shape"] == "hm"
    assert record["started"] == "2025-12-01T10:01:00+00:00" and record["finished"] == "2025-12-01T10:04:00+00:00"
    published = (results / "notebook.ipynb").read_text(encoding="utf-8")
    assert "Ana Pérez" not in published and "4242" not in published and "authorship_tag" not in published

    proj = Project.at(project)
    (run,) = [r for r in discover(proj) if r.id == "practica-2"]
    state = state_of(proj, run)
    assert state.state == "imported" and "Google Colab" in state.reason and "not reproduced here" in state.reason
    capsys.readouterr()
    assert main(["--project", str(project), "status"]) == 0
    assert "imported" in capsys.readouterr().out

    # report and run --force execute nothing for it (no_kernel fails the test otherwise)
    assert main(["--project", str(project), "run", "--force", "--quiet"]) == 0
    assert main(["--project", str(project), "report", "--quiet"]) == 0
    article = _article(project, "practica-2")
    text = article.get_text(" ")
    assert "accuracy 0.91" in text and "Tesla T4" in text
    assert "Ejecutado fuera de este proyecto" in text and "Google Colab (GPU Tesla T4, máquina hm)" in text
    assert "no se reprodujeron aquí" in text
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in article.select("table tr")]
    assert ["Entrenamiento", "2 s"] in rows  # Actividades: the time Colab measured for its cells
    assert article.select_one("a.rg-download")["href"] == "datos/notebook.ipynb"
    assert (project / "site" / "runs" / "practica-2" / "datos" / "notebook.ipynb").is_file()
    home = BeautifulSoup((project / "site" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert home.select_one(".rg-status").get_text() == "importado"  # its card says so
    assert live_script_problems(project / "site") == []


def test_a_newer_download_replaces_the_results_and_keeps_the_run_file(project, tmp_path, no_kernel):
    first = colab_notebook(tmp_path / "first.ipynb", accuracy="0.80")
    assert main(["--project", str(project), "import", str(first), "colab-run", "--title", "Mi corrida"]) == 0
    run_file = project / "experiments" / "runs" / "colab-run.yaml"
    run_file.write_text(run_file.read_text(encoding="utf-8").replace("Mi corrida", "Título editado"), encoding="utf-8")
    results = project / "experiments" / "results" / "colab-run"

    # a crash while writing the new results leaves the old ones as they were
    import reportgen.runs.execution as execution

    newer = colab_notebook(tmp_path / "newer.ipynb", accuracy="0.93")
    original = execution._replace_folder

    def crash(new, target):
        raise OSError("disk full")

    execution._replace_folder = crash
    try:
        # an unforeseen error is one paragraph and exit 1 (errors.exit_status), not a traceback
        assert main(["--project", str(project), "import", str(newer), "colab-run"]) == 1
    finally:
        execution._replace_folder = original
    assert "accuracy 0.80" in (results / "notebook.ipynb").read_text(encoding="utf-8")
    assert not list((project / "experiments" / "results").glob(".staging-*"))

    assert main(["--project", str(project), "import", str(newer), "colab-run"]) == 0
    assert "accuracy 0.93" in (results / "notebook.ipynb").read_text(encoding="utf-8")
    assert "Título editado" in run_file.read_text(encoding="utf-8")  # the student's edit stays
    assert json.loads((results / "run.json").read_text(encoding="utf-8"))["title"] == "Título editado"
    assert [p.name for p in (project / "experiments" / "results").iterdir() if not p.name.startswith(".lock")] \
        == ["colab-run"]


STALE_CELLS = [
    nbformat.v4.new_markdown_cell("# Desordenado"),
    _code("import numpy as np", 1),
    _code("x = np.arange(3)\nprint(x)", 5, "[0 1 2]\n"),
    _code("y = x * 2", 3),
    _code("print(y)", None),
    _code("1 / 0", 6, error="ZeroDivisionError"),
    _code("raise ValueError('a propósito')", 7, error="ValueError", tags=["raises-exception"]),
]


def test_stale_outputs_are_refused_naming_the_cells_or_flagged_on_the_page(project, tmp_path, no_kernel, capsys):
    download = colab_notebook(tmp_path / "stale.ipynb", cells=STALE_CELLS)
    problems = {(p["cell"], p["problem"]) for p in output_problems(nbformat.read(str(download), as_version=4))}
    assert problems == {(4, "out_of_order"), (5, "never_run"), (6, "error")}  # cell 7 expects its error

    assert main(["--project", str(project), "import", str(download)]) == 2
    message = capsys.readouterr().err
    assert "cell 4 (`y = x * 2`)" in message and "cell 5 (`print(y)`): never executed" in message
    assert "cell 6" in message and "ZeroDivisionError" in message and "--allow-stale" in message
    assert "Traceback" not in message
    assert not (project / "experiments" / "results" / "stale").exists()
    assert not (project / "experiments" / "runs" / "stale.yaml").exists()

    assert main(["--project", str(project), "import", str(download), "--allow-stale"]) == 0
    proj = Project.at(project)
    (run,) = [r for r in discover(proj) if r.id == "stale"]
    assert "3 cells with stale outputs" in state_of(proj, run).reason
    assert main(["--project", str(project), "build"]) == 0
    text = _article(project, "stale").get_text(" ")
    assert "Salidas que no corresponden a su código" in text
    assert "Celda 5" in text and "nunca se ejecutó" in text and "Celda 4" in text and "ZeroDivisionError" in text


@pytest.mark.parametrize("arguments, expected", [
    (["nb.ipynb", "Con Mayúsculas"], "run id 'Con Mayúsculas'"),
    (["nb.ipynb", "otra.failed"], "not ending in '.failed'"),
    (["nb.ipynb", "../fuera"], "run id '../fuera'"),
    (["broken.ipynb"], "not a Jupyter notebook"),
    (["missing.ipynb"], "no such notebook file"),
    (["nb.ipynb", "local"], "is executed here"),
])
def test_bad_imports_exit_2_naming_the_problem(project, tmp_path, no_kernel, capsys, arguments, expected):
    colab_notebook(tmp_path / "nb.ipynb")
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    write_run(project, "local")
    before = sorted(p.name for p in (project / "experiments").rglob("*"))
    assert main(["--project", str(project), "import", *[str(tmp_path / a) if a.endswith(".ipynb") else a
                                                         for a in arguments]]) == 2
    assert expected in capsys.readouterr().err
    assert sorted(p.name for p in (project / "experiments").rglob("*")) == before


def test_an_imported_run_file_takes_no_parameters_and_a_missing_results_folder_is_corrupt(project, tmp_path, no_kernel,
                                                                                          capsys, caplog):
    assert main(["--project", str(project), "import", str(colab_notebook(tmp_path / "nb.ipynb"))]) == 0
    run_file = project / "experiments" / "runs" / "nb.yaml"
    original = run_file.read_text(encoding="utf-8")
    run_file.write_text(original + "parameters: {epochs: 3}\n", encoding="utf-8")
    assert main(["--project", str(project), "run", "--quiet"]) == 2
    assert "field 'parameters': an imported run" in capsys.readouterr().err

    run_file.write_text(original, encoding="utf-8")
    import shutil

    shutil.rmtree(project / "experiments" / "results" / "nb")
    assert main(["--project", str(project), "run", "--force", "--quiet"]) == 3  # never executed, even forced
    assert "import its notebook again" in caplog.text


def test_where_and_when_from_kaggle_and_jupyter_metadata(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kaggle": {"accelerator": "nvidiaTeslaT4", "isGpuEnabled": True, "language": "python"},
                   "kernelspec": {"name": "python3", "display_name": "Python 3"}}
    cell = nbformat.v4.new_code_cell("import torch\ntorch.__version__", execution_count=1, outputs=[
        nbformat.v4.new_output("execute_result", data={"text/plain": "'2.6.0+cu124'"}, execution_count=1)])
    cell.metadata = {"papermill": {"start_time": "2025-11-02T08:00:00.5Z", "end_time": "2025-11-02T08:00:09Z",
                                   "duration": 8.5, "status": "completed"}}
    jupyter = nbformat.v4.new_code_cell("print('Python version: 3.11.4')", execution_count=2, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="Python version: 3.11.4\n")])
    jupyter.metadata = {"execution": {"iopub.execute_input": "2025-11-02T08:01:00.000Z",
                                      "shell.execute_reply": "2025-11-02T08:02:30.000Z"}}
    nb.cells = [cell, jupyter]
    path = tmp_path / "kaggle.ipynb"
    nbformat.write(nb, str(path))
    where = where_it_ran(nb)
    assert where["service"] == "kaggle" and where["accelerator"] == "GPU" and where["gpu_type"] == "nvidiaTeslaT4"
    assert versions_shown(nb) == {"python": "3.11.4", "torch": "2.6.0+cu124"}
    when = when_it_ran(nb, path)
    assert when["from"] == "cells" and when["started"].startswith("2025-11-02T08:00:00")
    assert when["finished"] == "2025-11-02T08:02:30+00:00" and when["seconds"] == 8.5

    nb.cells = [nbformat.v4.new_code_cell("x = 1", execution_count=1)]
    nbformat.write(nb, str(path))
    assert when_it_ran(nb, path)["from"] == "file"  # no cell times: the file's modification time


HOSTILE = '<img src=x onerror="alert(1)">'


def test_hostile_metadata_and_outputs_reach_the_page_only_as_text(project, tmp_path, no_kernel):
    """An imported notebook is untrusted: whatever its metadata and outputs say, nothing runs on the page."""
    smi = NVIDIA_SMI.replace("Tesla T4           ", f"{HOSTILE}")
    download = colab_notebook(tmp_path / "hostil.ipynb", cells=[
        nbformat.v4.new_markdown_cell(f"# Título {HOSTILE}\n\n[x](javascript:alert(1))"),
        _code("!nvidia-smi", 1, smi),
        _code("print('<script>alert(2)</script>')", 2, "<script>alert(2)</script>\n"),
    ])
    nb = nbformat.read(str(download), as_version=4)
    nb.metadata["colab"].update(gpuType=HOSTILE, machine_shape=HOSTILE * 40)
    nb.metadata["kernelspec"]["display_name"] = HOSTILE
    nb.metadata["language_info"]["version"] = "<script>alert(3)</script>"
    nbformat.write(nb, str(download))
    _with_repo = project / "mkdocs.yml"
    _with_repo.write_text(_with_repo.read_text(encoding="utf-8").replace(
        "docs_dir: docs\n", "docs_dir: docs\nrepo_url: https://github.com/ana-p/portafolio\n"), encoding="utf-8")
    assert main(["--project", str(project), "import", str(download)]) == 0
    record = json.loads((project / "experiments" / "results" / "hostil" / "run.json").read_text(encoding="utf-8"))
    assert "python" not in record and len(record["imported"]["machine_shape"]) == 100
    assert main(["--project", str(project), "build"]) == 0
    assert live_script_problems(project / "site") == []
    article = _article(project, "hostil")
    assert HOSTILE in article.get_text(" ")  # shown, as text
    assert article.select_one("a.rg-colab")["href"].endswith("/experiments/results/hostil/notebook.ipynb")


LIGHT_INSTALL = """
import sys, importlib.abc
BLOCKED = {"papermill", "keras", "tensorflow", "ipykernel", "sklearn", "jax", "tensorflow_datasets", "jupyter_client"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("not in the light install: " + name)
sys.meta_path.insert(0, Block())
from reportgen.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_light_install_imports_and_publishes(project, tmp_path):
    """A laptop with only the light install (no papermill, Keras, TensorFlow) imports a Colab download."""
    import subprocess
    import sys

    from conftest import REPO

    download = colab_notebook(tmp_path / "nb.ipynb")
    for command in (["import", str(download)], ["report", "--no-execute"]):
        done = subprocess.run([sys.executable, "-c", LIGHT_INSTALL, "--project", str(project), *command],
                              env={**__import__("os").environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    assert "accuracy 0.91" in _article(project, "nb").get_text(" ")
