"""Building blocks of the figures made of images: grids with column headers, heatmaps with a colour bar.

Images arrive as the practice recorded them (uint8 pixels, `Recorder.arrays`), heatmaps as uint8
quantised from [0, 1]; every word around them comes from the strings table at render time.
"""

from __future__ import annotations

import numpy as np

from reportgen.record import MAP_LEVELS
from reportgen.render.figures import PAGE_WIDTH_IN

HEATMAP_CMAP = "jet"
OVERLAY_ALPHA = 0.45
HEADER_WEIGHT = "bold"


def short(name: str, length: int = 18) -> str:
    """A class name cut to fit a cell, with an ellipsis."""
    name = str(name)
    return name if len(name) <= length else name[: length - 1] + "…"


def class_names(run) -> list[str]:
    """The dataset's class names as recorded (dataset.json, else metrics.json)."""
    for fact in ("dataset", "metrics"):
        names = (run.facts.get(fact) or {}).get("class_names")
        if names:
            return list(names)
    return []


def detail_seed(run, pipeline: str) -> int | None:
    """The seed whose model the detailed figures show (the practice's detail seed)."""
    pipelines = (run.facts.get("metrics") or {}).get("pipelines", {})
    return pipelines.get(pipeline, {}).get("detail_seed")


def grid(rows: int, columns: int, cell_height: float, width: float = PAGE_WIDTH_IN, **gridspec):
    """A figure of rows x columns cells, each without ticks or frame; cells keep their labels."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, columns, figsize=(width, cell_height * rows), squeeze=False,
                             layout="constrained", gridspec_kw=gridspec or None)
    for ax in axes.flat:
        blank(ax)
    return fig, axes


def blank(ax) -> None:
    """No ticks, grid or frame, but the title and axis labels still show."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def frame(ax, color: str) -> None:
    """A coloured frame marks one cell (the original image of a mosaic)."""
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(color)
        spine.set_linewidth(2.5)


def column_headers(axes_row, headers: list[str]) -> None:
    """Bold titles over the first row: what each column is, in the page's language."""
    for ax, header in zip(axes_row, headers):
        ax.set_title(header, fontweight=HEADER_WEIGHT)


def show_image(ax, pixels) -> None:
    pixels = np.asarray(pixels)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        ax.imshow(pixels[..., 0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(pixels)


def show_heatmap(ax, recorded_map, image=None):
    """A recorded map in [0, 1] (uint8 / 255), over the image when one is given; returns the mappable."""
    values = np.asarray(recorded_map, dtype=np.float32) / MAP_LEVELS
    if image is None:
        return ax.imshow(values, cmap=HEATMAP_CMAP, vmin=0, vmax=1)
    show_image(ax, image)
    return ax.imshow(values, cmap=HEATMAP_CMAP, vmin=0, vmax=1, alpha=OVERLAY_ALPHA,
                     extent=(-0.5, np.shape(image)[1] - 0.5, np.shape(image)[0] - 0.5, -0.5))


def heatmap_colorbar(fig, axes, mappable, label: str, language: str) -> None:
    """One horizontal colour bar under the grid for every heatmap in it (they share the 0-1 scale)."""
    from reportgen.render.numbers import general

    bar = fig.colorbar(mappable, ax=axes, location="bottom", shrink=0.7, aspect=45, pad=0.02)
    bar.set_ticks([0, 0.25, 0.5, 0.75, 1], labels=[general(v, language) for v in (0, 0.25, 0.5, 0.75, 1)])
    bar.set_label(label)
    bar.outline.set_visible(False)
