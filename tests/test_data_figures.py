"""Figures about the data: the samples grid and the class distribution."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from reportgen.practice.config import DataConfig
from reportgen.practice.data import load_dataset
from reportgen.practice.figures.data import MAX_CLASSES_SHOWN, class_distribution, samples_grid


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTGEN_CACHE_DIR", str(tmp_path))
    return load_dataset(DataConfig(num_classes=20, image_size=16, train_size=100, val_size=20, test_size=40,
                                   imbalance=3.0))


def test_samples_grid_caps_the_classes_and_says_so(dataset):
    fig = samples_grid(dataset, per_class=3, language="en")
    assert len(fig.axes) == MAX_CLASSES_SHOWN * 3
    assert fig.axes[0].get_ylabel() == dataset.class_names[0]
    assert "12 of 20 classes" in fig._suptitle.get_text()
    plt.close(fig)


def test_class_distribution_draws_the_counts_of_every_split(dataset):
    fig = class_distribution(dataset, language="es")
    ax = fig.axes[0]
    heights = np.array([bar.get_height() for bar in ax.patches]).reshape(3, -1)
    for row, split in zip(heights, (dataset.train, dataset.val, dataset.test)):
        np.testing.assert_array_equal(row, np.bincount(split.labels, minlength=20))
    assert f"{dataset.facts['imbalance_ratio']:.1f}×" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "entrenamiento"
    plt.close(fig)
