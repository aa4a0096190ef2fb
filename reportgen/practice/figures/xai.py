"""Explanation figures made of images: heatmaps per model, and methods side by side.

They are drawn inside the practice (they need the images and maps) and carry no word that
depends on the page's language: class names, numbers, method names and the symbols ✓, ✗
and Δ; the caption written at render time says what the columns are. Figures made of
numbers (deletion/insertion curves, the randomisation cascade) are drawn at render time
by `reportgen.render.figures.xai`.

Images are drawn as the models take them (raw 0-255 pixels); heatmaps are (N, H, W) in
[0, 1], and Integrated Gradients attributions (N, H, W, C) are drawn as |attribution|
summed over channels.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from reportgen.practice.figures import PAGE_WIDTH_IN, plt
from reportgen.practice.xai import attribution_heatmap

METHOD_LABELS = {"gradcam": "Grad-CAM", "gradcam_plus_plus": "Grad-CAM++",
                 "integrated_gradients": "Integrated Gradients"}
HIT_COLOR, ERROR_COLOR = "#2E7D32", "#C62828"
HIT_MARK, ERROR_MARK = "✓", "✗"
GAP_SYMBOL = "Δ"  # IG's completeness gap; the caption, written at render time, says so
HEATMAP_CMAP = "jet"
OVERLAY_ALPHA = 0.45


def explanation_grid(images, maps_by_model: dict[str, np.ndarray], true, pred: dict[str, np.ndarray],
                     conf: dict[str, np.ndarray], class_names: list[str]) -> Figure:
    """Rows are images; columns: the original (titled with its class), then heatmap and overlay per model.

    `pred` and `conf` hold each model's predicted class and its confidence per image (same
    keys and order as `maps_by_model`, e.g. "baseline" then "advanced"), so both models are
    compared on the same images. Overlays are titled "✓ class (confidence)" in green for a
    hit and "✗ class (confidence)" in red for an error; the figure carries no other words
    (the page's caption names the columns in its language).
    """
    models = list(maps_by_model)
    fig, axes = _grid(len(images), 1 + 2 * len(models))
    for row, image in enumerate(images):
        _show_image(axes[row, 0], image, class_names[true[row]])
        for column, model in enumerate(models):
            heatmap = _heatmap(maps_by_model[model])[row]
            _show_heatmap(axes[row, 1 + 2 * column], heatmap, "")
            predicted = pred[model][row]
            hit = predicted == true[row]
            verdict = f"{HIT_MARK if hit else ERROR_MARK} {class_names[predicted]} ({conf[model][row]:.0%})"
            _show_overlay(axes[row, 2 + 2 * column], image, heatmap, verdict,
                          color=HIT_COLOR if hit else ERROR_COLOR)
    return fig


def method_comparison(images, maps_by_method: dict[str, np.ndarray], true, pred,
                      class_names: list[str], ig_gaps=None) -> Figure:
    """Rows are images; columns: the original, then one column per explanation method.

    The original is titled with its class and the model's prediction ("✓ class" for a hit,
    "class → predicted ✗" for an error). Heatmap methods (N, H, W) are overlaid on the image;
    attributions (N, H, W, C) from Integrated Gradients are shown as their own heatmap,
    titled with the per-image relative completeness gap `ig_gaps` as "Δ 1.2%" when given.
    """
    methods = list(maps_by_method)
    fig, axes = _grid(len(images), 1 + len(methods))
    for row, image in enumerate(images):
        hit = pred[row] == true[row]
        title = (f"{HIT_MARK} {class_names[true[row]]}" if hit
                 else f"{class_names[true[row]]} → {class_names[pred[row]]} {ERROR_MARK}")
        _show_image(axes[row, 0], image, title)
        axes[row, 0].title.set_color(HIT_COLOR if hit else ERROR_COLOR)
        for column, method in enumerate(methods, start=1):
            maps = np.asarray(maps_by_method[method])
            name = METHOD_LABELS.get(method, method)
            if maps.ndim == 4:
                gap = "" if ig_gaps is None else f"\n{GAP_SYMBOL} {ig_gaps[row]:.1%}"
                _show_heatmap(axes[row, column], attribution_heatmap(maps)[row], name + gap)
            else:
                _show_overlay(axes[row, column], image, maps[row], name)
    return fig


# ------------------------------------------------------------------------ drawing

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
