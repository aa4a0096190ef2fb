"""What augmentation does to the images, drawn at render time from the arrays the practice recorded:
the mosaic (one image under random draws of the advanced pipeline, mosaic.npz) and MixUp/CutMix on
the same pairs of images (mixing.npz).

lambda has one meaning everywhere: the weight of the first image x_i (MixUp: of its pixels;
CutMix: the share of its area that remains), as in the formula the page shows above the figure.
"""

from __future__ import annotations

import math

from reportgen.render.figures import PAGE_WIDTH_IN, drawer, recorded_arrays
from reportgen.render.figures import images as cells
from reportgen.render.numbers import general, number
from reportgen.render.strings import strings

ORIGINAL_FRAME_COLOR = "#222222"
MIXERS = {"mixup": "MixUp", "cutmix": "CutMix"}  # the methods' own names, the same in every language
CLASS_NAME_LENGTH = 18


@drawer("mosaic")
def mosaic(run, language: str):
    """A square-ish mosaic: the original image (framed) first, then the pipeline's random draws."""
    recorded = recorded_arrays(run, "mosaic")
    if recorded is None:
        return None
    words = strings(language)["figures"]
    shown = [recorded["original"], *recorded["draws"]]
    columns = math.ceil(math.sqrt(len(shown)))
    rows = math.ceil(len(shown) / columns)
    cell = min(2.0, PAGE_WIDTH_IN / columns)
    fig, axes = cells.grid(rows, columns, cell_height=cell + 0.25, width=cell * columns)
    for position, ax in enumerate(axes.flat):
        if position >= len(shown):
            ax.set_visible(False)
            continue
        cells.show_image(ax, shown[position])
        if position == 0:
            cells.frame(ax, ORIGINAL_FRAME_COLOR)
            ax.set_title(words["original"], fontweight=cells.HEADER_WEIGHT)
        else:
            ax.set_title(words["draw"].format(n=position))
    return fig


@drawer("mixing")
def mixing(run, language: str):
    """One row per pair: x_i, x_j (each with its class), then each recorded method's mixed image with
    its lambda: the weight of x_i in the image and in the label (x_j weighs 1 - lambda)."""
    recorded = recorded_arrays(run, "mixing")
    if recorded is None:
        return None
    words, names = strings(language)["figures"], cells.class_names(run)
    methods = [name for name in MIXERS if f"{name}_images" in recorded]
    rows = len(recorded["first"])
    fig, axes = cells.grid(rows, 2 + len(methods), cell_height=1.85, width=min(PAGE_WIDTH_IN, 1.5 * (2 + len(methods))))
    headers = [words["first_image"], words["second_image"]]
    headers += [f"{MIXERS[m]} (α = {general(float(recorded[f'{m}_alpha']), language)})" for m in methods]
    cells.column_headers(axes[0], headers)
    for row in range(rows):
        first, second = (names[int(recorded[key][row])] for key in ("first_label", "second_label"))
        for ax, image, name in ((axes[row, 0], recorded["first"][row], first),
                                (axes[row, 1], recorded["second"][row], second)):
            cells.show_image(ax, image)
            ax.set_xlabel(cells.short(name, CLASS_NAME_LENGTH))
        for column, method in enumerate(methods, start=2):
            lam = float(recorded[f"{method}_lambda"][row])
            cells.show_image(axes[row, column], recorded[f"{method}_images"][row])
            axes[row, column].set_xlabel(words["lambda"].format(value=number(lam, language, 2)))
    return fig
