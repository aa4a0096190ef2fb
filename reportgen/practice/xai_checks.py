"""Quantitative checks of explanations: do the heatmaps point at the object, and do they matter?

- `pointing_game` and `energy_in_mask` compare a heatmap with an object mask. On a
  shortcut dataset the energy *outside* the object is the evidence of the shortcut.
- `deletion_insertion` removes (or adds) pixels in order of attribution and follows the
  class probability (Petsiuk et al., 2018): a faithful map makes the deletion curve fall
  fast (low area) and the insertion curve rise fast (high area).
- `randomization_sanity_check` compares the explanations of the model with those of a copy
  whose top layers are re-initialised (Adebayo et al., 2018): a method that explains the
  model, not just the image, gives clearly different maps (low Spearman correlation).

Maps are (N, H, W) heatmaps; (N, H, W, C) attributions (Integrated Gradients) are turned
into heatmaps of |attribution| summed over channels first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.stats import rankdata, spearmanr

from reportgen.practice.xai import (
    as_image_batch,
    attribution_heatmap,
    class_targets,
    gradcam,
    image_step_batches,
    predict,
)

BLUR_SIGMA = 0.05  # blurred substrate for deletion/insertion: Gaussian sigma, as a share of the image side


# ------------------------------------------------------------------ object masks

def pointing_game(maps, masks) -> np.ndarray:
    """Per image, whether the heatmap's maximum lies on the object (an all-zero map never does)."""
    heatmaps = _heatmaps(maps)
    flat_maps = heatmaps.reshape(len(heatmaps), -1)
    flat_masks = _masks(masks, heatmaps.shape).reshape(len(heatmaps), -1)
    peak = flat_maps.argmax(axis=1)
    return flat_masks[np.arange(len(heatmaps)), peak] & (flat_maps.max(axis=1) > 0)


def energy_in_mask(maps, masks) -> np.ndarray:
    """Per image, the share of the heatmap's total that lies on the object (0 for an all-zero map)."""
    heatmaps = _heatmaps(maps)
    total = heatmaps.sum(axis=(1, 2))
    inside = (heatmaps * _masks(masks, heatmaps.shape)).sum(axis=(1, 2))
    return np.divide(inside, total, out=np.zeros_like(total), where=total > 0)


# ------------------------------------------------------------ deletion, insertion

@dataclass
class DeletionInsertion:
    """Class probability while the most attributed pixels are removed (deletion) or added (insertion)."""

    fractions: np.ndarray  # (S,) share of the pixels removed or added, from 0 to 1
    deletion: np.ndarray  # (N, S) probability of the explained class, per image and fraction
    insertion: np.ndarray  # (N, S)

    @property
    def deletion_auc(self) -> np.ndarray:
        """(N,) area under each deletion curve: lower means the map found what matters."""
        return np.trapezoid(self.deletion, self.fractions, axis=1)

    @property
    def insertion_auc(self) -> np.ndarray:
        """(N,) area under each insertion curve: higher means the map found what matters."""
        return np.trapezoid(self.insertion, self.fractions, axis=1)


