"""Figures of the evaluation drawn at render time: confusion matrices, robustness curves and the
reliability diagram (metrics.json), the t-SNE scatter (tsne.json), the top-5 predictions (metrics.json
with the test images recorded in top5.npz)."""

from __future__ import annotations

import math

import numpy as np

from reportgen.render.figures import PAGE_WIDTH_IN, PIPELINE_COLORS, drawer, recorded_arrays
from reportgen.render.figures import images as cells
from reportgen.render.figures.images import short
from reportgen.render.figures.training import pipeline_name, words
from reportgen.render.numbers import number, percent
from reportgen.render.strings import strings

MAX_NAMED_CLASSES = 20  # above this, the confusion matrix shows class indices instead of names
MAX_ANNOTATED_CLASSES = 12  # above this, its cells are too small for their numbers
MAX_LEGEND_CLASSES = 20  # above this, the t-SNE has no class legend
TRUE_CLASS_COLOR = "#55A868"
OTHER_CLASS_COLOR = "#B0B0B0"
TOP_K_COLUMNS = 2  # examples side by side in the top-k figure


def _pipelines(run) -> dict:
    return (run.facts.get("metrics") or {}).get("pipelines", {})


def confusion_matrix(matrix, class_names, pipeline: str, language: str):
    """Row-normalised confusion matrix; names and per-cell values only up to 20 classes.

    With more classes the cells are too small to read: the axes show class indices and
    the page puts the most-confused-pairs table beside it.
    """
    import matplotlib.pyplot as plt

    text = words(language)
    matrix = np.asarray(matrix, dtype=float)
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN * 0.82), layout="constrained")
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    ax.grid(False)
    if n <= MAX_NAMED_CLASSES:
        ax.set_xticks(range(n), [short(name) for name in class_names], rotation=45, ha="right")
        ax.set_yticks(range(n), [short(name) for name in class_names])
        for (row, col), value in np.ndenumerate(matrix):
            if n <= MAX_ANNOTATED_CLASSES and value >= 0.005:
                ax.text(col, row, number(value, language, 2), ha="center", va="center",
                        color="white" if value > 0.5 else "black")
        ax.set_xlabel(text["predicted"])
        ax.set_ylabel(text["true"])
    else:
        ticks = np.arange(0, n, math.ceil(n / 10))
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
        ax.set_xlabel(f"{text['predicted']} ({text['class_index']})")
        ax.set_ylabel(f"{text['true']} ({text['class_index']})")
    ax.set_title(f"{text['confusion']} — {pipeline_name(pipeline, language)}")
    return fig


def _confusion_drawer(pipeline: str):
    def draw(run, language: str):
        result = _pipelines(run).get(pipeline)
        if not result:
            return None
        return confusion_matrix(result["confusion"], run.facts["metrics"]["class_names"], pipeline, language)
    return draw


for _pipeline in ("baseline", "advanced"):
    drawer(f"confusion_{_pipeline}")(_confusion_drawer(_pipeline))


@drawer("robustness")
def robustness_curves(run, language: str):
    """Accuracy vs severity, one panel per perturbation, one line per pipeline (severity 0: clean)."""
    import matplotlib.pyplot as plt

    robustness = {name: p["robustness"] for name, p in _pipelines(run).items() if p.get("robustness")}
    if not robustness:
        return None
    text = words(language)
    first = next(iter(robustness.values()))
    perturbations = list(first["accuracy"])
    columns = 3
    rows = math.ceil(len(perturbations) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(PAGE_WIDTH_IN, 2.1 * rows + 0.6), sharex=True,
                             sharey=True, squeeze=False, layout="constrained")
    for ax, perturbation in zip(axes.flat, perturbations):
        for pipeline, result in robustness.items():
            ax.plot([0, *result["severities"]], [result["clean"], *result["accuracy"][perturbation]],
                    marker="o", color=PIPELINE_COLORS.get(pipeline), label=pipeline_name(pipeline, language))
        ax.set_title(text["perturbations"].get(perturbation, perturbation))
        ax.set_xticks([0, *first["severities"]])
        ax.set_ylim(0, 1.02)
    for ax in axes.flat[len(perturbations):]:
        ax.set_axis_off()
    axes[0, 0].legend(loc="lower left")
    fig.supxlabel(text["severity"])
    fig.supylabel(text["accuracy"])
    fig.suptitle(text["robustness"])
    return fig


@drawer("reliability")
def reliability_diagram(run, language: str):
    """Accuracy per confidence bin against the diagonal of perfect calibration, per pipeline.

    The bins are the detail seed's; each panel says so, with that seed's ECE and, with several
    seeds, the mean the results table shows.
    """
    import matplotlib.pyplot as plt

    pipelines = _pipelines(run)
    calibration = {name: p["calibration"] for name, p in pipelines.items() if p.get("calibration")}
    if not calibration:
        return None
    text, figure_words = words(language), strings(language)["figures"]
    fig, axes = plt.subplots(1, len(calibration), figsize=(PAGE_WIDTH_IN, 3.4), sharey=True, squeeze=False,
                             layout="constrained")
    for ax, (pipeline, result) in zip(axes[0], calibration.items()):
        edges = np.asarray(result["bin_edges"])
        accuracy = [0.0 if value is None else value for value in result["accuracy"]]
        ax.bar(edges[:-1], accuracy, width=np.diff(edges), align="edge", edgecolor="white",
               color=PIPELINE_COLORS.get(pipeline), label=text["accuracy"])
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label=text["perfect"])
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(text["confidence"])
        ax.set_title(_calibration_title(pipeline, pipelines[pipeline], result, language, figure_words))
        ax.legend(loc="upper left")
    axes[0, 0].set_ylabel(text["accuracy"])
    fig.suptitle(text["reliability"])
    return fig


