"""Grad-CAM, Grad-CAM++ and Integrated Gradients on tiny hand-made models.

The file runs in-process on the TensorFlow backend, and once more in a subprocess on the
JAX backend (`test_the_methods_pass_under_the_jax_backend`) when jax is installed.
"""

import functools
import sys

import keras
import numpy as np
import pytest
from keras import layers
from matplotlib.figure import Figure

from reportgen.practice import xai
from reportgen.practice.figures.xai import deletion_insertion_figure, explanation_grid, method_comparison
from reportgen.practice.xai_checks import DeletionInsertion, energy_in_mask, pointing_game

from conftest import run_under_jax

SIZE = 16
REGION = np.zeros((SIZE, SIZE), dtype=bool)
REGION[2:8, 3:9] = True  # the only pixels the region model's logits depend on
METHODS = [xai.gradcam, xai.gradcam_plus_plus]
FAST_IG = functools.partial(xai.integrated_gradients, steps=8)


def images(n=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, SIZE, SIZE, 3)).astype("float32")


def backbone(activation="relu"):
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.Conv2D(4, 3, padding="same", activation=activation, name="c1")(x)
    x = layers.Conv2D(6, 3, padding="same", name="c2")(x)
    outputs = layers.Activation(activation, name="top_act")(x)
    return keras.Model(inputs, outputs, name="backbone")


def nested_model(kind, activation="relu"):
    """The project's layout (functional) or the usual Sequential([base, ...]); 3 classes."""
    if kind == "sequential":
        model = keras.Sequential([keras.Input((SIZE, SIZE, 3)), backbone(activation),
                                  layers.GlobalAveragePooling2D(),
                                  layers.Dense(3, activation="softmax", name="logits")])
    else:
        inputs = keras.Input((SIZE, SIZE, 3))
        x = backbone(activation)(inputs, training=False)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dropout(0.2)(x)
        x = layers.Dense(3, name="logits")(x)
        model = keras.Model(inputs, layers.Activation("softmax", name="probabilities")(x))
    return with_seeded_weights(model)


def with_seeded_weights(model, seed=0):
    """The same weights on every backend (keras.utils.set_random_seed would import TensorFlow)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
    return model


def region_model():
    """Class 0's logit is the mean of positive conv features that exist only on REGION."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.Conv2D(2, 3, padding="same", activation="relu", name="conv")(x)
    mask = REGION[None, :, :, None].astype("float32")
    x = layers.Lambda(lambda features: features * mask, name="region_features")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(2, activation="softmax", name="logits")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("conv").set_weights([np.full((3, 3, 3, 2), 0.1, "float32"), np.zeros(2, "float32")])
    model.get_layer("logits").set_weights([np.array([[1.0, -1.0], [1.0, -1.0]], "float32"),
                                           np.zeros(2, "float32")])
    return model


def logits_of(model, batch):
    """The pre-softmax scores, computed independently of reportgen (GAP output @ W + b)."""
    pooled_layer = next(layer for layer in model.layers if isinstance(layer, layers.GlobalAveragePooling2D))
    pooled = keras.Model(model.inputs[0], pooled_layer.output).predict(batch, verbose=0)
    kernel, bias = model.get_layer("logits").get_weights()
    return pooled @ kernel + bias


# ---------------------------------------------------------------- finding the layer

@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_layer_none_finds_the_last_feature_map_inside_a_nested_backbone(kind):
    model = nested_model(kind)
    batch = images()
    assert xai.find_feature_layer(model) == "top_act"
    found = xai.gradcam(model, batch)
    assert found.shape == (3, SIZE, SIZE)
    np.testing.assert_allclose(found, xai.gradcam(model, batch, layer="top_act"), atol=1e-6)
    earlier = xai.gradcam_plus_plus(model, batch, layer="c1")
    assert earlier.shape == (3, SIZE, SIZE) and not np.allclose(earlier, found)


def test_flat_functional_model_uses_its_own_last_conv_layer():
    assert xai.find_feature_layer(region_model()) == "region_features"


def test_an_unknown_layer_name_is_a_clear_error():
    with pytest.raises(ValueError, match="'no_such_layer' not found"):
        xai.gradcam(nested_model("functional"), images(), layer="no_such_layer")


