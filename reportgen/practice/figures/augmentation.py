"""What augmentation does to the images: a mosaic of random draws and MixUp/CutMix examples."""

from __future__ import annotations

import math

import keras
import matplotlib.pyplot as plt
import numpy as np

from reportgen.practice import augmentation
from reportgen.practice.config import Mixing
from reportgen.practice.figures import PAGE_WIDTH_IN

ORIGINAL_FRAME_COLOR = "#222222"
MIXED_EXAMPLES = 4  # columns of the MixUp/CutMix figure
MIXERS = {"mixup": augmentation.mixup, "cutmix": augmentation.cutmix}
MIXER_NAMES = {"mixup": "MixUp", "cutmix": "CutMix"}  # the methods' own names, the same in every language


def _show(ax, image) -> None:
    """Draw a 0-255 image without ticks, grid or frame."""
    ax.imshow(np.clip(image, 0, 255).astype(np.uint8))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    _frame(ax, None)


def _frame(ax, color: str | None) -> None:
    """A coloured frame marks a cell; None removes the frame."""
    for spine in ax.spines.values():
        spine.set_visible(color is not None)
        if color is not None:
            spine.set_color(color)
            spine.set_linewidth(3)


def random_draws(image: np.ndarray, ops: list, count: int, seed: int) -> np.ndarray:
    """`count` independent draws of the pipeline on one 0-255 image, as float arrays."""
    copies = np.repeat(np.asarray(image, dtype=np.float32)[None], count, axis=0)
    if count == 0:
        return copies
    return keras.ops.convert_to_numpy(augmentation.build_pipeline(ops, seed)(copies, training=True))


def augmentation_mosaic(image: np.ndarray, ops: list, draws: int = 9, seed: int = 0) -> plt.Figure:
    """A square-ish mosaic of `draws` cells: the original image (framed, "0") and draws - 1 random draws.

    The draws come from one call of the pipeline in training mode on copies of the image,
    the same layers that run during training. Cells are numbered, not worded: the caption is
    written at render time in the page's language.
    """
    augmented = random_draws(image, ops, draws - 1, seed)
    columns = math.ceil(math.sqrt(draws))
    rows = math.ceil(draws / columns)
    cell = min(2.4, PAGE_WIDTH_IN / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(cell * columns, cell * rows + 0.4), squeeze=False)
    for position, ax in enumerate(axes.flat):
        if position >= draws:
            ax.set_visible(False)
            continue
        is_original = position == 0
        _show(ax, image if is_original else augmented[position - 1])
        if is_original:
            _frame(ax, ORIGINAL_FRAME_COLOR)
        ax.set_title(str(position), fontweight="bold" if is_original else "normal")
    fig.tight_layout()
    return fig


def mixed_label_text(label: np.ndarray, class_names: list[str]) -> str:
    """A mixed label as its classes by weight, e.g. "0.63 rosa / 0.37 azul"."""
    order = np.argsort(label)[::-1]
    return " / ".join(f"{label[k]:.2f} {class_names[k]}" for k in order if label[k] > 0.005)


def _pairs(labels: np.ndarray, count: int, rng: np.random.Generator) -> list[list[int]]:
    """`count` [image, partner] index pairs, partners of another class whenever one exists."""
    pairs = []
    for first in rng.choice(len(labels), size=count, replace=len(labels) < count):
        others = np.flatnonzero(labels != labels[first])
        candidates = others if len(others) else np.delete(np.arange(len(labels)), first)
        pairs.append([int(first), int(rng.choice(candidates))])
    return pairs


def mixing_figure(images: np.ndarray, labels: np.ndarray, class_names: list[str], mixup: Mixing | None,
                  cutmix: Mixing | None, seed: int = 0) -> plt.Figure:
    """Mixed training images with their mixed labels: one row for MixUp, one for CutMix.

    Each column mixes two images of different classes with its own draw of lambda, as
    the training batches do (there, one lambda per batch).
    """
    methods = [(name, cfg) for name, cfg in (("mixup", mixup), ("cutmix", cutmix)) if cfg is not None]
    if not methods:
        raise ValueError("mixing_figure: augmentation.mixup and augmentation.cutmix are both off; "
                         "there is nothing to show.")
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    onehot = np.eye(len(class_names), dtype=np.float32)[labels]
    row_height = PAGE_WIDTH_IN / MIXED_EXAMPLES + 0.5
    fig, axes = plt.subplots(len(methods), MIXED_EXAMPLES, figsize=(PAGE_WIDTH_IN, row_height * len(methods)),
                             squeeze=False)
    for row, (name, cfg) in zip(axes, methods):
        mix = MIXERS[name]
        for ax, pair in zip(row, _pairs(labels, MIXED_EXAMPLES, rng)):
            mixed, mixed_labels, lam = mix(images[pair], onehot[pair], cfg.alpha, rng, partner=[1, 0])
            _show(ax, mixed[0])
            ax.set_title(mixed_label_text(mixed_labels[0], class_names), fontsize=9)
            ax.set_xlabel(f"λ = {lam:.2f}", fontsize=9)
        row[0].set_ylabel(f"{MIXER_NAMES[name]} (α = {cfg.alpha:g})")
    fig.tight_layout()
    return fig
