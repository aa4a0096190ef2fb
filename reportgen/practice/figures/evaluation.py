"""Figures of the evaluation: confusion matrix, top-k predictions, t-SNE, robustness, calibration.

Each function draws numbers already computed by `reportgen.practice.evaluation` (the sections of a
`MetricsReport`, or the embeddings) and returns a Figure ~PAGE_WIDTH_IN wide.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from sklearn.manifold import TSNE

from reportgen.practice.figures import PAGE_WIDTH_IN, PIPELINE_COLORS, pipeline_label

MAX_ANNOTATED_CLASSES = 20  # above this, the confusion matrix has no per-cell numbers or names
MAX_LEGEND_CLASSES = 20  # above this, the t-SNE has no class legend
TRUE_CLASS_COLOR = "#55A868"
OTHER_CLASS_COLOR = "#B0B0B0"

TEXT = {
    "es": {
        "confusion": "Matriz de confusión normalizada", "true": "Clase real", "predicted": "Clase predicha",
        "class_index": "índice de clase", "real": "Real", "probability": "Probabilidad",
        "top_k": "Top-{k} predicciones", "tsne": "t-SNE de los embeddings de la penúltima capa",
        "severity": "Severidad (0 = imágenes limpias)", "accuracy": "Accuracy",
        "robustness": "Accuracy bajo perturbaciones", "confidence": "Confianza",
        "reliability": "Diagrama de fiabilidad", "perfect": "Calibración perfecta",
        "perturbations": {"gaussian_noise": "Ruido gaussiano", "blur": "Desenfoque", "brightness": "Brillo",
                          "contrast": "Contraste", "rotation": "Rotación", "occlusion": "Oclusión"},
    },
    "en": {
        "confusion": "Normalised confusion matrix", "true": "True class", "predicted": "Predicted class",
        "class_index": "class index", "real": "True", "probability": "Probability",
        "top_k": "Top-{k} predictions", "tsne": "t-SNE of the penultimate-layer embeddings",
        "severity": "Severity (0 = clean images)", "accuracy": "Accuracy",
        "robustness": "Accuracy under perturbations", "confidence": "Confidence",
        "reliability": "Reliability diagram", "perfect": "Perfect calibration",
        "perturbations": {"gaussian_noise": "Gaussian noise", "blur": "Blur", "brightness": "Brightness",
                          "contrast": "Contrast", "rotation": "Rotation", "occlusion": "Occlusion"},
    },
}


def _titled(title: str, pipeline: str | None, language: str) -> str:
    return f"{title} — {pipeline_label(pipeline, language)}" if pipeline else title


def _short(name: str, length: int = 22) -> str:
    return name if len(name) <= length else name[: length - 1] + "…"


def confusion_matrix(confusion, class_names, pipeline: str | None = None, language: str = "es"):
    """Row-normalised confusion matrix; names and per-cell values only up to 20 classes.

    With more classes the cells are too small to read: the axes show class indices and
    the page puts the most-confused-pairs table (`PipelineReport.most_confused`) beside it.
    """
    text = TEXT[language]
    matrix = np.asarray(confusion, dtype=float)
    n = len(matrix)
    few = n <= MAX_ANNOTATED_CLASSES
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN * 0.8))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
    ax.grid(False)
    if few:
        ax.set_xticks(range(n), [_short(name) for name in class_names], rotation=45, ha="right")
        ax.set_yticks(range(n), [_short(name) for name in class_names])
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
    ax.set_title(_titled(text["confusion"], pipeline, language))
    fig.tight_layout()
    return fig


def top_k_figure(images, examples, pipeline: str | None = None, language: str = "es", columns: int = 2):
    """Each example image beside a bar chart of its top-k probabilities, true class in green.

    `images` is the test split; `examples` are `TopKExample`s whose `index` points into it.
    """
    text = TEXT[language]
    rows = math.ceil(len(examples) / columns)
    fig, axes = plt.subplots(rows, 2 * columns, figsize=(PAGE_WIDTH_IN, 2.2 * rows), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.6] * columns})
    for ax in axes.flat:
        ax.set_axis_off()
    for i, example in enumerate(examples):
        image_ax, bar_ax = axes[i // columns, 2 * (i % columns)], axes[i // columns, 2 * (i % columns) + 1]
        image_ax.imshow(images[example.index])
        image_ax.set_title(f"{text['real']}: {_short(example.true)}", fontsize=9)
        names = [_short(p.name, 18) for p in example.predictions]
        colors = [TRUE_CLASS_COLOR if p.class_index == example.true_index else OTHER_CLASS_COLOR
                  for p in example.predictions]
        bar_ax.set_axis_on()
        bar_ax.barh(range(len(names)), [p.probability for p in example.predictions], color=colors)
        bar_ax.set_yticks(range(len(names)), names, fontsize=8)
        bar_ax.invert_yaxis()  # most probable on top
        bar_ax.set_xlim(0, 1)
        bar_ax.set_xlabel(text["probability"], fontsize=8)
    k = len(examples[0].predictions) if examples else 0
    fig.suptitle(_titled(text["top_k"].format(k=k), pipeline, language))
    fig.tight_layout()
    return fig


def tsne_figure(embeddings: dict, labels, class_names, language: str = "es",
                max_points: int = 500, seed: int = 0):
    """t-SNE of each pipeline's penultimate-layer embeddings, side by side, coloured by class.

    `embeddings` maps pipeline -> (N, D) features of the same N test images; at most
    `max_points` of them (the same ones for every pipeline) are embedded.
    """
    labels = np.asarray(labels)
    n = len(labels)
    chosen = np.sort(np.random.default_rng(seed).choice(n, size=min(n, max_points), replace=False))
    num_classes = len(class_names)
    cmap = plt.get_cmap("tab10" if num_classes <= 10 else "tab20" if num_classes <= 20 else "turbo",
                        num_classes)
    fig, axes = plt.subplots(1, len(embeddings), figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN / 2),
                             squeeze=False)
    for ax, (pipeline, features) in zip(axes[0], embeddings.items()):
        tsne = TSNE(n_components=2, perplexity=min(30.0, (len(chosen) - 1) / 3), init="pca",
                    random_state=seed)
        points = tsne.fit_transform(np.asarray(features)[chosen])
        ax.scatter(points[:, 0], points[:, 1], c=labels[chosen], cmap=cmap, vmin=-0.5,
                   vmax=num_classes - 0.5, s=10)
        ax.set_title(pipeline_label(pipeline, language))
        ax.set_xticks([])
        ax.set_yticks([])
    if num_classes <= MAX_LEGEND_CLASSES:
        handles = [Line2D([], [], marker="o", linestyle="", color=cmap(i), label=_short(name, 16))
                   for i, name in enumerate(class_names)]
        fig.legend(handles=handles, loc="lower center", ncol=min(num_classes, 5), fontsize=8)
        fig.subplots_adjust(bottom=0.08 + 0.05 * math.ceil(num_classes / 5))
    fig.suptitle(TEXT[language]["tsne"])
    return fig


def robustness_curves(robustness: dict, language: str = "es"):
    """Accuracy vs severity, one panel per perturbation, one line per pipeline.

    `robustness` maps pipeline -> `Robustness`; severity 0 is the clean accuracy.
    """
    text = TEXT[language]
    perturbations = list(next(iter(robustness.values())).accuracy)
    columns = 3
    rows = math.ceil(len(perturbations) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(PAGE_WIDTH_IN, 3 * rows), sharex=True,
                             sharey=True, squeeze=False)
    for ax, perturbation in zip(axes.flat, perturbations):
        for pipeline, result in robustness.items():
            ax.plot([0, *result.severities], [result.clean, *result.accuracy[perturbation]],
                    marker="o", color=PIPELINE_COLORS.get(pipeline),
                    label=pipeline_label(pipeline, language))
        ax.set_title(text["perturbations"].get(perturbation, perturbation))
        ax.set_xticks([0, *next(iter(robustness.values())).severities])
        ax.set_ylim(0, 1.02)
    for ax in axes.flat[len(perturbations):]:
        ax.set_axis_off()
    axes[0, 0].legend(loc="best")
    fig.supxlabel(text["severity"])
    fig.supylabel(text["accuracy"])
    fig.suptitle(text["robustness"])
    fig.tight_layout()
    return fig


def reliability_diagram(calibration: dict, language: str = "es"):
    """Accuracy per confidence bin against the diagonal of perfect calibration, per pipeline.

    `calibration` maps pipeline -> `Calibration`; the ECE is in each panel's title.
    """
    text = TEXT[language]
    fig, axes = plt.subplots(1, len(calibration), figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN / 2.2),
                             sharey=True, squeeze=False)
    for ax, (pipeline, result) in zip(axes[0], calibration.items()):
        edges = np.asarray(result.bin_edges)
        accuracy = [0.0 if value is None else value for value in result.accuracy]
        ax.bar(edges[:-1], accuracy, width=np.diff(edges), align="edge", edgecolor="white",
               color=PIPELINE_COLORS.get(pipeline), label=text["accuracy"])
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label=text["perfect"])
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(text["confidence"])
        ax.set_title(f"{pipeline_label(pipeline, language)} — ECE {result.ece:.3f}")
        ax.legend(loc="upper left")
    axes[0, 0].set_ylabel(text["accuracy"])
    fig.suptitle(text["reliability"])
    fig.tight_layout()
    return fig