def test_a_layer_bypassed_by_a_skip_connection_is_a_clear_error():
    inputs = keras.Input((SIZE, SIZE, 3))
    block_input = layers.Conv2D(2, 3, padding="same", name="c1")(inputs)
    x = layers.Conv2D(2, 3, padding="same", name="inside")(block_input)
    x = layers.Add(name="block_out")([block_input, x])
    outputs = layers.Dense(2)(layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    assert xai.gradcam(model, images(), layer="block_out").shape == (3, SIZE, SIZE)
    with pytest.raises(ValueError, match="cannot be cut at layer 'inside'"):
        xai.gradcam(model, images(), layer="inside")


def test_a_model_without_a_graph_is_a_clear_error():
    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv, self.dense = layers.Conv2D(2, 3), layers.Dense(2)

        def call(self, x):
            return self.dense(keras.ops.mean(self.conv(x), axis=(1, 2)))

    with pytest.raises(ValueError, match="no graph of layers"):
        xai.gradcam(Subclassed(), images())


# ------------------------------------------------------------------------- the maps

@pytest.mark.parametrize("method", METHODS)
def test_gradcam_lights_the_region_the_logit_depends_on(method):
    heatmaps = method(region_model(), images(), class_index=0)
    region = np.broadcast_to(REGION, heatmaps.shape)
    assert pointing_game(heatmaps, region).all()
    assert energy_in_mask(heatmaps, region).min() > 0.9
    assert heatmaps.min() >= 0 and heatmaps.max() == pytest.approx(1.0)


def test_integrated_gradients_attributes_nothing_outside_the_region():
    attributions = xai.integrated_gradients(region_model(), images(), class_index=0, steps=8)
    reachable = np.zeros_like(REGION)
    reachable[1:9, 2:10] = True  # the region grown by the 3x3 convolution's reach
    assert np.abs(attributions[:, ~reachable]).max() == 0
    assert np.abs(attributions[:, reachable]).sum() > 0


@pytest.mark.parametrize("kind", ["sequential", "functional"])  # Dense(softmax) / Activation(softmax)
def test_integrated_gradients_completes_the_logit_difference(kind):
    model = nested_model(kind, activation="tanh")
    batch = images()
    attributions, gaps = xai.IntegratedGradients(model, steps=64).attribute(batch, return_gap=True)
    predicted = model.predict(batch, verbose=0).argmax(axis=1)
    rows = np.arange(len(batch))
    logit_change = logits_of(model, batch)[rows, predicted] - logits_of(model, np.zeros_like(batch))[rows, predicted]
    assert attributions.shape == batch.shape
    assert np.all(np.abs(attributions.sum(axis=(1, 2, 3)) - logit_change) < 0.05 * np.abs(logit_change))
    assert np.all(gaps < 0.05)


def test_an_all_zero_gradient_gives_zero_maps_not_nan():
    model = nested_model("functional")
    kernel, bias = model.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights([np.zeros_like(kernel), bias])
    batch = images()
    for heatmaps in (xai.gradcam(model, batch), xai.gradcam_plus_plus(model, batch)):
        assert np.isfinite(heatmaps).all() and not heatmaps.any()
    attributions, gaps = xai.IntegratedGradients(model, steps=4).attribute(batch, return_gap=True)
    assert np.isfinite(attributions).all() and not attributions.any()
    assert np.isfinite(gaps).all()


@pytest.mark.parametrize("method", METHODS + [pytest.param(FAST_IG, id="integrated_gradients")])
def test_each_image_is_explained_on_its_own(method):
    model = nested_model("functional")
    batch = images(2)
    together = method(model, batch, class_index=[0, 2])
    alone = np.concatenate([method(model, batch[:1], class_index=0), method(model, batch[1:], class_index=2)])
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-5)


def test_integrated_gradients_does_not_depend_on_the_internal_batch_size():
    model = nested_model("sequential", activation="tanh")
    batch = images(3)
    small = xai.IntegratedGradients(model, steps=6, batch_size=4).attribute(batch)
    large = xai.IntegratedGradients(model, steps=6, batch_size=64).attribute(batch)
    np.testing.assert_allclose(small, large, rtol=1e-4, atol=1e-6)


def test_the_users_model_is_unchanged():
    model = nested_model("sequential")  # its last Dense has activation="softmax"
    batch = images()
    weights = [w.copy() for w in model.get_weights()]
    layer_ids, outputs = [id(layer) for layer in model.layers], model.predict(batch, verbose=0)
    xai.gradcam(model, batch)
    xai.gradcam_plus_plus(model, batch, layer="c1")
    xai.integrated_gradients(model, batch, steps=4)
    assert model.get_layer("logits").activation is keras.activations.softmax
    assert [id(layer) for layer in model.layers] == layer_ids
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_allclose(model.predict(batch, verbose=0), outputs, rtol=1e-6)


