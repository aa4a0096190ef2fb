"""What every data source delivers: three splits of NumPy arrays plus the facts a page reports.

The sources (embedded, TFDS, image folders) differ in where pixels come from; they share
the helpers here: stratified subsets with a fixed seed, the resize policy, and the facts.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

SPLITS = ("train", "val", "test")
HOLD_OUT_FRACTION = 0.15  # of the images, for a missing validation or test split of unset size


class DataSourceError(RuntimeError):
    """The data cannot be loaded; the message names the dataset, the place looked in and the fix."""


@dataclass
class Split:
    """One split: raw images, integer labels and, where the source has them, object masks."""

    images: np.ndarray  # uint8 (N, H, W, 3), 0-255
    labels: np.ndarray  # int64 (N,)
    masks: np.ndarray | None = None  # bool (N, H, W): True on the object

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> Split:
        masks = None if self.masks is None else self.masks[indices]
        return Split(self.images[indices], self.labels[indices], masks)


@dataclass
class Dataset:
    """A loaded dataset: class names, the three splits and JSON-able facts for the page."""

    name: str
    source: str
    class_names: list[str]
    train: Split
    val: Split
    test: Split
    facts: dict

    def splits(self) -> dict[str, Split]:
        return {"train": self.train, "val": self.val, "test": self.test}


def short_hash(value) -> str:
    """A 16-character hash of a JSON-able value: names data in caches and on pages."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------------ stratified subsets

def apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Split the integer `total` in proportion to `weights`, rounding by largest remainder."""
    quotas = total * np.asarray(weights, dtype=float) / np.sum(weights)
    counts = np.floor(quotas).astype(int)
    largest_remainders = np.argsort(counts - quotas, kind="stable")[: total - counts.sum()]
    counts[largest_remainders] += 1
    return counts


def stratified_sample(labels: np.ndarray, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """Indices of `size` examples keeping each class's share (None = all), in random order.

    Random order matters: folder listings come class by class, and downstream code may take
    the first few images of a split. Unlike scikit-learn's stratified splitters this accepts
    classes with a single example, which small subsets of 102-class datasets have.
    """
    if size is None or size >= len(labels):
        return rng.permutation(len(labels))
    classes, counts = np.unique(labels, return_counts=True)
    take = apportion(counts, size)
    chosen = [rng.choice(np.flatnonzero(labels == c), k, replace=False) for c, k in zip(classes, take)]
    return rng.permutation(np.concatenate(chosen))


def stratified_hold_out(labels: np.ndarray, size: int | None, rng: np.random.Generator, field: str):
    """Split indices into (kept, held_out), holding out `size` stratified examples.

    Used where a dataset lacks a validation or test split; `size` None holds out
    HOLD_OUT_FRACTION of the examples. `field` names the setting in error messages.
    """
    if size is None:
        size = round(HOLD_OUT_FRACTION * len(labels))
    if not 0 < size < len(labels):
        raise DataSourceError(f"{field} {size}: cannot hold out that many of the {len(labels)} images "
                              f"available; lower it.")
    held_out = stratified_sample(labels, size, rng)
    kept = np.setdiff1d(np.arange(len(labels)), held_out)
    return kept, held_out


# ------------------------------------------------------------------------ pixels

def fit_image(image: Image.Image, size: int, policy: str, resample=Image.Resampling.BILINEAR) -> Image.Image:
    """Make a square `size` x `size` image: 'resize' squashes, 'crop' centre-crops, 'pad' letterboxes."""
    if policy == "crop":
        return ImageOps.fit(image, (size, size), method=resample)
    if policy == "pad":
        return ImageOps.pad(image, (size, size), method=resample, color=0)
    return image.resize((size, size), resample)


def open_image(source: str | Path | bytes) -> Image.Image:
    """Open a file path or encoded bytes (JPEG, PNG, ...) with Pillow, fully decoded."""
    image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    image.load()  # decode now, so a truncated file fails here and not later
    return image


def image_array(image: Image.Image, size: int, policy: str) -> np.ndarray:
    """An RGB uint8 array of shape (size, size, 3)."""
    return np.asarray(fit_image(image.convert("RGB"), size, policy), dtype=np.uint8)


def mask_array(mask: Image.Image, size: int, policy: str, object_value: int | None = None) -> np.ndarray:
    """A bool (size, size) object mask: pixels equal to `object_value`, or any non-zero pixel."""
    values = np.asarray(fit_image(mask.convert("L"), size, policy, Image.Resampling.NEAREST))
    return values == object_value if object_value is not None else values > 0


# ------------------------------------------------------------------------- facts

def class_counts(labels: np.ndarray, class_names: list[str]) -> dict[str, int]:
    counts = np.bincount(labels, minlength=len(class_names))
    return {name: int(n) for name, n in zip(class_names, counts)}


def imbalance_ratio(labels: np.ndarray, num_classes: int) -> float:
    """Largest over smallest class size, among the classes present."""
    counts = np.bincount(labels, minlength=num_classes)
    present = counts[counts > 0]
    return round(float(present.max() / present.min()), 3)


def assemble(name: str, source: str, class_names: list[str], splits: dict[str, Split], *,
             val_split: str, test_split: str, homepage: str | None = None,
             shortcut: float | None = None, skipped_files: list[str] | None = None,
             **extra_facts) -> Dataset:
    """Build a Dataset and its facts; every source reports the same keys."""
    train = splits["train"]
    facts = {
        "source": source,
        "name": name,
        "class_names": list(class_names),
        "num_classes": len(class_names),
        "image_size": int(train.images.shape[1]),
        "split_sizes": {split: len(splits[split]) for split in SPLITS},
        "class_counts": {split: class_counts(splits[split].labels, class_names) for split in SPLITS},
        "imbalance_ratio": imbalance_ratio(train.labels, len(class_names)),
        "val_split": val_split,
        "test_split": test_split,
        "has_masks": train.masks is not None,
        "shortcut": shortcut,
        "skipped_files": list(skipped_files or []),
        "homepage": homepage,
        **extra_facts,
    }
    return Dataset(name, source, list(class_names), splits["train"], splits["val"], splits["test"], facts)
