"""reportgen/render/views.py: what a page shows, decided in Python (the templates only lay it out)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reportgen.harvest import harvest_run
from reportgen.project import Project
from reportgen.render import views
from reportgen.render.reflection import Reflection
from reportgen.render.strings import strings
from reportgen.results import Figure
from reportgen.runs import discover

from conftest import REPO

UNANSWERED, ANSWERED = Reflection("", 0, 5), Reflection("", 5, 5)  # the practice's five questions

PRACTICE_FIGURE_NAMES = ("mosaic", "mixing", "curves", "robustness", "gradcam_hits", "gradcam_errors",
                         "methods_baseline", "tsne")


@pytest.fixture(scope="module")
def demo():
    """The shipped demo run, harvested from its committed results, with every practice figure drawn."""
    project = Project.at(REPO)
    run = harvest_run(project, discover(project, ["demo"])[0])
    figures = {name: Figure(name=name, path=Path(f"/drawn/{name}.png"), caption="") for name in PRACTICE_FIGURE_NAMES}
    return dataclasses.replace(run, figures=figures)


def test_the_practice_checklist_ticks_what_the_page_shows(demo):
    items = views.practice_checklist(demo, UNANSWERED)
    assert len(items) == 11 and [done for _, done in items] == [True] * 10 + [False]
    assert views.practice_checklist(demo, ANSWERED)[-1][1] is True

    without_tsne = dataclasses.replace(demo, figures={k: v for k, v in demo.figures.items() if k != "tsne"})
    ticked = dict(views.practice_checklist(without_tsne, ANSWERED))
    assert ticked["t-SNE de embeddings"] is False and ticked["MixUp / CutMix"] is True


def test_the_practice_page_lists_the_practice_checklist_then_the_run_files(demo):
    labels = [label for label, _ in views.checklist(demo, UNANSWERED)]
    assert labels[:11] == [label for label, _ in views.practice_checklist(demo, UNANSWERED)]
    assert labels[11:] == [entry.label for entry in demo.config.checklist]


@pytest.mark.parametrize("verdict, kind", [("better", "success"), ("worse", "failure"), ("inconclusive", "note")])
def test_each_verdict_reads_as_its_admonition(verdict, kind):
    verdicts = {"comparisons": [{"comparison": "advanced_vs_baseline", "verdict": verdict, "sentence": "S.",
                                 "values": "V.", "lead": "L.", "extra": "E."},
                                {"comparison": "tta_vs_plain", "verdict": "better", "sentence": "T."}],
                "legend": "What a verdict means."}
    assert views.findings(verdicts, "advanced_vs_baseline") == {
        "kind": kind, "legend": "What a verdict means.", "items": [{"lead": "L.", "values": "V.", "extra": "E."}]}
    assert views.findings(verdicts, "nothing") is None


def _metrics(**aggregate) -> dict:
    return {"top_k": 3, "pipelines": {"baseline": {"aggregate": {k: v[0] for k, v in aggregate.items()}},
                                      "advanced": {"aggregate": {k: v[1] for k, v in aggregate.items()}}}}


def test_result_rows_are_cells_in_the_page_language():
    metrics = _metrics(accuracy=({"mean": 0.5, "std": 0.02}, {"mean": 0.625, "std": None}),
                       loss=({"mean": 1.25, "std": None}, {"mean": 1.0, "std": None}))
    assert views.results_rows(metrics, "es") == [
        ("Accuracy (test)", "50,0 % ± 2,0 %", "62,5 %", "+12,5 pp"),
        ("Loss (test)", "1,250", "1,000", "\u22120,250")]  # the pages' one minus sign
    assert views.results_rows(metrics, "en")[0] == ("Accuracy (test)", "50.0% ± 2.0%", "62.5%", "+12.5 pp")


def test_a_metric_one_pipeline_lacks_has_no_row_and_a_missing_value_reads_as_a_dash():
    metrics = _metrics(accuracy=({"mean": 0.5, "std": None}, None))
    metrics["pipelines"]["baseline"]["aggregate"]["ece"] = {"mean": 0.1, "std": None}
    assert views.results_rows(metrics, "es") == [("Accuracy (test)", "50,0 %", "—", "—")]


def test_the_home_page_heading_names_the_practice_only_when_every_run_is_the_practice(demo):
    t = strings("es")["page"]
    head, intro = views.index_head([demo], t)
    assert (head.heading, intro) == (t["portafolio_titulo"], t["portafolio_intro"])
    generic = dataclasses.replace(demo, facts={})
    head, intro = views.index_head([demo, generic], t)
    assert (head.heading, intro) == (t["portafolio"], t["portafolio_intro_generico"])
    assert head.hide == ("navigation",)


def test_provenance_values_from_run_json_are_text(demo):
    hostile = dataclasses.replace(demo, record={**demo.record, "finished": "<script>x</script>",
                                                "libraries": {"[a](javascript:x)": "1"}, "cache_key": "`k`"})
    rows = dict(views.provenance(hostile))
    assert "<script>" not in rows["Ejecutado"] and "&lt;script&gt;" in rows["Ejecutado"]
    assert rows["Librerías"].startswith(r"\[a\](javascript") and "`" not in rows["Clave de caché"]


def test_the_tta_table_shows_the_means_its_reading_compares_and_says_so():
    metrics = _metrics(accuracy=({"mean": 0.8846, "std": 0.01, "values": [0.872, 0.882, 0.9]},
                                 {"mean": 0.8, "std": 0.03, "values": [0.826, 0.764, 0.81]}),
                       tta_accuracy=({"mean": 0.8813}, {"mean": 0.7967}))
    for name, plain in (("baseline", 0.872), ("advanced", 0.826)):  # seed 0's, as older pages showed
        metrics["pipelines"][name].update(tta={"plain": plain, "tta": plain - 0.006, "delta": -0.006}, detail_seed=0)
    assert views.tta_rows(metrics, "es") == [("Baseline", "88,5 %", "88,1 %", "\u22120,4 pp"),
                                             ("Avanzado", "80,0 %", "79,7 %", "\u22120,3 pp")]
    assert views.tta_note(metrics, "es").startswith("Accuracy de test media de 3 semillas")
    for name in ("baseline", "advanced"):  # results recorded before the mean with TTA: seed 0, named
        del metrics["pipelines"][name]["aggregate"]["tta_accuracy"]
    assert views.tta_rows(metrics, "en")[0] == ("Baseline", "87.2%", "86.6%", "\u22120.6 pp")
    assert views.tta_note(metrics, "en").startswith("Test accuracy of seed 0")


def test_dataset_facts_escape_what_the_dataset_named(demo):
    ds = {**demo.facts["dataset"], "source": "folder*", "name": "[x](javascript:y)", "class_names": ["a_b", "<c>"]}
    table = views.dataset_table(ds, "es")
    assert len(table.header) == len(table.align) == 2 and all(len(row) == 2 for row in table.rows)
    assert table.rows[0][1] == r"folder\* (<code>&#91;x&#93;&#40;javascript&#58;y&#41;</code>)"
    assert views.class_list(ds) == r"a\_b, &lt;c&gt;"


def test_a_model_that_confuses_nothing_shows_one_empty_row():
    assert views.confused_table([], "es").rows == [["—", "—", "0", "—"]]
    pairs = [{"true": "rosa", "predicted": "azul", "count": 3, "rate": 0.25}] * 10
    table = views.confused_table(pairs, "en")
    assert len(table.rows) == views.MOST_CONFUSED_SHOWN and table.rows[0] == ["rosa", "azul", "3", "25.0%"]


def test_explanation_checks_show_localisation_columns_only_with_object_masks(demo):
    view = views.explanations_view(demo)
    with_masks, randomisation = views.explanation_tables(view)
    assert len(with_masks.header) == len(with_masks.align) == 7
    assert all(len(row) == 7 for row in with_masks.rows) and randomisation is not None
    recorded = {key: value for key, value in view.recorded.items() if key not in ("baselines", "randomisation")}
    without, none = views.explanation_tables(views.ExplanationsView(recorded, "es"))
    assert len(without.header) == 4 and all(len(row) == 4 for row in without.rows) and none is None
