"""Augmentation pipelines: per-image Keras layers, batch MixUp/CutMix and label-risk warnings.

A pipeline is the ordered list of operations declared in the run file (`AugmentationConfig`).
`build_pipeline` turns it into a `keras.Sequential` of preprocessing layers that take and
return float images in 0-255; they only act when called with `training=True`, so the same
model can wrap them for training and skip them for evaluation. Consecutive geometric
operations (flip, rotation, zoom, translation, crop) become one `RandomAffine` layer that
resamples each image once. MixUp and CutMix change the labels too, so they work on a whole
batch of images and one-hot labels, in NumPy.
"""

from __future__ import annotations

import functools
import itertools
import math

import keras
import numpy as np
from keras import layers
from pydantic import TypeAdapter

from reportgen.practice.config import (AugmentationConfig, AugmentationOp, Brightness, Contrast, Mixing,
                              RandomErasing, Rotation, Translation, Zoom)

PIXEL_RANGE = (0.0, 255.0)
GEOMETRIC_OPS = ("flip", "rotation", "zoom", "translation", "random_resized_crop")


# ------------------------------------------------------------ geometric matrices
#
# Each geometric operation is a 3x3 matrix per image that takes an output pixel (x, y, 1)
# to the input pixel it reads, the convention of `keras.ops.image.affine_transform`. The
# formulas are those of the Keras layers of the same name, with pixel centres at integer
# coordinates and the image centre at ((width - 1) / 2, (height - 1) / 2).

def _matrices(a0, a1, a2, b0, b1, b2):
    """Stack per-image coefficients into matrices [[a0, a1, a2], [b0, b1, b2], [0, 0, 1]]."""
    zero, one = keras.ops.zeros_like(a0), keras.ops.ones_like(a0)
    rows = [a0, a1 + zero, a2 + zero, b0 + zero, b1 + zero, b2 + zero, zero, zero, one]
    return keras.ops.reshape(keras.ops.stack(rows, axis=1), (-1, 3, 3))


def flip_matrices(flipped, mode: str, height, width):
    """RandomFlip: mirror the flipped images; "horizontal_and_vertical" flips both axes at once."""
    mirror = 1 - 2 * keras.ops.cast(flipped, "float32")  # -1 for a flipped image, 1 otherwise
    keep = keras.ops.ones_like(mirror)
    sign_x = mirror if mode in ("horizontal", "horizontal_and_vertical") else keep
    sign_y = mirror if mode in ("vertical", "horizontal_and_vertical") else keep
    # A sign of -1 reads x' = (width - 1) - x: exact, since it lands on pixel centres.
    return _matrices(sign_x, 0, (1 - sign_x) / 2 * (width - 1), 0, sign_y, (1 - sign_y) / 2 * (height - 1))


def rotation_matrices(degrees, height, width):
    """RandomRotation: turn about the image centre, counter-clockwise for positive degrees."""
    radians = degrees * (math.pi / 180)
    cos, sin = keras.ops.cos(radians), keras.ops.sin(radians)
    centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
    return _matrices(cos, -sin, centre_x - centre_x * cos + centre_y * sin,
                     sin, cos, centre_y - centre_x * sin - centre_y * cos)


def zoom_matrices(zoom, height, width):
    """RandomZoom: read a region `zoom` times the image's size around its centre (above 1 zooms out)."""
    return _matrices(zoom, 0, (width - 1) / 2 * (1 - zoom), 0, zoom, (height - 1) / 2 * (1 - zoom))


def translation_matrices(shift_x, shift_y):
    """RandomTranslation: move the content by (shift_x, shift_y) pixels, right and down if positive."""
    return _matrices(keras.ops.ones_like(shift_x), 0, -shift_x, 0, 1, -shift_y)


def crop_matrices(side, left, top):
    """A square crop `side` times the image's side with its corner at (left, top), resized back."""
    return _matrices(side, 0, left, 0, side, top)


def compose(matrices: list):
    """One matrix doing the operations in order: M1 @ M2 @ ... @ Mn.

    The last operation's matrix acts first: the final pixel p reads the input of operation n
    at Mn p, which reads the input of operation n - 1 at M(n-1) Mn p, and so on.
    """
    return functools.reduce(keras.ops.matmul, matrices)


def warp(images, matrices):
    """Resample each image once through its matrix: bilinear, reflect fill, like the Keras layers."""
    transforms = keras.ops.reshape(matrices, (-1, 9))[:, :8]  # [a0, a1, a2, b0, b1, b2, 0, 0]
    return keras.ops.image.affine_transform(images, transforms, interpolation="bilinear", fill_mode="reflect")


