"""Figures about the data drawn at render time: how many images of each class in each split."""

from __future__ import annotations

from reportgen.practice.figures import PAGE_WIDTH_IN  # the figures' shared style (matplotlib only)
from reportgen.render.figures import drawer
from reportgen.render.strings import strings

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
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 3.8))
    for offset, (split, per_class) in enumerate(counts.items()):
        heights = [per_class.get(name, 0) for name in names]
        ax.bar(positions + (offset - (len(counts) - 1) / 2) * width, heights, width,
               color=SPLIT_COLORS.get(split), label=words["splits"].get(split, split))
    every = max(1, len(names) // 40)  # past 40 classes, label every few bars
    ax.set_xticks(positions[::every], [names[i] for i in positions[::every]],
                  rotation=90, fontsize=8 if len(names) <= 20 else 6)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_xlabel(words["class"])
    ax.set_ylabel(words["images"])
    ax.grid(axis="x", visible=False)
    title = words["counts"]
    if facts.get("imbalance_ratio") is not None:
        title += f" ({words['imbalance'].format(ratio=facts['imbalance_ratio'])})"
    ax.set_title(title, pad=24)
    ax.legend(ncols=len(counts), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return fig
