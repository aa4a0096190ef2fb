"""The page's reading of the comparisons, computed at render time from the recorded numbers.

Every comparative sentence (advanced pipeline against the baseline, a model with test-time
augmentation against without) rests on one test, defined here and nowhere else. Its interval
adds two variance parts and uses Student's t with Welch-Satterthwaite degrees of freedom:

- the seeds: Welch over the per-seed values of the two pipelines (k seeds each, k - 1 degrees of
  freedom each); TTA against plain is the same model, so its per-seed differences are paired;
- the test images: the spread over images of the seed-averaged per-image difference, minus the
  part of it the seed spread already counts (what remains is which images were drawn; N - 1
  degrees of freedom). The ECE is not a mean over images and has only the seed part.

A verdict is "better" or "worse" only when the 95 % interval excludes zero, otherwise
"inconclusive", with the seeds or test images the same difference would need. With one seed the
training noise is unmeasured: "inconclusive" always, the interval covering the images only.
`tests/test_interpretation.py` simulates the false-positive rate at the demo's seeds and images.

Only numpy and scipy: rendering needs no ML library.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from reportgen.render.numbers import general, percent, points
from reportgen.render.strings import strings

LEVEL = 0.95
MIN_SEEDS = 3  # what the page asks for when one seed leaves the training noise unmeasured
MAX_SEEDS = 50  # beyond this, "needs more seeds" is not advice anyone can follow
MAX_IMAGES_FACTOR = 20  # likewise for test images, as a multiple of the current test size
CALIBRATION_BINS = 15  # as reportgen.practice.evaluation.CALIBRATION_BINS

# metric -> True when higher is better; the order is the page's order.
COMPARED = {"accuracy": True, "perturbed_accuracy": True, "ece": False, "train_val_gap": False}
# The per-image arrays each metric is made of (per_image.json keys); two splits make a gap, +first -second.
INPUTS = {"accuracy": ["test_correct"], "perturbed_accuracy": ["perturbed_score"],
          "train_val_gap": ["train_correct", "val_correct"], "ece": ["test_correct", "test_confidence"],
          "tta_accuracy": ["tta_correct"]}


# ------------------------------------------------------------------ the test

def satterthwaite(parts: list[tuple[float, float]]) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of variances [(variance, degrees of freedom)]."""
    total = sum(v for v, _ in parts)
    denominator = sum(v * v / d for v, d in parts if v > 0 and d > 0)
    return total * total / denominator if denominator > 0 else np.inf


@dataclass
class Interval:
    """A difference with its 95 % interval: Student's t with `df` degrees of freedom."""

    difference: float
    variance: float
    df: float
    low: float = field(init=False)
    high: float = field(init=False)

    def __post_init__(self):
        half = stats.t.ppf(0.5 + LEVEL / 2, self.df) * np.sqrt(self.variance) if self.variance > 0 else 0.0
        self.low, self.high = self.difference - half, self.difference + half

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def ece(correct: np.ndarray, confidence: np.ndarray, bins: int = CALIBRATION_BINS) -> np.ndarray:
    """Expected calibration error of each row of (..., N) arrays (equal-width bins, as in evaluation)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_of = np.digitize(confidence, edges[1:-1], right=True)
    rows = bin_of.reshape(-1, bin_of.shape[-1])
    offset = (rows + bins * np.arange(len(rows))[:, None]).ravel()
    size = len(rows) * bins
    gap = np.bincount(offset, correct.reshape(-1), size) - np.bincount(offset, confidence.reshape(-1), size)
    return (np.abs(gap).reshape(len(rows), bins).sum(axis=1) / bin_of.shape[-1]).reshape(bin_of.shape[:-1])


def seed_values(metric: str, side: list[np.ndarray]) -> np.ndarray:
    """One pipeline's metric per seed from its INPUTS arrays (seeds x images each)."""
    if metric == "ece":
        return ece(*side)
    return sum(sign * split.mean(axis=1) for split, sign in zip(side, (1, -1)))


