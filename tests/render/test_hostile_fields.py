"""Every template, every field from a run file or a results folder, hostile values: the built site runs
nothing of them and shows them as text.

One site is built (`report --no-execute`, no kernel) from: a notebook of one's own with results whose
recorded names, stages, captions and dataset carry markup; a failed attempt whose error carries it; a
matrix whose values carry it (they reach titles and the comparison); the practice's page from committed
results whose dataset and class names carry it. The run files carry it in every string field. Notebook
*content* is tests/test_escaping.py's subject; this file is about run files and results folders.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.project import Project
from reportgen.runs import discover

from conftest import REPO, make_project, write_notebook, write_run
from html_checks import control_character_problems, live_script_problems
from results_fixtures import recorded_results

# Markup that would run if any template wrote it raw, in Markdown or HTML, in text or an attribute.
HOSTILE = ('<img src=x onerror=alert(1)>"><svg onload=alert(2)>\'`<script>alert(3)</script>'
           '[x](javascript:alert(4)){: onclick="alert(5)"} {{ 7*7 }} {% raw %}')
NAMES = {"metric": f"métrica {HOSTILE}", "group": f"grupo {HOSTILE}", "table": "tabla <b onmouseover=alert(6)>",
         "figure": "figura <img src=x onerror=alert(7)>", "caption": f"leyenda {HOSTILE}",
         "column": f"columna {HOSTILE}", "dataset": f"datos {HOSTILE}"}


def _run_file(root, run_id, notebook, **fields):
    return write_run(root, run_id, notebook=notebook, title=f"Título {HOSTILE}", date="2026-11-23",
                     description=f"Descripción {HOSTILE}", objectives=[f"Objetivo {HOSTILE}"],
                     checklist=[{"label": f"Item {HOSTILE}", "evidence": f"evidencia {HOSTILE}"},
                                f"Otro {HOSTILE}"],
                     references=[{"title": f"Ref {HOSTILE}", "url": "https://example.org/a)b](javascript:alert(8))"},
                                 f"Sin URL {HOSTILE}"], **fields)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("fields") / "portfolio")
    write_notebook(root / "experiments" / "propio.ipynb", "print(etiqueta)", parameters="etiqueta = 'x'")
    _run_file(root, "propio", "propio", parameters={"etiqueta": f"etiqueta {HOSTILE}"})
    recorded_results(root, "propio", notebook="propio", stage=f"Etapa {HOSTILE}", names=NAMES,
                     parameters={"etiqueta": f"etiqueta {HOSTILE}"})
    _run_file(root, "roto", "propio")
    recorded_results(root, "roto", notebook="propio", status="failed", failed_cell=2, failed_cell_number=2,
                     error_summary=f"ValueError: {HOSTILE}", error_tail=f"Traceback\nValueError: {HOSTILE}")
    _run_file(root, "rejilla", "propio", matrix={"etiqueta": [f"a {HOSTILE}", "b"]})
    for run in discover(Project.at(root), ["rejilla"]):
        recorded_results(root, run.id, notebook="propio", names=NAMES)
    demo = root / "experiments" / "results" / "demo"
    shutil.copytree(REPO / "experiments" / "results" / "demo", demo)
    dataset = json.loads((demo / "dataset.json").read_text())
    dataset["name"], dataset["class_names"][0] = f"flores {HOSTILE}", f"clase {HOSTILE}"
    (demo / "dataset.json").write_text(json.dumps(dataset))
    demo_run = yaml.safe_load((REPO / "experiments" / "runs" / "demo.yaml").read_text(encoding="utf-8"))
    (root / "experiments" / "runs" / "demo.yaml").write_text(
        yaml.safe_dump({**demo_run, "title": f"Práctica {HOSTILE}", "description": f"Demo {HOSTILE}"},
                       allow_unicode=True), encoding="utf-8")
    assert main(["--project", str(root), "report", "--no-execute", "--quiet"]) == 0
    return root / "site"


def test_every_built_page_runs_only_the_sites_own_scripts(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 8
    assert live_script_problems(site) == []
    assert control_character_problems(site) == []


@pytest.mark.parametrize("page", ["index.html", "comparacion.html", "runs/propio/index.html",
                                  "runs/roto/index.html", "runs/demo/index.html"])
def test_hostile_strings_are_shown_as_text(site, page):
    text = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser").get_text()
    assert "onerror=alert(1)" in text or "onerror=alert(7)" in text, page


def test_the_search_index_holds_no_markup_from_data(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    for entry in index["docs"]:
        for field in ("title", "text"):
            soup = BeautifulSoup(entry.get(field, ""), "html.parser")
            for tag in soup.find_all(True):
                assert tag.name not in ("script", "img", "svg", "iframe"), (entry["location"], str(tag)[:200])
                assert not any(name.lower().startswith("on") for name in tag.attrs), (entry["location"], str(tag)[:200])


def test_matrix_runs_and_the_failed_run_have_pages(site):
    runs = {path.parent.name for path in (site / "runs").glob("*/index.html")}
    assert {"propio", "roto", "demo"} <= runs and sum(name.startswith("rejilla-") for name in runs) == 2
