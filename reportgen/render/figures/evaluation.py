"""Figures of the evaluation drawn at render time from metrics.json and tsne.json:
confusion matrices, robustness curves, reliability diagram, t-SNE scatter."""

from __future__ import annotations

import math

import numpy as np

from reportgen.practice.figures import PAGE_WIDTH_IN, PIPELINE_COLORS  # the figures' style (matplotlib only)
from reportgen.practice.figures.evaluation import short
from reportgen.render.figures import drawer
from reportgen.render.figures.training import pipeline_name, words

MAX_ANNOTATED_CLASSES = 20  # above this, the confusion matrix has no per-cell numbers or names
MAX_LEGEND_CLASSES = 20  # above this, the t-SNE has no class legend


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
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN * 0.8))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    ax.grid(False)
    if n <= MAX_ANNOTATED_CLASSES:
        ax.set_xticks(range(n), [short(name) for name in class_names], rotation=45, ha="right")
        ax.set_yticks(range(n), [short(name) for name in class_names])
        for (row, col), value in np.ndenumerate(matrix):
            if value >= 0.005:
                ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=8,
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
    fig.tight_layout()
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
    fig, axes = plt.subplots(rows, columns, figsize=(PAGE_WIDTH_IN, 3 * rows), sharex=True, sharey=True,
                             squeeze=False)
    for ax, perturbation in zip(axes.flat, perturbations):
        for pipeline, result in robustness.items():
            ax.plot([0, *result["severities"]], [result["clean"], *result["accuracy"][perturbation]],
                    marker="o", color=PIPELINE_COLORS.get(pipeline), label=pipeline_name(pipeline, language))
        ax.set_title(text["perturbations"].get(perturbation, perturbation))
        ax.set_xticks([0, *first["severities"]])
        ax.set_ylim(0, 1.02)
    for ax in axes.flat[len(perturbations):]:
        ax.set_axis_off()
    axes[0, 0].legend(loc="best")
    fig.supxlabel(text["severity"])
    fig.supylabel(text["accuracy"])
    fig.suptitle(text["robustness"])
    fig.tight_layout()
    return fig


@drawer("reliability")
def reliability_diagram(run, language: str):
    """Accuracy per confidence bin against the diagonal of perfect calibration, per pipeline."""
    import matplotlib.pyplot as plt

    calibration = {name: p["calibration"] for name, p in _pipelines(run).items() if p.get("calibration")}
    if not calibration:
        return None
    text = words(language)
    fig, axes = plt.subplots(1, len(calibration), figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN / 2.2), sharey=True,
                             squeeze=False)
    for ax, (pipeline, result) in zip(axes[0], calibration.items()):
        edges = np.asarray(result["bin_edges"])
        accuracy = [0.0 if value is None else value for value in result["accuracy"]]
        ax.bar(edges[:-1], accuracy, width=np.diff(edges), align="edge", edgecolor="white",
               color=PIPELINE_COLORS.get(pipeline), label=text["accuracy"])
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label=text["perfect"])
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(text["confidence"])
        ax.set_title(f"{pipeline_name(pipeline, language)} — ECE {result['ece']:.3f}")
        ax.legend(loc="upper left")
    axes[0, 0].set_ylabel(text["accuracy"])
    fig.suptitle(text["reliability"])
    fig.tight_layout()
    return fig


@drawer("tsne")
def tsne_figure(run, language: str):
    """The recorded 2-D t-SNE coordinates of each pipeline, side by side, coloured by class."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    tsne = run.facts.get("tsne")
    if not tsne:
        return None
    class_names = run.facts["metrics"]["class_names"]
    labels = np.asarray(tsne["labels"])
    num_classes = len(class_names)
    cmap = plt.get_cmap("tab10" if num_classes <= 10 else "tab20" if num_classes <= 20 else "turbo", num_classes)
    fig, axes = plt.subplots(1, len(tsne["points"]), figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN / 2), squeeze=False)
    for ax, (pipeline, points) in zip(axes[0], tsne["points"].items()):
        points = np.asarray(points)
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=num_classes - 0.5, s=10)
        ax.set_title(pipeline_name(pipeline, language))
        ax.set_xticks([])
        ax.set_yticks([])
    if num_classes <= MAX_LEGEND_CLASSES:
        handles = [Line2D([], [], marker="o", linestyle="", color=cmap(i), label=short(name, 16))
                   for i, name in enumerate(class_names)]
        fig.legend(handles=handles, loc="lower center", ncol=min(num_classes, 5), fontsize=8)
        fig.subplots_adjust(bottom=0.08 + 0.05 * math.ceil(num_classes / 5))
    fig.suptitle(words(language)["tsne"])
    return fig
