"""The results cache: a run executes again only when something that changes its results changed."""

from __future__ import annotations

import importlib.metadata
import json
import shutil

import nbformat
import pytest

from reportgen.runs import cache as cache_module
from reportgen.runs import execution as runs_module
from reportgen.project import Project
from reportgen.runs import discover, execute, state_of
from reportgen.runs.cache import package_code_hash

from conftest import write_notebook, write_run

pytestmark = pytest.mark.slow  # most tests here execute a notebook


@pytest.fixture
def executed(project):
    """A project whose run 'demo' has been executed once."""
    write_run(project, "demo")
    proj = Project.at(project)
    execute(proj, discover(proj)[0], progress=False)
    return proj


def _state(proj):
    return state_of(proj, discover(proj)[0])


def test_unchanged_run_is_fresh(executed):
    assert _state(executed).state == "fresh"


def test_parameter_change_makes_it_stale(executed):
    write_run(executed.root, "demo", parameters={"epochs": 3})
    state = _state(executed)
    assert state.state == "stale" and state.changed == ["parameters"]


def test_page_fields_keep_it_fresh(executed):
    """The language, title, description and date are the page's: they never reach the notebook."""
    write_run(executed.root, "demo", language="en", title="Another title", description="Other words.",
              date="2026-01-02")
    assert _state(executed).state == "fresh"


def test_backend_change_makes_it_stale(executed):
    write_run(executed.root, "demo", backend="jax")
    assert "parameters" in _state(executed).changed  # and the libraries: the backend's own


def test_notebook_code_change_makes_it_stale(executed):
    path = executed.notebook("tiny")
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[-1].source += "\nprint('otra línea')"
    nbformat.write(nb, str(path))
    assert _state(executed).changed == ["notebook"]


def test_notebook_markdown_change_keeps_it_fresh(executed):
    path = executed.notebook("tiny")
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[0].source += "\nUna explicación más."
    nbformat.write(nb, str(path))
    assert _state(executed).state == "fresh"


def test_package_code_change_makes_it_stale(executed, monkeypatch):
    real = package_code_hash()
    monkeypatch.setattr(cache_module, "package_code_hash", lambda: real + "-edited")
    assert _state(executed).changed == ["package"]


def test_package_hash_follows_result_code_not_presentation_code(tmp_path):
    package = tmp_path / "reportgen"
    shutil.copytree(cache_module.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = package_code_hash(package)
    for presentation in ("render/pages.py", "cli.py", "harvest.py"):
        (package / presentation).write_text((package / presentation).read_text() + "\n# cosmetic\n")
    assert package_code_hash(package) == before
    (package / "record.py").write_text((package / "record.py").read_text() + "\nX = 1\n")
    assert package_code_hash(package) != before


def _upgraded(monkeypatch, **versions):
    real = cache_module.library_versions
    monkeypatch.setattr(cache_module, "library_versions", lambda names=cache_module.RESULT_LIBRARIES: {
        **real(names), **{name.replace("_", "-"): version for name, version in versions.items()}})


def test_a_version_change_of_a_library_the_notebook_imports_makes_it_stale(executed, monkeypatch):
    _upgraded(monkeypatch, matplotlib="99.0")  # the tiny notebook imports matplotlib
    assert _state(executed).changed == ["libraries"]


def test_a_library_the_notebook_does_not_import_leaves_it_fresh(executed, monkeypatch):
    _upgraded(monkeypatch, keras="99.0", tensorflow="99.0", scikit_learn="99.0")  # not imported by it
    assert _state(executed).state == "fresh"


def test_run_json_records_provenance(executed):
    record = json.loads((executed.results("demo") / "run.json").read_text())
    assert record["status"] == "ok"
    for key in ("cache_key", "cache_components", "parameters", "started", "finished", "seconds",
                "libraries", "device", "python"):
        assert key in record, key
    assert record["libraries"]["matplotlib"] and "keras" not in record["libraries"]  # what the notebook imports
    assert set(record["cache_components"]) == {"parameters", "notebook", "package", "libraries", "data"}


def test_a_notebook_of_ones_own_lists_the_libraries_it_imports(project):
    write_notebook(project / "experiments" / "iris.ipynb",
                   "import numpy as np\nfrom sklearn.datasets import load_iris\nprint(load_iris().data.shape)")
    write_run(project, "iris", notebook="iris")
    proj = Project.at(project)
    execute(proj, discover(proj)[0], progress=False)
    record = json.loads((proj.results("iris") / "run.json").read_text())
    assert list(record["libraries"]) == ["numpy", "scikit-learn"]
    assert record["libraries"]["scikit-learn"] == importlib.metadata.version("scikit-learn")


def test_the_practice_keeps_its_libraries_whatever_it_imports(project):
    """A notebook that runs the practice's code: its libraries, its backend's and its data source's,
    as the committed results' keys were made (the shipped runs stay fresh)."""
    write_notebook(project / "experiments" / "mine.ipynb", "from reportgen.practice.stages import Practice",
                   parameters="data = {}")
    write_notebook(project / "experiments" / "keras_own.ipynb", "import keras", parameters="data = {}")
    write_run(project, "tf", notebook="mine", parameters={"data": {"source": "tfds"}})
    write_run(project, "jx", notebook="keras_own", backend="jax")
    proj = Project.at(project)
    runs = {run.id: run for run in discover(proj)}
    assert cache_module.result_libraries(proj, runs["tf"]) == sorted({
        "keras", "numpy", "scikit-learn", "scipy", "papermill", "tensorflow", "tensorflow-cpu",
        "tensorflow-datasets", "pillow"})
    assert cache_module.result_libraries(proj, runs["jx"]) == ["jax", "jaxlib", "keras"]  # Keras and its backend


def test_the_shipped_runs_keep_the_key_of_their_committed_results():
    from conftest import REPO

    proj = Project.at(REPO)
    for run in discover(proj):
        recorded = json.loads((proj.results(run.id) / "run.json").read_text())["libraries"]
        wanted = cache_module.result_libraries(proj, run)
        assert wanted == ["keras", "numpy", "papermill", "scikit-learn", "scipy", "tensorflow", "tensorflow-cpu"]
        assert set(recorded) <= set(wanted), run.id


def test_second_report_executes_nothing(executed, monkeypatch):
    calls = []
    monkeypatch.setattr(runs_module, "execute", lambda *a, **k: calls.append(a))
    outcomes = runs_module.execute_stale(executed, discover(executed))
    assert outcomes == {"demo": "cached"} and calls == []
    outcomes = runs_module.execute_stale(executed, discover(executed), force=True)
    assert len(calls) == 1
