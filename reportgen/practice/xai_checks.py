"""Quantitative checks of explanations: do the heatmaps point at the object, and do they matter?

- `pointing_game` and `energy_in_mask` compare a heatmap with an object mask, and
  `model_free_baselines` scores two maps that never look at the image on the same masks:
  a centred Gaussian (the centre prior) and a uniform map. A map shows that a model looks
  at the object only when it beats both; the verdict itself is written at render time.
- `deletion_insertion` removes (or adds) pixels in order of attribution and follows the
  class probability (Petsiuk et al., 2018, RISE): deletion paints removed pixels with a
  constant canvas, insertion reveals the image over a blurred copy of it. A faithful map
  makes the deletion curve fall fast (low area) and the insertion curve rise fast (high area).
- `cascading_randomisation` is the model-randomisation test of Adebayo et al. (2018): the
  conv/dense layers are re-initialised one more at a time from the top, in several seeded
  draws, and each map of the randomised model is compared with the trained model's by
  Spearman rank correlation of the absolute maps. A method that explains the model, not
  the image, gives clearly different maps (|rho| near 0). A constant map has no ranking:
  its rho is NaN and it is counted apart, never as 0.

Maps are (N, H, W) heatmaps; (N, H, W, C) attributions (Integrated Gradients) are turned
into heatmaps of |attribution| summed over channels first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers
from scipy.ndimage import gaussian_filter
from scipy.stats import rankdata, spearmanr

from reportgen.errors import ExplanationError
from reportgen.practice.xai import (
    as_image_batch,
    attribution_heatmap,
    class_probabilities,
    class_targets,
    gradcam,
    image_step_batches,
    logit_view,
    predict,
    predict_logits,
)

BLUR_SIGMA = 0.05  # insertion substrate: Gaussian blur sigma, as a share of the image side (RISE blurs)
CENTRE_SIGMA = 0.15  # the centre-prior baseline: a Gaussian of this sigma (share of the side) at the centre
SUBSTRATES = ("black", "blur")
RANDOMISED_LAYERS = (layers.Conv2D, layers.DepthwiseConv2D, layers.SeparableConv2D, layers.Conv2DTranspose,
                     layers.Dense)


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


def centre_gaussian_maps(shape: tuple, sigma: float = CENTRE_SIGMA) -> np.ndarray:
    """(N, H, W) maps of a Gaussian at the image centre, `sigma` a share of the side: the centre prior."""
    count, height, width = shape
    rows = (np.arange(height) + 0.5 - height / 2) / (sigma * height)
    columns = (np.arange(width) + 0.5 - width / 2) / (sigma * width)
    blob = np.exp(-0.5 * (rows[:, None] ** 2 + columns[None, :] ** 2)).astype(np.float32)
    return np.broadcast_to(blob, (count, height, width))


def model_free_baselines(masks) -> dict[str, dict[str, np.ndarray]]:
    """Pointing game and energy in the mask, per image, of two maps that never look at the image.

    "centre": a centred Gaussian. "uniform": a flat map, whose energy in the mask is the
    object's area and whose peak, drawn at random, lands on the object with that probability.
    """
    masks = _masks(masks, np.shape(masks)[:3])
    area = masks.mean(axis=(1, 2))
    centre = centre_gaussian_maps(masks.shape)
    return {"centre": {"pointing_game": pointing_game(centre, masks).astype(float),
                       "energy_in_mask": energy_in_mask(centre, masks)},
            "uniform": {"pointing_game": area, "energy_in_mask": area}}


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
                       deletion_substrate: str = "black", insertion_substrate: str = "blur",
                       batch_size: int = 64) -> DeletionInsertion:
    """Deletion and insertion curves over `steps` equal shares of the pixels, batched.

    Deletion replaces the removed pixels with `deletion_substrate`; insertion starts from
    `insertion_substrate` and puts the image's pixels back ("black": a constant canvas of
    zeros; "blur": the image blurred, as RISE inserts). The score is the probability of the
    class, computed from the model's logits, so a model that outputs logits gives curves
    (and areas) in [0, 1] too.
    """
    images = as_image_batch(images)
    heatmaps = _heatmaps(maps)
    if heatmaps.shape != images.shape[:3]:
        raise ExplanationError(f"maps of shape {heatmaps.shape[1:]} do not match images of shape "
                               f"{images.shape[1:3]}: pass maps upsampled to the image size")
    logit_model = logit_view(model)
    targets = class_targets(predict_logits(logit_model, images, batch_size), class_index)
    removed, revealed_over = _substrate(images, deletion_substrate), _substrate(images, insertion_substrate)
    ranks = _pixel_ranks(heatmaps)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = np.round(fractions * ranks[0].size)
    deletion, insertion = np.zeros((2, len(images), steps + 1), dtype=np.float32)
    pairs_per_call = max(1, batch_size // 2)  # each pair sends a deleted and an inserted image
    for image, step in image_step_batches(len(images), steps + 1, pairs_per_call):
        chosen = (ranks[image] < counts[step][:, None, None])[..., None]
        deleted = np.where(chosen, removed[image], images[image])
        inserted = np.where(chosen, images[image], revealed_over[image])
        logits = predict(logit_model, np.concatenate([deleted, inserted]), batch_size)
        scores = class_probabilities(logits, np.tile(targets[image], 2))
        deletion[image, step], insertion[image, step] = np.split(scores, 2)
    return DeletionInsertion(fractions, deletion, insertion)


def _substrate(images: np.ndarray, kind: str) -> np.ndarray:
    if kind == "black":
        return np.zeros_like(images)
    if kind == "blur":
        sigma = BLUR_SIGMA * max(images.shape[1:3])
        return gaussian_filter(images, sigma=(0, sigma, sigma, 0))
    raise ExplanationError(f"substrate must be one of {SUBSTRATES}, got {kind!r}")


def _pixel_ranks(heatmaps: np.ndarray) -> np.ndarray:
    """Each pixel's rank in its own map: 0 for the most attributed; ties in reading order."""
    flat = heatmaps.reshape(len(heatmaps), -1)
    ranks = rankdata(-flat, method="ordinal", axis=1) - 1
    return ranks.reshape(heatmaps.shape)


