"""The result box: what a reviewer reads first, at the top of a run page and on its home card.

One box per run, computed here from what the page already reads and rendered by the templates as
a Material admonition:

- **a practice run**: the headline reading (test accuracy, advanced against baseline, judged at 5 %
  by `interpretation.headline`) in one sentence with its interval and verdict; the chance level
  (1 / classes), naming a model whose accuracy is not above it (a one-sided binomial test over the
  test images); and the main caveats (an explanation method that fails the randomisation check, a
  Grad-CAM map that looks at the background, a seed that diverged);
- **a notebook of one's own** (executed here or imported): the headline metrics it recorded or glued;
- **a failed run**: that it failed, at which cell and with which error, and where the last good
  results are (their own box's sentence follows when there are any).

Every word comes from the strings' `summary:` table. Strings from the notebook (an error, a metric's
name) stay apart from the words (`error`, `metrics`), so the template escapes them with its filters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from reportgen.render import elsewhere, evidence, interpretation, numbers
from reportgen.render.explanations import explanations_view
from reportgen.render.numbers import percent
from reportgen.render.strings import strings
from reportgen.results import NOTEBOOK, Metric, RunResults

CHANCE_CONFIDENCE = 0.95  # an accuracy is "above chance" when a one-sided binomial test says so at this level
# The admonition of each verdict (Material's types): the colour a reviewer scans for.
KINDS = {"better": "success", "worse": "danger", "inconclusive": "warning", "failed": "failure",
         "notebook": "info", "empty": "note"}
FAILED_CELL = "notebook-fallido.md#nb-celda-fallida"  # the failed attempt's page, at its failing cell
LAST_GOOD = "notebook.md"  # the last good results' executed notebook


@dataclass(frozen=True)
class Link:
    label: str
    target: str  # relative to the run's page (the home card puts runs/<id>/ in front)


@dataclass(frozen=True)
class ResultBox:
    """The box of one run, in one language. `sentence`, `chance`, `caveats` and the links' labels
    are the page's words and numbers; `error` and `metrics` come from the notebook (escape them)."""

    verdict: str  # better | worse | inconclusive | failed | notebook | empty
    title: str
    sentence: str = ""
    chance: str = ""
    caveats: tuple[str, ...] = ()
    error: str | None = None  # a failed run's error summary, as the notebook raised it
    metrics: tuple[Metric, ...] = ()  # a notebook of one's own: its headline metrics
    links: tuple[Link, ...] = ()
    previous: "ResultBox | None" = None  # a failed run: the box of its last good results
    page_note: str = ""  # a failed run's page only: what the page below shows (not on the card)

    @property
    def kind(self) -> str:
        """The Material admonition type the template opens."""
        return KINDS[self.verdict]


def result_box(run: RunResults, language: str | None = None, found: list[dict] | None = None) -> ResultBox:
    """The run's result box in `language` (default: the run's); `found` is the run's
    `interpretation.comparisons` in that language when the caller has them already."""
    language = language or run.language
    words = strings(language)["summary"]
    if run.status == "failed" and run.failure is not None:
        return _failed(run, language, words, found)
    return _results(run, language, words, found)


def _results(run: RunResults, language: str, words: dict, found: list[dict] | None) -> ResultBox:
    """The box of a run's last good results (none yet: says so)."""
    if run.folder is None:
        return ResultBox("empty", words["title"]["empty"], words["no_results"])
    if not evidence.is_practice(run):
        return _own_notebook(run, words)
    found = interpretation.comparisons(run, language) if found is None else found
    head = next((item["reading"] for item in found if item["primary"]), None)
    if head is None:  # practice results without per-image answers: no headline reading
        return ResultBox("empty", words["title"]["empty"], words["no_reading"], chance_sentence(run, language),
                         caveats(run, language))
    return ResultBox(head.verdict, words["title"][head.verdict], headline_sentence(head, language),
                     chance_sentence(run, language), caveats(run, language))


def _own_notebook(run: RunResults, words: dict) -> ResultBox:
    metrics = tuple(evidence.headline_metrics(run))
    notes = (strings(run.language)["imported"]["no_reproducido"],) if elsewhere.is_imported(run) else ()
    return ResultBox("notebook", words["title"]["notebook"], words["metrics" if metrics else "no_metrics"],
                     caveats=notes, metrics=metrics)


def _failed(run: RunResults, language: str, words: dict, found: list[dict] | None) -> ResultBox:
    """That the run failed, at which cell, with which error; the last good results' box, if any."""
    failure = run.failure
    cell = failure.shown_cell if failure.cell is not None and failure.has_notebook else None
    sentence = words["failed_cell"].format(cell=cell) if cell is not None else words["failed"]
    links = (Link(words["failed_link"], FAILED_CELL),) if cell is not None else ()
    previous = None
    if run.folder is not None:
        previous = replace(_results(run, language, words, found), title=words["last_good"])
        if (run.folder / NOTEBOOK).is_file():
            links += (Link(words["last_good_link"], LAST_GOOD),)
    shown_attempt = not evidence.is_practice(run) and failure.notebook is not None
    return ResultBox("failed", words["title"]["failed"], sentence, error=failure.summary or None, links=links,
                     caveats=() if previous else (words["no_last_good"],), previous=previous,
                     page_note=words["shown_attempt" if shown_attempt else "shown_last_good"] if previous or shown_attempt else "")


