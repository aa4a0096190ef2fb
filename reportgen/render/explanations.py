"""The reading of the explanation checks: recorded numbers -> verdicts -> sentences, at render time.

The practice records numbers only (`explanations.json`: per-image pointing game and energy
in the object mask for each model, method and model-free baseline; the randomisation
cascade's Spearman rho per draw; deletion/insertion curves). Every threshold and every
test behind a sentence lives here, once:

- **Localisation.** A map "looks at the object" only when, on the same images, its energy
  in the object mask beats the better of two model-free maps (a centred Gaussian and a
  uniform map) by more than LOCALISATION_MARGIN: the lower end of the CONFIDENCE
  paired-bootstrap interval of the per-image differences clears that margin. The pointing
  game is reported against its better baseline with its interval too, but does not decide:
  on a large object the centre prior's peak always lands on it, and nothing can beat that.
  It "looks at the background" when even the upper end of the interval of its energy minus
  the object's area (the uniform map's energy) is below zero. Otherwise the page says it
  cannot tell the map from a model-free one.
- **Randomisation** (Adebayo et al., 2018). With every conv/dense layer re-initialised,
  a map passes when |rho| <= SANITY_MAX_RHO in every draw, fails when |rho| exceeds it in
  every draw (rho = -0.85 fails: the ranking still follows the image), and is unsettled
  when the draws fall on both sides. Constant maps have no ranking: counted and reported.
- **Models compared.** The two models' energies on the same images: a paired bootstrap
  interval of the difference; "more" only when it excludes zero.

Sentences are written in the page's language from `strings/<language>.yaml` (`explanations`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from reportgen.render import numbers
from reportgen.render.numbers import number, percent
from reportgen.render.strings import strings

LOCALISATION_MARGIN = 0.05  # 5 points over the better model-free map, in pointing game and in energy
CONFIDENCE = 0.95  # two-sided level of every interval on the page
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0  # the same numbers always give the same interval, so the page never flickers
SANITY_MAX_RHO = 0.5  # |rho| above this with every layer random: the map barely depends on the weights
LOCALISATION_METRICS = ("pointing_game", "energy_in_mask")


# ------------------------------------------------------------------------- tests

@dataclass(frozen=True)
class Interval:
    """A mean difference over images and its paired-bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    images: int


@functools.lru_cache(maxsize=8)
def _resampled_indices(n: int) -> np.ndarray:
    """The bootstrap's draws of n images: seeded, so the same for every interval over n images."""
    indices = np.random.default_rng(BOOTSTRAP_SEED).integers(0, n, (BOOTSTRAP_RESAMPLES, n))
    indices.flags.writeable = False
    return indices


def paired_bootstrap(differences) -> Interval:
    """Percentile bootstrap of the mean of per-image paired differences (resampling images)."""
    differences = np.asarray(differences, dtype=float)
    means = differences[_resampled_indices(len(differences))].mean(axis=1)
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(differences.mean()), float(low), float(high), len(differences))


@dataclass(frozen=True)
class Localisation:
    """Where one model's maps of one method look, against the better model-free map per metric."""

    model: str
    method: str
    scores: dict  # metric -> the map's mean over images
    baseline: dict  # metric -> (name of the better model-free map, its mean)
    gains: dict  # metric -> Interval of (map - better baseline) per image
    over_uniform: Interval  # energy minus the object's area, per image
    verdict: str  # on_object | background | inconclusive


def localisation_verdict(gains: dict[str, Interval], over_uniform: Interval) -> str:
    if gains["energy_in_mask"].low > LOCALISATION_MARGIN:
        return "on_object"
    if over_uniform.high < 0:
        return "background"
    return "inconclusive"


def localisation(model: str, method: str, per_image: dict, baselines: dict) -> Localisation:
    """The verdict for one model and method from per-image scores and the baselines' scores."""
    scores, baseline, gains = {}, {}, {}
    for metric in LOCALISATION_METRICS:
        values = np.asarray(per_image[metric], dtype=float)
        best = max(baselines, key=lambda name: np.mean(baselines[name][metric]))
        reference = np.asarray(baselines[best][metric], dtype=float)
        scores[metric] = float(values.mean())
        baseline[metric] = (best, float(reference.mean()))
        gains[metric] = paired_bootstrap(values - reference)
    area = np.asarray(baselines["uniform"]["energy_in_mask"], dtype=float)
    over_uniform = paired_bootstrap(np.asarray(per_image["energy_in_mask"], dtype=float) - area)
    return Localisation(model, method, scores, baseline, gains, over_uniform,
                        localisation_verdict(gains, over_uniform))


