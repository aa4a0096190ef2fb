"""What a page shows, decided here and handed to the templates as data.

The templates lay out; everything that is a decision lives in Python: each page's head (title,
heading, front-matter options), which figure goes where with which caption, the practice's
checklist, the admonition kind of each reading, which failure sentence applies, and the rows of the
practice page's tables (numbers already written as cells in the page's language, render/cells.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from reportgen.facts import headline_metrics
from reportgen.render import cells, evidence
from reportgen.render import figures as drawn
from reportgen.render.explanations import ExplanationsView, explanations_view
from reportgen.render.markup import code, md_text
from reportgen.render.pipelines import describe_pipeline
from reportgen.render.reflection import Reflection
from reportgen.render.summary import ResultBox
from reportgen.render.strings import strings
from reportgen.results import Record, RunResults

FINDING_KINDS = {"better": "success", "worse": "failure", "inconclusive": "note"}  # verdict -> admonition
# Explanation figures: captioned by the explanation checks when the strings table has no caption.
EXPLAINED_FIGURES = ("gradcam_hits", "gradcam_errors", "methods_baseline", "methods_advanced",
                     "deletion_insertion", "randomisation")


# ----------------------------------------------------------------------- words

def caption(run: RunResults, name: str) -> str:
    """A figure's caption in the page's language: the practice's from the strings table, else as recorded."""
    if (recorded := drawn.recorded_caption(run, name)) is not None:  # a PNG from before the page drew it
        return recorded
    known = strings(run.language)["captions"]
    if name in known:
        return known[name]
    figure = run.figure(name)
    return figure.caption if figure else ""


def stage_name(key: str, language: str) -> str:
    """A recorded stage in words: the practice's stages by key, any other stage as the notebook named it."""
    return strings(language)["stages"].get(key, key)


LEGACY_CPU = re.compile(r"CPU \((\d+) \w+\)")  # results recorded before the device became numbers


def device(recorded, language: str) -> str:
    """The recorded device in words: {'kind': 'cpu', 'cores': n} or {'kind': 'gpu', 'names': [...]}."""
    words = strings(language)["page"]["device"]
    if isinstance(recorded, str) and (legacy := LEGACY_CPU.fullmatch(recorded)):
        recorded = {"kind": "cpu", "cores": int(legacy.group(1))}
    if isinstance(recorded, dict) and recorded.get("kind") == "gpu":
        return words["gpu"].format(names=", ".join(recorded.get("names", [])))
    if isinstance(recorded, dict) and recorded.get("kind") == "cpu":
        return words["cpu"].format(cores=recorded.get("cores", "?"))
    return str(recorded) if recorded else "—"


def moment(recorded) -> str:
    """A recorded ISO time as a reviewer reads it, to the minute in UTC ('2026-12-07 20:12 UTC');
    anything else escaped as it was recorded."""
    try:
        when = datetime.fromisoformat(str(recorded))
    except ValueError:
        return md_text(recorded) if recorded else "—"
    when = when.astimezone(timezone.utc) if when.tzinfo else when
    return f"{when:%Y-%m-%d %H:%M}" + (" UTC" if when.tzinfo else "")


def provenance(run: RunResults) -> list[tuple[str, str]]:
    """(what, value) rows of where and how the results were made, as run.json recorded them."""
    t, r = strings(run.language)["page"], run.record or {}
    libraries = r.get("libraries") if isinstance(r.get("libraries"), dict) else {}
    return [(t["executed"], moment(r.get("finished"))),
            (t["dispositivo"], md_text(device(r.get("device"), run.language))),
            ("Python", f"{md_text(r.get('python', '—'))} ({md_text(r.get('platform', ''))})"),
            (t["libraries"], ", ".join(f"{md_text(name)} {md_text(version)}" for name, version in libraries.items())),
            ("Commit", md_text(r.get("git_commit") or "—")),
            (t["cache_key"], code(r.get("cache_key", "—")))]


# ------------------------------------------------------------------------- heads