# ------------------------------------------------------------------ the sentences

def headline_sentence(head: interpretation.Reading, language: str) -> str:
    """The headline reading in one sentence: both accuracies, the difference, its interval, the verdict."""
    words = strings(language)["summary"]
    seeds = strings(language)["verdicts"]["seed_count"]["one" if head.seeds == 1 else "many"].format(seeds=head.seeds)
    fields = {**interpretation.shown(head, language), "seeds": seeds, "images": head.images}  # as the page writes them
    if head.interval is None:  # one seed, or nothing varies
        why = words["one_seed"].format(seeds=interpretation.MIN_SEEDS) if head.basis == "one_seed" else words["constant"]
        return words["headline_no_interval"].format(**fields, why=why)
    return words["headline"][head.verdict].format(**fields)


def at_chance(accuracy: float, chance: float, images: int) -> bool:
    """Whether a test accuracy is not above chance at 95 % (one-sided binomial test over the test
    images); without a test size, whether it is at most 1.5 times chance."""
    if images <= 0:
        return accuracy <= 1.5 * chance
    from scipy import stats

    correct = round(accuracy * images)
    return stats.binomtest(correct, images, chance, alternative="greater").pvalue >= 1 - CHANCE_CONFIDENCE


def chance_level(run: RunResults) -> float | None:
    """1 / the number of classes a practice run recorded, or None."""
    dataset = run.facts.get("dataset") if isinstance(run.facts.get("dataset"), dict) else {}
    metrics = run.facts.get("metrics") if isinstance(run.facts.get("metrics"), dict) else {}
    classes = dataset.get("num_classes") or len(metrics.get("class_names") or [])
    return 1 / classes if isinstance(classes, int) and classes > 0 else None


def chance_sentence(run: RunResults, language: str) -> str:
    """The chance level named, and which model (if any) does not beat it."""
    chance = chance_level(run)
    if chance is None:
        return ""
    words = strings(language)["summary"]
    names = strings(language)["verdicts"]["pipelines"]
    metrics = run.facts["metrics"]
    images = metrics.get("test_size") if isinstance(metrics.get("test_size"), int) else 0
    accuracy = {name: report["aggregate"]["accuracy"]["mean"]
                for name, report in metrics.get("pipelines", {}).items()
                if isinstance(report.get("aggregate", {}).get("accuracy", {}).get("mean"), (int, float))}
    low = [name for name, value in accuracy.items() if at_chance(value, chance, images)]
    level = words["chance"].format(chance=percent(chance, language), classes=round(1 / chance))
    if not low:
        return level + " " + words["above_chance"]
    if len(low) == len(accuracy) and len(low) > 1:
        return level + " " + words["all_at_chance"]
    return level + " " + words["at_chance"].format(
        models=_joined([words["model"].format(pipeline=names.get(n, n), accuracy=numbers.value("accuracy", accuracy[n], language))
                        for n in low], language))


def caveats(run: RunResults, language: str) -> tuple[str, ...]:
    """What qualifies the result, most serious first: explanation methods that fail the
    randomisation check, Grad-CAM maps on the background, diverged seeds."""
    words = strings(language)["summary"]
    names = strings(language)["verdicts"]["pipelines"]
    methods = strings(language)["explanations"]["methods"]
    found = []
    view = explanations_view(run)  # its verdicts, not its sentences: the same in any language
    if view is not None:
        failing: dict[str, list[str]] = {}
        for item in view.randomisations:
            if item.verdict == "fail":
                failing.setdefault(item.method, []).append(item.model)
        for method, models in failing.items():
            found.append(words["randomisation_fail"].format(method=methods.get(method, method),
                                                            models=_models(models, words, names)))
        background = [item.model for item in view.localisations
                      if item.method == "gradcam" and item.verdict == "background"]
        if background:
            found.append(words["background"].format(models=_models(background, words, names)))
    diverged = (run.facts.get("protocol") or {}).get("diverged", [])
    if diverged:
        found.append(words["diverged"].format(count=len(diverged)) if len(diverged) > 1 else
                     words["diverged_one"].format(seed=diverged[0]["seed"],
                                                  pipeline=names.get(diverged[0]["pipeline"], diverged[0]["pipeline"])))
    return tuple(found)


def _models(models: list[str], words: dict, names: dict) -> str:
    """'both models' for the two pipelines, else 'the <pipeline> model' for each."""
    if set(models) >= {"baseline", "advanced"}:
        return words["both_models"]
    return words["and"].join(words["one_model"].format(pipeline=names.get(m, m)) for m in models)


def _joined(items: list[str], language: str) -> str:
    """'a', 'a y b', 'a, b y c' in the language's words."""
    words = strings(language)["summary"]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + words["and"] + items[-1]
