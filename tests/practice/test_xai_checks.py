"""Quantitative checks of explanations, on hand-made maps and tiny models."""

import keras
import numpy as np
import pytest
from keras import layers

from reportgen.errors import ExplanationError
from reportgen.practice import xai, xai_checks
from reportgen.practice.xai_checks import (
    cascade_layers,
    cascading_randomisation,
    centre_gaussian_maps,
    deletion_insertion,
    energy_in_mask,
    model_free_baselines,
    pointing_game,
    randomised_copies,
)

SIZE = 8
LEFT = np.zeros((SIZE, SIZE), dtype=bool)
LEFT[:, : SIZE // 2] = True


def left_half_model(activation="softmax"):
    """Class 0 grows with the brightness of the left half of the image; the right half is ignored."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255)(inputs)
    mask = LEFT[None, :, :, None].astype("float32")
    x = layers.Lambda(lambda pixels: pixels * mask)(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(2, activation=activation, name="logits")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("logits").set_weights([np.array([[4.0, -4.0]] * 3, "float32"), np.zeros(2, "float32")])
    return model


def nested_model():
    """The project's layout: a nested convolutional backbone, then GAP, Dense logits and softmax."""
    base_inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255)(base_inputs)
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="c1")(x)
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="c2")(x)
    backbone = keras.Model(base_inputs, x, name="backbone")
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.GlobalAveragePooling2D()(backbone(inputs))
    x = layers.Dense(3, name="logits")(x)
    model = keras.Model(inputs, layers.Activation("softmax")(x))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
    return model


def images(n=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, SIZE, SIZE, 3)).astype("float32")


# ---------------------------------------------------------------- object masks

def test_pointing_game_checks_where_the_maximum_is():
    maps = np.zeros((3, SIZE, SIZE))
    maps[0, 2, 1] = 1.0  # on the object
    maps[1, 2, 6] = 1.0  # off the object
    masks = np.broadcast_to(LEFT[..., None], (3, SIZE, SIZE, 1))  # a trailing channel is accepted
    assert pointing_game(maps, masks).tolist() == [True, False, False]  # the all-zero map never hits


def test_energy_in_mask_is_the_share_of_the_map_on_the_object():
    maps = np.zeros((2, SIZE, SIZE))
    maps[0, :, 0] = 3.0
    maps[0, :, 7] = 1.0
    masks = np.broadcast_to(LEFT, maps.shape)
    np.testing.assert_allclose(energy_in_mask(maps, masks), [0.75, 0.0])


def test_attributions_count_by_absolute_value_summed_over_channels():
    attributions = np.zeros((1, SIZE, SIZE, 3))
    attributions[0, 0, 0] = [-2.0, -1.0, 0.0]  # on the object, negative
    attributions[0, 0, 7] = [1.0, 0.0, 0.0]
    masks = LEFT[None]
    assert pointing_game(attributions, masks).tolist() == [True]
    np.testing.assert_allclose(energy_in_mask(attributions, masks), [0.75])


def test_masks_of_another_shape_are_a_clear_error():
    with pytest.raises(ExplanationError, match="do not match"):
        energy_in_mask(np.zeros((1, SIZE, SIZE)), np.zeros((1, 4, 4)))


def test_model_free_baselines_score_a_centre_prior_and_a_flat_map():
    masks = np.zeros((2, SIZE, SIZE), dtype=bool)
    masks[0, 3:5, 3:5] = True  # on the centre
    masks[1, :2, :2] = True  # in a corner
    baselines = model_free_baselines(masks)
    assert baselines["centre"]["pointing_game"].tolist() == [1.0, 0.0]
    assert baselines["centre"]["energy_in_mask"][0] > 0.2 > baselines["centre"]["energy_in_mask"][1]
    np.testing.assert_allclose(baselines["uniform"]["energy_in_mask"], [4 / 64, 4 / 64])
    np.testing.assert_allclose(baselines["uniform"]["pointing_game"], [4 / 64, 4 / 64])
    blob = centre_gaussian_maps((1, SIZE, SIZE))[0]
    assert blob.argmax() in {27, 28, 35, 36} and np.allclose(blob, blob.T)


# ------------------------------------------------------------ deletion, insertion

def test_a_faithful_map_deletes_fast_and_inserts_fast():
    model, batch = left_half_model(), images()
    faithful = np.broadcast_to(LEFT.astype(float), (3, SIZE, SIZE))
    misleading = 1.0 - faithful
    black = dict(class_index=0, steps=8, insertion_substrate="black")  # a blurred noise image saturates
    good = deletion_insertion(model, batch, faithful, **black)
    bad = deletion_insertion(model, batch, misleading, **black)
    assert np.all(good.deletion_auc < bad.deletion_auc)
    assert np.all(good.insertion_auc > bad.insertion_auc)


