"""Classifiers: a backbone nested as a sub-model named "backbone", and a small head.

The model takes raw 0-255 images (float or uint8) and applies its backbone's own
preprocessing as its first layer, so no caller can feed the wrong input range::

    image (0-255) -> preprocessing -> backbone -> pooling -> dropout -> logits -> probabilities

"logits" is the Dense layer (explainability methods read it); "probabilities" its softmax,
kept in float32 under mixed precision. Pretrained backbones are frozen at first and run
in inference mode (BatchNorm uses its ImageNet statistics even while fine-tuning);
backbones trained from scratch, the small CNN included, train entirely and normally.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
from keras import layers

from reportgen.practice.config import ModelConfig

APPLICATIONS = {
    "mobilenetv2": keras.applications.MobileNetV2,
    "efficientnetb0": keras.applications.EfficientNetB0,
    "resnet50v2": keras.applications.ResNet50V2,
}

# (scale, offset) taking raw 0-255 pixels to what each backbone expects; the same as
# keras.applications.<family>.preprocess_input, written as a Rescaling layer.
PREPROCESSING = {
    "small_cnn": (1 / 255, 0.0),  # [0, 1]
    "mobilenetv2": (1 / 127.5, -1.0),  # [-1, 1]
    "resnet50v2": (1 / 127.5, -1.0),  # [-1, 1]
    "efficientnetb0": (1.0, 0.0),  # EfficientNet rescales and normalises inside the backbone
}

SMALL_CNN_FILTERS = (32, 64, 128, 128)


class WeightsUnavailableError(RuntimeError):
    """ImageNet weights could not be downloaded and are not in the Keras cache."""


def keras_weights_cache() -> Path:
    """Where Keras looks for downloaded weights: $KERAS_HOME/models, by default ~/.keras/models."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def is_pretrained(cfg: ModelConfig) -> bool:
    """Whether the backbone starts from learned weights (ImageNet or a file) rather than at random."""
    return cfg.weights != "none"


def small_cnn(image_size: int) -> keras.Model:
    """A compact CNN for CPU demos: conv-BatchNorm-ReLU blocks, max-pooled between blocks.

    One convolution per block keeps an epoch of a few thousand 64-96 px images within
    seconds on two CPU cores. It returns the last block's feature map (no pooling), like the
    Keras applications with include_top=False, so the head and the explainability code
    treat every backbone alike.
    """
    inputs = keras.Input((image_size, image_size, 3))
    x = inputs
    for block, filters in enumerate(SMALL_CNN_FILTERS, start=1):
        if block > 1:
            x = layers.MaxPooling2D(name=f"block{block}_pool")(x)
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"block{block}_conv")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"block{block}_bn")(x)  # short CPU runs: stats settle fast
        x = layers.Activation("relu", name=f"block{block}_relu")(x)
    return keras.Model(inputs, x, name="backbone")


def _application(cfg: ModelConfig, image_size: int) -> keras.Model:
    """A Keras application without its top, ImageNet weights if asked for, named "backbone"."""
    weights = "imagenet" if cfg.weights == "imagenet" else None
    build = APPLICATIONS[cfg.backbone]
    try:
        return build(include_top=False, weights=weights, input_shape=(image_size, image_size, 3),
                     name="backbone")
    except Exception as exc:  # keras.utils.get_file raises a bare Exception when offline
        if weights is None:
            raise
        raise WeightsUnavailableError(
            f"model.weights 'imagenet': could not download the ImageNet weights of {cfg.backbone} "
            f"({exc}). Keras caches weight files in {keras_weights_cache()} (set KERAS_HOME to move "
            f"it). Pre-download them on a machine with internet with `python -c \"import keras; "
            f"keras.applications.{build.__name__}(include_top=False, weights='imagenet')\"`, copy "
            f"the .h5 file it writes into that folder here, or set model.weights to the file's path."
        ) from exc


def build_backbone(cfg: ModelConfig, image_size: int) -> keras.Model:
    """The backbone sub-model, with the weights the config asks for."""
    if cfg.weights == "imagenet" and cfg.backbone == "small_cnn":
        raise ValueError("model.weights 'imagenet': small_cnn has no ImageNet weights; use 'none' or a "
                         "path to weights saved from a small_cnn backbone.")
    backbone = small_cnn(image_size) if cfg.backbone == "small_cnn" else _application(cfg, image_size)
    if cfg.weights not in ("imagenet", "none"):
        path = Path(cfg.weights).expanduser().absolute()  # the runner passes it resolved from the project root
        if not path.is_file():
            raise FileNotFoundError(f"model.weights: no weights file at {path}; use 'imagenet', 'none' "
                                    f"or the path of a weights file saved from a {cfg.backbone} backbone.")
        backbone.load_weights(path)
    return backbone


def build_classifier(cfg: ModelConfig, num_classes: int, image_size: int, seed: int = 0) -> keras.Model:
    """The classifier for raw 0-255 images of `image_size` px: preprocessing, backbone, head.

    `seed` fixes the initial weights of every layer that is not loaded from a file.
    """
    keras.utils.set_random_seed(seed)
    scale, offset = PREPROCESSING[cfg.backbone]
    backbone = build_backbone(cfg, image_size)
    backbone.trainable = not is_pretrained(cfg)

    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = layers.Rescaling(scale, offset, name="preprocessing")(inputs)
    # training=False keeps a pretrained backbone's BatchNorm in inference mode, even when fine-tuned.
    x = backbone(x, training=False) if is_pretrained(cfg) else backbone(x)
    x = layers.GlobalAveragePooling2D(name="pooling")(x)
    x = layers.Dropout(cfg.dropout, name="dropout")(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    probabilities = layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs, probabilities, name=f"{cfg.backbone}_classifier")


def unfreeze_top_layers(classifier: keras.Model, count: int) -> None:
    """Make the top `count` layers of the backbone trainable for fine-tuning (phase 2).

    BatchNormalization layers stay frozen: their statistics come from pretraining.
    Recompile the model afterwards for the change to take effect.
    """
    backbone = classifier.get_layer("backbone")
    backbone.trainable = True
    for position, layer in enumerate(backbone.layers):
        in_top = position >= len(backbone.layers) - count
        layer.trainable = in_top and not isinstance(layer, layers.BatchNormalization)
