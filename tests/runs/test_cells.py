"""A notebook's code read with ast: the assignments below its parameters cell and the libraries it imports."""

from __future__ import annotations

import pytest

from reportgen.runs.cells import assigned_names, imported_distributions, imported_modules, reassigned

from conftest import REPO, write_cells


def _assigned(source: str) -> set[str]:
    import ast

    return assigned_names(ast.parse(source))


@pytest.mark.parametrize("source,names", [
    ("IMG_SIZE = 224", {"IMG_SIZE"}),
    ("IMG_SIZE: int = 224", {"IMG_SIZE"}),
    ("IMG_SIZE += 1", {"IMG_SIZE"}),
    ("EPOCHS, (IMG_SIZE, *rest) = 3, (224, 1, 2)", {"EPOCHS", "IMG_SIZE", "rest"}),
    ("a = b = 1", {"a", "b"}),
    ("if True:\n    IMG_SIZE = 224\nelse:\n    pass", {"IMG_SIZE"}),
    ("for i in range(2):\n    try:\n        IMG_SIZE = i\n    except Exception:\n        pass", {"IMG_SIZE"}),
])
def test_top_level_assignments_of_every_kind_are_found(source, names):
    assert _assigned(source) == names


@pytest.mark.parametrize("source", [
    "def f():\n    IMG_SIZE = 224",
    "async def f():\n    IMG_SIZE = 224",
    "class C:\n    IMG_SIZE = 224",
    "IMG_SIZE: int",  # an annotation without a value assigns nothing
    "config.IMG_SIZE = 224\nsizes['IMG_SIZE'] = 224",
    "print(IMG_SIZE)",
])
def test_what_leaves_the_global_alone_is_not_an_assignment(source):
    assert "IMG_SIZE" not in _assigned(source)


def test_reassignments_below_the_parameters_cell_name_the_cell(tmp_path):
    path = tmp_path / "mine.ipynb"
    write_cells(path, [
        ("markdown", [], "# Mi notebook"),
        ("code", [], "IMG_SIZE = 32  # above: papermill's value replaces it"),
        ("code", ["parameters"], "IMG_SIZE = 96\nEPOCHS = 2\nSUBSET = None"),
        ("code", [], "import numpy as np\n\nIMG_SIZE = 224"),
        ("code", [], "!pip install -q something\nEPOCHS += 1"),
        ("code", [], "def f():\n    SUBSET = 3"),
        ("code", [], "this is not python ("),
    ])
    found = [(r.name, r.cell.number, r.cell.first_line) for r in reassigned(path, ["IMG_SIZE", "EPOCHS", "SUBSET"])]
    assert found == [("IMG_SIZE", 4, "import numpy as np"), ("EPOCHS", 5, "!pip install -q something")]


def test_a_notebook_without_parameters_cell_has_no_reassignment(tmp_path):
    path = tmp_path / "plain.ipynb"
    write_cells(path, [("code", [], "IMG_SIZE = 1"), ("code", [], "IMG_SIZE = 2")])
    assert reassigned(path, ["IMG_SIZE"]) == []


def test_the_shipped_practice_assigns_none_of_its_parameters_again():
    from reportgen.runs.parameters import inspect

    notebook = REPO / "experiments" / "augmentation_xai.ipynb"
    assert reassigned(notebook, inspect(notebook).defaults) == []


def test_imports_are_top_level_modules_mapped_to_their_distributions(tmp_path):
    path = tmp_path / "sk.ipynb"
    write_cells(path, [
        ("code", [], "import numpy as np\nfrom sklearn.datasets import load_iris\nimport os, json"),
        ("code", [], "def f():\n    import scipy.stats\n    from . import sibling"),
        ("code", [], "%matplotlib inline\nimport matplotlib.pyplot as plt"),
    ])
    assert imported_modules(path) == {"numpy", "sklearn", "os", "json", "scipy", "matplotlib"}
    assert imported_distributions(path) == ["matplotlib", "numpy", "scikit-learn", "scipy"]  # no stdlib, no Keras
