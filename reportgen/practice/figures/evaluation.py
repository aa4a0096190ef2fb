"""The one evaluation figure made of images: the top-k predictions on test images.

It carries no language-dependent words (class names come from the data; the page's caption
says what the figure shows); the figures made of numbers are drawn at render time
(`reportgen.render.figures.evaluation`).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from reportgen.practice.figures import PAGE_WIDTH_IN

TRUE_CLASS_COLOR = "#55A868"
OTHER_CLASS_COLOR = "#B0B0B0"


def short(name: str, length: int = 22) -> str:
    return name if len(name) <= length else name[: length - 1] + "…"


def top_k_figure(images, examples, columns: int = 2):
    """Each example image (titled with its true class) beside bars of its top-k probabilities,
    the true class in green.

    `images` is the test split; `examples` are `TopKExample`s whose `index` points into it.
    """
    rows = math.ceil(len(examples) / columns)
    fig, axes = plt.subplots(rows, 2 * columns, figsize=(PAGE_WIDTH_IN, 2.2 * rows), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.6] * columns})
    for ax in axes.flat:
        ax.set_axis_off()
    for i, example in enumerate(examples):
        image_ax, bar_ax = axes[i // columns, 2 * (i % columns)], axes[i // columns, 2 * (i % columns) + 1]
        image_ax.imshow(images[example.index])
        image_ax.set_title(short(example.true), fontsize=9, color=TRUE_CLASS_COLOR)
        names = [short(p.name, 18) for p in example.predictions]
        colors = [TRUE_CLASS_COLOR if p.class_index == example.true_index else OTHER_CLASS_COLOR
                  for p in example.predictions]
        bar_ax.set_axis_on()
        bar_ax.barh(range(len(names)), [p.probability for p in example.predictions], color=colors)
        bar_ax.set_yticks(range(len(names)), names, fontsize=8)
        bar_ax.invert_yaxis()  # most probable on top
        bar_ax.set_xlim(0, 1)
    fig.tight_layout()
    return fig