def draw_matrices(op, batch_size, height, width, seed):
    """One matrix per image for `op`, drawn from the same distribution as its Keras layer.

    The draws follow the Keras layers call for call (same ranges, same order, same shapes
    flattened), so a `seed` generator seeded like a Keras layer's draws the same numbers.
    """
    uniform = functools.partial(keras.random.uniform, (batch_size,), seed=seed)
    match op.op:
        case "flip":
            return flip_matrices(uniform() <= 0.5, op.mode, height, width)
        case "rotation":  # factor: a fraction of a full turn, either way
            return rotation_matrices(uniform(-op.factor * 360, op.factor * 360), height, width)
        case "zoom":  # the same zoom on both axes, as RandomZoom without width_factor
            return zoom_matrices(uniform(1 - op.factor, 1 + op.factor), height, width)
        case "translation":  # factor: a fraction of the size; Keras draws the vertical shift first
            shift_y = uniform(-op.factor, op.factor) * height
            return translation_matrices(uniform(-op.factor, op.factor) * width, shift_y)
        case "random_resized_crop":  # area uniform in scale, position uniform inside the image
            side = keras.ops.sqrt(uniform(*op.scale))
            left = uniform() * (1 - side) * (width - 1)
            return crop_matrices(side, left, uniform() * (1 - side) * (height - 1))
    raise ValueError(f"{op.op!r} is not a geometric operation; geometric ones: {', '.join(GEOMETRIC_OPS)}")


# ----------------------------------------------------------------- per-image layers

