"""The page's reading of the results, written from the numbers, never canned.

Each `Finding` compares one metric between two aggregates: the advanced pipeline against
the baseline, or one model with test-time augmentation (TTA) against without. The
difference is called "helps", "hurts" or "within_noise" against an explicit threshold:

- several seeds on both sides: NOISE_Z standard errors of the difference of the seed
  means, sqrt(s1^2/n1 + s2^2/n2);
- one seed, for an accuracy: NOISE_Z binomial standard errors of the difference of two
  accuracies on n test images, sqrt(p1(1-p1)/n + p2(1-p2)/n);
- one seed, for the train-validation gap or the ECE: no noise estimate, the fixed
  MIN_DIFFERENCE alone.

A difference never counts below MIN_DIFFERENCE, however small the noise: one point of
accuracy is the smallest change the page calls an effect.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal, NamedTuple

from pydantic import BaseModel, Field

from reportgen.practice.figures import pipeline_label

if TYPE_CHECKING:
    from reportgen.practice.evaluation import Aggregate, MetricsReport

MIN_DIFFERENCE = 0.01  # 1 point (metrics are fractions): the smallest difference called an effect
NOISE_Z = 2.0  # standard errors a difference must exceed (about 95% two-sided)


class Finding(BaseModel):
    """One reading of the results, with the numbers behind it."""

    metric: str = Field(description="accuracy, train_val_gap, perturbed_accuracy, ece or tta_accuracy")
    comparison: Literal["advanced_vs_baseline", "tta_vs_plain"]
    pipeline: str | None = Field(description="model TTA was applied to; None for advanced_vs_baseline")
    verdict: Literal["helps", "hurts", "within_noise"]
    before: float = Field(description="baseline pipeline, or the model without TTA (mean over seeds)")
    after: float = Field(description="advanced pipeline, or the model with TTA (mean over seeds)")
    improvement: float = Field(description="after - before, negated where lower is better: > 0 is better")
    threshold: float = Field(description="|improvement| needed to call it helps/hurts")
    noise: Literal["seeds", "binomial", "fixed"] = Field(description="how the threshold was set")
    sentence: str


class _Rule(NamedTuple):
    higher_is_better: bool
    binomial: bool  # an accuracy on the test images: one seed can use the binomial error


COMPARED_METRICS = {
    "accuracy": _Rule(higher_is_better=True, binomial=True),
    "train_val_gap": _Rule(higher_is_better=False, binomial=False),
    "perturbed_accuracy": _Rule(higher_is_better=True, binomial=True),
    "ece": _Rule(higher_is_better=False, binomial=False),
}
TTA_RULE = _Rule(higher_is_better=True, binomial=True)

TEXT = {
    "en": {
        "subject": {
            "accuracy": "Test accuracy",
            "train_val_gap": "The train-validation accuracy gap at the best epoch",
            "perturbed_accuracy": "Mean accuracy under perturbations",
            "ece": "The expected calibration error (ECE)",
            "tta_accuracy": "With test-time augmentation, the test accuracy of the {pipeline} model",
        },
        "rose": "rose by {points} points",
        "fell": "fell by {points} points",
        "unchanged": "did not change",
        "verdict": {
            "advanced_vs_baseline": {
                "helps": "the advanced pipeline helps",
                "hurts": "the advanced pipeline does worse than the baseline here",
                "within_noise": "the difference is within noise, so augmentation made no measurable difference",
            },
            "tta_vs_plain": {
                "helps": "test-time augmentation helps",
                "hurts": "test-time augmentation does worse than plain prediction here",
                "within_noise": "the difference is within noise, so test-time augmentation made no "
                                "measurable difference",
            },
        },
        "noise": {
            "seeds": "threshold {threshold} points: {z} standard errors over the seeds",
            "binomial": "threshold {threshold} points: {z} binomial standard errors on {n} test images",
            "fixed": "fixed threshold of {threshold} points",
        },
    },
    "es": {
        "subject": {
            "accuracy": "La accuracy en test",
            "train_val_gap": "La brecha de accuracy entre train y validación en la mejor época",
            "perturbed_accuracy": "La accuracy media bajo perturbaciones",
            "ece": "El error de calibración esperado (ECE)",
            "tta_accuracy": "Con test-time augmentation, la accuracy en test del modelo {pipeline}",
        },
        "rose": "subió {points} puntos",
        "fell": "bajó {points} puntos",
        "unchanged": "no cambió",
        "verdict": {
            "advanced_vs_baseline": {
                "helps": "el pipeline avanzado ayuda",
                "hurts": "el pipeline avanzado rinde peor que el baseline en este caso",
                "within_noise": "la diferencia está dentro del ruido, así que el augmentation no produjo "
                                "una diferencia medible",
            },
            "tta_vs_plain": {
                "helps": "el test-time augmentation ayuda",
                "hurts": "el test-time augmentation rinde peor que la predicción simple en este caso",
                "within_noise": "la diferencia está dentro del ruido, así que el test-time augmentation "
                                "no produjo una diferencia medible",
            },
        },
        "noise": {
            "seeds": "umbral de {threshold} puntos: {z} errores estándar entre semillas",
            "binomial": "umbral de {threshold} puntos: {z} errores estándar binomiales sobre {n} "
                        "imágenes de test",
            "fixed": "umbral fijo de {threshold} puntos",
        },
    },
}


def noise_threshold(before: Aggregate, after: Aggregate, test_size: int,
                    binomial: bool) -> tuple[float, str]:
    """The difference needed to call an effect, and what set it ("fixed" when the floor wins)."""
    if len(before.values) > 1 and len(after.values) > 1:
        standard_error = math.sqrt(before.std ** 2 / len(before.values)
                                   + after.std ** 2 / len(after.values))
        noise = "seeds"
    elif binomial:
        standard_error = math.sqrt(before.mean * (1 - before.mean) / test_size
                                   + after.mean * (1 - after.mean) / test_size)
        noise = "binomial"
    else:
        return MIN_DIFFERENCE, "fixed"
    if NOISE_Z * standard_error <= MIN_DIFFERENCE:
        return MIN_DIFFERENCE, "fixed"
    return NOISE_Z * standard_error, noise


def verdict(improvement: float, threshold: float) -> str:
    if improvement > threshold:
        return "helps"
    if improvement < -threshold:
        return "hurts"
    return "within_noise"


def _number(value: float, language: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "es" else text


def _percent(fraction: float, language: str) -> str:
    return _number(100 * fraction, language) + (" %" if language == "es" else "%")


def _sentence(finding: Finding, test_size: int, language: str) -> str:
    text = TEXT[language]
    pipeline = pipeline_label(finding.pipeline, language) if finding.pipeline else ""
    subject = text["subject"][finding.metric].format(pipeline=pipeline)
    change = round(100 * (finding.after - finding.before), 1)
    points = _number(abs(change), language)
    move = (text["rose"] if change > 0 else text["fell"] if change < 0 else text["unchanged"])
    noise = text["noise"][finding.noise].format(
        threshold=_number(100 * finding.threshold, language), z=f"{NOISE_Z:g}", n=test_size)
    return (f"{subject} {move.format(points=points)} "
            f"({_percent(finding.before, language)} → {_percent(finding.after, language)}): "
            f"{text['verdict'][finding.comparison][finding.verdict]} ({noise}).")


def _finding(metric: str, comparison: str, pipeline: str | None, before: Aggregate, after: Aggregate,
             rule: _Rule, test_size: int, language: str) -> Finding:
    improvement = after.mean - before.mean if rule.higher_is_better else before.mean - after.mean
    threshold, noise = noise_threshold(before, after, test_size, rule.binomial)
    finding = Finding(metric=metric, comparison=comparison, pipeline=pipeline,
                      verdict=verdict(improvement, threshold), before=before.mean, after=after.mean,
                      improvement=improvement, threshold=threshold, noise=noise, sentence="")
    finding.sentence = _sentence(finding, test_size, language)
    return finding


def interpret(report: MetricsReport, language: str = "es") -> list[Finding]:
    """Findings on the advanced pipeline vs the baseline, then on TTA for each pipeline.

    A metric is skipped when either side did not measure it (e.g. no history, no TTA).
    """
    if language not in TEXT:
        raise ValueError(f"language must be one of {sorted(TEXT)}, got {language!r}.")
    findings = []
    pipelines = report.pipelines
    if "baseline" in pipelines and "advanced" in pipelines:
        baseline, advanced = pipelines["baseline"].aggregate, pipelines["advanced"].aggregate
        for metric, rule in COMPARED_METRICS.items():
            if metric in baseline and metric in advanced:
                findings.append(_finding(metric, "advanced_vs_baseline", None, baseline[metric],
                                         advanced[metric], rule, report.test_size, language))
    for name, pipeline in pipelines.items():
        if "tta_accuracy" in pipeline.aggregate:
            findings.append(_finding("tta_accuracy", "tta_vs_plain", name, pipeline.aggregate["accuracy"],
                                     pipeline.aggregate["tta_accuracy"], TTA_RULE, report.test_size,
                                     language))
    return findings
