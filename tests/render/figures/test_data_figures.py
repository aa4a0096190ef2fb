"""Figures about the data, drawn at render time: the samples grid (from the images the practice
recorded) and the class distribution (from the recorded counts)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from reportgen.practice import figure_data
from reportgen.practice.config import DataConfig
from reportgen.practice.data import load_dataset
from reportgen.record import Recorder
from reportgen.render.figures.data import class_distribution, samples_grid
from reportgen.render.numbers import number
from reportgen.results import RunResults


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTGEN_CACHE_DIR", str(tmp_path))
    return load_dataset(DataConfig(num_classes=20, image_size=16, train_size=100, val_size=20, test_size=40,
                                   imbalance=3.0))


def test_samples_grid_caps_the_classes_and_names_each_row(dataset, tmp_path):
    recorded = figure_data.samples(dataset.train.images, dataset.train.labels, len(dataset.class_names))
    assert sorted(set(recorded["labels"])) == list(range(figure_data.MAX_CLASSES_SHOWN))
    assert recorded["images"].dtype == np.uint8
    path = Recorder(tmp_path).arrays("samples", **recorded)
    run = RunResults(id="r", config=None, status="ok", facts={"dataset": dataset.facts}, arrays={"samples": path})
    fig = samples_grid(run, "es")
    rows = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert rows == dataset.class_names[:figure_data.MAX_CLASSES_SHOWN]
    shown = sum(len(ax.images) for ax in fig.axes)
    assert shown == len(recorded["images"])
    plt.close(fig)


@pytest.mark.parametrize("language, train_word", [("es", "entrenamiento"), ("en", "train")])
def test_class_distribution_is_drawn_from_the_recorded_counts_in_the_page_language(dataset, language, train_word):
    run = RunResults(id="r", config=None, status="ok", facts={"dataset": dataset.facts})
    fig = class_distribution(run, language)
    ax = fig.axes[0]
    heights = np.array([bar.get_height() for bar in ax.patches]).reshape(3, -1)
    for row, split in zip(heights, (dataset.train, dataset.val, dataset.test)):
        np.testing.assert_array_equal(row, np.bincount(split.labels, minlength=20))
    assert f"{number(dataset.facts['imbalance_ratio'], language, 1)}×" in ax.get_title()
    assert [t.get_text() for t in fig.legends[0].get_texts()][0] == train_word
    plt.close(fig)


def test_class_distribution_needs_recorded_counts():
    assert class_distribution(RunResults(id="r", config=None, status="ok"), "es") is None
