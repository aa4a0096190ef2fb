"""Figures about the data drawn at render time: sample images per class (samples.npz) and how many
images of each class each split holds (dataset.json)."""

from __future__ import annotations

from reportgen.render.figures import PAGE_WIDTH_IN, drawer, recorded_arrays
from reportgen.render.figures import images as cells
from reportgen.render.numbers import number
from reportgen.render.strings import strings

CLASS_LABEL_WIDTH_IN = 1.5  # left of the samples grid: the class names
CLASS_NAME_LENGTH = 18

SPLIT_COLORS = {"train": "#55A868", "val": "#8172B3", "test": "#937860"}


@drawer("class_distribution")
def class_distribution(run, language: str):
    """Grouped bars: images of each class in train, validation and test (from dataset.json)."""
    import matplotlib.pyplot as plt
    import numpy as np

    facts = run.facts.get("dataset") or {}
    counts = facts.get("class_counts")
    if not counts:
        return None
    words = strings(language)["figures"]
    names = facts["class_names"]
    positions = np.arange(len(names))
    width = 0.8 / len(counts)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 3.4), layout="constrained")
    for offset, (split, per_class) in enumerate(counts.items()):
        heights = [per_class.get(name, 0) for name in names]
        ax.bar(positions + (offset - (len(counts) - 1) / 2) * width, heights, width,
               color=SPLIT_COLORS.get(split), label=words["splits"].get(split, split))
    every = max(1, -(-len(names) // 45))  # past 45 classes the names would overlap: label every few bars
    ax.set_xticks(positions[::every], [cells.short(names[i], CLASS_NAME_LENGTH) for i in positions[::every]],
                  rotation=90)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_xlabel(words["class"])
    ax.set_ylabel(words["images"])
    ax.grid(axis="x", visible=False)
    title = words["counts"]
    if facts.get("imbalance_ratio") is not None:
        title += f" ({words['imbalance'].format(ratio=number(facts['imbalance_ratio'], language, 1))})"
    ax.set_title(title)
    fig.legend(ncols=len(counts), loc="outside upper center")
    return fig


@drawer("samples")
def samples_grid(run, language: str):
    """The recorded training images, one row per class, the class named on the left."""
    import numpy as np

    recorded = recorded_arrays(run, "samples")
    if recorded is None:
        return None
    names = cells.class_names(run)
    labels = recorded["labels"]
    classes = list(dict.fromkeys(int(label) for label in labels))  # in recorded order
    per_class = max(int(np.sum(labels == k)) for k in classes)
    cell = min(1.25, (PAGE_WIDTH_IN - CLASS_LABEL_WIDTH_IN) / per_class)
    fig, axes = cells.grid(len(classes), per_class, cell_height=cell, width=CLASS_LABEL_WIDTH_IN + cell * per_class)
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.02, hspace=0.02)
    for row, k in enumerate(classes):
        for column, image in enumerate(recorded["images"][labels == k]):
            cells.show_image(axes[row, column], image)
        name = names[k] if k < len(names) else str(k)
        axes[row, 0].set_ylabel(cells.short(name, CLASS_NAME_LENGTH), rotation=0, ha="right", va="center")
    return fig
