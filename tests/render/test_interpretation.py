"""The reading of the comparisons: one test behind every sentence, checked on simulated practices
(tests/verdict_simulation.py: false positives per reading and per page, coverage, power), on the
issue's reproduction, on crafted numbers with a known answer, and in words in both languages.

The simulations keep few draws so the file runs in seconds; each bound is the binomial spread of
that many draws around the target (benchmarks/bench_verdicts.py runs 1,000 per cell)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

import verdict_simulation as simulation
from reportgen.render import interpretation as rules


def most_false_positives(draws: int, rate: float = rules.ALPHA) -> int:
    """The most false positives a test that fires `rate` of the time shows in `draws` draws, but for
    one time in a thousand: above this, the test fires more often than `rate`."""
    return int(stats.binom.ppf(0.999, draws, rate))


def fewest_successes(draws: int, rate: float) -> int:
    return int(stats.binom.ppf(0.001, draws, rate))


# ------------------------------------------------------------ simulated practices

@pytest.mark.parametrize("seeds, images, seed_sd", [(2, 200, 0.1), (3, 500, 0.1), (3, 500, 0.4), (5, 500, 0.1)])
def test_on_equal_models_no_reading_excludes_zero_more_than_5_percent(seeds, images, seed_sd):
    """Every reading's own 95 % interval (before the page's correction), and no interval of zero width."""
    draws = 120
    world = simulation.World(seeds=seeds, images=images, seed_sd=seed_sd)
    found = simulation.measure(world, draws, np.random.default_rng(seeds * images))
    assert len(found["marginal"]) == 6  # 4 advanced-vs-baseline metrics, TTA on each pipeline
    for key, rate in found["marginal"].items():
        assert rate * draws <= most_false_positives(draws), (key, found["marginal"])
    pooled = sum(found["marginal"].values()) * draws  # 720 readings: a tighter bound on their average
    assert pooled <= most_false_positives(6 * draws), found["marginal"]
    assert found["narrowest"] > 0


def other_world(rng, seeds: int, n: int = 500, model_spread: float = 0.2) -> dict:
    """A second generative model of equal pipelines, unlike the simulation's: no image effect of a
    pipeline, a training offset per model drawn afresh (nothing shared by seed s), confidences
    from the true probability, TTA that redraws a fifth of the answers."""
    difficulty = {split: rng.normal(1.8, 1.5, size) for split, size in (("test", n), ("train", 1200), ("val", 300))}

    def answers(split, offset):
        p = 1 / (1 + np.exp(-(difficulty[split] + offset + rng.normal(0, 0.5, difficulty[split].size))))
        return p, (rng.random(p.size) < p).astype(float)

    models = {}
    for pipeline in ("baseline", "advanced"):
        models[pipeline] = {}
        for seed in range(seeds):
            offset = rng.normal(0, model_spread)
            p, correct = answers("test", offset)
            redraw = rng.random(n) < 0.2
            models[pipeline][str(seed)] = {
                "test_correct": correct, "test_confidence": p ** 0.8,
                "tta_correct": np.where(redraw, rng.random(n) < p, correct).astype(float),
                "perturbed_score": rng.binomial(18, 1 / (1 + np.exp(-(np.log(p / (1 - p)) - 1)))) / 18,
                "train_correct": answers("train", offset + 1)[1], "val_correct": answers("val", offset)[1]}
    return models


@pytest.mark.parametrize("seeds, model_spread", [(2, 0.2), (3, 0.02), (3, 0.2)])
def test_in_another_world_of_equal_models_no_reading_excludes_zero_more_than_5_percent(seeds, model_spread):
    draws = 100
    rng = np.random.default_rng(seeds)
    positives = {}
    for _ in range(draws):
        for r in rules.readings(other_world(rng, seeds, model_spread=model_spread)):
            key = (r.metric, r.pipeline)
            positives[key] = positives.get(key, 0) + bool(r.interval is not None and r.interval.excludes_zero())
    assert len(positives) == 6
    assert max(positives.values()) <= most_false_positives(draws), positives
    assert sum(positives.values()) <= most_false_positives(6 * draws), positives


def test_a_page_of_equal_models_rarely_reads_better_or_worse_anywhere():
    """The page as a whole, at the demo's 3 seeds x 500 images: any better/worse among its six readings."""
    draws = 200
    found = simulation.measure(simulation.World(seeds=3, images=500), draws, np.random.default_rng(11))
    assert found["page"] * draws <= most_false_positives(draws), found["verdicts"]