@dataclass(frozen=True)
class Head:
    """The top of a page (templates/base.md.j2): plain text, escaped there."""

    title: str  # the front matter's title (navigation, browser tab)
    heading: str  # the page's one H1
    date: object = None  # the front matter's date, when the run file gives one
    hide: tuple[str, ...] = ()  # Material's `hide:` front-matter list


def run_head(run: RunResults) -> Head:
    return Head(run.title, run.title, run.config.date)


def notebook_head(run: RunResults, t: dict, failed: bool) -> Head:
    heading = t["notebook_ejecutado"] + (f" ({t['intento_fallido']})" if failed else "")
    return Head(f"{t['notebook_ejecutado']}: {run.title}", heading)


def index_head(runs: list[RunResults], t: dict) -> tuple[Head, str]:
    """The home page's head and introduction: the practice's when every run is the practice."""
    if runs and all(evidence.is_practice(run) for run in runs):
        return Head(t["portafolio"], t["portafolio_titulo"], hide=("navigation",)), t["portafolio_intro"]
    return Head(t["portafolio"], t["portafolio"], hide=("navigation",)), t["portafolio_intro_generico"]


def comparison_head(t: dict) -> Head:
    return Head(t["comparacion"], t["comparacion"], hide=("navigation", "toc"))


# ----------------------------------------------------------------------- figures

@dataclass(frozen=True)
class Shown:
    """A figure as the page shows it (the one figure macro): its file under figures/ and its words."""

    file: str
    alt: str
    caption: str


def practice_figures(run: RunResults, xv: ExplanationsView | None) -> dict[str, Shown]:
    """Every figure of the run by name, captioned in the page's language."""
    shown = {}
    for name, figure in run.figures.items():
        text = caption(run, name)
        if not text and name in EXPLAINED_FIGURES:
            text = xv.caption(name) if xv else figure.caption
        shown[name] = Shown(figure.path.name, text, text)
    return shown


def recorded_figure(record: Record) -> Shown:
    """A figure the notebook recorded: its caption, else its name, under the image."""
    return Shown(record.path.name, record.caption, record.caption or record.name)


# --------------------------------------------------------------------- checklist

def practice_checklist(run: RunResults, reflection: Reflection) -> list[tuple[str, bool]]:
    """The practice's checklist: each item ticked when the page shows its evidence; the reflection's
    counts its answered questions, ticked when every one is answered."""
    t, f, has = strings(run.language)["page"], run.facts, run.figures.__contains__
    pipelines, metrics = f.get("pipelines") or {}, f.get("metrics") or {}
    baseline = (metrics.get("pipelines") or {}).get("baseline") or {}
    return [
        (t["baseline_and_advanced_pipelines"], "baseline" in pipelines and "advanced" in pipelines),
        (t["augmentation_visualisation"], has("mosaic")),
        ("MixUp / CutMix", has("mixing")),
        (t["comparable_training_and_metric_comparison"], has("curves") and bool(metrics)),
        ("Test-Time Augmentation", bool(baseline.get("tta"))),
        (t["robustez"], has("robustness")),
        (t["gradcam_on_hits_and_errors"], has("gradcam_hits") and has("gradcam_errors")),
        (t["grad_cam_and_integrated_gradients"], has("methods_baseline")),
        (t["explanations_checked_with_metrics"], bool(f.get("explanations"))),
        (t["tsne"], has("tsne")),
        (t["reflection_answered"].format(answered=reflection.answered, total=reflection.questions),
         reflection.complete),
    ]


def checklist(run: RunResults, reflection: Reflection) -> list[tuple[str, bool]]:
    """The page's checklist: the practice's items (on its page), then the run file's own (an item
    resting on the reflection is ticked once every question is answered)."""
    own = evidence.checklist(run, reflection.complete)
    return (practice_checklist(run, reflection) + own) if evidence.is_practice(run) else own


# ---------------------------------------------------------------------- readings

def findings(verdicts: dict, comparison: str) -> dict | None:
    """One comparison's readings as one admonition (the kind of its first reading): each reading's
    verdict word, values and what follows, and once for all of them what a verdict means."""
    items = [item for item in verdicts["comparisons"] if item["comparison"] == comparison]
    if not items:
        return None
    return {"kind": FINDING_KINDS.get(items[0]["verdict"], "note"), "legend": verdicts.get("legend", ""),
            "items": [{"lead": item.get("lead", ""), "values": item.get("values", item["sentence"]),
                       "extra": item.get("extra", "")} for item in items]}


