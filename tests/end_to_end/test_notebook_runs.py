"""Notebooks executed for real by papermill: expected errors, fresh prose after `report`."""

from __future__ import annotations

import hashlib

import nbformat
import pytest
from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.project import Project
from reportgen.runs import discover, state_of

from conftest import write_run
from html_checks import control_character_problems, live_script_problems
from conftest import write_cells

pytestmark = pytest.mark.slow

NOTEBOOK = [
    ("markdown", [], "# Errores esperados\n\nUn notebook que muestra un error a propósito."),
    ("code", ["parameters"], "n = 3"),
    ("markdown", [], "Calcular\n--------\n\nPrimero, una división por cero."),
    ("code", ["raises-exception"], "print('antes')\n1 / 0"),
    ("code", [], "import sys\nprint('siguió', n)\nprint('\\x1b[31maviso\\x1b[0m', file=sys.stderr)"),
    ("markdown", [], "##Resultados"),
    ("code", [], "for i in range(3):\n    print(f'\\r{i}', end='')\nprint()"),
]


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _article(root, run_id):
    html = (root / "site" / "runs" / run_id / "index.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser").select_one("article")


def test_expected_errors_succeed_and_prose_edits_reach_the_page_without_execution(project):
    write_cells(project / "experiments" / "esperado.ipynb", NOTEBOOK)
    write_run(project, "esperado", notebook="esperado")
    assert main(["--project", str(project), "report", "--quiet"]) == 0  # the expected ZeroDivisionError passes
    article = _article(project, "esperado")
    text = article.get_text(" ")
    assert "ZeroDivisionError" in text and "siguió 3" in text and "aviso" in text
    assert [h.get_text(strip=True).rstrip("¶") for h in article.select("h3")] == ["Calcular", "Resultados"]
    assert article.select_one("pre.rg-stdout").get_text().startswith("antes")
    results = project / "experiments" / "results"
    assert not (results / "esperado.failed").exists()
    before = _digests(results)

    path = project / "experiments" / "esperado.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[2].source = "Calcular de nuevo\n-----------------\n\nUn texto reescrito después de ejecutar."
    nbformat.write(nb, str(path))
    proj = Project.at(project)
    state = state_of(proj, next(run for run in discover(proj) if run.id == "esperado"))
    assert state.state == "fresh" and "prose changed" in state.reason
    assert main(["--project", str(project), "report", "--quiet"]) == 0  # executes nothing: see the digests
    article = _article(project, "esperado")
    assert "Un texto reescrito después de ejecutar." in article.get_text(" ")
    assert "Calcular de nuevo" in [h.get_text(strip=True).rstrip("¶") for h in article.select("h3")]
    assert _digests(results) == before  # the results folder, byte for byte
    assert control_character_problems(project / "site") == []
    assert live_script_problems(project / "site") == []