def test_the_accuracy_interval_covers_a_true_difference_and_finds_it():
    """Coverage of the headline interval and power, at the demo's size and a true +5 pp."""
    draws = 100
    world = simulation.World(seeds=3, images=500).with_accuracy_difference(0.05)
    found = simulation.measure(world, draws, np.random.default_rng(5))
    assert found["true_accuracy_difference"] == pytest.approx(0.05)
    assert found["coverage"] * draws >= fewest_successes(draws, 0.95)
    assert found["better"] * draws >= fewest_successes(draws, 0.70), found  # the old interval: 58 %
    assert found["mean_width"] < 0.10


def test_the_simulated_pipelines_answer_alike_as_the_demo_does():
    """The simulation's premise: correctness correlated about 0.6 between the pipelines (0.56 in the demo)."""
    models = simulation.draw(simulation.World(), np.random.default_rng(0))
    right = {p: np.concatenate([seed["test_correct"] for seed in models[p].values()]) for p in models}
    assert 0.45 < np.corrcoef(right["baseline"], right["advanced"])[0, 1] < 0.75


# ------------------------------------------------------------ the reproduction

def ties() -> dict:
    """500 images, two seeds; plain prediction right on images 0-399; TTA also right on images
    400 + 2s and 401 + 2s for seed s: both seeds' TTA gains tie at +0.4 pp."""
    models = {}
    for pipeline in ("baseline", "advanced"):
        models[pipeline] = {}
        for seed in (0, 1):
            plain = (np.arange(500) < 400).astype(float)
            tta = plain.copy()
            tta[[400 + 2 * seed, 401 + 2 * seed]] = 1
            models[pipeline][str(seed)] = {"test_correct": plain, "tta_correct": tta}
    return models


def test_tied_tta_gains_give_a_wide_interval_not_a_point():
    """Four changed answers of 1,000, all for the better: a sign test gives p = 0.125; the old
    interval was [0.4 pp, 0.4 pp] and read "Better"."""
    for reading in (r for r in rules.readings(ties()) if r.metric == "tta_accuracy"):
        interval = reading.interval
        assert reading.estimate.difference == pytest.approx(0.004)
        assert interval.low < 0 < interval.high and interval.high - interval.low > 0.004
        assert reading.verdict == "inconclusive" and reading.basis == "includes_zero"
        assert reading.p_value > rules.ALPHA
        text = rules.sentence(reading, "en")
        assert "Better" not in text and "Inconclusive: the interval includes zero." in text
        assert "No concluyente: el intervalo incluye el cero." in rules.sentence(reading, "es")


def test_identical_answers_give_no_interval():
    accuracy = rules.headline(rules.readings(ties()))  # the same plain answers on both pipelines
    assert accuracy.interval is None and accuracy.basis == "constant" and accuracy.verdict == "inconclusive"
    assert rules.sentence(accuracy, "en").endswith("(2 seeds × 500 images; no interval). Inconclusive: nothing "
                                                   "varies across seeds or images, so there is no spread to measure.")


# ------------------------------------------------------------ one seed

def test_one_seed_gives_no_interval_and_says_how_many_seeds_it_takes():
    models = simulation.draw(simulation.World(seeds=1), np.random.default_rng(0))
    for values in models["advanced"].values():
        values["test_correct"][:] = 1  # even a huge difference
    found = rules.readings(models)
    assert all(r.interval is None and r.verdict == "inconclusive" and r.basis == "one_seed" for r in found)
    accuracy = rules.headline(found)
    english, spanish = rules.sentence(accuracy, "en"), rules.sentence(accuracy, "es")
    assert "(1 seed × 500 images; no interval)" in english and "at least 3 seeds" in english
    assert "(1 semilla × 500 imágenes; sin intervalo)" in spanish and "al menos 3 semillas" in spanish
    assert "CI" not in english and "IC" not in spanish
    assert rules.needed(accuracy.estimate) == {"seeds": None, "images": None}


# ------------------------------------------------------------ known answers

