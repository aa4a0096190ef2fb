"""The result box (reportgen/render/summary.py): the first thing under a run page's title and on
its home card, for a run whose advanced pipeline is better, worse or inconclusive, a failed run,
a notebook of one's own and an imported one; built from fake results folders (tests/results_fixtures.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.harvest import harvest_all
from reportgen.project import Project
from reportgen.render import summary
from reportgen.runs import discover

from conftest import PRACTICE_SCHEMA, REPO, make_project, write_notebook, write_run
from results_fixtures import CLASSES, executed_notebook, practice_results, recorded_results

PRACTICE = {"better": {"baseline": 0.5, "advanced": 0.9},
            "worse": {"baseline": 0.9, "advanced": 1 / len(CLASSES)},  # and the advanced model at chance
            "inconclusive": {"baseline": 0.6, "advanced": 0.6}}
TITLES = {"better": "Resultado: mejora", "worse": "Resultado: empeora", "inconclusive": "Resultado: no concluyente",
          "failed": "La corrida falló", "own": "Resultado", "imported": "Resultado"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """One portfolio with a run of each kind, its pages written by `render --out` and built by MkDocs."""
    root = make_project(tmp_path_factory.mktemp("summary") / "portfolio")
    write_notebook(root / "experiments" / "practice.ipynb", schema=PRACTICE_SCHEMA, parameters="training = {}")
    write_notebook(root / "experiments" / "tiny.ipynb")
    for run_id, accuracy in PRACTICE.items():
        write_run(root, run_id, notebook="practice", title=f"Práctica {run_id}")
        practice_results(root / "experiments" / "results" / run_id, accuracy)
    write_run(root, "own", title="Un notebook propio")
    recorded_results(root, "own")  # records accuracy = 0.75
    download = executed_notebook(root.parent / "De Colab.ipynb", "print('hecho')", heading="# De Colab")
    assert main(["--project", str(root), "import", str(download), "imported"]) == 0
    write_run(root, "failed", title="Una corrida que falla")
    recorded_results(root, "failed")
    recorded_results(root, "failed", status="failed", error_summary="ValueError: la celda falló a propósito",
                     failed_cell=2, failed_cell_number=2)
    assert main(["--project", str(root), "render", "--quiet", "--out", str(root / "rendered")]) == 0
    assert main(["--project", str(root), "build", "--quiet"]) == 0
    return root


def markdown_page(site: Path, run_id: str) -> str:
    return (site / "rendered" / "runs" / run_id / "index.md").read_text(encoding="utf-8")


def after_title(page: str) -> str:
    """The Markdown under the page's heading, up to the next blank-line-separated block that is not the box."""
    return page.split("\n# ", 1)[1].split("\n", 1)[1].lstrip("\n")


def first_after_heading(site: Path, run_id: str):
    article = BeautifulSoup((site / "site" / "runs" / run_id / "index.html").read_text(encoding="utf-8"),
                            "html.parser").select_one("article")
    return article.select_one("h1").find_next_sibling()


def text(element) -> str:
    """An element's text as a reader reads it: one space between words."""
    return " ".join(element.get_text(" ").split())


def card(site: Path, run_id: str):
    home = BeautifulSoup((site / "site" / "index.html").read_text(encoding="utf-8"), "html.parser")
    link = home.select_one(f".grid.cards a[href='runs/{run_id}/index.html']")
    return link.find_parent("li")


@pytest.mark.parametrize("run_id", list(TITLES))
def test_the_box_is_the_first_thing_after_the_title_and_on_the_card(site, run_id):
    assert after_title(markdown_page(site, run_id)).startswith("!!! ")
    box = first_after_heading(site, run_id)
    assert "admonition" in box["class"], box
    assert box.select_one(".admonition-title").get_text(strip=True) == TITLES[run_id]
    on_card = card(site, run_id).select_one(".admonition")
    assert on_card is not None and on_card.select_one(".admonition-title").get_text(strip=True) == TITLES[run_id]
    assert text(on_card).split(TITLES[run_id], 1)[1][:80] == text(box).split(TITLES[run_id], 1)[1][:80]  # the same words


