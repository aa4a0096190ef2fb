"""Quantitative checks of explanations, on hand-made maps and tiny models."""

import keras
import numpy as np
import pytest
from keras import layers

from reportgen.practice import xai
from reportgen.practice.xai_checks import (
    deletion_insertion,
    energy_in_mask,
    pointing_game,
    randomization_sanity_check,
    randomized_copy,
)

SIZE = 8
LEFT = np.zeros((SIZE, SIZE), dtype=bool)
LEFT[:, : SIZE // 2] = True


def left_half_model():
    """Class 0 grows with the brightness of the left half of the image; the right half is ignored."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255)(inputs)
    mask = LEFT[None, :, :, None].astype("float32")
    x = layers.Lambda(lambda pixels: pixels * mask)(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(2, activation="softmax", name="logits")(x)
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
    with pytest.raises(ValueError, match="do not match"):
        energy_in_mask(np.zeros((1, SIZE, SIZE)), np.zeros((1, 4, 4)))


# ------------------------------------------------------------ deletion, insertion

def test_a_faithful_map_deletes_fast_and_inserts_fast():
    model, batch = left_half_model(), images()
    faithful = np.broadcast_to(LEFT.astype(float), (3, SIZE, SIZE))
    misleading = 1.0 - faithful
    good = deletion_insertion(model, batch, faithful, class_index=0, steps=8)
    bad = deletion_insertion(model, batch, misleading, class_index=0, steps=8)
    assert np.all(good.deletion_auc < bad.deletion_auc)
    assert np.all(good.insertion_auc > bad.insertion_auc)


def test_curves_run_from_the_image_to_the_substrate():
    model, batch = left_half_model(), images()
    probs = model.predict(batch, verbose=0)[:, 0]
    black = model.predict(np.zeros_like(batch), verbose=0)[:, 0]
    result = deletion_insertion(model, batch, np.random.rand(3, SIZE, SIZE), class_index=0, steps=4)
    np.testing.assert_allclose(result.fractions, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(result.deletion[:, 0], probs, rtol=1e-5)
    np.testing.assert_allclose(result.deletion[:, -1], black, rtol=1e-5)
    np.testing.assert_allclose(result.insertion[:, 0], black, rtol=1e-5)
    np.testing.assert_allclose(result.insertion[:, -1], probs, rtol=1e-5)


def test_curves_do_not_depend_on_the_batch_size_and_blur_is_a_substrate():
    model, batch, maps = left_half_model(), images(), np.random.rand(3, SIZE, SIZE)
    small = deletion_insertion(model, batch, maps, steps=5, substrate="blur", batch_size=4)
    large = deletion_insertion(model, batch, maps, steps=5, substrate="blur", batch_size=256)
    np.testing.assert_allclose(small.deletion, large.deletion, rtol=1e-5)
    np.testing.assert_allclose(small.insertion, large.insertion, rtol=1e-5)
    black = model.predict(np.zeros_like(batch), verbose=0).max(axis=1)
    assert not np.allclose(small.insertion[:, 0], black)  # starts from the blurred image
    with pytest.raises(ValueError, match="'black' or 'blur'"):
        deletion_insertion(model, batch, maps, substrate="noise")


# ------------------------------------------------------------------ sanity check

def test_randomized_copy_changes_only_the_copy():
    model = nested_model()
    weights = [w.copy() for w in model.get_weights()]
    copy, names = randomized_copy(model, top_layers=2)
    assert names == ["c2", "logits"]
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(copy.get_layer("backbone").get_layer("c1").get_weights()[0], weights[0])
    assert not np.allclose(copy.get_layer("logits").get_weights()[0], model.get_layer("logits").get_weights()[0])
    with pytest.raises(ValueError, match="top_layers"):
        randomized_copy(model, top_layers=0)


def test_sanity_check_separates_model_explanations_from_image_edges():
    model, batch = nested_model(), images(4)
    gradcam_check = randomization_sanity_check(model, batch, top_layers=2)
    assert gradcam_check.randomized_layers == ["c2", "logits"]
    assert gradcam_check.spearman.shape == (4,) and np.isfinite(gradcam_check.spearman).all()
    assert gradcam_check.mean_spearman < 0.5

    def brightness(model, images, class_index):  # ignores the model: the check must catch it
        return images.mean(axis=-1)

    assert randomization_sanity_check(model, batch, explain=brightness).spearman == pytest.approx(1.0)


def test_sanity_check_takes_integrated_gradients_attributions():
    check = randomization_sanity_check(nested_model(), images(2),
                                       explain=lambda m, x, c: xai.integrated_gradients(m, x, c, steps=4))
    assert check.trained_maps.shape == (2, SIZE, SIZE)
    assert np.isfinite(check.spearman).all()
