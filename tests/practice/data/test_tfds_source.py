"""The TFDS source on mocked data (tfds.testing.mock_data): nothing here touches the network."""

import os

import numpy as np
import pytest
from PIL import Image

from reportgen.practice.config import DataConfig
from reportgen.practice.data import DataSourceError, data_identity, load_dataset
from reportgen.practice.data.dataset import mask_array

tfds = pytest.importorskip("tensorflow_datasets")

# Each dataset with the splits it really has, so that the split policy is tested as in real use.
DATASETS = {
    "oxford_flowers102": ["train", "validation", "test"],
    "oxford_iiit_pet": ["train", "test"],
    "cifar10": ["train", "test"],
    "tf_flowers": ["train"],
}
EXAMPLES_PER_SPLIT = 40


def write_metadata(data_dir, name: str, splits: list[str]) -> None:
    """Write the dataset_info.json that a real download leaves, declaring the dataset's splits."""
    builder = tfds.builder(name, data_dir=str(data_dir))
    split_infos = [tfds.core.SplitInfo(name=split, shard_lengths=[EXAMPLES_PER_SPLIT], num_bytes=0)
                   for split in splits]
    builder.info.set_splits(tfds.core.SplitDict(split_infos))
    os.makedirs(builder.data_dir, exist_ok=True)
    builder.info.write_to_directory(builder.data_dir)


@pytest.fixture
def mocked_tfds(tmp_path):
    for name, splits in DATASETS.items():
        write_metadata(tmp_path, name, splits)
    # max_value=4 keeps Pets' mock trimaps in {0, 1, 2, 3}, so some pixels are "pet" (1)
    with tfds.testing.mock_data(num_examples=EXAMPLES_PER_SPLIT, max_value=4,
                                policy=tfds.testing.MockPolicy.USE_FILES, data_dir=str(tmp_path)):
        yield


@pytest.mark.parametrize("name", DATASETS)
def test_loads_each_named_dataset_with_its_own_splits(mocked_tfds, name):
    cfg = DataConfig(source="tfds", name=name, image_size=24, train_size=20, val_size=6, test_size=8,
                     resize="crop")
    dataset = load_dataset(cfg)
    info = tfds.builder(name).info

    assert dataset.class_names == info.features["label"].names
    assert dataset.train.images.shape == (20, 24, 24, 3) and dataset.train.images.dtype == np.uint8
    assert dataset.val.labels.dtype == np.int64 and len(dataset.val) == 6 and len(dataset.test) == 8
    own = DATASETS[name]
    assert dataset.facts["val_split"] == ("validation" if "validation" in own else "train (stratified hold-out)")
    assert dataset.facts["test_split"] == ("test" if "test" in own else "train (stratified hold-out)")
    assert dataset.facts["homepage"] == info.homepage
    assert dataset.facts["has_masks"] == (name == "oxford_iiit_pet")


def test_pets_masks_are_the_pet_pixels_of_the_trimap(mocked_tfds):
    dataset = load_dataset(DataConfig(source="tfds", name="oxford_iiit_pet", image_size=24,
                                      train_size=20, val_size=6, test_size=8))
    for split in (dataset.train, dataset.val, dataset.test):
        assert split.masks.shape == (len(split), 24, 24) and split.masks.dtype == bool
    assert 0.1 < dataset.train.masks.mean() < 0.4  # trimap values 0-3 equally likely: a quarter is "pet"


def test_missing_splits_are_held_out_of_train_without_overlap(mocked_tfds):
    cfg = DataConfig(source="tfds", name="tf_flowers", image_size=16, train_size=None, val_size=6, test_size=8)
    dataset = load_dataset(cfg)
    assert [len(dataset.train), len(dataset.val), len(dataset.test)] == [EXAMPLES_PER_SPLIT - 14, 6, 8]
    all_images = np.concatenate([dataset.train.images, dataset.val.images, dataset.test.images])
    assert len(np.unique(all_images.reshape(len(all_images), -1), axis=0)) == EXAMPLES_PER_SPLIT


# A 20 x 40 trimap whose left 30 % is pet (1), then a border (3), then background (2), fitted to
# 10 x 10: "resize" squashes (pet = 3 columns), "crop" keeps the centre 20 x 20 (pet = 1 column),
# "pad" letterboxes to 5 rows in the middle (pet = 3 columns of those rows).
EXPECTED_PET = {"resize": (slice(0, 10), slice(0, 3)), "crop": (slice(0, 10), slice(0, 1)),
                "pad": (slice(2, 7), slice(0, 3))}


@pytest.mark.parametrize("policy", EXPECTED_PET)
def test_trimap_value_one_becomes_the_object_mask_under_each_resize_policy(policy):
    trimap = np.full((20, 40), 2, dtype=np.uint8)
    trimap[:, :12] = 1
    trimap[:, 12:14] = 3
    expected = np.zeros((10, 10), dtype=bool)
    expected[EXPECTED_PET[policy]] = True
    np.testing.assert_array_equal(mask_array(Image.fromarray(trimap), 10, policy, object_value=1), expected)


def test_offline_without_local_data_raises_one_clear_error(tmp_path, monkeypatch):
    def no_network(self, *args, **kwargs):
        raise ConnectionError("network is unreachable")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_network)
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "from_env"))
    with pytest.raises(DataSourceError) as error:
        load_dataset(DataConfig(source="tfds", name="oxford_flowers102"))
    message = str(error.value)
    assert "oxford_flowers102" in message and str(tmp_path / "from_env") in message
    assert "tfds build oxford_flowers102" in message and "ConnectionError" in message
    assert error.value.__suppress_context__  # no chained TFDS traceback under ours


def test_unknown_dataset_name_is_a_data_source_error(tmp_path):
    with pytest.raises(DataSourceError, match="not_a_dataset_xyz"):
        load_dataset(DataConfig(source="tfds", name="not_a_dataset_xyz", data_dir=str(tmp_path)))


def test_identity_needs_no_data_and_follows_name_and_subset():
    cfg = DataConfig(source="tfds", name="cifar10")
    assert data_identity(cfg) == data_identity(DataConfig(source="tfds", name="cifar10"))
    assert data_identity(cfg) != data_identity(DataConfig(source="tfds", name="tf_flowers"))
    assert data_identity(cfg) != data_identity(cfg.model_copy(update={"train_size": 100}))