def deletion_insertion(model, images, maps, class_index=None, steps: int = 20,
                       substrate: str = "black", batch_size: int = 64) -> DeletionInsertion:
    """Deletion and insertion curves over `steps` equal shares of the pixels, batched.

    Removed pixels are replaced by `substrate`: "black" or "blur" (the image blurred); the
    insertion curve starts from the substrate and puts the image's pixels back. The score is
    the model's output for the class: its probability for a softmax model.
    """
    images = as_image_batch(images)
    heatmaps = _heatmaps(maps)
    if heatmaps.shape != images.shape[:3]:
        raise ValueError(f"maps of shape {heatmaps.shape[1:]} do not match images of shape "
                         f"{images.shape[1:3]}: pass maps upsampled to the image size")
    targets = class_targets(model, images, class_index, batch_size)
    background = _substrate(images, substrate)
    ranks = _pixel_ranks(heatmaps)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.round(fractions * ranks[0].size)
    deletion, insertion = np.zeros((2, len(images), steps + 1), dtype=np.float32)
    pairs_per_call = max(1, batch_size // 2)  # each pair sends a deleted and an inserted image
    for image, step in image_step_batches(len(images), steps + 1, pairs_per_call):
        chosen = (ranks[image] < counts[step][:, None, None])[..., None]
        deleted = np.where(chosen, background[image], images[image])
        inserted = np.where(chosen, images[image], background[image])
        scores = predict(model, np.concatenate([deleted, inserted]), batch_size)
        scores = scores[np.arange(2 * len(image)), np.tile(targets[image], 2)]
        deletion[image, step], insertion[image, step] = np.split(scores, 2)
    return DeletionInsertion(fractions, deletion, insertion)


def _substrate(images: np.ndarray, kind: str) -> np.ndarray:
    if kind == "black":
        return np.zeros_like(images)
    if kind == "blur":
        sigma = BLUR_SIGMA * max(images.shape[1:3])
        return gaussian_filter(images, sigma=(0, sigma, sigma, 0))
    raise ValueError(f"substrate must be 'black' or 'blur', got {kind!r}")


def _pixel_ranks(heatmaps: np.ndarray) -> np.ndarray:
    """Each pixel's rank in its own map: 0 for the most attributed; ties in reading order."""
    flat = heatmaps.reshape(len(heatmaps), -1)
    ranks = rankdata(-flat, method="ordinal", axis=1) - 1
    return ranks.reshape(heatmaps.shape)


# ------------------------------------------------------------------ sanity check

@dataclass
class SanityCheck:
    """Explanations of the trained model and of a copy with re-initialised top layers."""

    randomized_layers: list[str]
    trained_maps: np.ndarray  # (N, H, W)
    randomized_maps: np.ndarray  # (N, H, W)
    spearman: np.ndarray  # (N,) rank correlation of the two maps: near 1 means the check fails

    @property
    def mean_spearman(self) -> float:
        return float(self.spearman.mean())


def randomization_sanity_check(model, images, explain: Callable = gradcam, top_layers: int = 1,
                               class_index=None) -> SanityCheck:
    """Model-randomisation test: `explain(model, images, class_index)` before and after.

    Both models explain the same classes (the trained model's predictions by default), so
    only the weights differ. The randomised model is a clone; `model` is never changed.
    """
    images = as_image_batch(images)
    targets = class_targets(model, images, class_index)
    randomized, names = randomized_copy(model, top_layers)
    trained_maps = _heatmaps(explain(model, images, targets))
    randomized_maps = _heatmaps(explain(randomized, images, targets))
    return SanityCheck(names, trained_maps, randomized_maps, _spearman(trained_maps, randomized_maps))


def randomized_copy(model, top_layers: int = 1) -> tuple[keras.Model, list[str]]:
    """A clone of `model` with its weights, except the top `top_layers` weighted layers, re-initialised.

    Nested models count layer by layer, so `top_layers=2` on the project's models re-initialises
    the logits layer and the backbone's last weighted layer. Returns the clone and those names.
    """
    if top_layers < 1:
        raise ValueError(f"top_layers must be at least 1, got {top_layers}")
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    chosen = _weighted_layers(clone)[-top_layers:]
    for layer in chosen:
        _reinitialise(layer)
    return clone, [layer.name for layer in chosen]


def _weighted_layers(model) -> list:
    """Layers that own weights, from input to output, nested models opened up."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found += _weighted_layers(layer)
        elif layer.weights:
            found.append(layer)
    return found


def _reinitialise(layer) -> None:
    """Draw fresh weights from the layer's own initialisers (those of a new layer, same config)."""
    fresh = layer.__class__.from_config(layer.get_config())
    fresh.build(layer.input.shape)
    layer.set_weights(fresh.get_weights())


def _spearman(maps_a: np.ndarray, maps_b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation per pair of maps; a constant map has no ranking and counts as 0."""
    correlations = []
    for a, b in zip(maps_a.reshape(len(maps_a), -1), maps_b.reshape(len(maps_b), -1)):
        constant = np.ptp(a) == 0 or np.ptp(b) == 0
        correlations.append(0.0 if constant else spearmanr(a, b).statistic)
    return np.array(correlations)


# ------------------------------------------------------------------------ helpers

def _heatmaps(maps) -> np.ndarray:
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 4:
        return attribution_heatmap(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must be heatmaps (N, H, W) or attributions (N, H, W, C), "
                         f"got shape {maps.shape}")
    return maps


def _masks(masks, shape) -> np.ndarray:
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.shape != shape:
        raise ValueError(f"object masks of shape {masks.shape} do not match the maps' shape {shape}")
    return masks.astype(bool)
