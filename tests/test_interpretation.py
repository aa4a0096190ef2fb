"""The page's reading follows the numbers: helps, hurts or within noise, in Spanish and English."""

import numpy as np
import pytest

from reportgen.practice import evaluation as ev
from reportgen.practice.interpretation import MIN_DIFFERENCE, interpret

NUM_CLASSES = 4
CLASS_NAMES = ["daisy", "rose", "tulip", "iris"]
TEST_SIZE = 400
CONFIDENCE = 0.9


def fake_result(pipeline: str, seed: int, accuracy: float, gap: float = 0.1, tta_gain: float = 0.0) -> dict:
    """An `evaluate_pipeline` result for a model that is right on `accuracy` of the test images."""
    labels = np.arange(TEST_SIZE) % NUM_CLASSES
    predicted = labels.copy()
    wrong = slice(round(accuracy * TEST_SIZE), None)
    predicted[wrong] = (labels[wrong] + 1) % NUM_CLASSES
    probs = np.full((TEST_SIZE, NUM_CLASSES), (1 - CONFIDENCE) / (NUM_CLASSES - 1))
    probs[np.arange(TEST_SIZE), predicted] = CONFIDENCE
    return {
        "pipeline": pipeline, "seed": seed, "test_size": TEST_SIZE, "top_k": 2,
        "metrics": ev.classification_metrics(labels, probs, CLASS_NAMES, top_k=2),
        "train_val_gap": gap,
        "tta": {"plain": accuracy, "tta": accuracy + tta_gain, "delta": tta_gain},
        "robustness": None,
        "calibration": ev.calibration(labels, probs),
        "top_k_examples": ev.top_k_examples(labels, probs, CLASS_NAMES, k=2, count=2),
    }


def report_for(baseline: list[float], advanced: list[float], language: str = "en", **kwargs):
    per_model = {"baseline": [fake_result("baseline", seed, acc) for seed, acc in enumerate(baseline)],
                 "advanced": [fake_result("advanced", seed, acc, **kwargs) for seed, acc in enumerate(advanced)]}
    return ev.build_report(per_model, CLASS_NAMES, language=language)


def finding(report, metric: str, pipeline: str | None = None):
    return next(f for f in report.findings if f.metric == metric and f.pipeline == pipeline)


def test_augmentation_that_helps_is_reported_as_helping():
    accuracy = finding(report_for([0.60], [0.75]), "accuracy")
    assert accuracy.verdict == "helps"
    assert accuracy.improvement == pytest.approx(0.15)
    assert accuracy.noise == "binomial"
    assert "rose by 15.0 points (60.0% → 75.0%): the advanced pipeline helps" in accuracy.sentence


def test_augmentation_that_hurts_is_reported_as_hurting():
    accuracy = finding(report_for([0.75], [0.60]), "accuracy")
    assert accuracy.verdict == "hurts"
    assert "fell by 15.0 points" in accuracy.sentence
    assert "does worse than the baseline" in accuracy.sentence


def test_a_small_difference_on_one_seed_is_within_binomial_noise():
    accuracy = finding(report_for([0.70], [0.72]), "accuracy")
    p1, p2 = 0.70, 0.72
    expected = 2 * np.sqrt(p1 * (1 - p1) / TEST_SIZE + p2 * (1 - p2) / TEST_SIZE)
    assert accuracy.threshold == pytest.approx(expected)
    assert accuracy.verdict == "within_noise"
    assert "made no measurable difference" in accuracy.sentence
    assert f"on {TEST_SIZE} test images" in accuracy.sentence


def test_several_seeds_use_their_spread():
    steady = finding(report_for([0.70, 0.71, 0.69], [0.74, 0.75, 0.73]), "accuracy")
    noisy = finding(report_for([0.60, 0.80, 0.70], [0.65, 0.85, 0.75]), "accuracy")
    assert steady.noise == noisy.noise == "seeds"
    assert steady.verdict == "helps"  # +4 points, seeds agree within 1 point
    assert noisy.verdict == "within_noise"  # +5 points, seeds spread over 20 points
    assert "standard errors over the seeds" in noisy.sentence


def test_no_difference_below_one_point_counts_even_without_noise():
    identical_seeds = finding(report_for([0.70, 0.70], [0.7075, 0.7075]), "accuracy")
    assert (identical_seeds.threshold, identical_seeds.noise) == (MIN_DIFFERENCE, "fixed")
    assert identical_seeds.verdict == "within_noise"


def test_a_shrinking_train_val_gap_is_an_improvement():
    per_model = {"baseline": [fake_result("baseline", 0, 0.7, gap=0.20)],
                 "advanced": [fake_result("advanced", 0, 0.7, gap=0.05)]}
    gap = finding(ev.build_report(per_model, CLASS_NAMES, language="en"), "train_val_gap")
    assert gap.verdict == "helps" and gap.noise == "fixed"
    assert gap.improvement == pytest.approx(0.15)
    assert "gap at the best epoch fell by 15.0 points" in gap.sentence


def test_lower_calibration_error_helps():
    ece = finding(report_for([0.60], [0.75]), "ece")  # both 90% confident: ECE 0.30 vs 0.15
    assert (ece.before, ece.after) == pytest.approx((0.30, 0.15))
    assert ece.verdict == "helps"


def test_tta_findings_per_pipeline():
    report = report_for([0.60], [0.60], tta_gain=-0.10)
    assert finding(report, "tta_accuracy", "baseline").verdict == "within_noise"
    hurt = finding(report, "tta_accuracy", "advanced")
    assert hurt.verdict == "hurts"
    assert "the test accuracy of the Advanced model fell by 10.0 points" in hurt.sentence


def test_spanish_sentences_use_spanish_words_and_decimal_commas():
    accuracy = finding(report_for([0.60], [0.75], language="es"), "accuracy")
    assert accuracy.sentence.startswith("La accuracy en test subió 15,0 puntos (60,0 % → 75,0 %)")
    assert "el pipeline avanzado ayuda" in accuracy.sentence


def test_only_one_pipeline_gives_only_tta_findings():
    report = ev.build_report({"advanced": [fake_result("advanced", 0, 0.7)]}, CLASS_NAMES)
    assert [f.comparison for f in report.findings] == ["tta_vs_plain"]


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="'fr'"):
        interpret(report_for([0.6], [0.7]), language="fr")