def _calibration_title(pipeline: str, recorded: dict, calibration: dict, language: str, figure_words: dict) -> str:
    """'Baseline · seed 0' over 'ECE 0.087 (mean of 3 seeds: 0.090)': the bins' seed, and the table's mean."""
    title = pipeline_name(pipeline, language)
    seed = recorded.get("detail_seed")
    if seed is not None:
        title += " · " + figure_words["seed"].format(seed=seed)
    ece = figure_words["ece"].format(value=number(calibration["ece"], language, 3))
    aggregate = recorded.get("aggregate", {}).get("ece") or {}
    seeds = len(aggregate.get("values") or [])
    if seeds > 1 and aggregate.get("mean") is not None:
        ece = figure_words["ece_mean"].format(ece=ece, seeds=seeds, mean=number(aggregate["mean"], language, 3))
    return f"{title}\n{ece}"


@drawer("tsne")
def tsne_figure(run, language: str):
    """The recorded 2-D t-SNE coordinates of each pipeline, side by side, coloured by class."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    tsne = run.facts.get("tsne")
    if not tsne or not tsne["points"]:  # no pipeline had embeddings to map
        return None
    class_names = run.facts["metrics"]["class_names"]
    labels = np.asarray(tsne["labels"])
    num_classes = len(class_names)
    cmap = plt.get_cmap("tab10" if num_classes <= 10 else "tab20" if num_classes <= 20 else "turbo", num_classes)
    fig, axes = plt.subplots(1, len(tsne["points"]), figsize=(PAGE_WIDTH_IN, 4.2), squeeze=False,
                             layout="constrained")
    for ax, (pipeline, points) in zip(axes[0], tsne["points"].items()):
        points = np.asarray(points)
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=num_classes - 0.5, s=10)
        ax.set_title(pipeline_name(pipeline, language))
        ax.set_xticks([])
        ax.set_yticks([])
    if num_classes <= MAX_LEGEND_CLASSES:
        handles = [Line2D([], [], marker="o", linestyle="", color=cmap(i), label=short(name, 16))
                   for i, name in enumerate(class_names)]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(num_classes, 4), markerscale=1.3)
    fig.suptitle(words(language)["tsne"])
    return fig


@drawer("top5")
def top_k_figure(run, language: str):
    """Each recorded test image (its true class below, in green) beside the advanced model's top-k
    classes: one bar per class, most probable on top, named and labelled with its probability, the
    true class's bar in green."""
    recorded = recorded_arrays(run, "top5")
    result = _pipelines(run).get("advanced") or {}
    examples = {example["index"]: example for example in result.get("top_k_examples", [])}
    if recorded is None or not examples:
        return None
    figure_words = strings(language)["figures"]
    shown = [(image, examples[int(index)]) for image, index in zip(recorded["images"], recorded["index"])
             if int(index) in examples]
    rows = math.ceil(len(shown) / TOP_K_COLUMNS)
    k = max(len(example["predictions"]) for _, example in shown)
    fig, axes = cells.grid(rows, 2 * TOP_K_COLUMNS, cell_height=1.35, width_ratios=[1, 1.9] * TOP_K_COLUMNS)
    cells.column_headers(axes[0], [figure_words["image"], figure_words["top_k_bars"].format(k=k)] * TOP_K_COLUMNS)
    for ax in axes.flat[2 * len(shown):]:
        ax.set_visible(False)
    for position, (image, example) in enumerate(shown):
        row, column = divmod(position, TOP_K_COLUMNS)
        image_ax, bar_ax = axes[row, 2 * column], axes[row, 2 * column + 1]
        cells.show_image(image_ax, image)
        image_ax.set_xlabel(short(example["true"], 16), color=TRUE_CLASS_COLOR)
        _top_k_bars(bar_ax, example, language)
    if result.get("detail_seed") is not None:
        fig.suptitle(figure_words["top_k_title"].format(seed=result["detail_seed"]))
    return fig


def _top_k_bars(ax, example: dict, language: str) -> None:
    """One bar per class over a light track, most probable on top, its name on the left and its
    probability on the right (no axis: the words are the scale)."""
    predictions = example["predictions"]
    for row, prediction in enumerate(predictions):
        true = prediction["class_index"] == example["true_index"]
        ax.barh(row, 1.0, color="#EEEEEE", height=0.82)
        ax.barh(row, prediction["probability"], color=TRUE_CLASS_COLOR if true else OTHER_CLASS_COLOR, height=0.82)
        ax.text(0.03, row, short(prediction["name"], 17), va="center", ha="left",
                fontweight="bold" if true else "normal")
        ax.text(0.98, row, percent(prediction["probability"], language, 0), va="center", ha="right")
    ax.set_xlim(0, 1)
    ax.set_ylim(len(predictions) - 0.5, -0.5)  # most probable on top
