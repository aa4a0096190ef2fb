"""The image-folder source, on a temporary folder with one corrupt file; and the no-TensorFlow promise."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from reportgen.practice.config import DataConfig
from reportgen.practice.data import DataSourceError, data_identity, load_dataset

CLASS_COLOURS = {"amapola": (220, 30, 30), "lavanda": (120, 60, 200), "margarita": (240, 240, 240)}
PER_CLASS = 8


@pytest.fixture
def image_folder(tmp_path):
    """<root>/<class>/*.png|jpg in shades of each class's colour, masks (left half) aside, one corrupt file."""
    root, masks = tmp_path / "flores", tmp_path / "mascaras"
    for name, colour in CLASS_COLOURS.items():
        (root / name).mkdir(parents=True)
        (masks / name).mkdir(parents=True)
        for i in range(PER_CLASS):
            suffix = ".png" if i % 2 else ".jpg"
            shade = tuple(int(value * (1 - i / 40)) for value in colour)  # every image different
            Image.new("RGB", (30 + i, 20), shade).save(root / name / f"img{i}{suffix}")
            mask = np.zeros((20, 30 + i), dtype=np.uint8)
            mask[:, : (30 + i) // 2] = 255
            Image.fromarray(mask).save(masks / name / f"img{i}.png")
    (root / "lavanda" / "broken.jpg").write_bytes(b"not a jpeg at all")
    (root / "lavanda" / "notes.txt").write_text("not an image, ignored")
    return root, masks


def folder_config(root, **changes) -> DataConfig:
    settings = dict(source="folder", path=str(root), image_size=16, train_size=None, val_size=6, test_size=6)
    return DataConfig(**{**settings, **changes})


def test_loads_classes_from_folder_names_and_skips_the_corrupt_file(image_folder):
    root, _ = image_folder
    with pytest.warns(UserWarning, match="broken.jpg"):
        dataset = load_dataset(folder_config(root))
    assert dataset.source == "folder" and dataset.name == "flores"
    assert dataset.class_names == sorted(CLASS_COLOURS)
    assert dataset.facts["skipped_files"] == ["lavanda/broken.jpg"]
    all_images = np.concatenate([split.images for split in dataset.splits().values()])
    assert len(all_images) == 3 * PER_CLASS  # every readable image...
    assert len(np.unique(all_images.reshape(len(all_images), -1), axis=0)) == len(all_images)  # ...once
    assert dataset.train.images.shape[1:] == (16, 16, 3) and dataset.train.images.dtype == np.uint8
    assert not dataset.facts["has_masks"] and dataset.train.masks is None
    for split in dataset.splits().values():
        assert set(split.labels) == {0, 1, 2}  # stratified: every class in every split
        mean_colours = split.images.mean(axis=(1, 2))
        class_colours = np.array([CLASS_COLOURS[name] for name in dataset.class_names])
        nearest = np.linalg.norm(mean_colours[:, None] - class_colours[None], axis=-1).argmin(axis=1)
        np.testing.assert_array_equal(nearest, split.labels)  # each label is its folder's


def test_masks_come_from_the_parallel_folder(image_folder):
    root, masks = image_folder
    with pytest.warns(UserWarning):
        dataset = load_dataset(folder_config(root, masks_path=str(masks), resize="resize"))
    assert dataset.facts["has_masks"]
    for split in dataset.splits().values():
        assert split.masks.shape == (len(split), 16, 16) and split.masks.dtype == bool
        assert split.masks[:, :, :8].all() and not split.masks[:, :, 8:].any()


def test_image_without_its_mask_is_skipped_and_named(image_folder):
    root, masks = image_folder
    (masks / "amapola" / "img3.png").unlink()
    with pytest.warns(UserWarning, match="img3"):
        dataset = load_dataset(folder_config(root, masks_path=str(masks)))
    assert dataset.facts["skipped_files"] == ["amapola/img3.png", "lavanda/broken.jpg"]


@pytest.mark.filterwarnings("ignore:.*unreadable")
def test_split_is_fixed_by_the_seed(image_folder):
    root, _ = image_folder
    first, again, other = (load_dataset(folder_config(root, train_size=10, seed=seed)) for seed in (0, 0, 5))
    np.testing.assert_array_equal(first.train.images, again.train.images)
    np.testing.assert_array_equal(first.test.images, again.test.images)
    assert len(first.train) + len(first.facts["skipped_files"]) == 10
    assert set(first.train.labels) == {0, 1, 2}
    assert not np.array_equal(first.val.images, other.val.images)


def test_identity_changes_when_a_file_changes(image_folder):
    root, _ = image_folder
    before = data_identity(folder_config(root))
    assert data_identity(folder_config(root)) == before
    Image.new("RGB", (30, 20), (0, 0, 0)).save(root / "amapola" / "img9.png")
    assert data_identity(folder_config(root)) != before


def test_missing_folder_and_single_class_are_clear_errors(tmp_path):
    with pytest.raises(DataSourceError, match="folder not found"):
        load_dataset(folder_config(tmp_path / "nowhere"))
    (tmp_path / "solo").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "solo" / "a.png")
    with pytest.raises(DataSourceError, match="at least two sub-folders"):
        load_dataset(folder_config(tmp_path))


def test_embedded_and_folder_sources_work_without_tensorflow(image_folder, tmp_path):
    root, _ = image_folder
    script = textwrap.dedent(f"""
        import sys, warnings
        sys.modules["tensorflow"] = None  # any `import tensorflow` now raises ImportError
        warnings.simplefilter("ignore")
        from reportgen.practice.config import DataConfig
        from reportgen.practice.data import load_dataset
        load_dataset(DataConfig(image_size=16, train_size=20, val_size=5, test_size=5))
        load_dataset(DataConfig(source="folder", path={str(root)!r}, image_size=16, val_size=6, test_size=6))
        print("ok")
    """)
    env = {"REPORTGEN_CACHE_DIR": str(tmp_path / "cache"), "PATH": ""}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=".")
    assert result.stdout.strip() == "ok", result.stderr