def activities(run: RunResults) -> list[tuple[str, float | None]]:
    """Rows of 'Actividades' with the practice's stages in the page's words."""
    rows = evidence.activities(run)
    if evidence.is_practice(run):
        rows = [(stage_name(title, run.language), seconds) for title, seconds in rows]
    return rows


# ------------------------------------------------------------------------ tables

@dataclass(frozen=True)
class Table:
    """A Markdown table as the one `table` macro writes it: every cell already Markdown (escaped here)."""

    header: list[str]
    align: list[str]  # "---" (left) or "---:" (numbers, right) per column
    rows: list[list[str]]


def dataset_table(ds: dict, language: str) -> Table:
    """The dataset's facts as recorded (dataset.json)."""
    t = strings(language)["page"]
    rows = [[t["source"], f"{md_text(ds['source'])} ({code(ds['name'])})"],
            [t["classes"], str(ds["num_classes"])],
            [t["image_size"], f"{ds['image_size']}×{ds['image_size']} px"],
            [t["train_validation_test"], " / ".join(str(ds["split_sizes"][s]) for s in ("train", "val", "test"))],
            [t["split_used_for_validation_test"], f"{md_text(ds['val_split'])} / {md_text(ds['test_split'])}"],
            [t["imbalance_largest_smallest_train_class"], cells.number(ds["imbalance_ratio"], language, 2)],
            [t["object_masks"], t["affirmative"] if ds["has_masks"] else t["negative"]]]
    if ds.get("shortcut"):
        rows.append([t["background_shortcut_on_train_strength"], cells.number(ds["shortcut"], language, 2)])
    if ds.get("skipped_files"):
        rows.append([t["unreadable_files_skipped"], str(len(ds["skipped_files"]))])
    return Table([t["fact"], t["valor"]], ["---", "---"], rows)


def class_list(ds: dict) -> str:
    return ", ".join(md_text(name) for name in ds["class_names"])


MOST_CONFUSED_SHOWN = 8


def confused_table(pairs: list[dict], language: str) -> Table:
    """The pairs of classes one model confuses most, with how often."""
    t = strings(language)["page"]
    rows = [[md_text(pair["true"]), md_text(pair["predicted"]), str(pair["count"]),
             cells.percent(pair["rate"], language)] for pair in pairs[:MOST_CONFUSED_SHOWN]]
    rows = rows or [["—", "—", "0", "—"]]
    return Table([t["true_class"], t["predicted_as"], t["images"], t["rate"]], ["---", "---", "---:", "---:"], rows)


def explanation_tables(xv: ExplanationsView) -> tuple[Table, Table | None]:
    """The explanation checks per model and method (localisation when masks were recorded, deletion
    and insertion), the model-free maps' scores; then the randomisation test, when it ran."""
    w, language = xv.words, xv.language
    masks = len(xv.baseline_scores) > 0
    named = [w["table"]["model"], w["table"]["method"]]
    header = named + ([w["table"]["pointing"], w["table"]["energy"], w["table"]["reading"]] if masks else []) \
        + [w["table"]["deletion"], w["table"]["insertion"]]
    align = ["---", "---"] + (["---:", "---:", "---"] if masks else []) + ["---:", "---:"]
    rows = []
    for model, methods in xv.recorded["checks"].items():
        for method, scores in methods.items():
            row = [w["models"].get(model, model), w["methods"].get(method, method)]
            if masks:
                found = xv.localisation_of(model, method)
                row += [cells.percent(xv.mean(scores.get("pointing_game")), language),
                        cells.percent(xv.mean(scores.get("energy_in_mask")), language),
                        w["verdicts"][found.verdict] if found else "—"]
            rows.append(row + [cells.number(scores.get("deletion_auc"), language),
                               cells.number(scores.get("insertion_auc"), language)])
    if masks:
        rows += [[w["baseline_rows"][name], "—", cells.percent(scores["pointing_game"], language),
                  cells.percent(scores["energy_in_mask"], language), "—", "—", "—"]
                 for name, scores in xv.baseline_scores.items()]
    checks = Table(header, align, rows)
    if not xv.randomisations:
        return checks, None
    rows = [[w["models"].get(found.model, found.model), w["methods"].get(found.method, found.method),
             cells.number(found.mean, language, 2)
             + (f" ± {cells.number(found.spread, language, 2)}" if found.spread is not None else ""),
             w["verdicts"][found.verdict]] for found in xv.randomisations]
    return checks, Table(named + [w["table"]["rho"], w["table"]["randomisation"]], ["---", "---", "---:", "---"], rows)