# ------------------------------------------------------------------ sanity check

@dataclass
class RandomisationCascade:
    """Spearman rho between the trained model's maps and those of progressively randomised copies."""

    layers: list[str]  # conv/dense layers from the top; step k has layers[: k + 1] randomised
    spearman: np.ndarray  # (draws, steps, N) per image; NaN where either map is constant

    @property
    def constant(self) -> np.ndarray:
        """(draws, steps) how many image pairs had a constant map (no ranking, left out of the means)."""
        return np.isnan(self.spearman).sum(axis=2)

    @property
    def mean_per_draw(self) -> np.ndarray:
        """(draws, steps) mean rho over the images with a ranking (NaN when every map was constant)."""
        counted = (~np.isnan(self.spearman)).sum(axis=2)
        total = np.nansum(self.spearman, axis=2)
        return np.divide(total, counted, out=np.full(total.shape, np.nan), where=counted > 0)


def cascading_randomisation(model, images, explain: Callable = gradcam, class_index=None,
                            draws: int = 3, seed: int = 0) -> RandomisationCascade:
    """Adebayo et al.'s cascading model randomisation: `explain(model, images, class_index)` per step.

    Every step re-initialises one more conv/dense layer from the top (and the BatchNorm and
    other weighted layers above it), so the last step has every conv/dense layer random.
    Draw d uses the seed `seed + d`. Both models explain the same classes (the trained
    model's predictions by default), so only the weights differ; `model` is never changed.
    """
    if draws < 1:
        raise ExplanationError(f"draws must be at least 1, got {draws}")
    images = as_image_batch(images)
    targets = class_targets(predict_logits(logit_view(model), images), class_index)
    trained = _heatmaps(explain(model, images, targets))
    names = cascade_layers(model)
    spearman = np.full((draws, len(names), len(images)), np.nan)
    for draw in range(draws):
        for step, randomised in enumerate(randomised_copies(model, seed + draw)):
            spearman[draw, step] = _spearman(trained, _heatmaps(explain(randomised, images, targets)))
    return RandomisationCascade(names, spearman)


def cascade_layers(model) -> list[str]:
    """Names of the conv/dense layers, from the output down: the order of the cascade."""
    names = [layer.name for layer in reversed(_weighted_layers(model)) if isinstance(layer, RANDOMISED_LAYERS)]
    if not names:
        raise ExplanationError(f"model {model.name!r} has no conv or dense layer to randomise")
    return names


def randomised_copies(model, seed: int = 0) -> Iterator[keras.Model]:
    """One clone of `model`, yielded once per cascade step with one more layer re-initialised.

    Step k re-initialises every weighted layer from the top down to the k-th conv/dense
    layer (BatchNorm included), each from its own initialisers seeded by `seed`.
    """
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    weighted = list(reversed(_weighted_layers(clone)))
    for position, layer in enumerate(weighted):
        _reinitialise(layer, seed * 1000 + position)
        if isinstance(layer, RANDOMISED_LAYERS):
            yield clone


def _weighted_layers(model) -> list:
    """Layers that own weights, from input to output, nested models opened up."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found += _weighted_layers(layer)
        elif layer.weights:
            found.append(layer)
    return found


def _reinitialise(layer, seed: int) -> None:
    """Draw fresh weights from the layer's own initialisers (those of a new layer, same config), seeded."""
    config = layer.get_config()
    for key, value in config.items():
        if key.endswith("_initializer") and isinstance(value, dict) and "seed" in value.get("config", {}):
            value["config"]["seed"] = seed
    fresh = layer.__class__.from_config(config)
    fresh.build(layer.input.shape)
    layer.set_weights(fresh.get_weights())


def _spearman(maps_a: np.ndarray, maps_b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation per pair of absolute maps; NaN where a map is constant (no ranking)."""
    correlations = []
    for a, b in zip(np.abs(maps_a).reshape(len(maps_a), -1), np.abs(maps_b).reshape(len(maps_b), -1)):
        constant = np.ptp(a) == 0 or np.ptp(b) == 0
        correlations.append(np.nan if constant else spearmanr(a, b).statistic)
    return np.array(correlations)


# ------------------------------------------------------------------------ helpers

def _heatmaps(maps) -> np.ndarray:
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim == 4:
        return attribution_heatmap(maps)
    if maps.ndim != 3:
        raise ExplanationError(f"maps must be heatmaps (N, H, W) or attributions (N, H, W, C), "
                               f"got shape {maps.shape}")
    return maps


def _masks(masks, shape) -> np.ndarray:
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.shape != tuple(shape):
        raise ExplanationError(f"object masks of shape {masks.shape} do not match the maps' shape {shape}")
    return masks.astype(bool)