class RandomAffine(layers.Layer):
    """Consecutive geometric operations as ONE warp per image.

    Each operation draws its matrix as the Keras layer of the same name would (random
    resized crop, which Keras lacks, keeps the area uniform in `scale` and the square inside
    the image); the matrices are multiplied in order and each image is resampled once.
    One warp instead of one per operation is faster and blurs less; it differs from the
    chain of layers only near the border, where a chained layer reflects an intermediate
    image that the fused warp never builds. Operation i draws from its own generator seeded
    `seed + i`, as the i-th layer of `build_pipeline(..., seed=seed)` would: fused and
    chained pipelines with one seed draw the same numbers. Identity unless training.
    """

    def __init__(self, ops: list, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.ops = as_ops(ops)
        self.seed = seed
        self.seed_generators = [keras.random.SeedGenerator(_seed_at(seed, position))
                                for position in range(len(self.ops))]
        # JAX builds the warp from ordinary array ops that XLA compiles; TensorFlow's warp
        # kernel (ImageProjectiveTransformV3) has no XLA version.
        self.supports_jit = keras.backend.backend() == "jax"

    def call(self, images, training=True):
        images = keras.ops.cast(images, self.compute_dtype)
        if not training:
            return images
        batch_size, height, width = keras.ops.shape(images)[:3]
        height, width = keras.ops.cast(height, "float32"), keras.ops.cast(width, "float32")
        matrices = [draw_matrices(op, batch_size, height, width, generator)
                    for op, generator in zip(self.ops, self.seed_generators)]
        return warp(images, compose(matrices))

    def get_config(self):
        return {**super().get_config(), "ops": [op.model_dump() for op in self.ops], "seed": self.seed}


# One builder per operation of the run file; strengths mean what reportgen.practice.config documents.
_LAYER_BUILDERS = {
    "flip": lambda op, seed: layers.RandomFlip(op.mode, seed=seed),
    "rotation": lambda op, seed: layers.RandomRotation(op.factor, fill_mode="reflect", seed=seed),
    "zoom": lambda op, seed: layers.RandomZoom(op.factor, fill_mode="reflect", seed=seed),
    "translation": lambda op, seed: layers.RandomTranslation(op.factor, op.factor, fill_mode="reflect",
                                                             seed=seed),
    "random_resized_crop": lambda op, seed: RandomAffine([op], seed=seed),  # Keras has no such layer
    "brightness": lambda op, seed: layers.RandomBrightness(op.factor, value_range=PIXEL_RANGE, seed=seed),
    "contrast": lambda op, seed: layers.RandomContrast(op.factor, value_range=PIXEL_RANGE, seed=seed),
    # RandomHue rotates the hue by up to factor / 2 of the colour wheel, either way.
    "hue": lambda op, seed: layers.RandomHue(op.factor, value_range=PIXEL_RANGE, seed=seed),
    # RandomSaturation multiplies saturation by k / (1 - k); this k range gives [1 - f, 1 + f].
    # Its value_range only clips the saturation channel, which lives in [0, 1] for any pixel
    # range (with (0, 255) oversaturated pixels turn negative).
    "saturation": lambda op, seed: layers.RandomSaturation(
        ((1 - op.factor) / (2 - op.factor), (1 + op.factor) / (2 + op.factor)),
        value_range=(0, 1), seed=seed),
    # A single float factor p would draw the probability itself in [0, p]; (p, p) is exact.
    "random_erasing": lambda op, seed: layers.RandomErasing(
        (op.probability, op.probability), scale=op.scale, value_range=PIXEL_RANGE, seed=seed),
}

_OPS_ADAPTER = TypeAdapter(list[AugmentationOp])


def as_ops(ops: list) -> list:
    """Validate a list of operations given as config models or plain dicts (e.g. from YAML)."""
    return _OPS_ADAPTER.validate_python(list(ops))


def _seed_at(seed: int | None, position: int) -> int | None:
    return None if seed is None else seed + position


def _fused_layers(ops: list, seed: int | None) -> list:
    """Each run of consecutive geometric operations as one RandomAffine, the rest one layer each.

    A run of flips alone stays RandomFlip layers: a flip needs no resampling.
    """
    pipeline_layers, position = [], 0
    for geometric, run in itertools.groupby(ops, key=lambda op: op.op in GEOMETRIC_OPS):
        run = list(run)
        if geometric and any(op.op != "flip" for op in run):
            pipeline_layers.append(RandomAffine(run, seed=_seed_at(seed, position)))
        else:
            pipeline_layers += [_LAYER_BUILDERS[op.op](op, _seed_at(seed, position + offset))
                                for offset, op in enumerate(run)]
        position += len(run)
    return pipeline_layers


def fuse_by_default() -> bool:
    """Whether fusing geometric operations pays on this Keras backend.

    On JAX the fused warp compiles with XLA and Keras' own layers do not (CPU benchmark: 90 vs
    60 img/s for the small CNN); on TensorFlow nothing compiles and fusing gains little (248 vs
    244 img/s), so there it is opt-in and Keras' own layers are the default.
    """
    return keras.backend.backend() == "jax"


def build_pipeline(ops: list, seed: int | None = None, name: str = "augmentation",
                   fused: bool | None = None) -> keras.Sequential:
    """The per-image operations, in order, as Keras layers: float 0-255 in, float 0-255 out.

    The operation at position i draws from seed + i, so two operations never draw the same
    numbers. `fused=True` turns each run of consecutive geometric operations into one
    `RandomAffine` warp; `fused=False` gives one layer per operation, Keras' own where Keras
    has one: the reference the fused layer is tested and benchmarked against. For one seed
    both draw the same numbers. `fused=None` picks what pays on the backend (`fuse_by_default`).
    An empty list gives an identity pipeline, so "no augmentation" is a valid baseline.
    """
    ops = as_ops(ops)
    if fuse_by_default() if fused is None else fused:
        pipeline_layers = _fused_layers(ops, seed)
    else:
        pipeline_layers = [_LAYER_BUILDERS[op.op](op, _seed_at(seed, position))
                           for position, op in enumerate(ops)]
    return keras.Sequential(pipeline_layers or [layers.Identity()], name=name)


def supports_xla(ops: list, fused: bool | None = None) -> bool:
    """Whether every layer of the pipeline can be XLA-compiled.

    Keras says no for its rotation, zoom and translation layers; the fused RandomAffine can be
    compiled on JAX, not on TensorFlow, whose warp kernel XLA cannot compile.
    """
    return all(layer.supports_jit for layer in build_pipeline(ops, fused=fused).layers)


# ------------------------------------------------------------------ batch mixing

def mixup(images, labels_onehot, alpha: float, rng: np.random.Generator, partner=None):
    """MixUp (Zhang et al., 2018): blend the batch with a shuffled copy of itself.

    One weight lam ~ Beta(alpha, alpha) per batch blends images and labels alike; image i
    is blended with image partner[i] (default: a random permutation).
    Returns float32 images, float32 labels and lam (the weight of the original image).
    """
    lam = float(rng.beta(alpha, alpha))
    partner = rng.permutation(len(images)) if partner is None else np.asarray(partner)
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels_onehot, dtype=np.float32)
    mixed_images = lam * images + (1 - lam) * images[partner]
    mixed_labels = lam * labels + (1 - lam) * labels[partner]
    return mixed_images, mixed_labels, lam


