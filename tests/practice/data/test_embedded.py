"""The embedded synthetic-flowers dataset: determinism, masks, shortcut, imbalance, cache."""

import dataclasses

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from reportgen.practice.config import DataConfig
from reportgen.practice.data import DataSourceError, data_identity, embedded, load_dataset
from reportgen.practice.data.embedded import PLAIN, flower_classes, generate_split

SMALL = dict(image_size=24, train_size=60, val_size=10, test_size=20)


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTGEN_CACHE_DIR", str(tmp_path / "cache"))


def test_same_seed_same_images_other_seed_other_images():
    cfg = DataConfig(**SMALL)
    first, again = generate_split(cfg, "train"), generate_split(cfg, "train")
    other = generate_split(cfg.model_copy(update={"seed": 1}), "train")
    assert first.images.dtype == np.uint8 and first.images.shape == (60, 24, 24, 3)
    assert first.labels.dtype == np.int64 and first.masks.dtype == bool
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.masks, again.masks)
    assert not np.array_equal(first.images, other.images)


def test_mask_covers_exactly_the_flower_on_a_plain_background():
    split = generate_split(DataConfig(**{**SMALL, "image_size": 48}), "train", nuisances=PLAIN)
    for image, mask in zip(split.images, split.masks):
        background = np.unique(image[~mask], axis=0)
        assert len(background) == 1, "outside the mask there must be nothing but the flat background"
        assert not (image[mask] == background[0]).all(axis=-1).any(), "every mask pixel must show the flower"
        assert 0.02 < mask.mean() < 0.6


def test_occluders_are_cut_out_of_the_mask_and_leave_the_visible_flower_unchanged():
    cfg = DataConfig(**{**SMALL, "image_size": 48})
    clear = generate_split(cfg, "train", nuisances=PLAIN)
    hidden = generate_split(cfg, "train", nuisances=dataclasses.replace(PLAIN, occlusion=1.0))
    assert (hidden.masks <= clear.masks).all()
    assert hidden.masks.sum() < 0.97 * clear.masks.sum()
    np.testing.assert_array_equal(hidden.images[hidden.masks], clear.images[hidden.masks])


def background_colour_features(split) -> np.ndarray:
    """Mean colour of the pixels outside the flower mask, one row per image."""
    return np.stack([image[~mask].mean(axis=0) for image, mask in zip(split.images, split.masks)])


@pytest.mark.parametrize("shortcut", [0.9, 0.0])
def test_shortcut_makes_the_training_background_predict_the_class(shortcut):
    cfg = DataConfig(image_size=24, train_size=300, val_size=10, test_size=200, shortcut=shortcut)
    train, test = generate_split(cfg, "train"), generate_split(cfg, "test")
    classifier = LogisticRegression(max_iter=2000).fit(background_colour_features(train), train.labels)
    train_accuracy = classifier.score(background_colour_features(train), train.labels)
    test_accuracy = classifier.score(background_colour_features(test), test.labels)
    chance = 1 / cfg.num_classes
    assert test_accuracy < chance + 0.1
    if shortcut:
        assert train_accuracy > 0.6
    else:
        assert train_accuracy < chance + 0.15


def test_imbalance_applies_to_train_only():
    dataset = load_dataset(DataConfig(**{**SMALL, "train_size": 200}, imbalance=4.0))
    counts = np.bincount(dataset.train.labels)
    assert counts.sum() == 200 and counts[0] / counts[-1] == pytest.approx(4.0, rel=0.15)
    assert dataset.facts["imbalance_ratio"] == pytest.approx(4.0, rel=0.15)
    assert len(set(np.bincount(dataset.test.labels))) == 1


def test_class_table_has_forty_distinct_short_names():
    names = [flower.name for flower in flower_classes(40)]
    assert len(set(names)) == 40
    assert max(len(name) for name in names) <= 20


def test_load_dataset_reports_facts_and_reuses_its_cache(monkeypatch):
    cfg = DataConfig(**SMALL, shortcut=0.5)
    dataset = load_dataset(cfg)
    assert dataset.source == "embedded" and dataset.class_names[0] == "red_round_5"
    facts = dataset.facts
    assert facts["split_sizes"] == {"train": 60, "val": 10, "test": 20}
    assert facts["num_classes"] == 10 and facts["image_size"] == 24 and facts["has_masks"]
    assert facts["shortcut"] == 0.5 and facts["homepage"] is None
    assert sum(facts["class_counts"]["val"].values()) == 10

    monkeypatch.setattr(embedded, "generate_split", lambda *args, **kwargs: pytest.fail("cache not used"))
    cached = load_dataset(cfg)
    np.testing.assert_array_equal(cached.test.images, dataset.test.images)


def test_identity_names_the_generated_data():
    cfg = DataConfig(**SMALL)
    assert data_identity(cfg) == data_identity(DataConfig(**SMALL))
    assert data_identity(cfg) != data_identity(cfg.model_copy(update={"shortcut": 0.9}))
    assert data_identity(cfg) == data_identity(cfg.model_copy(update={"resize": "pad"}))  # no effect on drawing


def test_embedded_needs_split_sizes():
    with pytest.raises(DataSourceError, match="data.train_size"):
        load_dataset(DataConfig(**{**SMALL, "train_size": None}))


def test_flowers_lie_across_the_frame_at_varied_scales_so_a_centre_prior_misses_them():
    from reportgen.practice.xai_checks import model_free_baselines

    test = generate_split(DataConfig(image_size=64, train_size=10, val_size=10, test_size=300), "test")
    centre_prior = model_free_baselines(test.masks)["centre"]["pointing_game"].mean()
    assert centre_prior < 0.5  # 0.84 when flowers sat within 0.18 of the side from the centre
    area = test.masks.mean(axis=(1, 2))
    assert area.max() > 4 * area.min() and area.std() > 0.25 * area.mean()
    rows, columns = np.nonzero(test.masks.any(axis=0))
    assert rows.min() == 0 and columns.min() == 0 and rows.max() == 63 and columns.max() == 63  # every edge is reached
