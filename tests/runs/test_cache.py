"""The results cache: a run executes again only when something that changes its results changed."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from reportgen.runs import cache as cache_module
from reportgen.runs import execution as runs_module
from reportgen.project import Project
from reportgen.runs import discover, execute, state_of
from reportgen.runs.cache import package_code_hash

from conftest import write_run

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


def test_library_version_change_makes_it_stale(executed, monkeypatch):
    real = cache_module.library_versions()
    monkeypatch.setattr(cache_module, "library_versions", lambda: {**real, "keras": "99.0"})
    assert _state(executed).changed == ["libraries"]


def test_run_json_records_provenance(executed):
    record = json.loads((executed.results("demo") / "run.json").read_text())
    assert record["status"] == "ok"
    for key in ("cache_key", "cache_components", "parameters", "started", "finished", "seconds",
                "libraries", "device", "python"):
        assert key in record, key
    assert record["libraries"]["keras"]
    assert set(record["cache_components"]) == {"parameters", "notebook", "package", "libraries", "data"}


def test_second_report_executes_nothing(executed, monkeypatch):
    calls = []
    monkeypatch.setattr(runs_module, "execute", lambda *a, **k: calls.append(a))
    outcomes = runs_module.execute_stale(executed, discover(executed))
    assert outcomes == {"demo": "cached"} and calls == []
    outcomes = runs_module.execute_stale(executed, discover(executed), force=True)
    assert len(calls) == 1
