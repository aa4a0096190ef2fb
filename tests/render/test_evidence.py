"""What a run page states about the run itself: the parameters it used, the run file's date (on the
page and its home card) and the libraries its notebook imported, escaped and shortened."""

from __future__ import annotations

import nbformat
import pytest

from reportgen.cli import main
from reportgen.record import write_json
from reportgen.render.markup import md_text

from conftest import write_cells, write_run

HOSTILE = "<script>alert(1)</script>|`x`"


@pytest.fixture
def own_run(project):
    """A notebook of one's own (scikit-learn) with its results, as an execution leaves them."""
    write_cells(project / "experiments" / "iris.ipynb", [
        ("code", ["parameters"], f"SUBSET = 1000\nNAME = 'iris'\nLAYERS = [4, 4]\nOPTIONS = {{}}"),
        ("code", [], "from sklearn.datasets import load_iris\nimport numpy as np")])
    write_run(project, "iris", notebook="iris", date="2026-10-05",
              parameters={"SUBSET": None, "NAME": HOSTILE, "LAYERS": list(range(100))})
    folder = project / "experiments" / "results" / "iris"
    folder.mkdir(parents=True)
    write_json(folder / "run.json", {
        "status": "ok", "finished": "2026-12-01T10:00:00+00:00", "seconds": 3,
        "parameters": {"SUBSET": None, "NAME": HOSTILE, "LAYERS": list(range(100)), "OPTIONS": {"a": {"b": 1}}},
        "libraries": {"numpy": "2.4.6", "scikit-learn": "1.9.1", HOSTILE: "<b>1</b>"}})
    nbformat.write(nbformat.v4.new_notebook(), str(folder / "notebook.ipynb"))
    assert main(["--project", str(project), "render", "--quiet", "--out", str(project / "rendered")]) == 0
    return project / "rendered"


def test_the_run_page_lists_the_parameters_it_used(own_run):
    page = (own_run / "runs" / "iris" / "index.md").read_text(encoding="utf-8")
    assert '???+ info "Parámetros de la corrida"' in page  # a short table: shown open
    assert "| <code>SUBSET</code> | <code>null</code> |" in page
    assert "| <code>OPTIONS&#46;a&#46;b</code> | <code>1</code> |" in page  # nested mappings as dotted names
    layers = next(line for line in page.splitlines() if "<code>LAYERS</code>" in line)
    assert "…" in layers and "99" not in layers  # a long value is cut


def test_parameter_values_are_escaped(own_run):
    page = (own_run / "runs" / "iris" / "index.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if "<code>NAME</code>" in line)
    assert "<script>" not in row and "&lt;script&gt;" in row
    assert row.count("|") == 3  # the value's own "|" cannot split the table's row


def test_the_run_file_date_is_on_the_page_and_the_card(own_run):
    page = (own_run / "runs" / "iris" / "index.md").read_text(encoding="utf-8")
    assert "Fecha: 2026-10-05" in page
    card = (own_run / "index.md").read_text(encoding="utf-8")
    assert "2026-10-05" in card and "2026-12-01" not in card  # the execution date stays in provenance
    assert "| Ejecutado | 2026-12-01 10:00 UTC |" in page  # to the minute, in UTC


def test_a_long_list_of_parameters_is_folded_and_cut(project):
    from reportgen.render import evidence
    from reportgen.results import RunResults
    from reportgen.runs.config import RunFile

    run = RunResults(id="big", config=RunFile(title="t"), status="ok",
                     record={"parameters": {f"p{i}": i for i in range(evidence.MAX_PARAMETER_ROWS + 5)}})
    rows, left_out = evidence.parameter_rows(run)
    assert len(rows) == evidence.MAX_PARAMETER_ROWS and left_out == 5
    assert rows[0] == ("p0", "0")


def test_provenance_lists_the_libraries_the_run_recorded(own_run):
    """For a notebook of one's own, those its code imports (tests/runs/test_cache.py): no Keras for scikit-learn."""
    page = (own_run / "runs" / "iris" / "index.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.strip().startswith("| Librerías |"))
    assert row.startswith("    | Librerías | numpy 2\\.4\\.6, scikit\\-learn 1\\.9\\.1, ")
    assert "<script>" not in row and "<b>" not in row and row.count("|") - row.count("\\|") == 3  # escaped
    assert "keras" not in page.lower() and "tensorflow" not in page.lower()
