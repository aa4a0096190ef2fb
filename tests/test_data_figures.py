"""Figures about the data: the samples grid (recorded) and the class distribution (drawn at render time)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from reportgen.practice.config import DataConfig
from reportgen.practice.data import load_dataset
from reportgen.practice.figures.data import MAX_CLASSES_SHOWN, samples_grid
from reportgen.render.figures.data import class_distribution
from reportgen.results import RunResults


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTGEN_CACHE_DIR", str(tmp_path))
    return load_dataset(DataConfig(num_classes=20, image_size=16, train_size=100, val_size=20, test_size=40,
                                   imbalance=3.0))


def test_samples_grid_caps_the_classes_and_carries_no_words_but_class_names(dataset):
    fig = samples_grid(dataset, per_class=3)
    assert len(fig.axes) == MAX_CLASSES_SHOWN * 3
    assert fig.axes[0].get_ylabel() == dataset.class_names[0]
    words = [t.get_text() for t in fig.texts] + [ax.get_title() for ax in fig.axes]
    assert not any(words), words
    plt.close(fig)


@pytest.mark.parametrize("language, train_word", [("es", "entrenamiento"), ("en", "train")])
def test_class_distribution_is_drawn_from_the_recorded_counts_in_the_page_language(dataset, language, train_word):
    run = RunResults(id="r", config=None, status="ok", facts={"dataset": dataset.facts})
    fig = class_distribution(run, language)
    ax = fig.axes[0]
    heights = np.array([bar.get_height() for bar in ax.patches]).reshape(3, -1)
    for row, split in zip(heights, (dataset.train, dataset.val, dataset.test)):
        np.testing.assert_array_equal(row, np.bincount(split.labels, minlength=20))
    assert f"{dataset.facts['imbalance_ratio']:.1f}×" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == train_word
    plt.close(fig)


def test_class_distribution_needs_recorded_counts():
    assert class_distribution(RunResults(id="r", config=None, status="ok"), "es") is None
