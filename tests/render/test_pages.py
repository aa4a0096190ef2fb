"""The results sections of a run page, rendered from recorded numbers only: the comparisons with
their intervals, macro metrics over the classes present, a diverged seed, the reflection's prompts,
in the run's language, and the figures drawn at render time."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pandas as pd
import pytest

from reportgen.cli import main
from reportgen.practice import evaluation as ev
from reportgen.record import write_json

from conftest import PRACTICE_SCHEMA, write_notebook, write_run

CLASSES = [f"flor_{i}" for i in range(6)]
PRESENT = 4  # the test split holds classes 0-3 only
SEEDS = {"baseline": [0, 1, 2], "advanced": [0, 2]}  # advanced seed 1 diverged
N = 200


def model_result(pipeline: str, seed: int, accuracy: float, rng) -> dict:
    """What evaluate_pipeline returns for one model, made from numbers (no network is trained)."""
    labels = np.arange(N) % PRESENT
    right = rng.random(N) < accuracy
    predicted = np.where(right, labels, (labels + 1) % PRESENT)
    probs = np.full((N, len(CLASSES)), 0.02)
    probs[np.arange(N), predicted] = 0.9
    probs /= probs.sum(axis=1, keepdims=True)
    train_right, val_right = rng.random(300) < accuracy + 0.05, rng.random(100) < accuracy
    return {"pipeline": pipeline, "seed": seed, "test_size": N, "top_k": 3,
            "metrics": ev.classification_metrics(labels, probs, CLASSES, top_k=3),
            "train_accuracy": train_right.mean(), "val_accuracy": val_right.mean(),
            "tta": None, "robustness": None, "calibration": ev.calibration(labels, probs),
            "top_k_examples": ev.top_k_examples(labels, probs, CLASSES, k=3),
            "per_image": {"test_correct": right.astype(float), "test_confidence": probs.max(axis=1),
                          "tta_correct": None, "perturbed_score": None,
                          "train_correct": train_right.astype(float), "val_correct": val_right.astype(float)}}


def record_results(folder, accuracy: dict) -> None:
    """A results folder as the notebook leaves it (numbers only), with advanced seed 1 diverged."""
    rng = np.random.default_rng(0)
    per_model = {p: [model_result(p, s, accuracy[p], rng) for s in seeds] for p, seeds in SEEDS.items()}
    folder.mkdir(parents=True)
    write_json(folder / "run.json", {"status": "ok", "finished": "2026-11-24T00:00:00", "seconds": 10})
    nbformat.write(nbformat.v4.new_notebook(), str(folder / "notebook.ipynb"))  # a results folder has its notebook
    write_json(folder / "metrics.json", ev.build_report(per_model, CLASSES))
    write_json(folder / "pipelines.json", {"baseline": [{"op": "flip", "mode": "horizontal"}], "advanced": [],
                                           "mixup": None, "cutmix": None, "preset": "natural", "risks": []})
    write_json(folder / "per_image.json", ev.per_image_record(per_model))
    write_json(folder / "protocol.json", {
        "settings": {"backbone": "small_cnn", "epochs": 3, "optimizer": "adam", "learning_rate": 0.002,
                     "schedule": "cosine", "fine_tune_epochs": 0, "early_stopping_patience": None,
                     "seeds": [0, 1, 2], "momentum": None},
        "diverged": [{"pipeline": "advanced", "seed": 1, "epoch": 2, "phase": 1, "learning_rate": 0.5}]})
    rows = [{"pipeline": p, "seed": s, "epoch": e, "phase": 1, "loss": 1 / e, "accuracy": 0.5, "val_loss": 1 / e,
             "val_accuracy": 0.5, "learning_rate": 0.002, "epoch_seconds": 1.0}
            for p in SEEDS for s in (0, 1, 2) for e in (1, 2, 3)]
    history = pd.DataFrame(rows)
    history.loc[(history.pipeline == "advanced") & (history.seed == 1) & (history.epoch == 2), "loss"] = np.nan
    history = history[~((history.pipeline == "advanced") & (history.seed == 1) & (history.epoch == 3))]
    history.to_csv(folder / "history.csv", index=False)


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
    assert "No concluyente: el intervalo incluye el cero." in page  # same accuracy on both sides
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
    assert "Better: the interval excludes zero, so the advanced pipeline improves it." in page
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
