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

from reportgen.errors import ExplanationError, ReportgenError
from reportgen.practice import xai
from reportgen.practice.xai_checks import energy_in_mask, pointing_game

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


# ------------------------------------------------ inputs that would be silently wrong

def logits_model(units=3, activation=None):
    """conv -> GAP -> Dense(units) with seeded weights; `activation` on the Dense if given."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.Conv2D(4, 3, padding="same", activation="tanh", name="conv")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(units, activation=activation, name="logits")(x)
    return with_seeded_weights(keras.Model(inputs, outputs, name="core"))


def tf_softmax():
    if keras.backend.backend() != "tensorflow":  # checked first: the JAX run must never import TensorFlow
        pytest.skip("tf.nn.softmax runs on the TensorFlow backend")
    import tensorflow as tf

    return layers.Activation(tf.nn.softmax)


SOFTMAX_ENDINGS = {
    "Activation(tf.nn.softmax)": tf_softmax,
    "Activation(keras.ops.softmax)": lambda: layers.Activation(keras.ops.softmax),
    "Lambda(ops.softmax)": lambda: layers.Lambda(keras.ops.softmax),
    "Softmax()": lambda: layers.Softmax(),
}


@pytest.mark.parametrize("ending", SOFTMAX_ENDINGS)
def test_a_softmax_layer_of_any_kind_is_left_out(ending):
    core = logits_model()
    model = keras.Model(core.inputs, SOFTMAX_ENDINGS[ending]()(core.outputs[0]))
    batch = images()
    np.testing.assert_allclose(xai.predict(xai.logit_view(model), batch), core.predict(batch, verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xai.integrated_gradients(model, batch, steps=4),
                               xai.integrated_gradients(core, batch, steps=4), rtol=1e-4, atol=1e-6)


def test_an_application_with_its_top_nested_in_a_sequential_is_explained_by_its_logits():
    application = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=3)
    model = keras.Sequential([keras.Input((32, 32, 3)), application])
    batch = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    pooled = keras.Model(application.input, application.get_layer("predictions").input).predict(batch, verbose=0)
    kernel, bias = application.get_layer("predictions").get_weights()
    np.testing.assert_allclose(xai.predict(xai.logit_view(model), batch), pooled @ kernel + bias,
                               rtol=1e-4, atol=1e-5)
    assert xai.find_feature_layer(model) == "out_relu"
    assert xai.gradcam(model, batch).shape == (2, 32, 32)


def test_a_softmax_that_cannot_be_seen_is_refused():
    core = logits_model()
    hidden = layers.Lambda(lambda logits: keras.ops.softmax(logits * 1.0))  # a lambda: no name to read
    model = keras.Model(core.inputs, hidden(core.outputs[0]))
    with pytest.raises(ExplanationError, match="outputs probabilities"):
        xai.gradcam(model, images())


@pytest.mark.parametrize("class_index", [2.7, np.array([0.0, 1.0, 0.0]), True])
def test_a_class_index_that_is_not_an_integer_is_refused(class_index):
    with pytest.raises(ExplanationError, match="must be integers"):
        xai.gradcam(logits_model(), images(3), class_index=class_index)  # 3 images and 3 classes


def test_one_hot_labels_as_class_index_are_refused():
    one_hot = np.eye(3, dtype=int)  # as many images as classes: the shape alone could pass for one per image
    with pytest.raises(ExplanationError, match="argmax"):
        xai.gradcam(logits_model(), images(3), class_index=one_hot)


def test_a_sigmoid_head_is_explained_for_the_side_it_predicts():
    model, batch = logits_model(units=1, activation="sigmoid"), images(4)
    logit = xai.predict(xai.logit_view(model), batch)[:, 0]
    zero = xai.predict(xai.logit_view(model), np.zeros_like(batch))[:, 0]
    predicted = (logit > 0).astype(int)
    attributions = xai.integrated_gradients(model, batch, steps=64)
    side = np.where(predicted == 1, 1.0, -1.0)  # class 0 is explained by the negated logit
    np.testing.assert_allclose(attributions.sum(axis=(1, 2, 3)), side * (logit - zero), rtol=0.05, atol=1e-4)
    np.testing.assert_allclose(xai.gradcam(model, batch), xai.gradcam(model, batch, class_index=predicted))
    with pytest.raises(ExplanationError, match="out of range"):
        xai.gradcam(model, batch, class_index=2)


def test_gradcam_refuses_a_model_without_a_convolution():
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255, name="rescaling")(inputs)  # spatial, but no feature map
    outputs = layers.Dense(3)(layers.Flatten()(x))
    model = with_seeded_weights(keras.Model(inputs, outputs))
    with pytest.raises(ExplanationError, match="no convolutional layer.*'rescaling'.*Integrated Gradients"):
        xai.gradcam(model, images())
    assert xai.integrated_gradients(model, images(), steps=2).shape == (3, SIZE, SIZE, 3)


def test_a_layer_without_a_spatial_map_is_a_clear_error():
    with pytest.raises(ExplanationError, match="'logits' outputs shape .*not a spatial feature map"):
        xai.gradcam(nested_model("functional"), images(), layer="logits")


def test_an_empty_batch_is_a_clear_error():
    with pytest.raises(ExplanationError, match="empty batch"):
        xai.integrated_gradients(nested_model("functional"), images()[:0])


def test_explanation_errors_are_reportgen_errors():
    assert issubclass(ExplanationError, ReportgenError) and issubclass(ExplanationError, ValueError)


# ---------------------------------------------------------------------------- JAX

@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="launches the JAX run from TensorFlow")
def test_the_methods_pass_under_the_jax_backend():
    run_under_jax(__file__, "not figure and not grid and not comparison", allow_skips=True)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="checks the JAX run itself")
def test_the_jax_run_never_imports_tensorflow():
    assert "tensorflow" not in sys.modules, repr(sys.modules.get("tensorflow"))