def test_better_worse_and_inconclusive_read_the_headline_with_its_interval(site):
    better = first_after_heading(site, "better")
    assert "success" in better["class"]
    assert re.search(r"El pipeline avanzado mejora la accuracy de test: \d+,\d % frente a \d+,\d % del baseline, "
                     r"\+\d+,\d pp \(IC 95 % \[\d+,\d pp; \d+,\d pp\]; 2 semillas × 200 imágenes\)\.", text(better))
    worse = first_after_heading(site, "worse")
    assert "danger" in worse["class"] and "El pipeline avanzado empeora la accuracy de test" in text(worse)
    inconclusive = first_after_heading(site, "inconclusive")
    assert "warning" in inconclusive["class"]
    assert re.search(r"No se puede decir si el pipeline avanzado cambia la accuracy de test: .* "
                     r"IC 95 % \[−\d+,\d pp; \d+,\d pp\] que incluye el cero", text(inconclusive))


def test_the_chance_level_is_named_and_a_model_at_chance_is_called_so(site):
    chance = f"El azar es {100 / len(CLASSES):.1f} % (1 de {len(CLASSES)} clases)".replace(".", ",")
    assert chance + "; los dos modelos lo superan." in text(first_after_heading(site, "better"))
    worse = text(first_after_heading(site, "worse"))
    assert re.search(re.escape(chance) + r"; el modelo avanzado \(\d+,\d %\) no lo supera: está al nivel del azar\.", worse)
    assert "al nivel del azar" in text(card(site, "worse"))


def test_the_main_caveat_is_in_the_box(site):
    assert "La semilla 1 del pipeline avanzado divergió" in text(first_after_heading(site, "better"))


def test_a_failed_run_says_where_it_failed_and_links_its_last_good_results(site):
    box = first_after_heading(site, "failed")
    assert "failure" in box["class"]
    shown = text(box)
    assert "El último intento de esta corrida falló en la celda 2: ValueError: la celda falló a propósito" in shown
    assert box.select_one("a[href='notebook-fallido.html#nb-celda-fallida']") is not None
    assert box.select_one("a[href='notebook.html']") is not None  # the last good results
    assert "Último intento exitoso:" in shown and "accuracy: 0,750" in shown
    on_card = card(site, "failed")
    assert on_card.select_one("a[href='runs/failed/notebook-fallido.html#nb-celda-fallida']") is not None
    assert on_card.select_one("a[href='runs/failed/notebook.html']") is not None
    assert "Esta página muestra" not in text(on_card)  # what only the page can say


def test_a_notebook_of_ones_own_shows_its_recorded_metrics(site):
    assert "Métricas principales que registró el notebook: accuracy: 0,750" in text(first_after_heading(site, "own"))
    assert "accuracy: 0,750" in text(card(site, "own"))


def test_an_imported_notebook_says_its_results_were_not_reproduced_here(site):
    shown = text(first_after_heading(site, "imported"))
    assert "El notebook no registró métricas" in shown and "Sus resultados no se reprodujeron aquí" in shown


def test_the_box_in_english_names_the_randomisation_failure_of_the_shipped_demo():
    project = Project.at(REPO)
    demo = next(run for run in harvest_all(project, discover(project, ["demo"], check_notebooks=False)))
    box = summary.result_box(demo, "en")
    view = summary.explanations_view(demo)
    failing = {item.method for item in view.randomisations if item.verdict == "fail"}
    assert failing, "the shipped demo has an explanation method that fails its randomisation check"
    for method in failing:
        name = summary.strings("en")["explanations"]["methods"][method]
        assert any(caveat.startswith(f"{name} fails the randomisation check") for caveat in box.caveats)
    assert any("fails the randomisation check" in caveat for caveat in box.caveats)
    assert box.chance.startswith("Chance is 10.0% (1 in 10 classes);")
