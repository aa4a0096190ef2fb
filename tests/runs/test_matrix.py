"""Run matrices: one run file expands into one run per combination, each with its id, cache entry and page."""

from __future__ import annotations

import json
import re

import pytest

from reportgen.cli import main
from reportgen.errors import EXIT_CONFIG, ConfigError
from reportgen.project import Project
from reportgen.runs import discover, state_of
from reportgen.runs.matrix import variant_ids

from conftest import PRACTICE_SCHEMA, RECORDING_CELL, write_notebook, write_run

pytestmark = pytest.mark.slow  # every test here executes a notebook


@pytest.fixture(autouse=True)
def _tiny_takes_the_practice_parameters(project):
    """Matrices vary the practice's parameters: the tiny notebook declares the practice's schema here."""
    write_notebook(project / "experiments" / "tiny.ipynb", RECORDING_CELL, schema=PRACTICE_SCHEMA,
                   parameters="data = {}\naugmentation = {}\nmodel = {}\ntraining = {}\nevaluation = {}\nexplanations = {}")

GRID = {"model.backbone": ["small_cnn", "mobilenetv2"], "training.seeds": [[0], [1, 2]]}


def test_a_matrix_expands_into_one_run_per_combination(project):
    write_run(project, "grid", matrix=GRID, parameters={"data": {"image_size": 32}})
    write_run(project, "plain")
    runs = discover(Project.at(project))

    assert [run.id for run in runs] == ["grid-small_cnn-0", "grid-small_cnn-1_2", "grid-mobilenetv2-0",
                                        "grid-mobilenetv2-1_2", "plain"]
    last = runs[3]
    assert last.config.parameters.model.backbone == "mobilenetv2"
    assert last.config.parameters.training.seeds == [1, 2]
    assert last.config.parameters.data.image_size == 32          # the file's own parameters stay
    assert last.group == "grid" and last.matrix == {"model.backbone": "mobilenetv2", "training.seeds": [1, 2]}
    assert "mobilenetv2" in last.config.title and not last.config.matrix
    assert runs[4].group is None and runs[4].matrix == {}


def test_ids_depend_only_on_a_runs_own_values():
    two = variant_ids("grid", [{"training.learning_rate": 0.01}, {"training.learning_rate": 0.001}])
    three = variant_ids("grid", [{"training.learning_rate": v} for v in (0.01, 0.001, 0.1)])
    assert two == ["grid-0p01", "grid-0p001"] and three[:2] == two   # adding a value keeps the others' ids
    # Values that make no safe, distinct name get a hash of the values instead.
    odd = variant_ids("grid", [{"data.path": "a/b c"}, {"data.path": "x.failed"}])
    assert len(set(odd)) == 2 and all(len(i) == len("grid-") + 8 for i in odd)
    clash = variant_ids("grid", [{"training.seeds": [0, 1]}, {"training.seeds": ["0_1"]}])
    assert clash[0] != clash[1] and "0_1" not in clash[0]


def test_runs_are_selected_by_file_or_by_their_own_id(project):
    write_run(project, "grid", matrix={"training.seeds": [[0], [1]]})
    write_run(project, "plain")
    proj = Project.at(project)
    assert [r.id for r in discover(proj, ["grid"])] == ["grid-0", "grid-1"]
    assert [r.id for r in discover(proj, ["grid-1", "plain"])] == ["grid-1", "plain"]
    with pytest.raises(ConfigError, match="grid-7: no such run; the matrices give: grid-0, grid-1"):
        discover(proj, ["grid-7"])


@pytest.mark.parametrize("matrix, message", [
    ({"model.backbon": ["small_cnn"]}, "field 'matrix.model.backbon': unknown parameter.*backbone"),
    ({"training.epochs.value": [1]}, "'training.epochs': none \\(not a section\\)"),
    ({"training.epochs": 3}, "field 'matrix.training.epochs': Input should be a valid list"),
    ({"training.epochs": []}, "field 'matrix.training.epochs': List should have at least 1 item"),
    ({"model.backbone": ["small_cnn", "vgg"]}, "combination model.backbone=vgg makes the run invalid "
                                               ".*'parameters.model.backbone'"),
    ({"training.seeds": [[0], 1]}, "training.seeds=1 makes the run invalid"),
])
def test_an_invalid_matrix_exits_2_before_anything_runs(project, capsys, matrix, message):
    write_run(project, "grid", matrix=matrix)
    write_run(project, "plain")
    assert main(["--project", str(project), "report", "--quiet"]) == EXIT_CONFIG
    error = capsys.readouterr().err
    assert "nothing was executed" in error and "experiments/runs/grid.yaml" in error
    assert re.search(message, error), error
    assert not (project / "experiments" / "results").exists()


def test_two_files_giving_the_same_id_are_refused(project):
    write_run(project, "grid", matrix={"training.seeds": [[0], [1]]})
    write_run(project, "grid-1")
    with pytest.raises(ConfigError, match="run id 'grid-1' is given by several run files"):
        discover(Project.at(project))


def test_each_combination_has_its_own_cache_entry_and_page_and_the_comparison_groups_them(project):
    write_run(project, "grid", matrix={"training.seeds": [[0], [1]]})
    assert main(["--project", str(project), "run", "--quiet"]) == 0
    proj = Project.at(project)
    for run_id, seeds in (("grid-0", [0]), ("grid-1", [1])):
        record = json.loads((proj.results(run_id) / "run.json").read_text())
        assert record["status"] == "ok" and record["parameters"]["training"]["seeds"] == seeds

    write_run(project, "grid", matrix={"training.seeds": [[0], [1], [2]]})   # one more value
    assert [state_of(proj, run).state for run in discover(proj)] == ["fresh", "fresh", "new"]

    assert main(["--project", str(project), "render", "--out", str(project / "rendered")]) == 0
    comparison = (project / "rendered" / "comparacion.md").read_text()
    group = comparison[comparison.index("### Matriz `grid`"):]
    assert [line.split("|")[1].strip() for line in group.splitlines() if line.startswith("| [")] == \
        ["[grid-0](runs/grid-0/index.md)", "[grid-1](runs/grid-1/index.md)", "[grid-2](runs/grid-2/index.md)"]
    assert "<code>&#91;2&#93;</code>" in group and "sin ejecutar" in group  # "[2]", brackets as references
    assert "training.seeds=[1]" in (project / "rendered" / "runs" / "grid-1" / "index.md").read_text()