def additive(per_seed_difference: list[float], image_effect: np.ndarray | None = None, n: int = 300) -> dict:
    """Perturbed scores whose paired difference is a seed effect plus an image effect, with no
    image-by-seed noise: the seed part is the per-seed differences' spread and nothing else."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.7, n)
    effect = np.zeros(n) if image_effect is None else image_effect
    return {"baseline": {str(s): {"perturbed_score": base} for s in range(len(per_seed_difference))},
            "advanced": {str(s): {"perturbed_score": base + d + effect} for s, d in enumerate(per_seed_difference)}}


@pytest.mark.parametrize("differences", [[0.02, 0.05, 0.03], [0.01, -0.02, 0.04, 0.03, 0.0]])
def test_with_seeds_alone_the_interval_is_the_paired_t_interval(differences):
    """The fiducial interval of a normal variance with k - 1 degrees of freedom is Student's."""
    reading = next(r for r in rules.readings(additive(differences)) if r.metric == "perturbed_accuracy")
    assert reading.estimate.image_parts[0].spread == pytest.approx(0, abs=1e-20)
    student = stats.ttest_1samp(differences, 0).confidence_interval()
    assert (reading.interval.low, reading.interval.high) == pytest.approx((student.low, student.high), rel=0.01)


def test_an_image_effect_fixed_across_seeds_widens_the_interval():
    """A new test set could hold more or fewer of the images one pipeline is better at."""
    differences = [0.02, 0.05, 0.03]
    effect = np.random.default_rng(2).normal(0, 0.3, 300)
    alone = next(r for r in rules.readings(additive(differences)) if r.metric == "perturbed_accuracy")
    widened = next(r for r in rules.readings(additive(differences, effect - effect.mean()))
                   if r.metric == "perturbed_accuracy")
    assert widened.estimate.difference == pytest.approx(alone.estimate.difference)
    assert widened.interval.low < alone.interval.low and widened.interval.high > alone.interval.high


def test_seed_s_of_one_pipeline_is_compared_with_seed_s_of_the_other():
    """A training offset shared by seed s of both pipelines cancels: the per-seed differences are
    steady though the seeds' accuracies are not."""
    models = simulation.draw(simulation.World(seeds=3, images=500, seed_sd=0.0), np.random.default_rng(3))
    for seed, shift in zip("012", (-60, 0, 60)):  # the same images right or wrong on both sides
        for pipeline in models:
            answers = models[pipeline][seed]["test_correct"]
            answers[:abs(shift)] = 1.0 if shift > 0 else 0.0
    paired = rules.headline(rules.readings(models))
    unpaired = rules.reading("accuracy", "advanced_vs_baseline", None,
                             *[[np.array([v["test_correct"] for v in models[p].values()])] for p in ("advanced", "baseline")],
                             paired=False)
    assert len(paired.estimate.seed_parts) == 1 and len(unpaired.estimate.seed_parts) == 2
    assert paired.interval.high - paired.interval.low < (unpaired.interval.high - unpaired.interval.low) / 2


def test_a_pipeline_that_lost_a_seed_is_compared_side_by_side():
    models = simulation.draw(simulation.World(seeds=3), np.random.default_rng(4))
    del models["advanced"]["1"]
    accuracy = rules.headline(rules.readings(models))
    assert accuracy.seeds == 2 and len(accuracy.estimate.seed_parts) == 2
    assert accuracy.interval.high > accuracy.interval.low


def test_the_ece_of_each_seed_is_the_practice_s():
    """The ECE behind the reading matches reportgen.practice's equal-width bins on hand-made numbers."""
    correct = np.array([1, 0, 1, 1, 0, 1, 1, 1.0])
    confidence = np.array([0.95, 0.9, 0.62, 0.55, 0.3, 0.81, 0.99, 0.7])
    edges = np.linspace(0, 1, rules.CALIBRATION_BINS + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, rules.CALIBRATION_BINS - 1)
    expected = sum(abs(correct[bins == b].sum() - confidence[bins == b].sum()) for b in set(bins)) / len(correct)
    assert rules.ece(correct, confidence) == pytest.approx(expected)


# ------------------------------------------------------------ the page as one family

