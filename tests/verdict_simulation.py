"""A simulated practice for the page's verdicts: pipelines, seeds and test images as the practice
records them, drawn from a generative model of our own (shared by tests/render/test_interpretation.py
and benchmarks/bench_verdicts.py).

Each model's answer to an image is right with probability sigmoid(logit), where the logit adds
- a difficulty per image, shared by both pipelines (what makes their answers correlate, ~0.6);
- an effect per pipeline and image, fixed across seeds (what each pipeline learns to see);
- a training offset per pipeline and seed, part of it shared by seed s of both pipelines
  (same initial weights and data order);
- noise per model and image.
TTA re-answers with a logit that shares nearly all of those parts (a few answers change, as in
the demo); perturbations score 18 distorted copies; confidences are over-confident by a factor
that varies per model; train and validation images have their own difficulties, the train
logits an over-fitting bonus. With `advantage = 0` both pipelines are equal in distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize
from scipy.special import expit

from reportgen.render import interpretation as rules

PERTURBATIONS = 18


@dataclass(frozen=True)
class World:
    seeds: int = 3
    images: int = 500
    difficulty_mean: float = 4.0  # logit; with the spreads below, accuracy ~0.80
    difficulty_sd: float = 4.3
    image_effect_sd: float = 0.9
    seed_sd: float = 0.1  # the training offset of one model
    seed_shared: float = 0.5  # share of its variance common to seed s of both pipelines
    noise_sd: float = 0.5
    tta_share: float = 0.99  # correlation of the TTA logit's own parts with the plain ones
    overconfidence: float = 1.4
    advantage: float = 0.0  # added to the advanced pipeline's test logits
    tta_advantage: float = 0.0  # added to every model's TTA logits

    def latent_sd(self) -> float:
        return float(np.sqrt(self.difficulty_sd ** 2 + self.image_effect_sd ** 2 + self.seed_sd ** 2
                             + self.noise_sd ** 2))

    def true_accuracy_difference(self) -> float:
        """Advanced minus baseline test accuracy over all seeds and images (Gauss-Hermite)."""
        x, w = np.polynomial.hermite_e.hermegauss(120)
        logit = self.difficulty_mean + self.latent_sd() * x
        return float((w / w.sum()) @ (expit(logit + self.advantage) - expit(logit)))

    def with_accuracy_difference(self, target: float) -> World:
        """The same world with the advanced pipeline `target` more accurate (e.g. 0.05 = +5 pp)."""
        gap = lambda shift: replace(self, advantage=shift).true_accuracy_difference() - target
        return replace(self, advantage=optimize.brentq(gap, -10, 10))


def draw(world: World, rng: np.random.Generator) -> dict:
    """One practice's per_image.json `models`: pipeline -> seed -> per-image arrays."""
    n = world.images
    sizes = {"test": n, "train": int(2.4 * n), "val": int(0.6 * n)}  # the demo's proportions
    difficulty = {split: rng.normal(world.difficulty_mean, world.difficulty_sd, size) for split, size in sizes.items()}
    shared_offset = rng.normal(size=world.seeds)
    models = {}
    for pipeline in ("baseline", "advanced"):
        effect = {split: rng.normal(0, world.image_effect_sd, size) for split, size in sizes.items()}
        tta_effect = rng.normal(0, world.image_effect_sd, n)
        robustness = rng.normal(0, 0.5, n)
        shift = world.advantage if pipeline == "advanced" else 0.0
        models[pipeline] = {}
        for seed in range(world.seeds):
            offset = world.seed_sd * (np.sqrt(world.seed_shared) * shared_offset[seed]
                                      + np.sqrt(1 - world.seed_shared) * rng.normal())
            noise, tta_noise = rng.normal(0, world.noise_sd, (2, n))
            logit = difficulty["test"] + effect["test"] + offset + noise + shift
            r = world.tta_share
            tta_logit = (difficulty["test"] + r * effect["test"] + np.sqrt(1 - r * r) * tta_effect + offset
                         + r * noise + np.sqrt(1 - r * r) * tta_noise + shift + world.tta_advantage)
            luck = rng.random(n)  # the same draw decides both answers: TTA changes only a few
            temperature = world.overconfidence * np.exp(rng.normal(0, 0.1))
            seen = logit + rng.normal(0, 0.3, n)

            def answers(split, bonus=0.0):
                z = difficulty[split] + effect[split] + offset + bonus + rng.normal(0, world.noise_sd, sizes[split])
                return (rng.random(sizes[split]) < expit(z)).astype(float)

            models[pipeline][str(seed)] = {
                "test_correct": (luck < expit(logit)).astype(float),
                "test_confidence": expit(temperature * np.abs(seen)),
                "tta_correct": (luck < expit(tta_logit)).astype(float),
                "perturbed_score": rng.binomial(PERTURBATIONS, expit(logit - 1.5 + robustness)) / PERTURBATIONS,
                "train_correct": answers("train", bonus=1.5), "val_correct": answers("val")}
    return models


def key(reading) -> str:
    return reading.metric if reading.pipeline is None else f"{reading.metric}/{reading.pipeline}"


def measure(world: World, draws: int, rng: np.random.Generator) -> dict:
    """Over `draws` simulated pages: per reading, how often its own 95 % interval excludes zero
    (`marginal`) and how often the page calls it better/worse (`verdicts`); how often a page
    calls anything better/worse (`page`); for test accuracy, how often the interval covers the
    true difference, reads "better", and its mean width; and the narrowest interval seen."""
    truth = world.true_accuracy_difference()
    marginal, verdicts = {}, {}
    page = covered = better = 0
    widths, narrowest = [], np.inf
    for _ in range(draws):
        found = rules.readings(draw(world, rng))
        page += any(r.verdict != "inconclusive" for r in found)
        for r in found:
            interval = r.interval
            marginal[key(r)] = marginal.get(key(r), 0) + bool(interval is not None and interval.excludes_zero())
            verdicts[key(r)] = verdicts.get(key(r), 0) + (r.verdict != "inconclusive")
            if interval is not None:
                narrowest = min(narrowest, interval.high - interval.low)
        head = rules.headline(found)
        if head.interval is not None:
            covered += head.interval.low <= truth <= head.interval.high
            widths.append(head.interval.high - head.interval.low)
        better += head.verdict == "better"
    return {"seeds": world.seeds, "images": world.images, "seed_sd": world.seed_sd, "draws": draws,
            "true_accuracy_difference": truth,
            "marginal": {k: v / draws for k, v in marginal.items()},
            "verdicts": {k: v / draws for k, v in verdicts.items()},
            "page": page / draws, "coverage": covered / draws, "better": better / draws,
            "mean_width": float(np.mean(widths)) if widths else None, "narrowest": float(narrowest)}
