"""Every figure of the practice page, drawn at render time from recorded numbers and arrays, in the
page's language: column headers, colour bars, the page's decimal mark, text legible at page width."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.errors import CorruptResults
from reportgen.record import Recorder
from reportgen.render import figures as drawn
from reportgen.render.figures import MIN_TEXT_PX, recorded_arrays
from reportgen.render.numbers import number, percent
from reportgen.results import RunResults

from figure_checks import smallest_text_px, texts

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "experiments" / "results" / "demo"  # committed results: real facts of a 3-seed run
LANGUAGES = ("es", "en")
SIZE = 24


def _images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, SIZE, SIZE, 3)).astype(np.uint8)


def _maps(*shape: int) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (*shape, SIZE, SIZE)).astype(np.uint8)


def recorded_demo(folder: Path) -> RunResults:
    """The demo's recorded facts and tables, with small arrays recorded here for the figures of images."""
    facts = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in DEMO.glob("*.json")
             if path.stem not in ("run", "records", "figures", "timings")}
    top_k = facts["metrics"]["pipelines"]["advanced"]["top_k_examples"]
    recorder = Recorder(folder)
    recorder.arrays("samples", images=_images(8), labels=np.repeat(np.arange(4), 2))
    recorder.arrays("mosaic", original=_images(1)[0], draws=_images(8, seed=2))
    recorder.arrays("mixing", first=_images(3), second=_images(3, seed=3), first_label=np.array([0, 1, 2]),
                    second_label=np.array([3, 4, 5]), mixup_images=_images(3, seed=4),
                    mixup_lambda=np.array([0.283, 0.96, 0.5]), mixup_alpha=0.2, cutmix_images=_images(3, seed=5),
                    cutmix_lambda=np.array([0.75, 0.1, 0.61]), cutmix_alpha=1.0)
    recorder.arrays("top5", index=np.array([example["index"] for example in top_k]), images=_images(len(top_k)))
    for kind in ("hits", "errors"):
        recorder.arrays(f"gradcam_{kind}", images=_images(2), true=np.array([0, 1]),
                        models=np.array(["baseline", "advanced"]), maps=_maps(2, 2),
                        predicted=np.array([[0, 2], [0, 1]]), confidence=np.array([[0.987, 0.6], [0.8, 0.714]]))
    for model in ("baseline", "advanced"):
        recorder.arrays(f"methods_{model}", images=_images(2), true=np.array([0, 1]), predicted=np.array([0, 3]),
                        methods=np.array(["gradcam", "gradcam_plus_plus", "integrated_gradients"]),
                        maps=_maps(3, 2), completeness_gap=np.array([0.0123, 0.25]))
    return RunResults(id="demo", config=None, status="ok", folder=folder, facts=facts,
                      history=pd.read_csv(DEMO / "history.csv"), tables={"lr_sweep": DEMO / "lr_sweep.csv"},
                      arrays={path.stem: path for path in folder.glob("*.npz")})


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> RunResults:
    return recorded_demo(tmp_path_factory.mktemp("recorded"))


@pytest.fixture(scope="module")
def figures(run):
    """Every registered figure of the run, in both languages."""
    import matplotlib.pyplot as plt

    with plt.rc_context({"figure.max_open_warning": 0}):
        made = {(name, language): drawn.make_figure(run, name, language) for name in drawn.names()
                for language in LANGUAGES}
    yield made
    for figure in made.values():
        plt.close(figure)


def _headers(figure) -> list[str]:
    return [ax.get_title() for ax in figure.axes if ax.get_visible() and ax.get_title()]


def test_every_figure_of_the_page_is_drawn(figures):
    assert all(figure is not None for figure in figures.values()), [k for k, f in figures.items() if f is None]


@pytest.mark.parametrize("language, headers", [
    ("es", ["Imagen", "Baseline\nmapa", "Baseline\nsuperpuesto", "Avanzado\nmapa", "Avanzado\nsuperpuesto"]),
    ("en", ["Image", "Baseline\nmap", "Baseline\noverlay", "Advanced\nmap", "Advanced\noverlay"])])
def test_gradcam_grids_name_their_columns_in_the_page_language(figures, language, headers):
    for name in ("gradcam_hits", "gradcam_errors"):
        assert _headers(figures[name, language]) == headers
    assert "✓" in "".join(texts(figures["gradcam_hits", language]))
    assert "✗ " in "".join(texts(figures["gradcam_hits", language]))  # prediction 2 for true class 0


@pytest.mark.parametrize("language, image, first, second", [("es", "Imagen", "Imagen xᵢ", "Imagen xⱼ"),
                                                             ("en", "Image", "Image xᵢ", "Image xⱼ")])
def test_other_grids_name_their_columns(figures, language, image, first, second):
    assert _headers(figures["methods_baseline", language]) == [image, "Grad-CAM", "Grad-CAM++",
                                                               "Integrated\nGradients"]
    mixup_alpha = "0,2" if language == "es" else "0.2"
    assert _headers(figures["mixing", language]) == [first, second, f"MixUp (α = {mixup_alpha})", "CutMix (α = 1)"]
    top_k = _headers(figures["top5", language])
    assert top_k[0] == image and len(top_k) == 4 and "5" in top_k[1]
    mosaic = _headers(figures["mosaic", language])
    assert mosaic[0] == "Original" and len(mosaic) == 9


