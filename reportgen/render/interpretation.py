"""The page's reading of the comparisons, computed at render time from the recorded numbers.

Every comparative sentence (advanced pipeline against the baseline, a model with test-time
augmentation against without) rests on one test, defined here and nowhere else.

What an interval covers: the difference that a new draw of training seeds and of test images
would give, both at once. Seed s of both pipelines starts from the same weights and data order,
and every model answers the same test images, so a difference is a table of per-image
differences, seeds x images, read as crossed random effects (a two-way ANOVA):

- the seeds: the spread of the per-seed differences (k - 1 degrees of freedom), never taken
  below the image-by-seed noise that every seed's value carries (the table's residual mean
  square, from all its cells): so it never collapses to zero when answers changed;
- the images: the spread over images of the seed-averaged difference, less that same noise
  (which test images were drawn);
- a variance made of a few changed answers among many identical ones is heavy-tailed and gets
  the degrees of freedom of those few, not of all the images (its kurtosis says how many);
- the interval is a generalized (fiducial) one: each part's variance is drawn from what its own
  degrees of freedom allow (k - 1 for the seeds: two or three seeds cannot rule out a large
  training noise), and the interval is where a normal error with such a variance stays 95 % of
  the time. It does not lend the images' degrees of freedom to two or three seeds, as
  Welch-Satterthwaite pooling does (which fires on equal models up to 12 % of the time at two
  seeds when the seeds vary much more than the image-by-seed noise).

When the pipelines' seeds differ (one diverged), each side's seeds give its own seed part, as in
Welch's test. The ECE is not a mean over images: its image part comes from jackknife pseudo-values.

The page as a whole: test accuracy, advanced against baseline, is the primary reading, judged at
5 %; the others are judged only when it is conclusive, and then with Holm's correction among
themselves (serial gatekeeping). On a page with no real difference a false better/worse then
appears at most 5 % of the time, not once per reading. One seed gives no interval (the training
noise is unmeasured): the page says how many seeds it takes.

`tests/render/test_interpretation.py` and `benchmarks/bench_verdicts.py` simulate the false positives,
the coverage and the power. Only numpy and scipy: rendering needs no ML library.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

# SciPy is imported where a comparison is computed, not here: a page without one (a notebook of
# one's own) then never pays its import, about a second on two cores.

from reportgen.render import numbers
from reportgen.render.numbers import general, percent
from reportgen.render.strings import strings

LEVEL = 0.95
ALPHA = 1 - LEVEL  # the page's false-positive rate on equal models
MIN_SEEDS = 3  # what the page asks for when one seed leaves the training noise unmeasured
MAX_SEEDS = 50  # beyond this, "needs more seeds" is not advice anyone can follow
MAX_IMAGES_FACTOR = 20  # likewise for test images, as a multiple of the current test size
CALIBRATION_BINS = 15  # as reportgen.practice.evaluation.CALIBRATION_BINS
DRAWS = 2048  # fiducial draws of each variance (scrambled Sobol points)

# metric -> True when higher is better; the order is the page's order.
COMPARED = {"accuracy": True, "perturbed_accuracy": True, "ece": False, "train_val_gap": False}
PRIMARY = ("accuracy", "advanced_vs_baseline")  # the headline reading (metric, comparison)
# The per-image arrays each metric is made of (per_image.json keys); two splits make a gap, +first -second.
INPUTS = {"accuracy": ["test_correct"], "perturbed_accuracy": ["perturbed_score"],
          "train_val_gap": ["train_correct", "val_correct"], "ece": ["test_correct", "test_confidence"],
          "tta_accuracy": ["tta_correct"]}


# ------------------------------------------------------------------ per-image values

def ece(correct: np.ndarray, confidence: np.ndarray, bins: int = CALIBRATION_BINS) -> np.ndarray:
    """Expected calibration error of each row of (..., N) arrays (equal-width bins, as in evaluation)."""
    return _calibration_gaps(correct, confidence, bins)[0]


def _calibration_gaps(correct: np.ndarray, confidence: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The ECE of each row and its jackknife pseudo-values per image, n ECE - (n - 1) ECE without
    image i: |the image's bin gap| - |that gap without the image|."""
    correct, confidence = np.asarray(correct, dtype=float), np.asarray(confidence, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_of = np.digitize(confidence, edges[1:-1], right=True)
    rows = bin_of.reshape(-1, bin_of.shape[-1])
    offset = rows + bins * np.arange(len(rows))[:, None]
    own = (correct - confidence).reshape(rows.shape)
    gaps = np.bincount(offset.ravel(), own.ravel(), len(rows) * bins)  # sum of (correct - confidence) per bin
    total = np.abs(gaps).reshape(len(rows), bins).sum(axis=1) / rows.shape[1]
    pseudo = np.abs(gaps[offset]) - np.abs(gaps[offset] - own)
    return total.reshape(bin_of.shape[:-1]), pseudo.reshape(bin_of.shape)


def seed_values(metric: str, side: list[np.ndarray]) -> np.ndarray:
    """One pipeline's metric per seed from its INPUTS arrays (seeds x images each)."""
    if metric == "ece":
        return ece(*side)
    return sum(sign * split.mean(axis=1) for split, sign in zip(side, (1, -1)))


def pseudo_values(metric: str, side: list[np.ndarray]) -> list[np.ndarray]:
    """Per split, seeds x images values whose image mean is the split's part of the metric (the
    answers themselves for a mean, the jackknife pseudo-values for the ECE); the gap's validation
    split comes negated, so the parts add up."""
    if metric == "ece":
        return [_calibration_gaps(*side, CALIBRATION_BINS)[1]]
    return [sign * split for split, sign in zip(side, (1, -1))]


# ------------------------------------------------------------------ the test

def satterthwaite(parts: list[tuple[float, float]]) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of variances [(variance, degrees of freedom)]."""
    total = sum(v for v, _ in parts)
    denominator = sum(v * v / d for v, d in parts if v > 0 and d > 0)
    return total * total / denominator if denominator > 0 else np.inf


def spread_df(values: np.ndarray, df: float) -> float:
    """Degrees of freedom of a variance estimated from `values`: `df` for normal values, fewer when
    they are heavy-tailed (a variance estimate's own variance is sigma^4 (2/df + (kurtosis - 3)/n)),
    as when a few answers changed among many identical ones."""
    centred = np.ravel(values) - np.mean(values)
    second = np.mean(centred ** 2)
    if second == 0 or df <= 0:
        return max(df, 1.0)
    excess = np.mean(centred ** 4) / second ** 2 - 3
    return float(min(df, 2 / (2 / df + max(excess, 0.0) / centred.size))) if excess > 0 else float(df)


def cell_noise(values: np.ndarray) -> tuple[float, float]:
    """Image-by-seed noise of a seeds x images table (its two-way residual mean square) and its
    degrees of freedom: how much one answer to an image depends on the seed alone."""
    seeds, images = values.shape
    residual = values - values.mean(axis=1, keepdims=True) - values.mean(axis=0) + values.mean()
    df = (seeds - 1) * (images - 1)
    return float((residual ** 2).sum() / df), spread_df(residual, df)


@dataclass(frozen=True)
class SeedPart:
    """Training noise of one side (or of the per-seed paired differences): the variance over its
    seeds of their values, and its floor, the image-by-seed noise each seed's value carries."""

    seeds: int
    spread: float
    floor: float
    floor_df: float = np.inf  # fewer when few answers differ (heavy tails)

    def draws(self, points: tuple[int, int], seeds: int | None = None, images_factor: float = 1.0) -> np.ndarray:
        """Fiducial draws (at quasi-random `points`: dimensions, first column) of the variance of the
        mean over `seeds` seeds, with `images_factor` times the images, which shrink only the floor:
        what one seed's value varies by is the observed spread x (k - 1) / chi2 with k - 1 degrees of
        freedom, never below the floor, itself drawn as floor x df / chi2 with its own degrees of freedom."""
        dimensions, column = points
        floor = self.floor if self.floor_df > 1e5 else self.floor * self.floor_df / _chi2(dimensions, column + 1, self.floor_df)
        per_seed = np.maximum(self.spread * (self.seeds - 1) / _chi2(dimensions, column, self.seeds - 1), floor)
        return (per_seed - floor + floor / images_factor) / (seeds or self.seeds)


@dataclass(frozen=True)
class ImagePart:
    """Which test images were drawn (one split): the spread over images of the seed-averaged
    per-image difference, less the image-by-seed noise in it (what stays when the seeds change)."""

    images: int
    spread: float
    noise: float
    df: float

    def draws(self, points: tuple[int, int], images_factor: float = 1.0) -> np.ndarray:
        """Fiducial draws of the variance of the mean over images: the estimate x df / chi2."""
        variance = max(self.spread - self.noise, 0.0) / (self.images * images_factor)
        if variance == 0 or self.df > 1e5:
            return np.full(DRAWS, variance)
        return variance * self.df / _chi2(*points, self.df)


@dataclass(frozen=True)
class Interval:
    """A difference with its interval at `level`."""

    difference: float
    low: float
    high: float
    level: float = LEVEL

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class Estimate:
    """A difference and the variance parts of its interval, kept to ask what more seeds or images would give."""

    difference: float
    seed_parts: tuple[SeedPart, ...]  # one per side (advanced vs baseline, unpaired), or of the paired differences
    image_parts: tuple[ImagePart, ...] = ()  # one per split: test, or train and validation for the gap

    @property
    def seeds(self) -> int:
        return min(p.seeds for p in self.seed_parts)

    @property
    def measured_training_noise(self) -> bool:
        return self.seeds > 1

    def variances(self, seeds: int | None = None, images_factor: float = 1.0) -> np.ndarray:
        """Fiducial draws of the difference's variance (every part's draws added up), now or with
        `seeds` seeds per side and `images_factor` times the images, the parts taken as the true ones."""
        if seeds is None and images_factor == 1.0:
            return self._variances_now
        return self._variances(seeds, images_factor)

    @functools.cached_property
    def _variances_now(self) -> np.ndarray:
        return self._variances(None, 1.0)

    def _variances(self, seeds: int | None, images_factor: float) -> np.ndarray:
        dimensions = 2 * len(self.seed_parts) + len(self.image_parts)
        found = [p.draws((dimensions, 2 * j), seeds, images_factor) for j, p in enumerate(self.seed_parts)]
        found += [p.draws((dimensions, 2 * len(self.seed_parts) + j), images_factor) for j, p in enumerate(self.image_parts)]
        return sum(found)

    def p_value(self, seeds: int | None = None, images_factor: float = 1.0) -> float:
        """Generalized two-sided p-value of no difference: the normal tail of the difference, averaged
        over the variance's fiducial draws (1 with one seed, or when nothing varies)."""
        if not self.measured_training_noise:
            return 1.0
        variances = self.variances(seeds, images_factor)
        if not variances.any():
            return 1.0
        from scipy import special

        return float(np.mean(2 * special.ndtr(-abs(self.difference) / np.sqrt(variances))))

    @functools.cached_property
    def own_interval(self) -> Interval | None:
        """The interval at LEVEL, computed once."""
        return self.interval(LEVEL)

    def interval(self, level: float = LEVEL) -> Interval | None:
        """The differences whose generalized p-value exceeds 1 - level: the difference +- the half-width
        a normal error, its variance drawn from the fiducial draws, exceeds with probability 1 - level.
        None with one seed, or when nothing varies."""
        if not self.measured_training_noise:
            return None
        variances = self.variances()
        if not variances.any():
            return None
        from scipy import optimize, special, stats

        sd = np.sqrt(variances)
        beyond = lambda half: np.mean(2 * special.ndtr(-half / sd)) - (1 - level)
        half = optimize.brentq(beyond, 0.0, stats.norm.isf((1 - level) / 2) * sd.max(), xtol=1e-12)
        return Interval(self.difference, self.difference - half, self.difference + half, level)


@functools.lru_cache(maxsize=512)
def _chi2(dimensions: int, column: int, df: float) -> np.ndarray:
    """Quantiles of chi2 with `df` degrees of freedom at one column of the quasi-random points."""
    from scipy import special

    return special.chdtri(df, 1 - _uniform(dimensions)[:, column])


@functools.cache
def _uniform(parts: int, draws: int = DRAWS) -> np.ndarray:
    """The same quasi-random points for every page (scrambled Sobol, fixed seed): a page reads the same every time."""
    from scipy.stats import qmc

    return np.clip(qmc.Sobol(parts, seed=2024).random(draws), 1e-12, 1 - 1e-12)


def estimate(metric: str, after: list[np.ndarray], before: list[np.ndarray], paired: bool) -> Estimate:
    """The difference after - before (INPUTS arrays, seeds x images, the same images on both sides)
    and its variance parts.

    `paired`: row s is seed s on both sides (the same model for TTA against plain; the same initial
    weights and data order for the two pipelines), so the training noise is that of the per-seed
    differences. Otherwise (a pipeline lost a seed) each side's seeds give its own seed part.
    """
    a, b = seed_values(metric, after), seed_values(metric, before)
    difference = float(a.mean() - b.mean())
    after_values, before_values = pseudo_values(metric, after), pseudo_values(metric, before)
    if paired:
        sides, per_seed = [[x - y for x, y in zip(after_values, before_values)]], [a - b]
    else:
        sides, per_seed = [after_values, before_values], [a, b]
    if min(len(values) for values in per_seed) < 2:
        return Estimate(difference, tuple(SeedPart(len(values), 0.0, 0.0) for values in per_seed))
    noise = [[cell_noise(split) for split in side] for side in sides]  # side -> split -> (variance, df)
    seed_parts = tuple(SeedPart(len(values), float(values.var(ddof=1)),
                                sum(v / split.shape[1] for (v, _), split in zip(side_noise, side)),
                                satterthwaite([(v / split.shape[1], df) for (v, df), split in zip(side_noise, side)]))
                       for values, side, side_noise in zip(per_seed, sides, noise))
    image_parts = []
    for j, (x, y) in enumerate(zip(after_values, before_values)):
        per_image = x.mean(axis=0) - y.mean(axis=0)
        within = sum(side_noise[j][0] / len(side[j]) for side, side_noise in zip(sides, noise))
        df = min([spread_df(per_image, per_image.size - 1)] + [side_noise[j][1] for side_noise in noise])
        image_parts.append(ImagePart(per_image.size, float(per_image.var(ddof=1)), within, df))
    return Estimate(difference, seed_parts, tuple(image_parts))


def needed(found: Estimate, alpha: float = ALPHA) -> dict:
    """Seeds per side (images fixed) and test images (seeds fixed) with which the same difference
    would be told from zero at `alpha`.

    A rough guide: it takes the observed difference and variance parts as the true ones. None
    where MAX_SEEDS seeds / MAX_IMAGES_FACTOR times the images would not do (or one seed measured nothing).
    """
    if found.interval() is None:
        return {"seeds": None, "images": None}
    seeds = _first(list(range(found.seeds + 1, MAX_SEEDS + 1)), lambda more: found.p_value(seeds=more) <= alpha)
    factor = _first(list(np.arange(1.25, MAX_IMAGES_FACTOR + 0.01, 0.25)),
                    lambda f: found.p_value(images_factor=f) <= alpha)
    n = found.image_parts[0].images if found.image_parts else None
    return {"seeds": seeds, "images": None if factor is None or not n else int(np.ceil(n * factor / 10) * 10)}


def _first(candidates: list, holds) -> object | None:
    """The first candidate for which `holds` is true, by bisection (it holds from some point on: more
    seeds or images only narrow the interval); None if it holds for none."""
    low, high = 0, len(candidates)
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if holds(candidates[middle]) else (middle + 1, high)
    return candidates[low] if low < len(candidates) else None


# ------------------------------------------------------------------ readings

@dataclass(frozen=True)
class Reading:
    """One comparison with its estimate and verdict, without words.

    `basis` says why the verdict is what it is: excludes_zero (better / worse), includes_zero,
    corrected (its own 95 % interval excludes zero, not the wider one Holm's correction asks),
    gated (its own interval excludes zero, but the primary reading is inconclusive), one_seed,
    constant (nothing varies across seeds and images: no spread to measure).
    """

    metric: str
    comparison: str  # advanced_vs_baseline | tta_vs_plain
    pipeline: str | None  # the model TTA was applied to; None for advanced_vs_baseline
    before: float  # baseline, or the model without TTA (mean over its seeds)
    after: float
    estimate: Estimate
    seeds: int  # fewest seeds on a side
    images: int
    higher_is_better: bool = True
    primary: bool = False  # the headline reading, judged at 5 % on its own
    verdict: str = "inconclusive"  # better | worse | inconclusive
    basis: str = "includes_zero"
    p_value: float = 1.0  # two-sided, of no difference, for this reading alone
    level: float = LEVEL  # the confidence its verdict was judged at (Holm's, for the other readings)

    @property
    def interval(self) -> Interval | None:
        """Its own 95 % interval; None with one seed, or when nothing varies."""
        return self.estimate.own_interval

    def direction(self) -> str:
        return "better" if (self.estimate.difference > 0) == self.higher_is_better else "worse"


def decode(values) -> np.ndarray:
    """A per-image array as recorded: "0110…" answers, "0.91 0.88 …" fractions, or a plain list."""
    if isinstance(values, str):
        if " " in values or "." in values:
            return np.array(values.split(), dtype=float)
        return (np.frombuffer(values.encode("ascii"), dtype=np.uint8) - ord("0")).astype(float)
    return np.asarray(values, dtype=float)


def _side(models: dict, pipeline: str, metric: str, seeds: list[str]) -> list[np.ndarray] | None:
    """seeds x items arrays of one metric's INPUTS for one pipeline (None when a seed lacks one)."""
    rows = [[models[pipeline][seed].get(key) for seed in seeds] for key in INPUTS[metric]]
    if not seeds or any(value is None for row in rows for value in row):
        return None
    return [np.asarray([decode(value) for value in row], dtype=float) for row in rows]


def reading(metric: str, comparison: str, pipeline: str | None, after: list, before: list,
            higher_is_better: bool = True, paired: bool | None = None) -> Reading:
    """Compare two sides (INPUTS arrays, seeds x images) of one metric, judged on its own at 5 %.
    `paired` (default: TTA, or as many seeds on both sides) says row s is seed s on both sides."""
    if paired is None:
        paired = comparison == "tta_vs_plain" or len(after[0]) == len(before[0])
    found = estimate(metric, after, before, paired)
    result = Reading(metric, comparison, pipeline, float(seed_values(metric, before).mean()),
                     float(seed_values(metric, after).mean()), found, found.seeds, before[0].shape[1],
                     higher_is_better, primary=(metric, comparison) == PRIMARY, p_value=found.p_value())
    return _judged(result, ALPHA)


def _judged(found: Reading, alpha: float) -> Reading:
    """The reading's verdict at `alpha`: better / worse when its p-value is at most `alpha`
    (its interval at 1 - alpha excludes zero)."""
    if not found.estimate.measured_training_noise:
        return replace(found, verdict="inconclusive", basis="one_seed", level=1 - alpha)
    if found.interval is None:
        return replace(found, verdict="inconclusive", basis="constant", level=1 - alpha)
    if found.p_value <= alpha:
        return replace(found, verdict=found.direction(), basis="excludes_zero", level=1 - alpha)
    basis = "corrected" if found.p_value <= ALPHA else "includes_zero"
    return replace(found, verdict="inconclusive", basis=basis, level=1 - alpha)


def judge(found: list[Reading], alpha: float = ALPHA) -> list[Reading]:
    """The page's verdicts: the primary reading at `alpha`; the others only when it is conclusive
    (or absent), Holm-corrected among themselves at `alpha`. On equal models the page then shows a
    false better/worse at most `alpha` of the time, whatever the readings' correlation (a closed
    test: the primary one first, then Holm)."""
    head = next((_judged(r, alpha) for r in found if r.primary), None)
    others = [r for r in found if not r.primary]
    if head is not None and head.verdict == "inconclusive":
        others = [_gated(r, alpha) for r in others]
    else:
        others = holm(others, alpha)
    rest = iter(others)
    return [head if r.primary else next(rest) for r in found]


def _gated(found: Reading, alpha: float) -> Reading:
    """A secondary reading while the primary is inconclusive: never better/worse, and it says so
    when its own interval excludes zero."""
    own = _judged(found, alpha)
    return replace(own, verdict="inconclusive", basis="gated") if own.basis == "excludes_zero" else own


def holm(found: list[Reading], alpha: float = ALPHA) -> list[Reading]:
    """Holm's step-down: the i-th smallest of m p-values is judged at alpha / (m - i + 1), and every
    one after the first that fails is inconclusive."""
    judged, failed = {}, False
    for rank, i in enumerate(sorted(range(len(found)), key=lambda i: found[i].p_value)):
        level = alpha / (len(found) - rank)
        failed = failed or found[i].p_value > level
        own = _judged(found[i], level)
        judged[i] = replace(own, verdict="inconclusive", basis="corrected") if failed and own.basis == "excludes_zero" else own
    return [judged[i] for i in range(len(found))]


def readings(models: dict, alpha: float = ALPHA) -> list[Reading]:
    """Every comparison the recorded per-image numbers allow, judged as one page: advanced vs
    baseline (test accuracy first, the primary reading), then TTA per model.

    `models` maps pipeline -> seed -> per-image arrays (the practice's per_image.json): over the
    test images test_correct, test_confidence, tta_correct, perturbed_score; over the training
    and validation images train_correct, val_correct. Each pipeline counts the seeds it finished;
    when both finished the same seeds, seed s of one is compared with seed s of the other.
    `alpha` is the page's false-positive rate on equal models.
    """
    found = []
    seeds = {pipeline: list(models.get(pipeline, {})) for pipeline in ("baseline", "advanced")}
    if set(seeds["advanced"]) == set(seeds["baseline"]):
        seeds["advanced"] = seeds["baseline"]  # the same order: row s is seed s on both sides
    for metric, higher in COMPARED.items():
        after = _side(models, "advanced", metric, seeds["advanced"])
        before = _side(models, "baseline", metric, seeds["baseline"])
        if after is not None and before is not None:
            paired = seeds["advanced"] == seeds["baseline"]
            found.append(reading(metric, "advanced_vs_baseline", None, after, before, higher, paired))
    for pipeline in ("baseline", "advanced"):
        tta = _side(models, pipeline, "tta_accuracy", seeds[pipeline])
        plain = _side(models, pipeline, "accuracy", seeds[pipeline])
        if tta is not None and plain is not None:
            found.append(reading("tta_accuracy", "tta_vs_plain", pipeline, tta, plain))
    return judge(found, alpha)


def headline(found: list[Reading]) -> Reading | None:
    """The primary reading (test accuracy, advanced vs baseline) of a page, if it has one."""
    return next((r for r in found if r.primary), None)


# ------------------------------------------------------------------ words

def sentence(reading: Reading, language: str) -> str:
    """The reading in words: values, difference, 95 % interval, verdict (and what would settle it)."""
    values, lead, extra = sentence_parts(reading, language)
    verdict = strings(language)["verdicts"]["verdict"][reading.verdict].format(
        actor=strings(language)["verdicts"]["actors"][reading.comparison]) if lead else ""
    return " ".join(part for part in (values, verdict, extra) if part)


def sentence_parts(reading: Reading, language: str) -> tuple[str, str, str]:
    """The reading's sentence in three parts, so a table of readings can say once what a verdict
    means: the values with their interval; the verdict's word ("No concluyente."), empty where the
    reading has its own reason; what follows (that reason, or what would settle it)."""
    words = strings(language)["verdicts"]
    pipeline = words["pipelines"].get(reading.pipeline, reading.pipeline or "")
    fields = {"subject": words["metrics"][reading.metric].format(pipeline=pipeline), **shown(reading, language),
              "images": reading.images,
              "seeds": words["seed_count"]["one" if reading.seeds == 1 else "many"].format(seeds=reading.seeds)}
    if reading.interval is None:  # one seed, or nothing varies: no interval, and why
        text = words["sentence_no_interval"].format(**fields)
        if reading.basis == "one_seed":
            return text, "", words["one_seed"].format(seeds=MIN_SEEDS)
        return text, "", words["constant"]
    text = words["sentence"].format(**fields)
    if reading.basis == "corrected":
        return text, "", words["corrected"].format(level=percent(reading.level, language))
    if reading.basis == "gated":
        return text, "", words["gated"]
    extra = _needed_text(reading, words) if reading.verdict == "inconclusive" else ""
    return text, words["verdict_word"][reading.verdict], extra


def shown(reading: Reading, language: str) -> dict[str, str]:
    """The reading's numbers as the page writes them, in the metric's one form (numbers.QUANTITIES):
    before, after, their difference as the reader computes it from those two, and the interval."""
    fields = {"before": numbers.value(reading.metric, reading.before, language),
              "after": numbers.value(reading.metric, reading.after, language),
              "difference": numbers.difference(reading.metric, reading.after, reading.before, language)}
    if reading.interval is not None:
        fields["low"], fields["high"] = numbers.bounds(reading.metric, reading.interval.low, reading.interval.high,
                                                       language)
    return fields


def recorded_means(run, found: Reading) -> Reading:
    """The reading with the means the results table shows (metrics.json's aggregate over seeds), so a
    sentence and the table beside it quote one value; the per-image arrays give the same numbers up to
    their recorded rounding (a confidence kept to a few digits), which could flip a shown digit."""
    def mean(pipeline, metric):
        found = run.facts
        for key in ("metrics", "pipelines", pipeline, "aggregate", metric, "mean"):
            found = found.get(key) if isinstance(found, dict) else None
        return found if isinstance(found, (int, float)) and not isinstance(found, bool) else None

    if found.comparison == "tta_vs_plain":
        before, after = mean(found.pipeline, "accuracy"), mean(found.pipeline, "tta_accuracy")
    else:
        before, after = mean("baseline", found.metric), mean("advanced", found.metric)
    if before is None or after is None:
        return found
    return replace(found, before=float(before), after=float(after))


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
    """The run's readings as {metric, comparison, pipeline, verdict, primary, sentence, reading, and the
    sentence's parts: values, lead, extra} in the page's language; `primary` marks the headline
    reading (test accuracy, advanced vs baseline)."""
    per_image = run.facts.get("per_image")
    if not per_image:
        return []
    language = language or run.language
    found = []
    for r in (recorded_means(run, r) for r in readings(per_image["models"])):
        values, lead, extra = sentence_parts(r, language)
        found.append({"metric": r.metric, "comparison": r.comparison, "pipeline": r.pipeline, "verdict": r.verdict,
                      "primary": r.primary, "sentence": sentence(r, language), "reading": r,
                      "values": values, "lead": lead, "extra": extra})
    return found


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
        if item["reading"].interval is None:  # one seed: no interval to ask about
            continue
        prompts.append(words["reflection"][keys[item["metric"]]].format(
            **shown(item["reading"], language), verdict=words["reflection"]["verdict"][item["verdict"]]))
    for d in diverged:
        prompts.append(words["reflection"]["diverged"].format(
            seed=d["seed"], pipeline=words["pipelines"].get(d["pipeline"], d["pipeline"]), epoch=d["epoch"]))
    return prompts


def page_words(run) -> dict:
    """Jinja global `verdicts(run)`: every sentence the results sections need, in the page's language;
    `headline` is the primary comparison (its verdict judged at 5 % on its own), for the page's result box."""
    language = run.language
    found = comparisons(run, language)
    diverged = divergences(run, language)
    words = strings(language)["verdicts"]
    head = next((item for item in found if item["reading"].primary), None)
    return {"comparisons": found, "headline": head, "method": words["method"], "legend": words["legend"],
            "macro": macro_note(run, language),
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
