"""Figures about the data: what the images look like (the class counts are drawn at render time)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from reportgen.practice.data import Dataset
from reportgen.practice.figures import PAGE_WIDTH_IN

MAX_CLASSES_SHOWN = 12  # rows of the samples grid; more would not be readable on a page
def samples_grid(dataset: Dataset, per_class: int = 4) -> plt.Figure:
    """A grid of training images, one row per class (at most MAX_CLASSES_SHOWN), named on the left.

    No words but the class names: the caption is written at render time, in the page's language.
    """
    classes = range(min(len(dataset.class_names), MAX_CLASSES_SHOWN))
    label_width, title_height = 1.6, 0.1  # inches left of the images, above them
    cell = min(1.2, (PAGE_WIDTH_IN - label_width) / per_class)
    width, height = label_width + cell * per_class, title_height + cell * len(classes)
    fig, axes = plt.subplots(len(classes), per_class, figsize=(width, height), squeeze=False)
    fig.subplots_adjust(left=label_width / width, right=1, bottom=0, top=1 - title_height / height,
                        wspace=0.04, hspace=0.04)
    for row in classes:
        examples = np.flatnonzero(dataset.train.labels == row)[:per_class]
        for column, ax in enumerate(axes[row]):
            if column < len(examples):
                ax.imshow(dataset.train.images[examples[column]])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[row, 0].set_ylabel(dataset.class_names[row], rotation=0, ha="right", va="center", fontsize=9)
    return fig