@pytest.mark.parametrize("language, label", [("es", "Importancia en la imagen"), ("en", "Importance in the image")])
@pytest.mark.parametrize("name", ["gradcam_hits", "gradcam_errors", "methods_baseline", "methods_advanced"])
def test_heatmaps_have_one_colour_bar_from_zero_to_one(figures, name, language, label):
    bars = [ax for ax in figures[name, language].axes if hasattr(ax, "_colorbar")]
    assert len(bars) == 1
    bar = bars[0]._colorbar
    assert label in bar.ax.get_xlabel()
    assert (bar.vmin, bar.vmax) == (0, 1)
    assert [t.get_text() for t in bar.ax.get_xticklabels()][2] == ("0,5" if language == "es" else "0.5")


DECIMAL_POINT, DECIMAL_COMMA = re.compile(r"\d\.\d"), re.compile(r"\d,\d")


@pytest.mark.parametrize("name", drawn.names())
def test_numbers_in_every_figure_follow_the_page_language(figures, name):
    spanish, english = " | ".join(texts(figures[name, "es"])), " | ".join(texts(figures[name, "en"]))
    assert not DECIMAL_POINT.search(spanish), spanish
    assert not DECIMAL_COMMA.search(english), english
    assert bool(DECIMAL_COMMA.search(spanish)) == bool(DECIMAL_POINT.search(english))


@pytest.mark.parametrize("name", drawn.names())
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_smallest_text_of_every_figure_is_legible_at_page_width(figures, name, language):
    """At a 1280 px window (content column DISPLAY_WIDTH_PX, measured in Chromium), no text under 11 px."""
    size, text = smallest_text_px(figures[name, language])
    assert size >= MIN_TEXT_PX, f"{name}: {text!r} shows at {size:.1f} px"


def test_a_figure_that_shrinks_its_text_fails_the_legibility_check(run):
    import matplotlib.pyplot as plt

    figure = drawn.make_figure(run, "top5", "es")
    figure.axes[1].texts[0].set_fontsize(6)
    assert smallest_text_px(figure)[0] < MIN_TEXT_PX
    plt.close(figure)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_mixed_image_shows_its_recorded_lambda(run, figures, language):
    recorded = recorded_arrays(run, "mixing")
    cells = figures["mixing", language].axes  # row by row: x_i, x_j, MixUp, CutMix
    for row in range(len(recorded["first"])):
        for column, method in ((2, "mixup"), (3, "cutmix")):
            label = cells[row * 4 + column].get_xlabel()
            assert label == f"λ = {number(recorded[f'{method}_lambda'][row], language, 2)}"


def test_the_reliability_diagram_says_whose_ece_it_shows(run, figures):
    calibration = run.facts["metrics"]["pipelines"]["baseline"]
    title = figures["reliability", "es"].axes[0].get_title()
    assert f"semilla {calibration['detail_seed']}" in title
    assert number(calibration["calibration"]["ece"], "es", 3) in title
    assert f"media de 3 semillas: {number(calibration['aggregate']['ece']['mean'], 'es', 3)}" in title


def test_top_k_bars_read_the_recorded_probabilities(run, figures):
    example = run.facts["metrics"]["pipelines"]["advanced"]["top_k_examples"][0]
    shown = texts(figures["top5", "es"])
    assert percent(example["predictions"][0]["probability"], "es", 0) in shown
    assert example["predictions"][0]["name"] in shown


def test_without_recorded_arrays_a_figure_of_images_is_not_drawn(run):
    earlier = RunResults(id="demo", config=None, status="ok", folder=run.folder, facts=run.facts)
    for name in ("samples", "mosaic", "mixing", "top5", "gradcam_hits", "methods_baseline"):
        assert drawn.make_figure(earlier, name, "es") is None  # the page keeps the recorded PNG


def test_recorded_arrays_hold_no_python_objects_and_are_read_without_pickle(tmp_path):
    recorder = Recorder(tmp_path)
    with pytest.raises(ValueError, match="Python objects"):
        recorder.arrays("bad", labels=np.array([{"a": 1}], dtype=object))
    np.savez(tmp_path / "forged.npz", labels=np.array([{"a": 1}], dtype=object))  # written by someone else
    forged = RunResults(id="x", config=None, status="ok", arrays={"forged": tmp_path / "forged.npz"})
    with pytest.raises(CorruptResults, match="forged.npz"):
        recorded_arrays(forged, "forged")


def test_a_notebook_shows_the_figures_it_recorded_as_arrays(tmp_path, monkeypatch):
    import IPython.display

    recorder = Recorder(tmp_path)
    recorder.json("dataset", {"class_names": ["rosa", "azul"]})
    recorder.arrays("samples", images=_images(4), labels=np.array([0, 0, 1, 1]))
    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    recorder.show("samples", "not_recorded")
    assert len(shown) == 1 and shown[0].data.startswith(b"\x89PNG")
