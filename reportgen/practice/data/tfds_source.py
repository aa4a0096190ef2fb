"""TensorFlow Datasets: any TFDS image-classification dataset by name, delivered as NumPy arrays.

The image and label features are found in the builder's info. The dataset's own validation
and test splits are used where it has them; a missing one is a stratified hold-out of
train. Images stay encoded until the stratified subsets are chosen, so only the images
used are decoded (with Pillow, like the folder source).

TFDS imports TensorFlow, so it is imported inside functions: the other sources keep
working where Keras runs on JAX without TensorFlow installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reportgen.practice.config import DataConfig
from reportgen.practice.data.dataset import (
    Dataset,
    DataSourceError,
    Split,
    assemble,
    image_array,
    mask_array,
    open_image,
    short_hash,
    stratified_hold_out,
    stratified_sample,
)

OBJECT_MASKS = {"segmentation_mask": 1}  # mask feature -> pixel value of the object (Pets' trimap: 1 = pet)
VALIDATION_NAMES = ("validation", "val", "valid")
IDENTITY_FIELDS = ("image_size", "train_size", "val_size", "test_size", "resize", "seed")


def import_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as exc:
        raise DataSourceError(f"data.source 'tfds' needs tensorflow-datasets and TensorFlow, which cannot be "
                              f"imported here ({exc}). Install them, or use source 'embedded' or 'folder'.") from None
    return tfds


def tfds_data_dir(cfg: DataConfig) -> Path:
    """data.data_dir, else $TFDS_DATA_DIR, else TFDS's default ~/tensorflow_datasets."""
    return Path(cfg.data_dir or os.environ.get("TFDS_DATA_DIR") or Path.home() / "tensorflow_datasets").expanduser()


def tfds_identity(cfg: DataConfig) -> str:
    """Name, builder version (from the installed TFDS code, no download) and the subset settings."""
    tfds = import_tfds()
    name, _, version = cfg.name.partition(":")
    if not version:
        try:
            version = str(tfds.builder_cls(name).VERSION)
        except tfds.core.DatasetNotFoundError:
            version = None
    return short_hash({"source": "tfds", "name": name, "version": version,
                       **cfg.model_dump(include=set(IDENTITY_FIELDS))})


def prepared_builder(tfds, cfg: DataConfig):
    """The dataset's builder with its data on disk, or one DataSourceError saying how to get it there."""
    data_dir = tfds_data_dir(cfg)
    try:
        builder = tfds.builder(cfg.name, data_dir=str(data_dir))
    except tfds.core.DatasetNotFoundError:
        raise DataSourceError(f"data.name {cfg.name!r} is not a TensorFlow Datasets dataset; see "
                              f"https://www.tensorflow.org/datasets/catalog for the names.") from None
    if not builder.is_prepared():
        try:
            builder.download_and_prepare()
        except Exception as exc:  # the builder's own error: a missing module, no network, a bad file...
            raise DataSourceError(preparation_failure(cfg.name, data_dir, exc)) from exc
    return builder


def preparation_failure(name: str, data_dir: Path, exc: Exception) -> str:
    """Why download_and_prepare failed (the real exception first), then how to get the data another way."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
    advice = (f"Where this machine has no network, prepare it on one that has (`tfds build {name} "
              f"--data_dir {data_dir}`), copy that folder here and point data.data_dir (or TFDS_DATA_DIR) to it.")
    if isinstance(exc, ImportError):
        advice = (f"A module the TFDS builder needs is missing: install it (`pip install "
                  f"{getattr(exc, 'name', None) or 'the missing module'}`) and run again.")
    return (f"TFDS dataset {name!r} is not prepared in {data_dir}, and preparing it failed: "
            f"{type(exc).__name__}: {detail}. {advice}")


@dataclass
class FeatureKeys:
    """Which features of a TFDS example hold the image, the label and (optionally) the object mask."""

    image: str
    label: str
    mask: str | None = None

    def columns(self) -> list[str]:
        return [key for key in (self.image, self.label, self.mask) if key]


def detect_features(features, name: str, tfds) -> FeatureKeys:
    """Pick the class label and RGB image features, preferring the conventional names."""
    def first(kind, preferred: str) -> str | None:
        matching = [key for key, feature in features.items() if isinstance(feature, kind)]
        return preferred if preferred in matching else next(iter(matching), None)

    image = first(tfds.features.Image, "image")
    label = first(tfds.features.ClassLabel, "label")
    if image is None or label is None:
        raise DataSourceError(f"TFDS dataset {name!r} is not image classification: it needs an Image and a "
                              f"ClassLabel feature, and has {', '.join(features.keys())}.")
    mask = next((key for key in OBJECT_MASKS if key in features), None)
    return FeatureKeys(image, label, mask)


def read_encoded(tfds, builder, split: str, keys: FeatureKeys) -> dict[str, np.ndarray]:
    """One split's labels and still-encoded images (and masks), one array per feature."""
    skip_decoding = {key: tfds.decode.SkipDecoding() for key in keys.columns() if key != keys.label}
    decoders = tfds.decode.PartialDecoding({key: True for key in keys.columns()}, decoders=skip_decoding)
    examples = list(tfds.as_numpy(builder.as_dataset(split=split, decoders=decoders)))
    columns = {key: np.array([example[key] for example in examples], dtype=object) for key in keys.columns()}
    columns[keys.label] = columns[keys.label].astype(np.int64)
    return columns


def take(columns: dict[str, np.ndarray], indices: np.ndarray) -> dict[str, np.ndarray]:
    return {key: values[indices] for key, values in columns.items()}


def decode(columns: dict[str, np.ndarray], keys: FeatureKeys, cfg: DataConfig) -> Split:
    """Decode the chosen images (and masks) to cfg.image_size with cfg.resize."""
    images = np.stack([image_array(open_image(data), cfg.image_size, cfg.resize) for data in columns[keys.image]])
    masks = None
    if keys.mask:
        masks = np.stack([mask_array(open_image(data), cfg.image_size, cfg.resize, OBJECT_MASKS[keys.mask])
                          for data in columns[keys.mask]])
    return Split(images, columns[keys.label], masks)


def load_tfds(cfg: DataConfig) -> Dataset:
    """Load, split, subset and decode a TFDS dataset."""
    tfds = import_tfds()
    builder = prepared_builder(tfds, cfg)
    keys = detect_features(builder.info.features, cfg.name, tfds)
    available = list(builder.info.splits)
    validation = next((split for split in VALIDATION_NAMES if split in available), None)
    test = "test" if "test" in available else None
    rng = np.random.default_rng(cfg.seed)

    encoded = {"train": read_encoded(tfds, builder, "train", keys)}
    for role, original in (("test", test), ("val", validation)):
        if original:
            encoded[role] = read_encoded(tfds, builder, original, keys)
        else:
            kept, held_out = stratified_hold_out(encoded["train"][keys.label], getattr(cfg, f"{role}_size"),
                                                 rng, f"data.{role}_size")
            encoded[role] = take(encoded["train"], held_out)
            encoded["train"] = take(encoded["train"], kept)

    splits = {}
    for role, columns in encoded.items():
        chosen = stratified_sample(columns[keys.label], getattr(cfg, f"{role}_size"), rng)
        splits[role] = decode(take(columns, chosen), keys, cfg)
    hold_out = "train (stratified hold-out)"
    return assemble(cfg.name, "tfds", builder.info.features[keys.label].names, splits,
                    val_split=validation or hold_out, test_split=test or hold_out,
                    homepage=builder.info.homepage, version=str(builder.version))