@dataclass
class Estimate:
    """A difference and the variance parts of its interval, kept to ask what more seeds would give."""

    difference: float
    seed_parts: list[tuple[float, int]]  # (variance of one seed's value, seeds); empty with one seed
    image_parts: list[tuple[float, int]]  # (variance of one image's value, images)

    def interval(self, seeds_factor: float = 1.0, images_factor: float = 1.0) -> Interval:
        """The interval now, or with `seeds_factor` times the seeds and `images_factor` times the images
        (the seed spread is taken to shrink with the images too: it is mostly which images each model misses)."""
        seeds = [(v / (k * seeds_factor * images_factor), k * seeds_factor - 1) for v, k in self.seed_parts]
        images = [(v / (n * images_factor), n * images_factor - 1) for v, n in self.image_parts]
        # The image parts add variance but no degrees of freedom when the seeds measured the
        # training noise: crediting them would shrink t below what k seeds support.
        df = satterthwaite(seeds) if seeds else satterthwaite(images)
        return Interval(self.difference, sum(v for v, _ in seeds + images), df)

    @property
    def measured_training_noise(self) -> bool:
        return bool(self.seed_parts)


def estimate(metric: str, after: list[np.ndarray], before: list[np.ndarray], paired: bool) -> Estimate:
    """The difference after - before (seeds x images arrays per INPUTS) and its variance parts.

    `paired`: the same model on both sides (TTA against plain), so the seeds pair up.
    """
    a, b = seed_values(metric, after), seed_values(metric, before)
    difference = float(a.mean() - b.mean())
    if paired:
        seed_parts = [(float((a - b).var(ddof=1)), len(a))] if len(a) > 1 else []
    else:
        seed_parts = [(float(v.var(ddof=1)), len(v)) for v in (a, b)] if min(len(a), len(b)) > 1 else []
    image_parts = [] if metric == "ece" else [
        _image_part(x, y, paired, corrected=bool(seed_parts)) for x, y in zip(after, before)]
    return Estimate(difference, seed_parts, image_parts)


def _image_part(after: np.ndarray, before: np.ndarray, paired: bool, corrected: bool) -> tuple[float, int]:
    """Variance over images of the seed-averaged per-image difference; `corrected` removes the
    within-image spread over seeds, which the seed part already counts."""
    per_image = after.mean(axis=0) - before.mean(axis=0)
    variance = per_image.var(ddof=1)
    if corrected:
        if paired:
            within = (after - before).var(axis=0, ddof=1).mean() / len(after)
        else:
            within = after.var(axis=0, ddof=1).mean() / len(after) + before.var(axis=0, ddof=1).mean() / len(before)
        variance = max(variance - within, 0.0)
    return float(variance), per_image.size


def decide(found: Estimate, higher_is_better: bool) -> str:
    """better / worse when the interval excludes zero and the seeds measured the training noise."""
    result = found.interval()
    if not found.measured_training_noise or not result.excludes_zero():
        return "inconclusive"
    return "better" if (result.difference > 0) == higher_is_better else "worse"


def needed(found: Estimate) -> dict:
    """Seeds (images fixed) and test images (seeds fixed) with which the same difference would hold.

    A rough guide: it takes the observed difference and spreads as the true ones. None where
    MAX_SEEDS seeds / MAX_IMAGES_FACTOR times the images would not do (or one seed measured nothing).
    """
    if not found.measured_training_noise:
        return {"seeds": None, "images": None}
    k = max(count for _, count in found.seed_parts)
    n = found.image_parts[0][1] if found.image_parts else None
    seeds = next((k2 for k2 in range(k + 1, MAX_SEEDS + 1)
                  if found.interval(seeds_factor=k2 / k).excludes_zero()), None)
    images = None
    if n:
        factor = next((f for f in np.arange(1.25, MAX_IMAGES_FACTOR + 0.01, 0.25)
                       if found.interval(images_factor=f).excludes_zero()), None)
        images = None if factor is None else int(np.ceil(n * factor / 10) * 10)
    return {"seeds": seeds, "images": images}


# ------------------------------------------------------------------ readings

@dataclass
class Reading:
    """One comparison with its estimate and verdict, without words."""

    metric: str
    comparison: str  # advanced_vs_baseline | tta_vs_plain
    pipeline: str | None  # the model TTA was applied to; None for advanced_vs_baseline
    before: float  # baseline, or the model without TTA (mean over its seeds)
    after: float
    estimate: Estimate
    seeds: int  # fewest seeds on a side
    images: int
    verdict: str  # better | worse | inconclusive

    @property
    def interval(self) -> Interval:
        return self.estimate.interval()