def pipeline_rows(run: RunResults) -> dict[str, list] | None:
    """Each pipeline's operations in the page's words (MixUp / CutMix with the advanced one, and
    alone under `mixing` for the formulas' note)."""
    pipes = run.facts.get("pipelines")
    if not pipes:
        return None
    mixup, cutmix = pipes.get("mixup"), pipes.get("cutmix")
    return {"baseline": describe_pipeline(pipes["baseline"], run.language),
            "advanced": describe_pipeline(pipes["advanced"], run.language, mixup, cutmix),
            "mixing": describe_pipeline([], run.language, mixup=mixup, cutmix=cutmix) if mixup or cutmix else []}


def _cell(aggregate: dict | None, key: str, language: str) -> str:
    """A mean over seeds, ± its standard deviation when there are several, in the metric's one form."""
    if aggregate is None:
        return cells.number(None, language)
    spread = f" ± {cells.metric(aggregate['std'], key, language)}" if aggregate.get("std") is not None else ""
    return cells.metric(aggregate["mean"], key, language) + spread


def results_rows(metrics: dict, language: str) -> list[tuple[str, str, str, str]]:
    """(metric, baseline, advanced, difference) of every test metric both pipelines recorded, in the
    contract's order (the SeedMetrics fields with a results row)."""
    labels = strings(language)["page"]["metric_rows"]
    b, a = metrics["pipelines"]["baseline"]["aggregate"], metrics["pipelines"]["advanced"]["aggregate"]
    found = []
    for key, shown in headline_metrics().items():
        if not shown["row"] or key not in b or key not in a:
            continue
        label = labels[key].format(top_k=metrics.get("top_k"))
        difference = cells.difference(a[key] and a[key]["mean"], b[key] and b[key]["mean"], key, language)
        found.append((label, _cell(b[key], key, language), _cell(a[key], key, language), difference))
    return found


def seeds_measured(metrics: dict) -> int:
    """How many seeds the test accuracy averages."""
    return len(metrics["pipelines"]["baseline"]["aggregate"]["accuracy"]["values"])


def seed_rows(metrics: dict, language: str) -> list[tuple[str, str, str, str]]:
    """(seed, baseline accuracy, advanced accuracy, difference) of the seeds both pipelines trained."""
    advanced = {a["seed"]: a for a in metrics["pipelines"]["advanced"]["seeds"]}
    return [(str(b["seed"]), cells.metric(b["accuracy"], "accuracy", language),
             cells.metric(advanced[b["seed"]]["accuracy"], "accuracy", language),
             cells.difference(advanced[b["seed"]]["accuracy"], b["accuracy"], "accuracy", language))
            for b in metrics["pipelines"]["baseline"]["seeds"] if b["seed"] in advanced]


def tta_rows(metrics: dict, language: str) -> list[tuple[str, str, str, str]]:
    """(model, without TTA, with TTA, difference) of each pipeline that measured TTA: the means over
    seeds its reading compares (the detail seed's own numbers only where no mean was recorded)."""
    labels = {"baseline": "Baseline", "advanced": strings(language)["page"]["advanced"]}
    rows = []
    for name, label in labels.items():
        plain, tta = tta_pair(metrics["pipelines"][name])
        if plain is not None and tta is not None:
            rows.append((label, cells.metric(plain, "accuracy", language), cells.metric(tta, "tta_accuracy", language),
                         cells.difference(tta, plain, "tta_accuracy", language)))
    return rows


