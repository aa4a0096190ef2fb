"""A run's parameters are checked against the notebook's own parameters cell, before anything runs."""

from __future__ import annotations

import pytest

from reportgen.cli import main
from reportgen.errors import EXIT_CONFIG, ConfigError
from reportgen.runs.parameters import validate_parameters

from conftest import write_cells, write_notebook, write_run

PARAMETERS_CELL = """
epochs = 2
learning_rate = 0.01
hidden_units: int = 8
use_bias = True
layers = [4, 4]
name = "mlp"
extra = None
"""


@pytest.fixture
def notebook(project):
    return write_notebook(project / "experiments" / "mine.ipynb", "print(epochs)", parameters=PARAMETERS_CELL)


def _error(notebook, parameters) -> str:
    with pytest.raises(ConfigError) as info:
        validate_parameters(notebook, parameters)
    return str(info.value)


def test_unknown_name_is_named_with_the_closest_match_and_the_list(notebook):
    message = _error(notebook, {"epoch": 3})
    assert "'parameters.epoch'" in message
    assert "closest: 'epochs'" in message
    assert "epochs, extra, hidden_units, layers, learning_rate, name, use_bias" in message


@pytest.mark.parametrize("name,value", [("epochs", "many"), ("epochs", 2.5), ("epochs", True),
                                        ("use_bias", 1), ("layers", "4,4"), ("name", 3),
                                        ("hidden_units", "8"), ("learning_rate", "fast")])
def test_a_value_that_does_not_fit_the_default_type_is_refused(notebook, name, value):
    assert f"'parameters.{name}'" in _error(notebook, {name: value})


def test_values_that_fit_pass_through_unchanged(notebook):
    values = {"epochs": 5, "learning_rate": 1, "use_bias": False, "layers": [8], "name": "x", "extra": {"a": 1}}
    assert validate_parameters(notebook, values) == values


def test_a_notebook_without_a_parameters_cell_takes_no_parameters(project):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("epochs = 2")])
    path = project / "experiments" / "plain.ipynb"
    nbformat.write(nb, str(path))
    assert "no cell tagged 'parameters'" in _error(path, {"epochs": 3})
    assert validate_parameters(path, {}) == {}  # without parameters it runs as it is


def test_the_cli_exits_2_before_anything_runs(project, notebook, capsys):
    write_run(project, "good", notebook="mine", parameters={"epochs": 1})
    write_run(project, "typo", notebook="mine", parameters={"epohcs": 1})
    write_run(project, "wrong_type", notebook="mine", parameters={"epochs": "two"})
    assert main(["--project", str(project), "report", "good"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "typo.yaml" in err and "'parameters.epohcs'" in err and "closest: 'epochs'" in err
    assert "wrong_type.yaml" in err and "expected int" in err
    assert not (project / "experiments" / "results").exists()  # not even the good run executed
    assert not (project / "site").exists()


def test_the_practice_declares_its_schema_in_the_notebook_metadata(project):
    """The shipped notebook goes through the same path, then through its pydantic schema."""
    from conftest import REPO

    from reportgen.practice.config import RunParameters

    notebook = REPO / "experiments" / "augmentation_xai.ipynb"
    validated = validate_parameters(notebook, {"training": {"epochs": 2}})
    assert isinstance(validated, RunParameters) and validated.training.epochs == 2
    assert "'parameters.training.epochs'" in _error(notebook, {"training": {"epochs": 0}})
    assert "'parameters.trainig'" in _error(notebook, {"trainig": {}})
    assert "'parameters.training'" in _error(notebook, {"training": [1]})  # a dict, like the default


def test_a_notebook_without_kernel_metadata_is_still_inspected(project):
    import nbformat

    cell = nbformat.v4.new_code_cell("epochs = 2")
    cell.metadata["tags"] = ["parameters"]
    path = project / "experiments" / "bare.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))  # no kernelspec, no language_info
    assert validate_parameters(path, {"epochs": 3}) == {"epochs": 3}
    assert "'parameters.epoch'" in _error(path, {"epoch": 3})


def test_a_corrupt_notebook_is_a_config_error(project):
    path = project / "experiments" / "corrupt.ipynb"
    path.write_text("{not json")
    assert "not a readable notebook" in _error(path, {})


def test_language_and_backend_are_run_file_fields_not_parameters(project, capsys):
    write_run(project, "dup", notebook="tiny", parameters={"language": "en"})
    assert main(["--project", str(project), "status"]) == EXIT_CONFIG
    assert "'parameters.language': set it with the run file's own 'language:' field" in capsys.readouterr().err


def test_a_run_of_a_notebook_without_parameters_cell_is_valid(project):
    import nbformat

    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")]),
                   str(project / "experiments" / "colab.ipynb"))
    write_run(project, "colab", notebook="colab")
    assert main(["--project", str(project), "status", "colab"]) == 0


def test_null_is_accepted_for_any_parameter_as_papermill_passes_it(project):
    path = write_notebook(project / "experiments" / "subset.ipynb", "print(SUBSET)",
                          parameters="SUBSET = 1000  # None for the whole dataset\nIMG_SIZE = 96\n")
    assert validate_parameters(path, {"SUBSET": None, "IMG_SIZE": None}) == {"SUBSET": None, "IMG_SIZE": None}
    assert "expected int" in _error(path, {"SUBSET": "all"})  # other values are still checked


def test_a_declared_schema_decides_on_null(project):
    from conftest import REPO

    notebook = REPO / "experiments" / "augmentation_xai.ipynb"
    assert "'parameters.training'" in _error(notebook, {"training": None})  # RunParameters wants a mapping


def test_run_warns_before_executing_of_a_parameter_assigned_again(project, monkeypatch, caplog):
    import logging

    from reportgen.runs import execution

    path = project / "experiments" / "sizes.ipynb"
    write_cells(path, [("code", ["parameters"], "IMG_SIZE = 96\nEPOCHS = 1"),
                       ("markdown", [], "## Datos"),
                       ("code", [], "# tamaño final\nIMG_SIZE = 224\nprint(IMG_SIZE)")])
    write_run(project, "sizes", notebook="sizes", parameters={"IMG_SIZE": 96})
    warned_first = []

    def execute(project, run, *args, **kwargs):  # stands for the execution: no kernel starts
        warned_first.append(any("IMG_SIZE" in r.getMessage() for r in caplog.records))
        return {}

    monkeypatch.setattr(execution, "execute", execute)
    with caplog.at_level(logging.WARNING, logger="reportgen"):
        assert main(["--project", str(project), "run", "sizes", "--quiet"]) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["sizes: warning: parameter 'IMG_SIZE' is assigned again in cell 3 ('# tamaño final'), "
                        "below the parameters cell: the notebook goes on with the value assigned there, not the "
                        "run's value 96"]
    assert warned_first == [True]