def judged(p_values: list[float], primary: float | None = 0.001) -> list[rules.Reading]:
    """Readings of a clear improvement, whose p-values are then set by hand (the first is the primary)."""
    models = simulation.draw(simulation.World(seeds=3).with_accuracy_difference(0.1), np.random.default_rng(0))
    template = rules.headline(rules.readings(models))
    found = [] if primary is None else [replace(template, p_value=primary)]
    found += [replace(template, metric="perturbed_accuracy", primary=False, p_value=p) for p in p_values]
    return rules.judge(found)


def test_the_other_readings_are_corrected_together_by_holm():
    assert [r.verdict for r in judged([0.01, 0.02, 0.04])[1:]] == ["better"] * 3  # 0.01 <= .05/3, .02 <= .05/2, .04 <= .05
    reordered = judged([0.02, 0.01, 0.04])[1:]
    assert [r.verdict for r in judged([0.02, 0.03, 0.04])[1:]] == ["inconclusive"] * 3  # 0.02 > .05/3: Holm stops
    assert [r.verdict for r in reordered] == ["better"] * 3  # the order of the readings does not matter
    partial = judged([0.001, 0.03, 0.04])[1:]
    assert [r.verdict for r in partial] == ["better", "inconclusive", "inconclusive"]
    assert [r.basis for r in partial] == ["excludes_zero", "corrected", "corrected"]
    text = rules.sentence(partial[1], "en")
    assert "Holm" in text and "not the 97.5% interval" in text  # the second smallest of three, at 0.05 / 2
    assert "Holm" in rules.sentence(partial[1], "es") and "97,5 %" in rules.sentence(partial[1], "es")


def test_the_other_readings_wait_for_the_headline_reading():
    gated = judged([0.0001, 0.2], primary=0.3)
    assert [r.verdict for r in gated] == ["inconclusive"] * 3
    assert [r.basis for r in gated] == ["includes_zero", "gated", "includes_zero"]
    assert "headline" in rules.sentence(gated[1], "en") and "principal" in rules.sentence(gated[1], "es")
    assert [r.verdict for r in judged([0.0001], primary=None)] == ["better"]  # no headline reading: Holm alone


def test_the_headline_reading_is_exposed_for_the_result_box():
    class Run:
        language = "en"
        facts = {"per_image": {"models": simulation.draw(simulation.World(), np.random.default_rng(1))}}
    words = rules.page_words(Run())
    assert sum(item["primary"] for item in words["comparisons"]) == 1
    head = words["headline"]
    assert head["primary"] and head["metric"] == "accuracy" and head["comparison"] == "advanced_vs_baseline"
    assert head["reading"].level == rules.LEVEL and head["verdict"] == head["reading"].verdict
    assert "Holm" in words["method"] and "5%" in words["method"]


# ------------------------------------------------------------ words

def rotating(right_in_seeds: int, seeds: int = 3, n: int = 100) -> dict:
    """Seed s gets image i right when (i + s) % seeds < right_in_seeds."""
    return {str(s): {"test_correct": ((np.arange(n) + s) % seeds < right_in_seeds).astype(float)}
            for s in range(seeds)}


@pytest.mark.parametrize("language, template", [
    ("en", "Test accuracy went from 33.3% to 66.7%: +33.4 pp (95% CI [{low} pp, {high} pp]; 3 seeds × 100 "
           "images). Better: the interval excludes zero, so the advanced pipeline improves it."),
    ("es", "La accuracy de test pasó de 33,3 % a 66,7 %: +33,4 pp (IC 95 % [{low} pp; {high} pp]; 3 semillas × "
           "100 imágenes). Mejora: el intervalo excluye el cero, así que con el pipeline avanzado el resultado es mejor."),
])
def test_a_clear_improvement_reads_better_with_its_interval(language, template):
    accuracy = rules.readings({"baseline": rotating(1), "advanced": rotating(2)})[0]
    i = accuracy.interval
    assert 0 < i.low < 1 / 3 < i.high
    low, high = (f"{100 * x:.1f}".replace(".", "," if language == "es" else ".") for x in (i.low, i.high))
    assert rules.sentence(accuracy, language) == template.format(low=low, high=high)


def crafted(baseline_correct: list[int], advanced_correct: list[int], n: int = 100) -> dict:
    """Per seed, the first `count` test images right."""
    def model(count):
        return {"test_correct": (np.arange(n) < count).astype(float)}
    return {"baseline": {str(s): model(c) for s, c in enumerate(baseline_correct)},
            "advanced": {str(s): model(c) for s, c in enumerate(advanced_correct)}}