def decode(values) -> np.ndarray:
    """A per-image array as recorded: "0110…" answers, "0.91 0.88 …" fractions, or a plain list."""
    if isinstance(values, str):
        if " " in values or "." in values:
            return np.array(values.split(), dtype=float)
        return np.frombuffer(values.encode("ascii"), dtype=np.uint8) - ord("0")
    return np.asarray(values, dtype=float)


def _arrays(models: dict, pipeline: str, key: str) -> np.ndarray | None:
    """seeds x items array of one per-image key for one pipeline (None when a seed lacks it)."""
    rows = [values.get(key) for values in models.get(pipeline, {}).values()]
    if not rows or any(row is None for row in rows):
        return None
    return np.asarray([decode(row) for row in rows], dtype=float)


def _side(models: dict, pipeline: str, metric: str) -> list[np.ndarray] | None:
    arrays = [_arrays(models, pipeline, key) for key in INPUTS[metric]]
    return None if any(a is None for a in arrays) else arrays


def reading(metric: str, comparison: str, pipeline: str | None, after: list, before: list,
            higher_is_better: bool = True) -> Reading:
    """Compare two sides (INPUTS arrays, seeds x images) of one metric."""
    paired = comparison == "tta_vs_plain"
    found = estimate(metric, after, before, paired)
    return Reading(metric, comparison, pipeline, float(seed_values(metric, before).mean()),
                   float(seed_values(metric, after).mean()), found,
                   min(len(after[0]), len(before[0])), before[0].shape[1], decide(found, higher_is_better))


def readings(models: dict) -> list[Reading]:
    """Every comparison the recorded per-image numbers allow: advanced vs baseline, then TTA per model.

    `models` maps pipeline -> seed -> per-image arrays (the practice's per_image.json): over the
    test images test_correct, test_confidence, tta_correct, perturbed_score; over the training
    and validation images train_correct, val_correct. Each pipeline counts the seeds it finished.
    """
    found = []
    for metric, higher in COMPARED.items():
        after, before = _side(models, "advanced", metric), _side(models, "baseline", metric)
        if after is not None and before is not None:
            found.append(reading(metric, "advanced_vs_baseline", None, after, before, higher))
    for pipeline in ("baseline", "advanced"):
        tta, plain = _side(models, pipeline, "tta_accuracy"), _side(models, pipeline, "accuracy")
        if tta is not None and plain is not None:
            found.append(reading("tta_accuracy", "tta_vs_plain", pipeline, tta, plain))
    return found


# ------------------------------------------------------------------ words

def sentence(reading: Reading, language: str) -> str:
    """The reading in words: values, difference, 95 % interval, verdict (and what would settle it)."""
    words = strings(language)["verdicts"]
    pipeline = words["pipelines"].get(reading.pipeline, reading.pipeline or "")
    subject = words["metrics"][reading.metric].format(pipeline=pipeline)
    i = reading.interval
    text = words["sentence"].format(
        subject=subject, before=percent(reading.before, language), after=percent(reading.after, language),
        difference=points(i.difference, language, sign=True), low=points(i.low, language),
        high=points(i.high, language), images=reading.images,
        seeds=words["seed_count"]["one" if reading.seeds == 1 else "many"].format(seeds=reading.seeds))
    if not reading.estimate.measured_training_noise:  # inconclusive whatever the interval says
        return text + " " + words["one_seed_verdict"] + " " + words["one_seed"].format(seeds=MIN_SEEDS)
    actor = words["actors"][reading.comparison]
    text += " " + words["verdict"][reading.verdict].format(actor=actor)
    if reading.verdict == "inconclusive":
        text += " " + _needed_text(reading, words)
    return text


def _needed_text(reading: Reading, words: dict) -> str:
    more = needed(reading.estimate)
    seeds, images = more["seeds"], more["images"]
    if seeds is None and images is None:
        return words["needed_none"].format(seeds=MAX_SEEDS)
    parts = []
    if seeds is not None:
        parts.append(words["needed_seeds"].format(seeds=seeds, have=reading.seeds))
    if images is not None:
        parts.append(words["needed_images"].format(images=images, have=reading.images))
    return words["needed"].format(what=words["or"].join(parts))