def cutmix(images, labels_onehot, alpha: float, rng: np.random.Generator, partner=None):
    """CutMix (Yun et al., 2019): paste a box from a shuffled copy of the batch.

    The box covers about 1 - Beta(alpha, alpha) of the image and lies fully inside it;
    image i receives the box from image partner[i] (default: a random permutation).
    Returns float32 images, float32 labels and lam, the fraction of each image that was
    kept: the labels weigh the original by exactly that area and the partner by the rest.
    """
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels_onehot, dtype=np.float32)
    height, width = images.shape[1:3]
    side = np.sqrt(1 - rng.beta(alpha, alpha))  # box side as a fraction of the image side
    box_height, box_width = round(height * side), round(width * side)
    top = rng.integers(0, height - box_height + 1)
    left = rng.integers(0, width - box_width + 1)
    partner = rng.permutation(len(images)) if partner is None else np.asarray(partner)

    mixed_images = images.copy()
    box = (slice(None), slice(top, top + box_height), slice(left, left + box_width))
    mixed_images[box] = images[partner][box]
    lam = 1 - (box_height * box_width) / (height * width)
    mixed_labels = lam * labels + (1 - lam) * labels[partner]
    return mixed_images, mixed_labels, float(lam)


def mix_batch(images, labels_onehot, mixup_cfg: Mixing | None, cutmix_cfg: Mixing | None,
              rng: np.random.Generator):
    """Apply MixUp, then CutMix, each independently with its own probability.

    Labels stay a convex combination of one-hot vectors whatever was applied.
    """
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels_onehot, dtype=np.float32)
    if mixup_cfg is not None and rng.random() < mixup_cfg.probability:
        images, labels, _ = mixup(images, labels, mixup_cfg.alpha, rng)
    if cutmix_cfg is not None and rng.random() < cutmix_cfg.probability:
        images, labels, _ = cutmix(images, labels, cutmix_cfg.alpha, rng)
    return images, labels


# -------------------------------------------------------------- presets and risks

# A sensible "advanced" stack for each kind of data, for run files that start from a preset.
PRESET_PIPELINES = {
    "natural": AugmentationConfig().advanced,
    "digits": [Rotation(op="rotation", factor=0.03), Zoom(op="zoom", factor=0.1),
               Translation(op="translation", factor=0.1), Contrast(op="contrast", factor=0.3),
               RandomErasing(op="random_erasing", probability=0.2, scale=(0.02, 0.1))],
    "text": [Rotation(op="rotation", factor=0.02), Zoom(op="zoom", factor=0.05),
             Translation(op="translation", factor=0.05), Brightness(op="brightness", factor=0.2),
             Contrast(op="contrast", factor=0.3)],
    "none": [],
}

MAX_SAFE_ROTATION_DEGREES = 15  # digits and text: beyond this 6/9, 1/7 or letters start to blur
MAX_SAFE_HUE_DEGREES = 18  # natural images whose class may be their colour
MAX_SAFE_TRANSLATION = 0.2  # digits and text: beyond this the symbol can leave the frame
MIN_SAFE_CROP_AREA = 0.5  # digits and text: smaller crops can cut the symbol away


def _risks(op, preset: str) -> list[tuple[str, dict]]:
    """The label risks of one operation for one kind of data, as (message key, values)."""
    symbols = preset in ("digits", "text")
    risks = []
    if op.op == "flip" and symbols:
        risks.append(("mirror", {"mode": op.mode.replace("_", " ")}))
    if op.op == "rotation" and symbols and op.factor * 360 > MAX_SAFE_ROTATION_DEGREES:
        risks.append(("rotation", {"degrees": op.factor * 360, "limit": MAX_SAFE_ROTATION_DEGREES}))
    if op.op == "translation" and symbols and op.factor > MAX_SAFE_TRANSLATION:
        risks.append(("translation", {"percent": op.factor * 100}))
    if op.op == "random_resized_crop" and symbols and op.scale[0] < MIN_SAFE_CROP_AREA:
        risks.append(("crop", {"percent": op.scale[0] * 100}))
    if op.op == "hue" and preset == "natural" and op.factor * 180 > MAX_SAFE_HUE_DEGREES:
        risks.append(("hue", {"degrees": op.factor * 180, "limit": MAX_SAFE_HUE_DEGREES}))
    return risks


def label_risks(ops: list, preset: str) -> list[dict]:
    """Operations known to risk changing the label on this kind of data, as numbers and keys.

    `preset` is the run file's `augmentation.preset` (natural, digits, text or none; none
    disables the checks). Each risk is {"risk": key, "op": name, ...values}; the page words it
    (reportgen.render.pipelines). The run still goes ahead: the page shows the risks.
    """
    return [{"risk": key, "op": op.op, **values} for op in as_ops(ops) for key, values in _risks(op, preset)]