def test_a_drop_reads_worse():
    accuracy = rules.readings(crafted([80, 79, 83], [60, 62, 61]))[0]
    assert accuracy.verdict == "worse"
    assert "Worse" in rules.sentence(accuracy, "en") and "Empeora" in rules.sentence(accuracy, "es")


def test_a_small_difference_is_inconclusive_and_says_what_would_settle_it():
    accuracy = rules.readings(crafted([60, 64, 62], [62, 66, 63]))[0]
    assert accuracy.verdict == "inconclusive"
    text = rules.sentence(accuracy, "en")
    assert "Inconclusive: the interval includes zero." in text
    more = rules.needed(accuracy.estimate)
    assert more["seeds"] > 3 and f"about {more['seeds']} seeds (there are 3)" in text
    assert "No concluyente" in rules.sentence(accuracy, "es")


def alone(reading: rules.Reading) -> rules.Reading:
    """The reading judged on its own at 5 %, as a page with only it would."""
    return rules.judge([replace(reading, primary=False)])[0]


def test_lower_is_better_for_the_gap_and_the_ece():
    n = 100
    gap_models = crafted([90, 90, 90], [90, 90, 90], n=n)
    for pipeline, train_right in (("baseline", [99, 98, 100]), ("advanced", [90, 91, 89])):
        for seed, values in gap_models[pipeline].items():
            values["train_correct"] = (np.arange(n) < train_right[int(seed)]).astype(float)
            values["val_correct"] = values["test_correct"]
    gap = alone(next(r for r in rules.readings(gap_models) if r.metric == "train_val_gap"))
    assert gap.estimate.difference < 0 and gap.verdict == "better"  # the advanced gap shrank
    assert rules.sentence(gap, "en").startswith("The train − validation accuracy gap (train measured on the clean "
                                                 "images) went from 9.0% to 0.0%: −9.0 pp (95% CI [")
    assert rules.sentence(gap, "es").startswith("La brecha de accuracy train − validación (train medida en las "
                                                 "imágenes limpias) pasó de 9,0 % a 0,0 %: −9,0 pp (IC 95 % [")
    assert "Mejora" in rules.sentence(gap, "es")

    ece_models = crafted([70, 70, 70], [70, 70, 70], n=n)
    for pipeline, confidence in (("baseline", [0.99, 0.98, 0.97]), ("advanced", [0.70, 0.71, 0.69])):
        for seed, values in ece_models[pipeline].items():
            values["test_confidence"] = np.full(n, confidence[int(seed)])
    ece = alone(next(r for r in rules.readings(ece_models) if r.metric == "ece"))
    assert ece.before == pytest.approx(0.28) and ece.verdict == "better"
    # The ECE reads as the results table writes it (a fraction, three decimals), not as a percentage.
    assert "The expected calibration error (ECE) went from 0.280 to 0.007: −0.273 (95% CI [−0." in rules.sentence(ece, "en")
    assert "El error de calibración esperado (ECE) pasó de 0,280 a 0,007: −0,273 (IC 95 % [−0," in rules.sentence(ece, "es")


def test_tta_compares_each_model_with_itself():
    models = crafted([600, 620, 610], [700, 720, 710], n=1000)
    for pipeline in models.values():
        for values in pipeline.values():
            values["tta_correct"] = (np.arange(1000) < 500).astype(float)
    found = rules.readings(models)
    assert rules.headline(found).verdict == "better"  # the headline is conclusive: TTA is judged (Holm)
    tta = {r.pipeline: r for r in found if r.metric == "tta_accuracy"}
    assert tta["baseline"].verdict == tta["advanced"].verdict == "worse"
    assert "the test accuracy of the advanced model went from 71.0% to 50.0%: −21.0 pp" in rules.sentence(tta["advanced"], "en")
    spanish = rules.sentence(tta["advanced"], "es")
    assert "la accuracy de test del modelo avanzado pasó de 71,0 % a 50,0 %: −21,0 pp" in spanish
    assert "Empeora: el intervalo excluye el cero, así que con el test-time augmentation el resultado es peor." in spanish


def test_a_run_without_per_image_numbers_has_no_readings():
    class Run:
        facts, language = {}, "es"
    assert rules.comparisons(Run()) == []
