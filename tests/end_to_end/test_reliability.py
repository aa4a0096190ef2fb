"""What a new user trips over: relative paths, corrupt results, hanging cells, a held lock, a noisy console."""

from __future__ import annotations

import json
import re
import logging
import shutil
import subprocess
import sys
import time

import pytest
from PIL import Image

from reportgen.cli import main
from reportgen.errors import EXIT_CONFIG, EXIT_CORRUPT, EXIT_FAILED, EXIT_OK
from reportgen.project import Project
from reportgen.runs import discover, state_of

from conftest import REPO, write_notebook, write_run

pytestmark = pytest.mark.slow  # most tests here execute a notebook

# A notebook that loads the run's data with the injected parameters and records how much it got.
LOADING_CELL = """
from reportgen.practice.config import DataConfig
from reportgen.practice.data import load_dataset
from reportgen.record import Recorder
dataset = load_dataset(DataConfig(**data))
Recorder().json("loaded", {"train": len(dataset.train), "classes": dataset.class_names})
"""
FOLDER_DATA = {"source": "folder", "path": "imagenes", "image_size": 16, "num_classes": 2,
               "train_size": None, "val_size": 5, "test_size": 5}


def write_image_folder(root, classes=("rosa", "tulipan"), per_class=12):
    for index, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (10, 10), (40 * index + i, 100, 50)).save(root / name / f"{i}.png")


# ---------------------------------------------------------------- relative paths (item 2)

def test_a_relative_folder_is_read_from_the_project_root_by_the_notebook_and_the_cache(project):
    write_notebook(project / "experiments" / "loads.ipynb", LOADING_CELL, parameters="data = {}")
    write_image_folder(project / "imagenes")
    write_run(project, "flores", notebook="loads", parameters={"data": FOLDER_DATA})

    assert main(["--project", str(project), "run", "--quiet"]) == EXIT_OK
    proj = Project.at(project)
    loaded = json.loads((proj.results("flores") / "loaded.json").read_text())
    assert loaded["classes"] == ["rosa", "tulipan"] and loaded["train"] == 14
    run = discover(proj)[0]
    assert state_of(proj, run).state == "fresh"

    Image.new("RGB", (10, 10), (1, 2, 3)).save(project / "imagenes" / "rosa" / "extra.png")
    assert state_of(proj, run).changed == ["data"]  # the key hashed the same folder the notebook read


def test_a_missing_relative_folder_fails_before_the_notebook_naming_the_resolved_path(project, caplog):
    write_notebook(project / "experiments" / "loads.ipynb", LOADING_CELL, parameters="data = {}")
    write_run(project, "flores", notebook="loads", parameters={"data": FOLDER_DATA})

    assert main(["--project", str(project), "run", "--quiet"]) == EXIT_FAILED
    message = caplog.text
    assert f"resolved to {project / 'imagenes'}" in message and "data.path 'imagenes'" in message
    assert not Project.at(project).failed_results("flores").exists()  # nothing started, nothing to keep


# ---------------------------------------------------------------- corrupt results (item 4)

def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


