"""Figures about the data: what the images look like and how many there are of each class."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from reportgen.practice.data import Dataset
from reportgen.practice.figures import PAGE_WIDTH_IN

MAX_CLASSES_SHOWN = 12  # rows of the samples grid; more would not be readable on a page
SPLIT_COLORS = {"train": "#55A868", "val": "#8172B3", "test": "#937860"}
TEXT = {
    "es": {"samples": "Ejemplos de entrenamiento por clase", "shown": "{shown} de {total} clases",
           "counts": "Imágenes por clase y partición", "imbalance": "desbalance en entrenamiento {ratio:.1f}×",
           "images": "imágenes", "class": "clase",
           "train": "entrenamiento", "val": "validación", "test": "prueba"},
    "en": {"samples": "Training samples per class", "shown": "{shown} of {total} classes",
           "counts": "Images per class and split", "imbalance": "training imbalance {ratio:.1f}×",
           "images": "images", "class": "class",
           "train": "train", "val": "validation", "test": "test"},
}


def samples_grid(dataset: Dataset, per_class: int = 4, language: str = "es") -> plt.Figure:
    """A grid of training images, one row per class (at most MAX_CLASSES_SHOWN), named on the left."""
    text = TEXT[language]
    classes = range(min(len(dataset.class_names), MAX_CLASSES_SHOWN))
    label_width, title_height = 1.6, 0.4  # inches left of the images, above them
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
    title = text["samples"]
    if len(dataset.class_names) > MAX_CLASSES_SHOWN:
        title += f" ({text['shown'].format(shown=MAX_CLASSES_SHOWN, total=len(dataset.class_names))})"
    fig.suptitle(title)
    return fig


def class_distribution(dataset: Dataset, language: str = "es") -> plt.Figure:
    """Grouped bars: images of each class in train, validation and test."""
    text = TEXT[language]
    num_classes = len(dataset.class_names)
    positions = np.arange(num_classes)
    width = 0.8 / 3
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 3.8))
    for offset, (split, data) in enumerate(dataset.splits().items()):
        counts = np.bincount(data.labels, minlength=num_classes)
        ax.bar(positions + (offset - 1) * width, counts, width, color=SPLIT_COLORS[split], label=text[split])
    every = max(1, num_classes // 40)  # past 40 classes, label every few bars
    ax.set_xticks(positions[::every], [dataset.class_names[i] for i in positions[::every]],
                  rotation=90, fontsize=8 if num_classes <= 20 else 6)
    ax.set_xlim(-0.6, num_classes - 0.4)
    ax.set_xlabel(text["class"])
    ax.set_ylabel(text["images"])
    ax.grid(axis="x", visible=False)
    ax.set_title(f"{text['counts']} ({text['imbalance'].format(ratio=dataset.facts['imbalance_ratio'])})",
                 pad=24)
    ax.legend(ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return fig