def comparisons(run, language: str | None = None) -> list[dict]:
    """The run's readings as {metric, comparison, pipeline, verdict, sentence} in the page's language."""
    per_image = run.facts.get("per_image")
    if not per_image:
        return []
    language = language or run.language
    return [{"metric": r.metric, "comparison": r.comparison, "pipeline": r.pipeline, "verdict": r.verdict,
             "sentence": sentence(r, language), "reading": r} for r in readings(per_image["models"])]


def divergences(run, language: str) -> list[dict]:
    """The seeds that diverged (protocol.json), each with its sentence."""
    words = strings(language)["verdicts"]
    found = (run.facts.get("protocol") or {}).get("diverged", [])
    return [{**d, "sentence": words["diverged"].format(
        seed=d["seed"], pipeline=words["pipelines"].get(d["pipeline"], d["pipeline"]), epoch=d["epoch"],
        lr=general(d["learning_rate"], language))} for d in found]


def macro_note(run, language: str) -> str:
    """Which classes the macro averages cover (those with test images), and how many are absent."""
    metrics = run.facts.get("metrics") or {}
    if "classes_present" not in metrics:
        return ""
    words = strings(language)["verdicts"]
    note = words["macro"].format(present=metrics["classes_present"])
    if metrics["classes_absent"]:
        note += " " + words["macro_absent"].format(absent=metrics["classes_absent"])
    return note


def reflection_prompts(language: str, found: list[dict], diverged: list[dict]) -> list[str]:
    """Questions for the reflection made of the run's own numbers: accuracy, gap, robustness, divergence."""
    words = strings(language)["verdicts"]
    prompts = []
    keys = {"accuracy": "accuracy", "train_val_gap": "gap", "perturbed_accuracy": "perturbed"}
    for item in found:
        if item["comparison"] != "advanced_vs_baseline" or item["metric"] not in keys:
            continue
        i = item["reading"].interval
        prompts.append(words["reflection"][keys[item["metric"]]].format(
            difference=points(i.difference, language, sign=True), low=points(i.low, language),
            high=points(i.high, language), verdict=words["reflection"]["verdict"][item["verdict"]]))
    for d in diverged:
        prompts.append(words["reflection"]["diverged"].format(
            seed=d["seed"], pipeline=words["pipelines"].get(d["pipeline"], d["pipeline"]), epoch=d["epoch"]))
    return prompts


def page_words(run) -> dict:
    """Jinja global `verdicts(run)`: every sentence the results sections need, in the page's language."""
    language = run.language
    found = comparisons(run, language)
    diverged = divergences(run, language)
    words = strings(language)["verdicts"]
    return {"comparisons": found, "method": words["method"], "macro": macro_note(run, language),
            "diverged": diverged, "gap_note": words["train_accuracy_note"],
            "prompts": reflection_prompts(language, found, diverged), "protocol": protocol_rows(run, language)}


# ------------------------------------------------------------------ protocol

def _value(key: str, settings: dict, words: dict, language: str) -> str:
    value = settings[key]
    if key == "image_size":
        return f"{value} px"
    if key == "optimizer" and settings.get("momentum"):
        return f"{value} ({words['momentum']} {general(settings['momentum'], language)})"
    if key == "schedule":
        return words.get(value, value)
    if key == "fine_tune_epochs":
        return (f"{value} {words['epochs']}, {settings['fine_tune_layers']} {words['layers']}, "
                f"lr {general(settings['fine_tune_learning_rate'], language)}") if value else words["none"]
    if key == "early_stopping_patience":
        return f"{words['patience']} {value}" if value else words["none"]
    if key == "seeds":
        return ", ".join(map(str, value))
    if key == "mixed_precision":
        return "mixed_float16" if value else "float32"
    if key == "jit_compile":
        return words["yes"] if value else words["none"]
    return general(value, language) if isinstance(value, float) else str(value)


def protocol_rows(run, language: str) -> list[tuple[str, str]]:
    """(setting, value) rows of the one training protocol both pipelines share (protocol.json)."""
    settings = (run.facts.get("protocol") or {}).get("settings")
    if not settings:
        return []
    words = strings(language)["verdicts"]["protocol"]
    return [(label, _value(key, settings, words, language)) for key, label in words["labels"].items() if key in settings]