def tta_pair(pipeline: dict) -> tuple[float | None, float | None]:
    """Accuracy without and with TTA: the means over seeds, else the detail seed's (older results)."""
    aggregate = pipeline.get("aggregate") or {}
    if (aggregate.get("accuracy") or {}).get("mean") is not None and (aggregate.get("tta_accuracy") or {}).get("mean") is not None:
        return aggregate["accuracy"]["mean"], aggregate["tta_accuracy"]["mean"]
    tta = pipeline.get("tta") or {}
    return tta.get("plain"), tta.get("tta")


def tta_note(metrics: dict, language: str) -> str:
    """What the TTA table's numbers are: a mean over n seeds, or one seed's."""
    t = strings(language)["page"]
    baseline = metrics["pipelines"]["baseline"]
    if (baseline.get("aggregate") or {}).get("tta_accuracy"):
        return t["tta_over_seeds"].format(n=seeds_measured(metrics))
    return t["tta_seed"].format(seed=baseline.get("detail_seed", 0))


def detail_note(metrics: dict, language: str) -> str:
    """Which seed's models the per-image figures and tables show (confusion, most confused, top-5),
    when there are several seeds; nothing with one."""
    seed = metrics["pipelines"]["baseline"].get("detail_seed")
    if seed is None or seeds_measured(metrics) < 2:
        return ""
    return strings(language)["page"]["detail_seed"].format(seed=seed)


# ------------------------------------------------------------------------- pages

@dataclass
class RunView:
    """Everything a run page decides, for its template."""

    head: Head
    checklist: list[tuple[str, bool]]
    activities: list[tuple[str, float | None]]
    provenance: list[tuple[str, str]]
    box: ResultBox | None = None  # the result box under the heading (reportgen/render/summary.py)
    figures: dict[str, Shown] = field(default_factory=dict)
    findings: dict[str, dict | None] = field(default_factory=dict)  # comparison -> its admonition
    results: list[tuple[str, str, str, str]] = field(default_factory=list)
    seeds: list[tuple[str, str, str, str]] = field(default_factory=list)
    seeds_measured: int = 0
    tta: list[tuple[str, str, str, str]] = field(default_factory=list)
    tta_note: str = ""  # what the TTA table's numbers are (mean of n seeds, or seed s)
    detail_note: str = ""  # which seed's models the confusion matrices, pairs and top-5 show
    several_seeds: bool = False
    pipelines: dict[str, list] | None = None  # the operations of each pipeline, in words
    explanations: ExplanationsView | None = None
    dataset: Table | None = None
    classes: str = ""  # the dataset's class names, listed
    confused: dict[str, Table] = field(default_factory=dict)  # pipeline -> its most confused pairs
    checks: Table | None = None  # the explanation checks
    randomisation: Table | None = None


def run_view(run: RunResults, verdicts: dict, reflection: Reflection, box: ResultBox | None = None) -> RunView:
    view = RunView(head=run_head(run), checklist=checklist(run, reflection), activities=activities(run),
                   provenance=provenance(run), box=box)
    if not evidence.is_practice(run):
        return view
    view.pipelines = pipeline_rows(run)
    view.explanations = explanations_view(run)
    view.figures = practice_figures(run, view.explanations)
    view.findings = {name: findings(verdicts, name) for name in ("advanced_vs_baseline", "tta_vs_plain")}
    view.several_seeds = len(run.parameters["training"]["seeds"]) > 1
    if ds := run.facts.get("dataset"):
        view.dataset, view.classes = dataset_table(ds, run.language), class_list(ds)
    if view.explanations:
        view.checks, view.randomisation = explanation_tables(view.explanations)
    if metrics := run.facts.get("metrics"):
        view.confused = {name: confused_table(metrics["pipelines"][name]["most_confused"], run.language)
                         for name in ("baseline", "advanced")}
        view.results = results_rows(metrics, run.language)
        view.seeds = seed_rows(metrics, run.language)
        view.seeds_measured = seeds_measured(metrics)
        view.tta = tta_rows(metrics, run.language)
        view.tta_note = tta_note(metrics, run.language)
        view.detail_note = detail_note(metrics, run.language)
    return view
