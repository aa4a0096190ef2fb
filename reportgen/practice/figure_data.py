"""What the page's figures of images are drawn from, computed where the data and models are.

The practice records arrays (`Recorder.arrays`), never drawings: uint8 thumbnails of the images,
maps quantised to uint8, labels, predictions and mixing weights. The page draws them at build
time, in its own language (`reportgen.render.figures`). Thumbnails are about the size a page
shows a grid cell at, which keeps a run's results small.
"""

from __future__ import annotations

import numpy as np

from reportgen.record import MAP_LEVELS
# Largest side of a recorded image, per figure: about the size the page shows one of its cells at.
THUMBNAIL_SIDE = {"samples": 80, "mosaic": 128, "mixing": 112, "top5": 80, "gradcam": 96, "methods": 112}
SAMPLES_PER_CLASS = 4
MAX_CLASSES_SHOWN = 12  # rows of the samples grid; more would not be readable on a page
MIXED_PAIRS = 4  # rows of the MixUp/CutMix figure


def thumbnails(images, side: int) -> np.ndarray:
    """Images (N, H, W, C) as uint8, shrunk so that no side exceeds `side` (never enlarged)."""
    from PIL import Image

    pixels = np.clip(np.rint(np.asarray(images, dtype=np.float32)), 0, 255).astype(np.uint8)
    height, width = pixels.shape[1:3]
    scale = side / max(height, width)
    if scale >= 1:
        return pixels
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = [np.asarray(Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image)
                          .resize(size, Image.Resampling.LANCZOS)) for image in pixels]
    return np.stack(resized).reshape(len(pixels), size[1], size[0], -1)


def quantised_maps(maps, side: int) -> np.ndarray:
    """Heatmaps (N, H, W) in [0, 1] as uint8 (0-255), shrunk like `thumbnails`."""
    levels = np.rint(np.clip(np.asarray(maps, dtype=np.float32), 0, 1) * MAP_LEVELS).astype(np.uint8)
    return thumbnails(levels[..., None], side)[..., 0]


def samples(images, labels, num_classes: int) -> dict:
    """Up to SAMPLES_PER_CLASS training images of each of the first MAX_CLASSES_SHOWN classes."""
    labels = np.asarray(labels)
    index = np.concatenate([np.flatnonzero(labels == k)[:SAMPLES_PER_CLASS]
                            for k in range(min(num_classes, MAX_CLASSES_SHOWN))]).astype(int)
    return {"images": thumbnails(np.asarray(images)[index], THUMBNAIL_SIDE["samples"]), "labels": labels[index]}


def mosaic(image, pipeline, draws: int) -> dict:
    """One training image and `draws - 1` random draws of `pipeline` (a Keras model) on it, in training mode."""
    import keras

    copies = np.repeat(np.asarray(image, dtype=np.float32)[None], max(draws - 1, 0), axis=0)
    augmented = keras.ops.convert_to_numpy(pipeline(copies, training=True)) if len(copies) else copies
    side = THUMBNAIL_SIDE["mosaic"]
    return {"original": thumbnails(np.asarray(image)[None], side)[0], "draws": thumbnails(augmented, side)}


def mixing(images, labels, num_classes: int, mixup, cutmix, seed: int) -> dict:
    """MIXED_PAIRS pairs (x_i, x_j) of different classes, each mixed by MixUp and by CutMix with its own
    draw of lambda, the weight of x_i, as in training (there, one lambda per batch).

    Recorded: the pairs' images and labels, and per method its mixed images, lambdas and alpha.
    """
    from reportgen.practice.augmentation import cutmix as cutmix_pair
    from reportgen.practice.augmentation import mixup as mixup_pair

    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    onehot = np.eye(num_classes, dtype=np.float32)[labels]
    pairs = _pairs(labels, MIXED_PAIRS, rng)
    side = THUMBNAIL_SIDE["mixing"]
    recorded = {"first": thumbnails(images[pairs[:, 0]], side), "second": thumbnails(images[pairs[:, 1]], side),
                "first_label": labels[pairs[:, 0]], "second_label": labels[pairs[:, 1]]}
    for name, mix, cfg in (("mixup", mixup_pair, mixup), ("cutmix", cutmix_pair, cutmix)):
        if cfg is None:
            continue
        mixed, lambdas = [], []
        for pair in pairs:
            pixels, _, lam = mix(images[pair], onehot[pair], cfg.alpha, rng, partner=[1, 0])
            mixed.append(pixels[0])
            lambdas.append(lam)
        recorded |= {f"{name}_images": thumbnails(np.stack(mixed), side),
                     f"{name}_lambda": np.asarray(lambdas, dtype=np.float64), f"{name}_alpha": cfg.alpha}
    return recorded


def _pairs(labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` [image, partner] index pairs, partners of another class whenever one exists."""
    pairs = []
    for first in rng.choice(len(labels), size=count, replace=len(labels) < count):
        others = np.flatnonzero(labels != labels[first])
        candidates = others if len(others) else np.delete(np.arange(len(labels)), first)
        pairs.append([int(first), int(rng.choice(candidates))])
    return np.asarray(pairs, dtype=int)