@dataclass(frozen=True)
class Randomisation:
    """The cascade's last step (every conv/dense layer random) for one model and method."""

    model: str
    method: str
    rho: list  # mean rho per draw (None where every map was constant)
    constant: int  # image pairs with a constant map, over all draws
    pairs: int  # image pairs compared, over all draws
    verdict: str  # pass | fail | unsettled | unchecked

    @property
    def measured(self) -> np.ndarray:
        return np.array([value for value in self.rho if value is not None], dtype=float)

    @property
    def mean(self) -> float | None:
        return float(self.measured.mean()) if len(self.measured) else None

    @property
    def spread(self) -> float | None:
        return float(self.measured.std(ddof=1)) if len(self.measured) > 1 else None


def sanity_verdict(rho_per_draw) -> str:
    """pass / fail / unsettled from |rho| of every draw; unchecked when no draw had a ranking."""
    magnitudes = np.abs([value for value in rho_per_draw if value is not None])
    if not len(magnitudes):
        return "unchecked"
    if magnitudes.max() <= SANITY_MAX_RHO:
        return "pass"
    if magnitudes.min() > SANITY_MAX_RHO:
        return "fail"
    return "unsettled"


def randomisation(model: str, method: str, recorded: dict, images: int) -> Randomisation:
    rho = [draw[-1] for draw in recorded["rho"]]
    constant = int(sum(draw[-1] for draw in recorded["constant"]))
    return Randomisation(model, method, rho, constant, images * len(rho), sanity_verdict(rho))


def model_difference(first: dict, second: dict) -> Interval:
    """Paired interval of (first - second) energy in the mask on the same images."""
    return paired_bootstrap(np.asarray(first["energy_in_mask"], dtype=float)
                            - np.asarray(second["energy_in_mask"], dtype=float))


# --------------------------------------------------------------------- sentences

def interval_text(found: Interval, language: str, between: tuple[float, float] | None = None) -> str:
    """A paired difference in points with its interval. `between`: the two shares (map, reference)
    the sentence shows beside it, whose difference as shown it quotes (48,3 % and 35,2 %: 13,1 points)."""
    words = strings(language)["explanations"]
    mean = found.mean if between is None else numbers.shown_difference("energy_in_mask", *between)
    low, high = numbers.distinct(100 * found.low, 100 * found.high, language, 1)
    return words["interval"].format(mean=number(100 * mean, language), low=low, high=high,
                                    level=f"{100 * CONFIDENCE:.0f}")


def localisation_sentence(found: Localisation, language: str, shortcut: float = 0.0) -> str:
    words = strings(language)["explanations"]
    baseline = {metric: words["baselines"][name] for metric, (name, _) in found.baseline.items()}
    text = words["localisation"][found.verdict].format(
        model=words["models"].get(found.model, found.model),
        method=words["methods"].get(found.method, found.method),
        energy=percent(found.scores["energy_in_mask"], language),
        pointing=percent(found.scores["pointing_game"], language),
        energy_baseline=baseline["energy_in_mask"],
        energy_reference=percent(found.baseline["energy_in_mask"][1], language),
        pointing_baseline=baseline["pointing_game"],
        pointing_reference=percent(found.baseline["pointing_game"][1], language),
        energy_gain=interval_text(found.gains["energy_in_mask"], language,
                                  (found.scores["energy_in_mask"], found.baseline["energy_in_mask"][1])),
        pointing_gain=interval_text(found.gains["pointing_game"], language,
                                    (found.scores["pointing_game"], found.baseline["pointing_game"][1])),
        over_uniform=interval_text(found.over_uniform, language, (found.scores["energy_in_mask"],
                                   found.scores["energy_in_mask"] - found.over_uniform.mean)),
        area=percent(found.scores["energy_in_mask"] - found.over_uniform.mean, language),
        margin=number(100 * LOCALISATION_MARGIN, language, 0),
        images=found.gains["energy_in_mask"].images)
    if shortcut:
        text += " " + words["shortcut"][found.verdict].format(shortcut=number(shortcut, language, 2))
    return text


