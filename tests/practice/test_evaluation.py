"""Evaluation metrics, TTA, robustness, calibration, the metrics.json schema and the figures."""

import json

import jsonschema
import keras
import numpy as np
import pytest
from keras import layers
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from sklearn import metrics as skm

from reportgen.facts import MetricsReport, headline_metrics
from reportgen.practice import evaluation as ev
from reportgen.practice.config import EvaluationConfig
from reportgen.record import Recorder, write_json
from reportgen.render.figures import DRAWERS, PAGE_WIDTH_IN, _load_drawers
from reportgen.render.figures import evaluation as drawers
from reportgen.render.interpretation import decode

_load_drawers()

NUM_CLASSES = 6
CLASS_NAMES = [f"class_{i}" for i in range(NUM_CLASSES)]
IMAGE_SIZE = 16


def tiny_model(seed: int) -> keras.Model:
    """Same conventions as reportgen's models: raw 0-255 in, GAP -> Dropout -> logits -> softmax."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.GlobalAveragePooling2D(name="embedding")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(NUM_CLASSES, name="logits")(x)
    outputs = layers.Activation("softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def models():
    return {"baseline": tiny_model(0), "advanced": tiny_model(1)}


@pytest.fixture(scope="module")
def test_split():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(24, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    labels = rng.integers(0, NUM_CLASSES, size=24).astype(np.int64)
    return images, labels


@pytest.fixture
def fixed_predictions():
    rng = np.random.default_rng(1)
    y_true = np.tile(np.arange(NUM_CLASSES), 10)
    probs = rng.dirichlet(np.ones(NUM_CLASSES), size=len(y_true))
    probs[np.arange(30), y_true[:30]] += 1.0  # half the images predicted right
    return y_true, probs / probs.sum(axis=1, keepdims=True)


def clean_splits(test_split):
    """Train and validation splits for the gap: the test images, and their first half."""
    images, labels = test_split
    return {"train": (images, labels), "val": (images[:12], labels[:12])}


# ------------------------------------------------------------------- metrics


def test_classification_metrics_match_scikit_learn(fixed_predictions):
    y_true, probs = fixed_predictions
    predicted = probs.argmax(axis=1)
    result = ev.classification_metrics(y_true, probs, CLASS_NAMES, top_k=3)

    precision, recall, f1, _ = skm.precision_recall_fscore_support(y_true, predicted, average="macro",
                                                                   zero_division=0)
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y_true, predicted))
    assert result["accuracy"] == pytest.approx(0.5, abs=0.1)
    assert result["loss"] == pytest.approx(skm.log_loss(y_true, probs))
    assert result["top_k_accuracy"] == pytest.approx(skm.top_k_accuracy_score(y_true, probs, k=3))
    assert result["macro_precision"] == pytest.approx(precision)
    assert result["macro_recall"] == pytest.approx(recall)
    assert result["macro_f1"] == pytest.approx(f1)
    expected_confusion = skm.confusion_matrix(y_true, predicted, normalize="true")
    np.testing.assert_allclose(result["confusion"], expected_confusion)
    per_class_f1 = skm.f1_score(y_true, predicted, average=None, zero_division=0)
    assert [row["f1"] for row in result["per_class"]] == pytest.approx(per_class_f1)
    assert [row["support"] for row in result["per_class"]] == [10] * NUM_CLASSES


def test_top_k_accuracy_is_none_without_more_classes_than_k(fixed_predictions):
    y_true, probs = fixed_predictions
    assert ev.classification_metrics(y_true, probs, CLASS_NAMES, top_k=NUM_CLASSES)["top_k_accuracy"] is None


def test_most_confused_pairs_are_the_largest_off_diagonal_cells():
    counts = np.array([[5, 3, 0], [1, 4, 0], [0, 6, 2]])
    rows = ev.most_confused_pairs(counts, ["a", "b", "c"], limit=2)
    assert [(r["true"], r["predicted"], r["count"]) for r in rows] == [("c", "b", 6), ("a", "b", 3)]
    assert rows[0]["rate"] == pytest.approx(6 / 8)


def test_macro_metrics_average_only_the_classes_present_in_the_test_split():
    """A test subset covering 2 of 6 classes: macro recall is over those 2, not over all 6."""
    y_true = np.array([0, 0, 0, 1, 1, 1])
    probs = np.full((6, NUM_CLASSES), 0.01)
    probs[[0, 1, 2, 3, 4, 5], [0, 0, 1, 1, 1, 5]] = 1.0  # class 0: 2/3 right; class 1: 2/3; one into class 5
    result = ev.classification_metrics(y_true, probs / probs.sum(axis=1, keepdims=True), CLASS_NAMES, top_k=3)
    assert result["classes_present"] == 2 and result["classes_absent"] == 4
    assert result["macro_recall"] == pytest.approx(2 / 3)
    present = [0, 1]
    expected = skm.f1_score(y_true, probs.argmax(axis=1), labels=present, average="macro", zero_division=0)
    assert result["macro_f1"] == pytest.approx(expected)
    assert len(result["per_class"]) == NUM_CLASSES  # the table still lists every class, support 0 included
    assert result["confusion"][3] == [0.0] * NUM_CLASSES  # a class without images: a row of zeros


def test_train_val_gap_uses_the_clean_training_images(models, test_split):
    splits = clean_splits(test_split)
    cfg = EvaluationConfig(top_k=3, tta=False, robustness=False)
    result = ev.evaluate_pipeline(models["baseline"], *test_split, CLASS_NAMES, cfg, "baseline", 0, **splits)
    predicted = {name: ev.predict(models["baseline"], images).argmax(axis=1) for name, (images, _) in splits.items()}
    assert result["train_accuracy"] == pytest.approx(skm.accuracy_score(splits["train"][1], predicted["train"]))
    assert result["val_accuracy"] == pytest.approx(skm.accuracy_score(splits["val"][1], predicted["val"]))
    np.testing.assert_array_equal(result["per_image"]["val_correct"], predicted["val"] == splits["val"][1])


# --------------------------------------------------------------- calibration


def test_ece_of_overconfident_and_of_calibrated_predictions():
    y_true = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    overconfident = np.tile([0.9, 0.1], (8, 1))  # 90% confident, right on half of them
    result = ev.calibration(y_true, overconfident)
    assert result["ece"] == pytest.approx(0.4)
    assert sum(result["count"]) == 8 and len(result["count"]) == ev.CALIBRATION_BINS
    assert result["confidence"].count(None) == ev.CALIBRATION_BINS - 1

    calibrated = np.array([[0.75, 0.25]] * 4 + [[0.25, 0.75]] * 4)
    calibrated_labels = np.array([0, 0, 0, 1, 1, 1, 1, 0])  # 75% right at 75% confidence
    assert ev.calibration(calibrated_labels, calibrated)["ece"] == pytest.approx(0.0)


# ------------------------------------------------------- robustness and TTA


@pytest.mark.parametrize("name", list(ev.PERTURBATION_LEVELS))
def test_perturbations_grow_with_severity_and_keep_uint8(name):
    images = np.random.default_rng(2).integers(0, 256, size=(4, 48, 48, 3), dtype=np.uint8)
    changes = []
    for severity in (1, 3, 5):
        perturbed = ev.perturb(images, name, severity, seed=0)
        assert perturbed.dtype == np.uint8 and perturbed.shape == images.shape
        changes.append(np.abs(perturbed.astype(float) - images).mean())
    assert 0 < changes[0] < changes[1] < changes[2]
    np.testing.assert_array_equal(ev.perturb(images, name, 3, seed=0), ev.perturb(images, name, 3, seed=0))


def test_perturb_names_the_bad_argument(test_split):
    with pytest.raises(ValueError, match="fog"):
        ev.perturb(test_split[0], "fog", 1)
    with pytest.raises(ValueError, match="severity"):
        ev.perturb(test_split[0], "blur", 6)


def test_robustness_on_a_tiny_model(models, test_split):
    images, labels = test_split
    result = ev.robustness(models["baseline"], images, labels, severities=2)
    clean = skm.accuracy_score(labels, ev.predict(models["baseline"], images).argmax(axis=1))
    assert result["score"].shape == (len(labels),) and result["score"].mean() == pytest.approx(result["mean_accuracy"])
    assert result["clean"] == pytest.approx(clean)
    assert set(result["accuracy"]) == set(ev.PERTURBATION_LEVELS)
    assert all(len(curve) == 2 for curve in result["accuracy"].values())
    all_values = [v for curve in result["accuracy"].values() for v in curve]
    assert result["mean_accuracy"] == pytest.approx(np.mean(all_values))
    if clean > 0:
        assert result["relative_accuracy"] == pytest.approx(result["mean_accuracy"] / clean)


def test_tta_averages_flipped_and_shifted_views(models, test_split):
    images, labels = test_split
    views = ev.tta_views(images)
    assert len(views) == 6
    np.testing.assert_array_equal(views[1], images[:, :, ::-1])
    np.testing.assert_array_equal(views[2][:, 1:], images[:, :-1])  # shifted down by one pixel
    result = ev.tta_accuracy(models["baseline"], images, labels)
    assert result["delta"] == pytest.approx(result["tta"] - result["plain"])
    averaged = np.mean([ev.predict(models["baseline"], v) for v in views], axis=0)
    assert result["tta"] == pytest.approx(skm.accuracy_score(labels, averaged.argmax(axis=1)))
    np.testing.assert_array_equal(result["correct"], averaged.argmax(axis=1) == labels)


def test_embeddings_are_the_input_of_the_logits_layer(models, test_split):
    model, images = models["baseline"], test_split[0]
    features = ev.embeddings(model, images)
    pooled = keras.Model(model.inputs, model.get_layer("embedding").output).predict(images, verbose=0)
    assert features.shape == (len(images), 8)
    np.testing.assert_allclose(features, pooled, rtol=1e-5)


# ------------------------------------------------------------ the report


@pytest.fixture(scope="module")
def report(models, test_split):
    images, labels = test_split
    cfg = EvaluationConfig(top_k=3, severities=1)
    per_model = {pipeline: [ev.evaluate_pipeline(model, images, labels, CLASS_NAMES, cfg, pipeline, seed,
                                                 **clean_splits(test_split)) for seed in (0, 1)]
                 for pipeline, model in models.items()}
    return ev.build_report(per_model, CLASS_NAMES), per_model


def test_metrics_json_validates_against_its_schema(report, tmp_path):
    report, _ = report
    path = tmp_path / "metrics.json"
    write_json(path, report)
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(document, MetricsReport.model_json_schema())
    assert MetricsReport.model_validate(document) == report
    document["pipelines"]["baseline"]["seeds"][0]["accuracy"] = "high"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, MetricsReport.model_json_schema())


def test_report_aggregates_seeds_and_keeps_details(report):
    report, _ = report
    baseline = report.pipelines["baseline"]
    accuracies = [seed.accuracy for seed in baseline.seeds]
    assert baseline.aggregate["accuracy"].values == accuracies
    assert baseline.aggregate["accuracy"].mean == pytest.approx(np.mean(accuracies))
    assert baseline.aggregate["accuracy"].std == pytest.approx(np.std(accuracies, ddof=1))
    gap = baseline.seeds[0]
    assert gap.train_val_gap == pytest.approx(gap.train_accuracy - gap.val_accuracy)
    assert len(baseline.confusion) == NUM_CLASSES and len(baseline.per_class) == NUM_CLASSES
    assert len(baseline.top_k_examples) == ev.TOP_K_EXAMPLES
    assert len(baseline.top_k_examples[0].predictions) == 3
    assert "findings" not in report.model_dump() and "language" not in report.model_dump()  # numbers only


def test_per_image_numbers_add_up_to_the_headline_numbers(report, tmp_path):
    report, per_model = report
    path = tmp_path / "per_image.json"
    write_json(path, ev.per_image_record(per_model))
    models = json.loads(path.read_text())["models"]
    assert set(models) == {"baseline", "advanced"} and set(models["advanced"]) == {"0", "1"}
    for seed in report.pipelines["advanced"].seeds:
        numbers = {key: decode(value) for key, value in models["advanced"][str(seed.seed)].items()}
        assert np.mean(numbers["test_correct"]) == pytest.approx(seed.accuracy)
        assert np.mean(numbers["tta_correct"]) == pytest.approx(seed.tta_accuracy)
        assert np.mean(numbers["perturbed_score"]) == pytest.approx(seed.perturbed_accuracy, abs=1e-4)
        assert np.mean(numbers["train_correct"]) - np.mean(numbers["val_correct"]) == pytest.approx(seed.train_val_gap)


def test_metrics_table_holds_every_headline_number(report):
    report, _ = report
    table = ev.metrics_table(report)
    assert list(table.columns) == ["pipeline", "seed", "metric", "value"]
    assert len(table) == 2 * 2 * len(headline_metrics())
    row = table[(table.pipeline == "advanced") & (table.seed == 1) & (table.metric == "macro_f1")]
    assert row.value.item() == pytest.approx(report.pipelines["advanced"].seeds[1].macro_f1)


def test_evaluate_pipeline_skips_what_the_config_turns_off(models, test_split):
    images, labels = test_split
    cfg = EvaluationConfig(top_k=3, tta=False, robustness=False)
    result = ev.evaluate_pipeline(models["baseline"], images, labels, CLASS_NAMES, cfg, "baseline", 0)
    assert result["tta"] is None and result["robustness"] is None and result["train_accuracy"] is None
    report = ev.build_report({"baseline": [result]}, CLASS_NAMES)
    assert "tta_accuracy" not in report.pipelines["baseline"].aggregate
    assert report.pipelines["baseline"].aggregate["accuracy"].std is None


def test_build_report_refuses_test_splits_of_different_sizes(models, test_split):
    images, labels = test_split
    cfg = EvaluationConfig(top_k=3, tta=False, robustness=False)
    full = ev.evaluate_pipeline(models["baseline"], images, labels, CLASS_NAMES, cfg, "baseline", 0)
    half = ev.evaluate_pipeline(models["advanced"], images[:12], labels[:12], CLASS_NAMES, cfg, "advanced", 0)
    with pytest.raises(ValueError, match="different sizes"):
        ev.build_report({"baseline": [full], "advanced": [half]}, CLASS_NAMES)


# ------------------------------------------------------------------ figures
# Figures made of numbers are drawn at render time from the recorded facts, in the page language.


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def recorded_run(report, tmp_path, language="es", tsne=None):
    """A harvested run as the renderer sees it: the facts read back from JSON."""
    from types import SimpleNamespace

    path = tmp_path / "metrics.json"
    write_json(path, report)
    facts = {"metrics": json.loads(path.read_text())}
    if tsne is not None:
        facts["tsne"] = tsne
    return SimpleNamespace(facts=facts, language=language, history=None, tables={})


@pytest.mark.parametrize("num_classes, annotated", [(5, True), (30, False)])
def test_confusion_matrix_numbers_only_when_readable(num_classes, annotated):
    names = [f"flower_{i}" for i in range(num_classes)]
    fig = drawers.confusion_matrix(np.eye(num_classes), names, pipeline="advanced", language="en")
    texts = _texts(fig)
    assert ("1.00" in texts) is annotated
    assert ("flower_1" in texts) is annotated
    assert fig.get_figwidth() == pytest.approx(PAGE_WIDTH_IN)


def test_figures_follow_the_page_language(report, tmp_path):
    report, _ = report
    drawn = {language: {name: DRAWERS[name](recorded_run(report, tmp_path, language), language)
                        for name in ("confusion_baseline", "robustness", "reliability")}
             for language in ("es", "en")}
    assert "Matriz de confusión normalizada — Baseline" in _texts(drawn["es"]["confusion_baseline"])
    assert "Oclusión" in _texts(drawn["es"]["robustness"]) and "Occlusion" in _texts(drawn["en"]["robustness"])
    assert "Diagrama de confiabilidad" in _texts(drawn["es"]["reliability"])
    assert "Reliability diagram" in _texts(drawn["en"]["reliability"])
    for fig in [*drawn["es"].values(), *drawn["en"].values()]:
        assert isinstance(fig, Figure)
        assert fig.get_figwidth() == pytest.approx(PAGE_WIDTH_IN)


def test_a_run_without_the_data_draws_nothing(report, tmp_path):
    from types import SimpleNamespace

    empty = SimpleNamespace(facts={}, language="es", history=None, tables={})
    assert all(DRAWERS[name](empty, "es") is None for name in ("confusion_advanced", "robustness", "tsne"))


def test_tsne_is_recorded_as_coordinates_and_drawn_with_a_class_legend(report, models, test_split, tmp_path):
    report, _ = report
    images, labels = test_split
    features = {pipeline: ev.embeddings(model, images) for pipeline, model in models.items()}
    points = ev.tsne_points(features, labels, max_points=20)
    assert len(points.labels) == 20 and all(len(p) == 20 for p in points.points.values())
    fig = DRAWERS["tsne"](recorded_run(report, tmp_path, "es", tsne=points.model_dump()), "es")
    texts = _texts(fig)
    assert "Baseline" in texts and "Avanzado" in texts and "class_5" in texts
    assert [len(ax.collections[0].get_offsets()) for ax in fig.axes] == [20, 20]


def test_tsne_leaves_out_a_pipeline_whose_embeddings_are_degenerate_instead_of_crashing_the_kernel():
    # All-equal embeddings (a model ruined by a far too high learning rate) segfault scikit-learn's
    # Barnes-Hut tree, which kills the notebook's kernel; huge but varied ones are only rescaled.
    rng = np.random.default_rng(0)
    varied = rng.normal(size=(40, 8)).astype(np.float32)
    embeddings = {"baseline": varied * 1e30, "advanced": np.ones((40, 8), np.float32),
                  "broken": np.full((40, 8), np.nan, np.float32)}
    points = ev.tsne_points(embeddings, rng.integers(0, 3, 40), max_points=30)
    assert list(points.points) == ["baseline"]
    assert np.isfinite(points.points["baseline"]).all() and np.ptp(points.points["baseline"]) > 0


def test_top_k_figure_marks_the_true_class_in_green_and_reads_the_recorded_probabilities(report, test_split,
                                                                                          tmp_path):
    report, _ = report
    examples = report.pipelines["advanced"].top_k_examples
    shown = [example.index for example in examples]
    run = recorded_run(report, tmp_path, "en")
    run.arrays = {"top5": Recorder(tmp_path).arrays("top5", index=np.array(shown),
                                                     images=test_split[0][shown].astype(np.uint8))}
    fig = DRAWERS["top5"](run, "en")
    example = examples[0]
    bars = fig.axes[1].patches[1::2]  # each class: a light track, then its bar
    expected = [drawers.TRUE_CLASS_COLOR if p.class_index == example.true_index else drawers.OTHER_CLASS_COLOR
                for p in example.predictions]
    assert [to_hex(bar.get_facecolor()) for bar in bars] == [colour.lower() for colour in expected]
    assert [bar.get_width() for bar in bars] == pytest.approx([p.probability for p in example.predictions])
    assert f"{100 * example.predictions[0].probability:.0f}%" in _texts(fig)