def test_deletion_ends_on_a_constant_canvas_and_insertion_starts_from_the_blurred_image():
    model, batch = left_half_model(), images()
    probs = model.predict(batch, verbose=0)[:, 0]
    black = model.predict(np.zeros_like(batch), verbose=0)[:, 0]
    blurred = model.predict(xai_checks._substrate(batch, "blur"), verbose=0)[:, 0]
    result = deletion_insertion(model, batch, np.random.rand(3, SIZE, SIZE), class_index=0, steps=4)
    np.testing.assert_allclose(result.fractions, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(result.deletion[:, 0], probs, rtol=1e-5)
    np.testing.assert_allclose(result.deletion[:, -1], black, rtol=1e-5)
    np.testing.assert_allclose(result.insertion[:, 0], blurred, rtol=1e-5)
    np.testing.assert_allclose(result.insertion[:, -1], probs, rtol=1e-5)
    assert not np.allclose(blurred, black)


def test_a_model_that_outputs_logits_gives_probability_curves():
    logits, softmax = left_half_model(activation=None), left_half_model()
    batch, maps = images() * 4, np.random.rand(3, SIZE, SIZE)
    from_logits = deletion_insertion(logits, batch, maps, class_index=1, steps=4)
    from_probabilities = deletion_insertion(softmax, batch, maps, class_index=1, steps=4)
    np.testing.assert_allclose(from_logits.deletion, from_probabilities.deletion, rtol=1e-5, atol=1e-7)
    assert (from_logits.deletion_auc >= 0).all() and (from_logits.insertion_auc <= 1).all()


def test_curves_do_not_depend_on_the_batch_size():
    model, batch, maps = left_half_model(), images(), np.random.rand(3, SIZE, SIZE)
    small = deletion_insertion(model, batch, maps, steps=5, batch_size=4)
    large = deletion_insertion(model, batch, maps, steps=5, batch_size=256)
    np.testing.assert_allclose(small.deletion, large.deletion, rtol=1e-5)
    np.testing.assert_allclose(small.insertion, large.insertion, rtol=1e-5)
    with pytest.raises(ExplanationError, match="substrate"):
        deletion_insertion(model, batch, maps, insertion_substrate="noise")


# ------------------------------------------------------------------ sanity check

def test_the_cascade_randomises_conv_and_dense_layers_from_the_top_and_only_in_the_copy():
    model = nested_model()
    weights = [w.copy() for w in model.get_weights()]
    assert cascade_layers(model) == ["logits", "c2", "c1"]
    copies = randomised_copies(model, seed=0)
    top = next(copies)
    np.testing.assert_array_equal(top.get_layer("backbone").get_layer("c2").get_weights()[0], weights[2])
    assert not np.allclose(top.get_layer("logits").get_weights()[0], model.get_layer("logits").get_weights()[0])
    second = next(copies)
    assert not np.allclose(second.get_layer("backbone").get_layer("c2").get_weights()[0], weights[2])
    np.testing.assert_array_equal(second.get_layer("backbone").get_layer("c1").get_weights()[0], weights[0])
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_draws_are_seeded():
    model = nested_model()
    first = [layer_weights(copy) for copy in randomised_copies(model, seed=3)]
    again = [layer_weights(copy) for copy in randomised_copies(model, seed=3)]
    other = [layer_weights(copy) for copy in randomised_copies(model, seed=4)]
    np.testing.assert_array_equal(first[-1], again[-1])
    assert not np.allclose(first[-1], other[-1])


def layer_weights(model):
    return np.concatenate([w.ravel() for w in model.get_weights()])


def test_the_cascade_separates_model_explanations_from_image_edges():
    model, batch = nested_model(), images(4)
    cascade = cascading_randomisation(model, batch, draws=2)
    assert cascade.layers == ["logits", "c2", "c1"] and cascade.spearman.shape == (2, 3, 4)
    assert np.abs(cascade.mean_per_draw[:, -1]).max() < 0.5

    def brightness(model, images, class_index):  # ignores the model: the check must catch it
        return images.mean(axis=-1)

    ignored = cascading_randomisation(model, batch, explain=brightness, draws=2)
    np.testing.assert_allclose(ignored.mean_per_draw, 1.0)


def test_constant_maps_are_counted_apart_and_anticorrelated_maps_keep_their_sign():
    model, batch = nested_model(), images(3)
    trained_weights = model.get_weights()

    def inverted_when_random(explained, images, class_index):
        maps = images.mean(axis=-1)
        random = not all(np.array_equal(a, b) for a, b in zip(explained.get_weights(), trained_weights))
        if random:
            maps = maps.max() - maps  # the ranking reversed: rho = -1, a failure, not a pass
            maps[0] = 1.0  # the first image's map is constant
        return maps

    cascade = cascading_randomisation(model, batch, explain=inverted_when_random, draws=1)
    assert cascade.constant.tolist() == [[1, 1, 1]]
    np.testing.assert_allclose(cascade.mean_per_draw, -1.0)


def test_the_cascade_takes_integrated_gradients_attributions():
    cascade = cascading_randomisation(nested_model(), images(2), draws=1,
                                      explain=lambda m, x, c: xai.integrated_gradients(m, x, c, steps=4))
    assert cascade.spearman.shape == (1, 3, 2) and np.isfinite(cascade.spearman).all()