def comparison_sentence(first: str, second: str, found: Interval, language: str,
                        shares: tuple[float, float] | None = None) -> str:
    """Two models' energy on the object compared; `shares`: the two means the table shows (first, second)."""
    words = strings(language)["explanations"]
    better, worse = (first, second) if found.mean >= 0 else (second, first)
    kind = "different" if found.low > 0 or found.high < 0 else "similar"
    if found.mean < 0:
        found = Interval(-found.mean, -found.high, -found.low, found.images)
        shares = shares[::-1] if shares else None
    return words["comparison"][kind].format(
        better=words["models"].get(better, better), worse=words["models"].get(worse, worse),
        difference=interval_text(found, language, shares))


def randomisation_sentence(found: Randomisation, language: str) -> str:
    words = strings(language)["explanations"]
    measured = found.measured
    return words["randomisation"][found.verdict].format(
        model=words["models"].get(found.model, found.model),
        method=words["methods"].get(found.method, found.method),
        rho=number(found.mean, language, 2) if found.mean is not None else "—",
        spread=number(found.spread, language, 2) if found.spread is not None else "—",
        low=number(measured.min(), language, 2) if len(measured) else "—",
        high=number(measured.max(), language, 2) if len(measured) else "—",
        draws=len(found.rho), limit=number(SANITY_MAX_RHO, language, 1))


def constant_sentence(found: Randomisation, language: str) -> str:
    words = strings(language)["explanations"]
    return words["constant_maps"].format(model=words["models"].get(found.model, found.model),
                                         method=words["methods"].get(found.method, found.method),
                                         constant=found.constant, pairs=found.pairs)


# ------------------------------------------------------------------------- view

@dataclass(frozen=True)
class Sentence:
    kind: str  # the admonition it goes in: success, warning, failure, note
    text: str
    title: str = ""  # the admonition's title: what it reads
    figure: str | None = None  # the figure it qualifies (placed under it); None: beside the checks' table


SENTENCE_KINDS = {"on_object": "success", "background": "failure", "inconclusive": "warning",
                  "pass": "success", "fail": "failure", "unsettled": "warning", "unchecked": "warning"}


