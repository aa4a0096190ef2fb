"""The practice records the arrays the page draws its figures of images from, never drawings; the
models and maps it records are the ones the notebook's own `fit` and `explain` produced."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reportgen.practice.config import RunParameters
from reportgen.practice.figure_data import MAP_LEVELS, THUMBNAIL_SIDE, quantised_maps, thumbnails
from reportgen.practice.stages import Practice
from reportgen.record import Recorder
from reportgen.render import figures as drawn
from reportgen.results import RunResults

from conftest import TINY_PARAMETERS
from notebook_code import practice_functions

IMAGE_FIGURES = ["samples", "mosaic", "mixing", "top5", "gradcam_hits", "gradcam_errors", "methods_baseline",
                 "methods_advanced"]


def test_thumbnails_shrink_large_images_to_uint8_and_leave_small_ones_alone():
    rng = np.random.default_rng(0)
    large = rng.uniform(0, 255, (3, 224, 160, 3)).astype(np.float32)
    small = rng.integers(0, 256, (2, 32, 32, 3)).astype(np.uint8)
    shrunk = thumbnails(large, 80)
    assert shrunk.dtype == np.uint8 and shrunk.shape == (3, 80, 57, 3)
    assert np.array_equal(thumbnails(small, 80), small)
    maps = quantised_maps(np.array([[[0.0, 0.5], [1.0, 2.0]]]), 80)
    assert maps.dtype == np.uint8 and maps.tolist() == [[[0, 128], [MAP_LEVELS, MAP_LEVELS]]]


@pytest.mark.slow
def test_the_practice_records_the_arrays_of_every_figure_of_images_and_no_png(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTGEN_CACHE_DIR", str(tmp_path / "cache"))
    parameters = {**TINY_PARAMETERS,
                  "training": {"epochs": 1, "batch_size": 16, "seeds": [0]},
                  "evaluation": {"top_k": 3, "tta": False, "robustness": False, "tsne_points": 20},
                  "explanations": {"num_images": 2, "ig_steps": 4, "checks_images": 4}}
    practice = Practice(RunParameters.model_validate(parameters), Recorder(tmp_path / "results"))
    dataset = practice.load_data()
    notebook = practice_functions(practice.params, dataset.class_names)
    trained, explained = [], []

    def fit(run):
        trained.append(notebook["fit"](run))
        return trained[-1]

    def explain(model, images, method, target=None):
        maps = notebook["explain"](model, images, method, target)
        explained.append((model, np.asarray(images), method, maps))
        return maps

    practice.show_pipelines(dataset, notebook["make_pipeline"]("advanced", seed=0))
    comparison = practice.train(dataset, fit)
    report = practice.evaluate(dataset, comparison)
    practice.explain(dataset, comparison, report, explain)

    results = tmp_path / "results"
    assert not list(results.rglob("*.png"))
    recorded = {name: dict(np.load(results / f"{name}.npz", allow_pickle=False)) for name in IMAGE_FIGURES}
    for name, arrays in recorded.items():
        images = arrays.get("images", arrays.get("draws", arrays.get("first")))
        assert images.dtype == np.uint8 and images.ndim == 4, name
    assert recorded["samples"]["images"].shape[0] == 4 * 4  # four images of each of the four classes
    assert recorded["mosaic"]["draws"].shape[0] == practice.params.augmentation.mosaic_draws - 1
    mixing = recorded["mixing"]
    assert {"mixup_lambda", "cutmix_lambda", "first_label", "second_label"} <= set(mixing)
    assert (mixing["first_label"] != mixing["second_label"]).all()
    top_k = report.pipelines["advanced"].top_k_examples
    assert recorded["top5"]["index"].tolist() == [example.index for example in top_k]
    hits = recorded["gradcam_hits"]
    assert hits["models"].tolist() == ["baseline", "advanced"]
    assert hits["maps"].dtype == np.uint8 and hits["maps"].shape[:2] == (2, len(hits["images"]))
    assert hits["maps"].shape[-1] <= THUMBNAIL_SIDE["gradcam"]
    methods = recorded["methods_advanced"]
    assert methods["methods"].tolist() == practice.params.explanations.methods
    assert methods["completeness_gap"].shape == (len(methods["images"]),)

    # The notebook's code made them: the models evaluated are what its `fit` returned, and the Grad-CAM
    # maps the page draws are what its `explain` returned for those very images.
    assert sorted(map(id, comparison.models.values())) == sorted(map(id, trained))
    for index, (pipeline, model) in enumerate(zip(hits["models"], (comparison.models[("baseline", 0)],
                                                                    comparison.models[("advanced", 0)]))):
        made = [m for mod, images, method, m in explained if mod is model and method == "gradcam"
                and np.array_equal(thumbnails(images, THUMBNAIL_SIDE["gradcam"]), hits["images"])]
        assert made and np.array_equal(hits["maps"][index], quantised_maps(made[0], THUMBNAIL_SIDE["gradcam"])), pipeline
    assert {method for _, _, method, _ in explained} == set(practice.params.explanations.methods)

    # What the page does with them: every figure of images is drawn, none is missing.
    facts = {name: json.loads((results / f"{name}.json").read_text()) for name in ("dataset", "metrics")}
    run = RunResults(id="tiny", config=None, status="ok", folder=results, facts=facts,
                     arrays={path.stem: path for path in results.glob("*.npz")})
    for name in IMAGE_FIGURES:
        assert drawn.draw(run, name, "es") is not None, name
