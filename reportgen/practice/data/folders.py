"""Image folders: `<path>/<class>/*.{jpg,jpeg,png}`, the layout of keras `image_dataset_from_directory`.

Optional object masks live in a parallel folder, `<masks_path>/<class>/<same stem>.png`
(non-zero = object). Validation and test are stratified hold-outs with the run's seed.
Files that cannot be decoded (or lack their mask) are skipped and reported, not fatal.
"""

from __future__ import annotations

import warnings
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

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
IDENTITY_FIELDS = ("image_size", "train_size", "val_size", "test_size", "resize", "seed")


def list_images(root: Path) -> tuple[list[str], list[Path], np.ndarray]:
    """Class names (sorted sub-folder names), image files and their labels."""
    if not root.is_dir():
        raise DataSourceError(f"data.path {root}: folder not found; it should hold one sub-folder per class.")
    class_names = sorted(folder.name for folder in root.iterdir() if folder.is_dir())
    files, labels = [], []
    for label, name in enumerate(class_names):
        for file in sorted((root / name).iterdir()):
            if file.suffix.lower() in IMAGE_SUFFIXES:
                files.append(file)
                labels.append(label)
    if len(class_names) < 2 or not files:
        raise DataSourceError(f"data.path {root}: found {len(class_names)} class folder(s) and {len(files)} "
                              f"image(s); it needs at least two sub-folders of .jpg/.jpeg/.png images.")
    return class_names, files, np.array(labels, dtype=np.int64)


def mask_file(image: Path, root: Path, masks_root: Path) -> Path:
    return (masks_root / image.relative_to(root)).with_suffix(".png")


def folder_identity(cfg: DataConfig) -> str:
    """A hash of the files' relative paths, sizes and modification times, plus the subset settings."""
    listing = []
    for root in filter(None, (cfg.path, cfg.masks_path)):
        for file in sorted(Path(root).rglob("*")):
            if file.is_file():
                stat = file.stat()
                listing.append((str(file.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    return short_hash({"source": "folder", "files": listing, **cfg.model_dump(include=set(IDENTITY_FIELDS))})


def decode_file(file: Path, cfg: DataConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """One image and, if the run has a masks folder, its object mask."""
    image = image_array(open_image(file), cfg.image_size, cfg.resize)
    if not cfg.masks_path:
        return image, None
    mask = open_image(mask_file(file, Path(cfg.path), Path(cfg.masks_path)))
    return image, mask_array(mask, cfg.image_size, cfg.resize)


def decode_files(files: list[Path], labels: np.ndarray, cfg: DataConfig, skipped: dict[str, str]) -> Split:
    """Decode a split; a file Pillow cannot read (or without its mask) goes to `skipped`, with the reason."""
    images, masks, kept = [], [], []
    for index, file in enumerate(files):
        try:
            image, mask = decode_file(file, cfg)
        except OSError as exc:  # missing, truncated or not an image (Pillow's UnidentifiedImageError)
            skipped[str(file.relative_to(cfg.path))] = str(exc)
            continue
        images.append(image)
        masks.append(mask)
        kept.append(index)
    return Split(np.stack(images), labels[kept], np.stack(masks) if cfg.masks_path else None)


def load_folder(cfg: DataConfig) -> Dataset:
    """Load a class-per-folder image collection, split it stratified, decode what is used."""
    root = Path(cfg.path)
    class_names, files, labels = list_images(root)
    rng = np.random.default_rng(cfg.seed)
    rest, test = stratified_hold_out(labels, cfg.test_size, rng, "data.test_size")
    train_in_rest, val_in_rest = stratified_hold_out(labels[rest], cfg.val_size, rng, "data.val_size")
    train, val = rest[train_in_rest], rest[val_in_rest]
    train = train[stratified_sample(labels[train], cfg.train_size, rng)]

    skipped: dict[str, str] = {}
    splits = {role: decode_files([files[i] for i in indices], labels[indices], cfg, skipped)
              for role, indices in (("train", train), ("val", val), ("test", test))}
    if skipped:
        warnings.warn(f"{root}: skipped {len(skipped)} unreadable image(s): "
                      + "; ".join(f"{name} ({reason})" for name, reason in skipped.items()), stacklevel=2)
    hold_out = "stratified hold-out"
    return assemble(root.name, "folder", class_names, splits, val_split=hold_out, test_split=hold_out,
                    skipped_files=sorted(skipped))