class ExplanationsView:
    """What the page shows about the explanation checks of one run, in the page's language."""

    def __init__(self, recorded: dict, language: str):
        self.recorded = recorded
        self.language = language
        self.words = strings(language)["explanations"]
        self.localisations = self._localisations()
        compared = recorded.get("randomisation_images", recorded["images"])
        self.randomisations = [randomisation(model, method, cascade, compared)
                               for model, methods in recorded.get("randomisation", {}).items()
                               for method, cascade in methods.items()]

    def _localisations(self) -> list[Localisation]:
        baselines = self.recorded.get("baselines")
        if not baselines:
            return []
        return [localisation(model, method, scores, baselines)
                for model, methods in self.recorded["checks"].items() for method, scores in methods.items()
                if "energy_in_mask" in scores]

    def localisation_of(self, model: str, method: str) -> Localisation | None:
        return next((found for found in self.localisations if (found.model, found.method) == (model, method)),
                    None)

    def randomisation_of(self, model: str, method: str) -> Randomisation | None:
        return next((found for found in self.randomisations if (found.model, found.method) == (model, method)),
                    None)

    @property
    def baseline_scores(self) -> dict[str, dict[str, float]]:
        """Mean pointing game and energy of each model-free map (table rows)."""
        return {name: {metric: float(np.mean(values)) for metric, values in scores.items()}
                for name, scores in (self.recorded.get("baselines") or {}).items()}

    @functools.cached_property
    def sentences(self) -> list[Sentence]:
        """Grad-CAM's localisation per model, the models compared, then the randomisation test."""
        found = []
        shortcut = self.recorded.get("shortcut") or 0.0
        gradcam = [item for item in self.localisations if item.method == "gradcam"]
        for item in gradcam:
            found.append(Sentence(SENTENCE_KINDS[item.verdict], localisation_sentence(item, self.language, shortcut),
                                  self._title("localisation", item)))
        if len(gradcam) == 2:
            first, second = gradcam
            scores = self.recorded["checks"]
            difference = model_difference(scores[first.model]["gradcam"], scores[second.model]["gradcam"])
            shares = tuple(float(np.mean(scores[item.model]["gradcam"]["energy_in_mask"])) for item in gradcam)
            found.append(Sentence("note", comparison_sentence(first.model, second.model, difference,
                                                              self.language, shares),
                                  self.words["titles"]["comparison"]))
        found += self._randomisation_sentences()
        return found

    def _title(self, key: str, item) -> str:
        return self.words["titles"][key].format(model=self.words["models"].get(item.model, item.model),
                                                method=self.words["methods"].get(item.method, item.method))

    def _randomisation_sentences(self) -> list[Sentence]:
        """A method that fails (or is unsettled) under the figure of that model's maps; the rest under
        the randomisation figure."""
        found = [Sentence(SENTENCE_KINDS[item.verdict], randomisation_sentence(item, self.language),
                          self._title("randomisation", item), f"methods_{item.model}")
                 for item in self.randomisations if item.verdict != "pass"]
        found += [Sentence("note", constant_sentence(item, self.language), self._title("constant", item),
                           "randomisation")
                  for item in self.randomisations if item.constant]
        passed = [item for item in self.randomisations if item.verdict == "pass"]
        if passed and len(passed) == len(self.randomisations):
            largest = max(float(np.abs(item.measured).max()) for item in passed)
            found.append(Sentence("success", self.words["randomisation"]["all_pass"].format(
                limit=number(SANITY_MAX_RHO, self.language, 1), draws=len(passed[0].rho),
                largest=number(largest, self.language, 2)), self.words["titles"]["all_pass"], "randomisation"))
        return found

    def placed(self, figure: str | None, shown: set[str] = frozenset()) -> list[Sentence]:
        """The sentences that go under `figure`; with None, those beside the checks' table: their own
        and those whose figure is not among the `shown` figures."""
        if figure is None:
            return [item for item in self.sentences if item.figure is None or item.figure not in shown]
        return [item for item in self.sentences if item.figure == figure]

    @staticmethod
    def mean(values) -> float | None:
        """Mean over images of a recorded per-image list (a single recorded number as it is)."""
        if values is None:
            return None
        return float(np.mean(values))

    @property
    def notes(self) -> list[str]:
        """The paragraphs under the tables: what each measure is and which test reads it."""
        notes, recorded, language = self.words["notes"], self.recorded, self.language
        baselines = recorded.get("baselines")
        found = [notes["masks"].format(
            images=recorded["images"], sigma=number(100 * recorded.get("centre_sigma", 0.0), language, 0),
            area=percent(self.mean(baselines["uniform"]["energy_in_mask"]), language),
            margin=number(100 * LOCALISATION_MARGIN, language, 0), level=f"{100 * CONFIDENCE:.0f}")
            if baselines else notes["no_masks"].format(images=recorded["images"]), notes["curves"]]
        if self.randomisations:
            found.append(notes["randomisation"].format(
                draws=len(self.randomisations[0].rho), limit=number(SANITY_MAX_RHO, language, 1),
                images=recorded.get("randomisation_images", recorded["images"])))
        gaps = recorded.get("ig_completeness") or {}
        if gaps:
            found.append(notes["completeness"].format(gaps=", ".join(
                f"{self.words['models'].get(model, model)} {percent(gap, language)}" for model, gap in gaps.items())))
        return found

    def caption(self, name: str) -> str:
        """Caption of an explanation figure in the page's language (methods_<model> names its model)."""
        captions = self.words["captions"]
        if name.startswith("methods_"):
            model = name.removeprefix("methods_")
            return captions["methods"].format(model=self.words["models"].get(model, model))
        substrates = self.recorded.get("substrates", {})
        return captions.get(name, "").format(
            blur=number(100 * substrates.get("blur_sigma", 0.0), self.language, 0),
            draws=self.recorded.get("randomisation_draws", 0))


def explanations_view(run) -> ExplanationsView | None:
    """The view of a run's explanation checks, or None when the run recorded none (Jinja global)."""
    recorded = run.facts.get("explanations")
    if not recorded or "checks" not in recorded or "images" not in recorded:
        return None
    return ExplanationsView(recorded, run.language)