DAMAGES = {
    "truncated run.json": lambda folder: (folder / "run.json").write_text('{"status": "ok", "cache'),
    "run.json not a record": lambda folder: (folder / "run.json").write_text("[1, 2]"),
    "run.json missing": lambda folder: (folder / "run.json").unlink(),
    "notebook missing": lambda folder: (folder / "notebook.ipynb").unlink(),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_corrupt_results_are_reported_never_re_executed_nor_shown(project, capsys, damage):
    write_run(project, "demo")
    assert main(["--project", str(project), "run", "--quiet"]) == EXIT_OK
    folder = Project.at(project).results("demo")
    DAMAGES[damage](folder)
    damaged = _snapshot(folder)
    capsys.readouterr()

    assert main(["--project", str(project), "status"]) == EXIT_CORRUPT
    assert "corrupt" in capsys.readouterr().out
    for command in ("run", "report"):
        assert main(["--project", str(project), command, "--quiet"]) == EXIT_CORRUPT, command
        assert _snapshot(folder) == damaged  # not re-executed, not cleaned away
    assert f"{folder}: corrupt results" in capsys.readouterr().err  # report names the folder, says how to fix
    assert not (project / "site").exists() and not (project / "docs" / "runs" / "demo").exists()

    assert main(["--project", str(project), "run", "--force", "--quiet"]) == EXIT_OK
    assert state_of(Project.at(project), discover(Project.at(project))[0]).state == "fresh"


# ---------------------------------------------------------------- time limits (item 5)

def test_a_hanging_cell_fails_the_run_within_its_time_limit_keeping_earlier_results(project, caplog):
    write_run(project, "demo")
    assert main(["--project", str(project), "run", "--quiet"]) == EXIT_OK
    folder = Project.at(project).results("demo")
    before = _snapshot(folder)

    write_notebook(project / "experiments" / "hangs.ipynb", "print('antes')", "import time\ntime.sleep(600)")
    write_run(project, "demo", notebook="hangs", timeout_minutes=0.05)  # 3 seconds
    started = time.monotonic()
    assert main(["--project", str(project), "run", "--quiet"]) == EXIT_FAILED
    assert time.monotonic() - started < 120

    assert _snapshot(folder) == before
    failed = json.loads((Project.at(project).failed_results("demo") / "run.json").read_text())
    assert "time limit (timeout_minutes: 0.05)" in failed["error_summary"]
    cells = json.loads((Project.at(project).failed_results("demo") / "notebook.ipynb").read_text())["cells"]
    assert "time.sleep" in "".join(cells[failed["failed_cell"]]["source"])  # the hanging cell is named
    assert "timeout_minutes" in caplog.text


def test_a_report_waiting_on_a_held_lock_gives_up_naming_the_holder(project, monkeypatch, capsys):
    write_run(project, "demo")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom reportgen.project import Project\n"
         "from reportgen.runs.lock import results_lock\n"
         "with results_lock(Project.at(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(120)",
         str(project)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("REPORTGEN_LOCK_TIMEOUT", "0.02")  # 1.2 seconds
        started = time.monotonic()
        assert main(["--project", str(project), "run", "--quiet"]) == EXIT_FAILED
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()
    message = capsys.readouterr().err
    assert f"process {holder.pid}" in message and "REPORTGEN_LOCK_TIMEOUT" in message
    assert not Project.at(project).results("demo").exists()  # nothing ran while another held the lock


# ---------------------------------------------------------------- a quiet console (item 6)

NOISY_CELL = """
import os
from reportgen.record import Recorder
os.write(2, b"E0000 00:00:1 cuda_dnn.cc:1] Unable to register cuDNN factory (fake TensorFlow noise)\\n")
recorder = Recorder()
with recorder.stage("Datos"):
    pass
with recorder.stage("Entrenamiento"):
    pass
"""


def test_the_terminal_shows_runs_and_stages_while_kernel_noise_goes_to_the_log(project):
    write_notebook(project / "experiments" / "noisy.ipynb", NOISY_CELL)
    write_run(project, "ruidoso", notebook="noisy")
    done = subprocess.run([sys.executable, "-m", "reportgen", "--project", str(project), "run", "--quiet"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_OK, done.stderr
    terminal = done.stdout + done.stderr
    assert "E0000" not in terminal and "IPKernelApp" not in terminal
    assert "E0000" in (Project.at(project).results("ruidoso") / "notebook.log").read_text()
    lines = terminal.strip().splitlines()
    assert any("ruidoso: Datos (" in line for line in lines)
    assert any("ruidoso: Entrenamiento (" in line for line in lines)
    assert len(lines) <= 5, terminal  # executing, two stages, done


def test_terminal_errors_show_real_paths_while_the_published_record_is_scrubbed(project, caplog):
    write_notebook(project / "experiments" / "missing.ipynb",
                   "import os\nraise FileNotFoundError(os.path.abspath('../datos.csv'))")
    write_run(project, "falta", notebook="missing")
    assert main(["--project", str(project), "run", "--quiet"]) == EXIT_FAILED
    assert str(project / "datos.csv") in caplog.text
    failed = json.loads((Project.at(project).failed_results("falta") / "run.json").read_text())
    assert "<proyecto>/datos.csv" in failed["error_summary"] and str(project) not in failed["error_summary"]


# ---------------------------------------------------------------- the cache key's libraries (item 10)

def test_the_cache_key_holds_only_the_libraries_of_the_runs_backend_and_data(project, monkeypatch):
    """For a notebook that runs the practice's code (a notebook of one's own: what it imports, tests/runs/test_cache.py)."""
    from reportgen.runs import cache as cache_module

    write_notebook(project / "experiments" / "loads.ipynb", "from reportgen.practice import stages\nprint(data)",
                   parameters="data = {}")
    write_run(project, "tf", notebook="loads", backend="tensorflow")
    write_run(project, "jx", notebook="loads", backend="jax")
    write_run(project, "pets", notebook="loads", parameters={"data": {"source": "tfds", "name": "oxford_iiit_pet"}})
    proj = Project.at(project)
    runs = {run.id: run for run in discover(proj)}
    installed = {"keras": "3.15", "numpy": "2.4", "tensorflow": "2.21", "jax": "0.10", "jaxlib": "0.10",
                 "tensorflow-datasets": "4.9", "pillow": "13", "scikit-learn": "1.9", "scipy": "1.17",
                 "papermill": "2.7", "torch": "2.5", "pytest": "9.2"}

    def libraries(run_id, **upgrades):
        monkeypatch.setattr(cache_module, "library_versions", lambda names=(): {**installed, **upgrades})
        return cache_module.cache_components(proj, runs[run_id])["libraries"]

    assert libraries("tf", jax="9.9", jaxlib="9.9", torch="9.9") == libraries("tf")  # not its backend
    assert libraries("tf", tensorflow="9.9") != libraries("tf")
    assert libraries("jx", tensorflow="9.9") == libraries("jx")
    assert libraries("jx", jax="9.9") != libraries("jx")
    monkeypatch.setattr(cache_module, "library_versions", lambda names=(): installed)
    assert {"tensorflow-datasets", "tensorflow", "pillow"} <= set(cache_module.run_library_versions(proj, runs["pets"]))
    assert "jax" not in cache_module.run_library_versions(proj, runs["pets"])


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_report_installs_no_test_tools_and_make_test_does(tmp_path):
    def installs(target):
        plan = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout
        return [line for line in plan.splitlines() if "pip install" in line and "-e " in line]

    extras = re.compile(r"\[[^\]]*\btest\b[^\]]*\]")  # the test extra among the ones installed
    assert installs("report") and not any(extras.search(line) for line in installs("report"))
    assert any(extras.search(line) for line in installs("test"))


# ---------------------------------------------------------------- `run` does what the README says (item 8)

def test_run_skips_a_named_fresh_run_unless_forced_as_the_readme_says(project, caplog):
    caplog.set_level(logging.INFO, logger="reportgen")
    row = next(line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("| `run "))
    assert "not fresh" in row and "--force" in row
    write_run(project, "demo")
    assert main(["--project", str(project), "run", "--quiet"]) == EXIT_OK
    notebook = Project.at(project).results("demo") / "notebook.ipynb"
    executed = notebook.read_bytes()

    assert main(["--project", str(project), "run", "demo", "--quiet"]) == EXIT_OK
    assert notebook.read_bytes() == executed and "demo: fresh, not executed (--force" in caplog.text
    assert main(["--project", str(project), "run", "demo", "--force", "--quiet"]) == EXIT_OK
    assert notebook.read_bytes() != executed  # executed again: new timestamps in the notebook


@pytest.mark.parametrize("setting", ["abc", "-1", "nan"])
def test_a_bad_lock_wait_setting_is_an_invalid_configuration(project, monkeypatch, capsys, setting):
    write_run(project, "demo")
    monkeypatch.setenv("REPORTGEN_LOCK_TIMEOUT", setting)
    assert main(["--project", str(project), "run", "--quiet"]) == EXIT_CONFIG
    assert "REPORTGEN_LOCK_TIMEOUT" in capsys.readouterr().err
    assert not Project.at(project).results("demo").exists()