def test_class_index_chooses_the_explained_class():
    model = nested_model("functional")
    batch = images(2)
    predicted = model.predict(batch, verbose=0).argmax(axis=1)
    np.testing.assert_allclose(xai.gradcam(model, batch), xai.gradcam(model, batch, class_index=predicted))
    other = (predicted + 1) % 3
    assert not np.allclose(xai.gradcam(model, batch), xai.gradcam(model, batch, class_index=other))
    with pytest.raises(ValueError, match="one int per image"):
        xai.gradcam(model, batch, class_index=[0, 1, 2])
    with pytest.raises(ValueError, match="out of range"):
        xai.gradcam(model, batch, class_index=3)


def test_images_must_be_a_batch():
    with pytest.raises(ValueError, match=r"image\[None\]"):
        xai.gradcam(nested_model("functional"), images()[0])


def test_select_examples_returns_the_most_confident_hits_and_errors():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7], [0.95, 0.05]])
    labels = np.array([0, 0, 0, 1, 1])
    chosen = xai.select_examples(probs, labels, n=2)
    assert chosen["hits"].tolist() == [0, 3]
    assert chosen["errors"].tolist() == [4, 2]


def test_attribution_heatmap_sums_absolute_values_over_channels():
    attributions = np.zeros((1, 2, 2, 3))
    attributions[0, 0, 0] = [1, -1, 0]
    attributions[0, 1, 1] = [-4, 0, 0]
    np.testing.assert_allclose(xai.attribution_heatmap(attributions)[0], [[0.5, 0], [0, 1]])


# -------------------------------------------------------------------------- figures

def test_explanation_grid_compares_both_models_on_the_same_images():
    batch, names = images(2), ["daisy", "rose", "tulip"]
    maps = {"baseline": np.random.rand(2, SIZE, SIZE), "advanced": np.random.rand(2, SIZE, SIZE)}
    figure = explanation_grid(batch, maps, true=np.array([0, 1]),
                              pred={"baseline": np.array([0, 2]), "advanced": np.array([0, 1])},
                              conf={"baseline": np.array([0.9, 0.6]), "advanced": np.array([0.8, 0.7])},
                              class_names=names, title="Aciertos", language="es")
    assert isinstance(figure, Figure) and len(figure.axes) == 2 * 5
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0] == "real: daisy"
    assert "Baseline: pred. tulip (60%)" in titles and "Avanzado: pred. rose (70%)" in titles


def test_method_comparison_shows_the_completeness_gap_of_integrated_gradients():
    batch = images(2)
    maps = {"gradcam": np.random.rand(2, SIZE, SIZE), "integrated_gradients": np.random.randn(2, SIZE, SIZE, 3)}
    figure = method_comparison(batch, maps, true=[0, 1], pred=[0, 0], class_names=["a", "b"],
                               ig_gaps=np.array([0.012, 0.03]), language="en")
    titles = [ax.get_title() for ax in figure.axes]
    assert len(figure.axes) == 2 * 3
    assert "Integrated Gradients\ncompleteness gap: 1.2%" in titles and "Grad-CAM" in titles


def test_deletion_insertion_figure_reports_the_mean_areas():
    fractions = np.linspace(0, 1, 5)
    curves = {"baseline": DeletionInsertion(fractions, np.tile(1 - fractions, (2, 1)), np.tile(fractions, (2, 1)))}
    figure = deletion_insertion_figure(curves, language="es")
    deletion_ax, insertion_ax = figure.axes
    assert deletion_ax.get_title().startswith("Eliminación")
    assert [text.get_text() for text in insertion_ax.get_legend().get_texts()] == ["Baseline (AUC 0.500)"]


# ---------------------------------------------------------------------------- JAX

@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="launches the JAX run from TensorFlow")
def test_the_methods_pass_under_the_jax_backend():
    run_under_jax(__file__, "not figure and not grid and not comparison", allow_skips=True)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="checks the JAX run itself")
def test_the_jax_run_never_imports_tensorflow():
    assert "tensorflow" not in sys.modules, repr(sys.modules.get("tensorflow"))
