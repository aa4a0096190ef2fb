"""Explanation figures: heatmaps per model, methods side by side, deletion/insertion curves.

Images are drawn as the models take them (raw 0-255 pixels); heatmaps are (N, H, W) in
[0, 1], and Integrated Gradients attributions (N, H, W, C) are drawn as |attribution|
summed over channels.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from reportgen.practice.figures import PAGE_WIDTH_IN, PIPELINE_COLORS, pipeline_label, plt
from reportgen.practice.xai import attribution_heatmap

LABELS = {
    "es": {"true": "real", "pred": "pred.", "heatmap": "mapa", "gap": "brecha de completitud",
           "deletion": "Eliminación (más baja = mejor)", "insertion": "Inserción (más alta = mejor)",
           "fraction": "Fracción de píxeles", "probability": "Probabilidad de la clase"},
    "en": {"true": "true", "pred": "pred.", "heatmap": "heatmap", "gap": "completeness gap",
           "deletion": "Deletion (lower is better)", "insertion": "Insertion (higher is better)",
           "fraction": "Fraction of pixels", "probability": "Class probability"},
}
METHOD_LABELS = {"gradcam": "Grad-CAM", "gradcam_plus_plus": "Grad-CAM++",
                 "integrated_gradients": "Integrated Gradients"}
HIT_COLOR, ERROR_COLOR = "#2E7D32", "#C62828"
HEATMAP_CMAP = "jet"
OVERLAY_ALPHA = 0.45


def explanation_grid(images, maps_by_model: dict[str, np.ndarray], true, pred: dict[str, np.ndarray],
                     conf: dict[str, np.ndarray], class_names: list[str], title: str = "",
                     language: str = "es") -> Figure:
    """Rows are images; columns: the original, then heatmap and overlay for each model.

    `pred` and `conf` hold each model's predicted class and its confidence per image (same
    keys as `maps_by_model`, e.g. "baseline" and "advanced"), so both models are compared on
    the same images; overlay titles are green for hits and red for errors.
    """
    text = _labels(language)
    models = list(maps_by_model)
    fig, axes = _grid(len(images), 1 + 2 * len(models))
    for row, image in enumerate(images):
        _show_image(axes[row, 0], image, f"{text['true']}: {class_names[true[row]]}")
        for column, model in enumerate(models):
            name = _series_label(model, language)
            heatmap = _heatmap(maps_by_model[model])[row]
            _show_heatmap(axes[row, 1 + 2 * column], heatmap, f"{name}: {text['heatmap']}")
            predicted = pred[model][row]
            verdict = f"{name}: {text['pred']} {class_names[predicted]} ({conf[model][row]:.0%})"
            _show_overlay(axes[row, 2 + 2 * column], image, heatmap, verdict,
                          color=HIT_COLOR if predicted == true[row] else ERROR_COLOR)
    if title:
        fig.suptitle(title)
    return fig


def method_comparison(images, maps_by_method: dict[str, np.ndarray], true, pred,
                      class_names: list[str], ig_gaps=None, title: str = "",
                      language: str = "es") -> Figure:
    """Rows are images; columns: the original, then one column per explanation method.

    Heatmap methods (N, H, W) are overlaid on the image; attributions (N, H, W, C) from
    Integrated Gradients are shown as their own heatmap, titled with the per-image relative
    completeness gap `ig_gaps` when given.
    """
    text = _labels(language)
    methods = list(maps_by_method)
    fig, axes = _grid(len(images), 1 + len(methods))
    for row, image in enumerate(images):
        _show_image(axes[row, 0], image, f"{text['true']}: {class_names[true[row]]}\n"
                                         f"{text['pred']}: {class_names[pred[row]]}")
        for column, method in enumerate(methods, start=1):
            maps = np.asarray(maps_by_method[method])
            name = METHOD_LABELS.get(method, method)
            if maps.ndim == 4:
                gap = "" if ig_gaps is None else f"\n{text['gap']}: {ig_gaps[row]:.1%}"
                _show_heatmap(axes[row, column], attribution_heatmap(maps)[row], name + gap)
            else:
                _show_overlay(axes[row, column], image, maps[row], name)
    if title:
        fig.suptitle(title)
    return fig


def deletion_insertion_figure(curves: dict, language: str = "es", title: str = "") -> Figure:
    """Mean deletion and insertion curves (`reportgen.practice.xai_checks.DeletionInsertion`), AUC in the legend.

    `curves` is keyed by model ("baseline", "advanced") or by method ("gradcam", ...).
    """
    text = _labels(language)
    fig, (deletion_ax, insertion_ax) = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.8), sharey=True)
    for key, result in curves.items():
        name = _series_label(key, language)
        color = PIPELINE_COLORS.get(key)
        deletion_ax.plot(result.fractions, result.deletion.mean(axis=0), color=color,
                         label=f"{name} (AUC {result.deletion_auc.mean():.3f})")
        insertion_ax.plot(result.fractions, result.insertion.mean(axis=0), color=color,
                          label=f"{name} (AUC {result.insertion_auc.mean():.3f})")
    for ax, panel in ((deletion_ax, "deletion"), (insertion_ax, "insertion")):
        ax.set(title=text[panel], xlabel=text["fraction"], xlim=(0, 1), ylim=(0, 1.02))
        ax.legend()
    deletion_ax.set_ylabel(text["probability"])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------ drawing

def _labels(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["en"])


def _series_label(key: str, language: str) -> str:
    return METHOD_LABELS.get(key) or pipeline_label(key, language)


def _heatmap(maps) -> np.ndarray:
    maps = np.asarray(maps)
    return attribution_heatmap(maps) if maps.ndim == 4 else maps


def _grid(rows: int, columns: int):
    cell = PAGE_WIDTH_IN / columns
    fig, axes = plt.subplots(rows, columns, figsize=(PAGE_WIDTH_IN, cell * rows * 1.2),
                             squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes


def _show_image(ax, image, title: str) -> None:
    pixels = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
    if pixels.shape[-1] == 1:
        ax.imshow(pixels[..., 0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(pixels)
    ax.set_title(title, fontsize=8)


def _show_heatmap(ax, heatmap, title: str) -> None:
    ax.imshow(heatmap, cmap=HEATMAP_CMAP, vmin=0, vmax=1)
    ax.set_title(title, fontsize=8)


def _show_overlay(ax, image, heatmap, title: str, color: str = "black") -> None:
    _show_image(ax, image, title)
    ax.imshow(heatmap, cmap=HEATMAP_CMAP, vmin=0, vmax=1, alpha=OVERLAY_ALPHA)
    ax.title.set_color(color)
