"""The results sections of a run page, rendered from recorded numbers only: the comparisons with
their intervals, macro metrics over the classes present, a diverged seed, the reflection's prompts,
in the run's language, and the figures drawn at render time."""

from __future__ import annotations

import json

import pytest

from reportgen.cli import main

from conftest import PRACTICE_SCHEMA, write_notebook, write_run
from results_fixtures import CLASSES, PRESENT, practice_results as record_results


def project_of(folder):
    """The project of a rendered run folder (<project>/rendered/runs/<id>): the reflection is seeded in its docs/."""
    return folder.parents[2]


@pytest.fixture
def rendered(project):
    def render(language: str, accuracy: dict):
        write_notebook(project / "experiments" / "practice.ipynb", schema=PRACTICE_SCHEMA,
                       parameters="training = {}")  # the practice's parameters, typed by its schema
        write_run(project, "numbers", notebook="practice", language=language)
        record_results(project / "experiments" / "results" / "numbers", accuracy)
        assert main(["--project", str(project), "render", "--quiet", "--out", str(project / "rendered")]) == 0
        folder = project / "rendered" / "runs" / "numbers"
        return folder, (folder / "index.md").read_text(encoding="utf-8")
    return render


def test_the_page_states_each_comparison_with_its_interval(rendered):
    folder, page = rendered("es", {"baseline": 0.6, "advanced": 0.6})
    assert "La accuracy de test pasó de" in page and "IC 95 % [" in page
    assert "- **No concluyente.** La accuracy de test pasó de" in page  # same accuracy on both sides
    assert page.count("Mejora o empeora: el intervalo al 95 % excluye el cero; no concluyente: lo incluye.") == 1
    assert "; 2 semillas × 200 imágenes)" in page  # the advanced pipeline finished 2 of its 3 seeds
    assert "t de Student" in page  # the method, once
    metrics = json.loads((folder.parents[2] / "experiments" / "results" / "numbers" / "metrics.json").read_text())
    assert "findings" not in metrics and "language" not in metrics  # the experiment recorded numbers only


def test_macro_metrics_say_which_classes_they_average(rendered):
    _, page = rendered("es", {"baseline": 0.6, "advanced": 0.7})
    assert f"promedian las {PRESENT} clases que tienen imágenes de test" in page
    assert f"{len(CLASSES) - PRESENT} clases del dataset no tienen ninguna imagen de test" in page


def test_a_diverged_seed_is_on_the_page_and_in_the_reflection(rendered):
    folder, page = rendered("es", {"baseline": 0.6, "advanced": 0.7})
    assert "La semilla 1 del pipeline avanzado divergió (pérdida NaN) en la época 2, con learning rate 0,5" in page
    reflection = (project_of(folder) / "docs" / "runs" / "numbers" / "reflexion.md").read_text()
    assert "El pipeline avanzado cambió la accuracy de test en " in reflection and "(IC 95 % [" in reflection
    assert "La semilla 1 del pipeline avanzado divergió en la época 2" in reflection
    assert (folder / "figures" / "curves.png").exists()  # drawn at render time from history.csv


def test_the_same_numbers_read_in_english(rendered):
    folder, page = rendered("en", {"baseline": 0.5, "advanced": 0.9})
    assert "Test accuracy went from" in page and "95% CI [" in page
    assert "- **Better.** Test accuracy went from" in page
    assert "Better or worse: the 95% interval excludes zero; inconclusive: it includes zero." in page
    assert "Seed 1 of the advanced pipeline diverged (NaN loss) in epoch 2, at learning rate 0.5" in page
    for word in ("semilla", "concluyente", "promedian", "Mejora"):
        assert word not in page
    assert "The advanced pipeline changed test accuracy by +" in (project_of(folder) / "docs" / "runs" / "numbers" / "reflexion.md").read_text()



@pytest.mark.parametrize("language, decimal, percent", [("es", ",", " %"), ("en", ".", "%")])
def test_table_numbers_follow_the_page_language_and_stay_sortable(rendered, language, decimal, percent):
    import re

    _, page = rendered(language, {"baseline": 0.6, "advanced": 0.7})
    seed_row = re.search(r"^\| 0 \| (\d+[.,]\d)( ?%) \| (\d+[.,]\d)( ?%) \| ([+\u2212]\d+[.,]\d) pp \|$", page, re.MULTILINE)
    assert seed_row, "the per-seed table"
    assert decimal in seed_row[1] and seed_row[2] == percent and decimal in seed_row[5]
    ece_row = re.search(r"^\| ECE .*\| ([+\u2212]\d[.,]\d{3}) \|$", page, re.MULTILINE)
    assert ece_row and decimal in ece_row[1]  # a plain difference, signed with the pages' one minus sign
    assert "-" not in seed_row[5] + ece_row[1]  # docs/javascripts/site.js sorts "\u2212"
