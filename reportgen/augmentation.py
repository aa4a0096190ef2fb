"""Augmentation pipelines: per-image Keras layers, batch MixUp/CutMix and label-risk warnings.

A pipeline is the ordered list of operations declared in the run file (`AugmentationConfig`).
`build_pipeline` turns it into a `keras.Sequential` of preprocessing layers that take and
return float images in 0-255; they only act when called with `training=True`, so the same
model can wrap them for training and skip them for evaluation. MixUp and CutMix change the
labels too, so they work on a whole batch of images and one-hot labels, in NumPy.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers
from pydantic import TypeAdapter

from reportgen.config import (AugmentationConfig, AugmentationOp, Brightness, Contrast, Mixing,
                              RandomErasing, Rotation, Translation, Zoom)

PIXEL_RANGE = (0.0, 255.0)


# ----------------------------------------------------------------- per-image layers

class RandomResizedCropLayer(layers.Layer):
    """Crop a random square covering a `scale` fraction of the image and resize it back.

    Keras 3 has no such layer. The crop is one affine transform per image (the same
    mechanism as `RandomZoom`), with a random area in `scale` and a random position;
    unlike the Inception crop the aspect ratio stays square. Identity unless training.
    """

    def __init__(self, scale=(0.6, 1.0), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.scale = tuple(scale)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_jit = False  # like RandomZoom: the TF image transform op has no XLA kernel

    def call(self, images, training=True):
        if not training:
            return images
        batch_size, height, width = keras.ops.shape(images)[:3]
        area = keras.random.uniform((batch_size,), *self.scale, seed=self.seed_generator)
        side = keras.ops.sqrt(area)  # crop side as a fraction of the image side
        left = keras.random.uniform((batch_size,), seed=self.seed_generator) * (1 - side) * width
        top = keras.random.uniform((batch_size,), seed=self.seed_generator) * (1 - side) * height
        zero = keras.ops.zeros_like(side)
        # Output pixel (x, y) reads input pixel (side * x + left, side * y + top).
        transforms = keras.ops.stack([side, zero, left, zero, side, top, zero, zero], axis=1)
        return keras.ops.image.affine_transform(images, transforms, fill_mode="reflect")

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "seed": self.seed}


# One builder per operation of the run file; strengths mean what reportgen.config documents.
_LAYER_BUILDERS = {
    "flip": lambda op, seed: layers.RandomFlip(op.mode, seed=seed),
    "rotation": lambda op, seed: layers.RandomRotation(op.factor, fill_mode="reflect", seed=seed),
    "zoom": lambda op, seed: layers.RandomZoom(op.factor, fill_mode="reflect", seed=seed),
    "translation": lambda op, seed: layers.RandomTranslation(op.factor, op.factor, fill_mode="reflect",
                                                             seed=seed),
    "random_resized_crop": lambda op, seed: RandomResizedCropLayer(op.scale, seed=seed),
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


def build_pipeline(ops: list, seed: int | None = None, name: str = "augmentation") -> keras.Sequential:
    """The per-image operations, in order, as Keras layers: float 0-255 in, float 0-255 out.

    Each layer gets its own seed (seed + position) so two layers never draw the same numbers.
    An empty list gives an identity pipeline, so "no augmentation" is a valid baseline.
    """
    ops = as_ops(ops)
    pipeline_layers = [
        _LAYER_BUILDERS[op.op](op, None if seed is None else seed + position)
        for position, op in enumerate(ops)
    ]
    return keras.Sequential(pipeline_layers or [layers.Identity()], name=name)


def supports_xla(ops: list) -> bool:
    """Whether every layer of the pipeline can be XLA-compiled (Keras says no for the affine ones)."""
    return all(layer.supports_jit for layer in build_pipeline(ops).layers)


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

_RISK_MESSAGES = {
    "mirror": {
        "es": "{op}: en {preset} el volteo {mode} produce símbolos que no existen o cambian de clase "
              "(b/d, 6/9); quítalo o usa solo el que conserve la etiqueta.",
        "en": "{op}: on {preset} a {mode} flip produces symbols that do not exist or change class "
              "(b/d, 6/9); drop it or keep only a label-preserving flip.",
    },
    "rotation": {
        "es": "{op}: una rotación de hasta ±{degrees:.0f}° en {preset} puede cambiar la clase "
              "(6/9, 1/7); se recomienda como mucho ±{limit}°.",
        "en": "{op}: a rotation of up to ±{degrees:.0f}° on {preset} can change the class (6/9, 1/7); "
              "at most ±{limit}° is advised.",
    },
    "translation": {
        "es": "{op}: desplazar hasta un {percent:.0f}% puede sacar el símbolo del encuadre en {preset}.",
        "en": "{op}: shifting by up to {percent:.0f}% can move the symbol out of the frame on {preset}.",
    },
    "crop": {
        "es": "{op}: recortes de solo un {percent:.0f}% del área pueden dejar fuera el símbolo "
              "en {preset}.",
        "en": "{op}: crops of only {percent:.0f}% of the area can cut the symbol away on {preset}.",
    },
    "hue": {
        "es": "{op}: un giro de tono de hasta ±{degrees:.0f}° puede cambiar la clase cuando el color "
              "es la clase (las flores sintéticas integradas solo difieren en el color de los pétalos); "
              "se recomienda como mucho ±{limit}°.",
        "en": "{op}: a hue shift of up to ±{degrees:.0f}° can change the class when colour is the "
              "class (the embedded synthetic flowers differ only in petal colour); at most ±{limit}° "
              "is advised.",
    },
}

_PRESET_NAMES = {
    "es": {"natural": "imágenes naturales", "digits": "dígitos", "text": "texto", "none": "datos sin tipo"},
    "en": {"natural": "natural images", "digits": "digits", "text": "text", "none": "untyped data"},
}


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


def label_risk_warnings(ops: list, preset: str, language: str = "es") -> list[str]:
    """Warnings for operations known to risk changing the label on this kind of data.

    `preset` is the run file's `augmentation.preset` (natural, digits, text or none; none
    disables the checks). The run still goes ahead: the page shows the warnings.
    """
    preset_name = _PRESET_NAMES[language][preset]
    warnings = []
    for op in as_ops(ops):
        for key, values in _risks(op, preset):
            message = _RISK_MESSAGES[key][language]
            warnings.append(message.format(op=op.op, preset=preset_name, **values))
    return warnings


# ---------------------------------------------------------------- page table

_OP_NAMES = {
    "es": {"flip": "Volteo", "rotation": "Rotación", "zoom": "Zoom", "translation": "Traslación",
           "random_resized_crop": "Recorte aleatorio redimensionado", "brightness": "Brillo",
           "contrast": "Contraste", "hue": "Tono", "saturation": "Saturación",
           "random_erasing": "Borrado aleatorio", "mixup": "MixUp", "cutmix": "CutMix"},
    "en": {"flip": "Flip", "rotation": "Rotation", "zoom": "Zoom", "translation": "Translation",
           "random_resized_crop": "Random resized crop", "brightness": "Brightness",
           "contrast": "Contrast", "hue": "Hue", "saturation": "Saturation",
           "random_erasing": "Random erasing", "mixup": "MixUp", "cutmix": "CutMix"},
}

_FLIP_MODES = {
    "es": {"horizontal": "horizontal", "vertical": "vertical",
           "horizontal_and_vertical": "horizontal y vertical"},
    "en": {"horizontal": "horizontal", "vertical": "vertical",
           "horizontal_and_vertical": "horizontal and vertical"},
}

_AREA = {"es": "área", "en": "area"}
_PROBABILITY = {"es": "prob.", "en": "prob."}
_OF_SIZE = {"es": "del tamaño", "en": "of the size"}


def _strength(op, language: str) -> str:
    """The strength of one operation in words a reader can check against the mosaic."""
    area, probability = _AREA[language], _PROBABILITY[language]
    match op.op:
        case "flip":
            return _FLIP_MODES[language][op.mode]
        case "rotation":
            return f"±{op.factor * 360:.0f}°"
        case "hue":
            return f"±{op.factor * 180:.0f}°"
        case "translation":
            return f"±{op.factor:.0%} {_OF_SIZE[language]}"
        case "random_resized_crop":
            return f"{area} {op.scale[0]:.0%}–{op.scale[1]:.0%}"
        case "random_erasing":
            return f"{probability} {op.probability:g}, {area} {op.scale[0]:.0%}–{op.scale[1]:.0%}"
        case _:  # zoom, brightness, contrast, saturation: a relative change either way
            return f"±{op.factor:.0%}"


def describe_pipeline(ops: list, mixup: Mixing | None = None, cutmix: Mixing | None = None,
                      language: str = "es") -> list[dict]:
    """Rows {operation, strength} for the page's table of one pipeline, in order."""
    rows = [{"operation": _OP_NAMES[language][op.op], "strength": _strength(op, language)}
            for op in as_ops(ops)]
    for name, mixing in (("mixup", mixup), ("cutmix", cutmix)):
        if mixing is not None:
            strength = f"alpha {mixing.alpha:g}, {_PROBABILITY[language]} {mixing.probability:g}"
            rows.append({"operation": _OP_NAMES[language][name], "strength": strength})
    return rows
