"""Each augmentation operation does what its name says, on images whose answer is known.

The fused geometric layer (RandomAffine) is checked against the Keras layers it replaces:
same draws for a seed, same matrices, same fill, and XLA where the backend allows it
(`test_the_fused_layer_passes_under_the_jax_backend` reruns the XLA tests under JAX).
"""

from __future__ import annotations


import keras
import numpy as np
import pytest
from pydantic import ValidationError

from reportgen.practice.augmentation import (PRESET_PIPELINES, RandomAffine, build_pipeline, cutmix,
                                    label_risks, mix_batch, mixup,
                                    rotation_matrices, supports_xla, warp)
from reportgen.practice.config import (AugmentationConfig, Brightness, Flip, Hue, Mixing, RandomErasing,
                              RandomResizedCrop, Rotation, Saturation, Translation, Zoom)
from reportgen.practice import figure_data
from reportgen.record import Recorder, to_jsonable
from reportgen.render.figures import augmentation as drawers
from reportgen.render.numbers import number
from reportgen.results import RunResults
from reportgen.render.pipelines import describe_pipeline, risk_warnings

from conftest import run_under_jax

SIZE = 33  # odd, so the image has a centre pixel


def augment(ops, images, seed=0):
    return np.asarray(build_pipeline(ops, seed=seed)(images.astype(np.float32), training=True))


def copies(image, count=16):
    return np.repeat(image[None].astype(np.float32), count, axis=0)


def test_horizontal_flip_mirrors_exactly_or_leaves_alone():
    image = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3)).astype(np.float32)
    out = augment([Flip(op="flip", mode="horizontal")], copies(image))
    mirrored = [np.array_equal(o, image[:, ::-1]) for o in out]
    unchanged = [np.array_equal(o, image) for o in out]
    assert all(m or u for m, u in zip(mirrored, unchanged))
    assert any(mirrored) and any(unchanged)


def test_rotation_moves_a_point_along_its_circle_within_the_angle():
    image = np.zeros((SIZE, SIZE, 3), np.float32)
    centre, radius = SIZE // 2, 10
    image[centre - radius - 1:centre - radius + 2, centre - 1:centre + 2] = 255  # a dot above the centre
    factor = 0.1  # +-36 degrees
    out = augment([Rotation(op="rotation", factor=factor)], copies(image)).sum(axis=-1)
    angles = []
    for rotated in out:
        row, col = np.unravel_index(np.argmax(rotated), rotated.shape)
        assert np.hypot(row - centre, col - centre) == pytest.approx(radius, abs=1.5)
        angles.append(np.degrees(np.arctan2(col - centre, centre - row)))
    assert max(abs(a) for a in angles) <= factor * 360 + 6
    assert max(abs(a) for a in angles) > 5  # it did rotate


def test_brightness_shifts_the_mean_within_its_factor():
    image = np.full((SIZE, SIZE, 3), 100, np.float32)
    out = augment([Brightness(op="brightness", factor=0.2)], copies(image))
    shifts = out.mean(axis=(1, 2, 3)) - 100
    assert np.allclose(out, out.mean(axis=(1, 2, 3), keepdims=True))  # a uniform shift per image
    assert np.abs(shifts).max() <= 0.2 * 255 + 1e-3
    assert np.abs(shifts).max() > 5


def test_random_erasing_blanks_one_rectangle_of_the_configured_area():
    image = np.full((SIZE, SIZE, 3), 128, np.float32)
    out = augment([RandomErasing(op="random_erasing", probability=1.0, scale=(0.1, 0.2))], copies(image))
    for erased in out:
        changed = (erased != 128).any(axis=-1)
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        box = changed[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.mean() > 0.9  # the changes form one rectangle
        assert 0.05 <= box.size / changed.size <= 0.25


def test_random_resized_crop_zooms_into_the_requested_area():
    ramp = np.tile(np.linspace(0, 255, SIZE, dtype=np.float32)[None, :, None], (SIZE, 1, 3))
    out = augment([RandomResizedCrop(op="random_resized_crop", scale=(0.25, 0.25))], copies(ramp))
    spans = out[:, SIZE // 2, :, 0].max(axis=1) - out[:, SIZE // 2, :, 0].min(axis=1)
    assert spans == pytest.approx(np.full(len(out), 0.5 * 255), abs=12)  # a crop half as wide


@pytest.mark.parametrize("op", [Saturation(op="saturation", factor=1.0), Hue(op="hue", factor=0.5)])
def test_colour_operations_keep_pixels_in_range(op):
    image = np.random.default_rng(1).integers(0, 256, (SIZE, SIZE, 3)).astype(np.float32)
    out = augment([op], copies(image))
    assert out.min() >= -1e-3 and out.max() <= 255 + 1e-3
    assert not np.allclose(out, image)


def test_pipeline_is_the_identity_outside_training():
    images = np.random.default_rng(2).integers(0, 256, (4, SIZE, SIZE, 3)).astype(np.float32)
    pipeline = build_pipeline(AugmentationConfig().advanced, seed=0)
    assert np.array_equal(np.asarray(pipeline(images, training=False)), images)


def test_pipeline_is_reproducible_for_a_seed_and_accepts_plain_dicts():
    images = np.random.default_rng(3).integers(0, 256, (4, SIZE, SIZE, 3)).astype(np.float32)
    ops = [{"op": "rotation", "factor": 0.2}, {"op": "contrast"}]
    assert np.array_equal(augment(ops, images, seed=5), augment(ops, images, seed=5))
    assert not np.array_equal(augment(ops, images, seed=5), augment(ops, images, seed=6))
    with pytest.raises(ValidationError):
        build_pipeline([{"op": "solarize"}])


# ------------------------------------------------------------ fused geometric layer

def smooth_image(size=SIZE):
    """A slowly varying image: bilinear resampling once or several times gives nearly the same."""
    rows, cols = np.mgrid[0:size, 0:size] / size
    channel = 127 + 100 * np.sin(2 * np.pi * cols) * np.cos(np.pi * rows)
    return np.stack([channel, 255 - channel, channel / 2], axis=-1).astype(np.float32)


@pytest.mark.parametrize("op", [Flip(op="flip"), Flip(op="flip", mode="horizontal_and_vertical"),
                                Rotation(op="rotation", factor=0.2), Zoom(op="zoom", factor=0.3),
                                Translation(op="translation", factor=0.2)], ids=lambda op: op.op)
def test_a_fused_operation_draws_and_warps_exactly_like_its_keras_layer(op):
    # Same seed, same numbers drawn (so the same distribution), same matrix, same reflect fill.
    images = np.random.default_rng(6).uniform(0, 255, (8, 24, 20, 3)).astype(np.float32)
    keras_layer = build_pipeline([op], seed=4, fused=False)
    fused = RandomAffine([op], seed=4)
    assert type(keras_layer.layers[0]).__name__ != "RandomAffine"
    np.testing.assert_allclose(fused(images, training=True), keras_layer(images, training=True), atol=1e-3)


def test_a_fused_flip_is_exact():
    image = np.random.default_rng(7).uniform(0, 255, (SIZE, SIZE, 3)).astype(np.float32)
    out = np.asarray(RandomAffine([Flip(op="flip", mode="vertical")], seed=0)(copies(image), training=True))
    flipped = [np.array_equal(o, image[::-1]) for o in out]
    assert all(f or np.array_equal(o, image) for f, o in zip(flipped, out))
    assert any(flipped) and not all(flipped)


def test_a_positive_rotation_turns_counter_clockwise_about_the_centre_like_keras():
    image = np.zeros((1, SIZE, SIZE, 3), np.float32)
    centre, radius = SIZE // 2, 10
    image[0, centre - radius, centre] = 255  # a dot straight above the centre
    quarter_turn = rotation_matrices(keras.ops.convert_to_tensor([90.0]), SIZE, SIZE)
    turned = np.asarray(warp(image, quarter_turn))[0, ..., 0]
    assert np.unravel_index(np.argmax(turned), turned.shape) == (centre, centre - radius)  # now on the left
    keras_turned = keras.layers.RandomRotation((0.25, 0.25), fill_mode="reflect")(image, training=True)
    np.testing.assert_allclose(turned, np.asarray(keras_turned)[0, ..., 0], atol=1e-3)


@pytest.mark.parametrize("reverse", [False, True], ids=["flip-first", "translation-first"])
def test_one_fused_warp_matches_the_chain_of_keras_layers_away_from_the_border(reverse):
    # The same seed draws the same numbers; only resampling once instead of four times differs,
    # and the border, where each chained layer reflects an image the fused warp never builds.
    ops = [Flip(op="flip"), Rotation(op="rotation", factor=0.03), Zoom(op="zoom", factor=0.1),
           Translation(op="translation", factor=0.1)]
    ops = ops[::-1] if reverse else ops
    images = copies(smooth_image())
    fused = np.asarray(build_pipeline(ops, seed=1, fused=True)(images, training=True))
    chained = np.asarray(build_pipeline(ops, seed=1, fused=False)(images, training=True))
    inner = (slice(None), slice(8, -8), slice(8, -8))
    assert np.abs(fused[inner] - chained[inner]).max() < 3
    assert np.abs(fused - images).mean() > 20  # and the operations did move the image


def test_consecutive_geometric_operations_become_one_layer():
    def layer_names(ops, fused=True):
        return [type(layer).__name__ for layer in build_pipeline(ops, fused=fused).layers]

    assert layer_names(AugmentationConfig().advanced) == [
        "RandomAffine", "RandomBrightness", "RandomContrast", "RandomErasing"]
    assert layer_names([Flip(op="flip"), Brightness(op="brightness")]) == ["RandomFlip", "RandomBrightness"]
    mixed = [Zoom(op="zoom"), Brightness(op="brightness"), Flip(op="flip"), Rotation(op="rotation")]
    assert layer_names(mixed) == ["RandomAffine", "RandomBrightness", "RandomAffine"]
    assert layer_names([Flip(op="flip"), Zoom(op="zoom")], fused=False) == ["RandomFlip", "RandomZoom"]


def test_fusing_is_the_default_only_where_it_pays():
    on_jax = keras.backend.backend() == "jax"  # there the fused warp compiles and Keras' layers do not
    names = [type(layer).__name__ for layer in build_pipeline([Flip(op="flip"), Zoom(op="zoom")]).layers]
    assert names == (["RandomAffine"] if on_jax else ["RandomFlip", "RandomZoom"])


def test_xla_support_is_decided_by_the_layers():
    fused_compiles = keras.backend.backend() == "jax"  # TensorFlow's warp kernel has no XLA version
    assert supports_xla([Flip(op="flip"), Brightness(op="brightness")])
    assert supports_xla([Flip(op="flip"), Rotation(op="rotation")], fused=True) == fused_compiles
    assert supports_xla([RandomResizedCrop(op="random_resized_crop")], fused=True) == fused_compiles
    assert not supports_xla([Flip(op="flip"), Rotation(op="rotation")], fused=False)  # Keras' layers


def test_the_fused_pipeline_trains_under_xla_where_the_backend_allows():
    ops = AugmentationConfig().advanced
    if not supports_xla(ops, fused=True):
        pytest.skip(f"the {keras.backend.backend()} warp kernel cannot be XLA-compiled")
    trainer = keras.Sequential([keras.Input((16, 16, 3)), build_pipeline(ops, seed=0, fused=True),
                                keras.layers.Flatten(), keras.layers.Dense(2)])
    trainer.compile(optimizer="sgd", loss="mse", jit_compile=True)
    assert trainer.jit_compile  # Keras falls back to False if a layer refuses
    history = trainer.fit(np.full((8, 16, 16, 3), 100, np.float32), np.zeros((8, 2), np.float32),
                          batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="launches the JAX run from TensorFlow")
def test_the_fused_layer_passes_under_the_jax_backend():
    run_under_jax(__file__, "xla and not jax_backend")


def two_images():
    images = np.stack([np.zeros((8, 8, 3)), np.full((8, 8, 3), 255.0)]).astype(np.float32)
    return images, np.eye(3, dtype=np.float32)[[0, 2]]


@pytest.mark.parametrize("seed", range(5))
def test_mixup_blends_images_and_labels_with_the_same_lambda(seed):
    images, labels = two_images()
    mixed, mixed_labels, lam = mixup(images, labels, 0.4, np.random.default_rng(seed), partner=[1, 0])
    assert np.allclose(mixed[0], (1 - lam) * 255)
    assert np.allclose(mixed_labels[0], [lam, 0, 1 - lam])
    assert np.allclose(mixed_labels.sum(axis=1), 1)


@pytest.mark.parametrize("seed", range(5))
def test_cutmix_label_weight_equals_the_pasted_area(seed):
    images, labels = two_images()
    mixed, mixed_labels, lam = cutmix(images, labels, 1.0, np.random.default_rng(seed), partner=[1, 0])
    pasted = (mixed[0] == 255).all(axis=-1).mean()
    assert pasted == pytest.approx(1 - lam)
    assert np.allclose(mixed_labels[0], [lam, 0, 1 - lam])


def test_mix_batch_follows_each_probability():
    images = np.random.default_rng(4).uniform(0, 255, (6, 8, 8, 3)).astype(np.float32)
    labels = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]
    never = Mixing(alpha=1.0, probability=0.0)
    same_images, same_labels = mix_batch(images, labels, never, never, np.random.default_rng(0))
    assert np.array_equal(same_images, images) and np.array_equal(same_labels, labels)
    always = Mixing(alpha=1.0, probability=1.0)
    _, mixed_labels = mix_batch(images, labels, always, always, np.random.default_rng(0))
    assert np.allclose(mixed_labels.sum(axis=1), 1) and not np.array_equal(mixed_labels, labels)


@pytest.mark.parametrize("op, preset, warned", [
    (Flip(op="flip", mode="vertical"), "digits", True),
    (Flip(op="flip", mode="horizontal"), "text", True),
    (Flip(op="flip", mode="vertical"), "natural", False),
    (Rotation(op="rotation", factor=0.25), "digits", True),
    (Rotation(op="rotation", factor=0.03), "digits", False),
    (Rotation(op="rotation", factor=0.25), "natural", False),
    (Hue(op="hue", factor=0.3), "natural", True),
    (Hue(op="hue", factor=0.05), "natural", False),
    (RandomResizedCrop(op="random_resized_crop", scale=(0.2, 1.0)), "text", True),
    (Rotation(op="rotation", factor=0.5), "none", False),
])
def test_label_risks(op, preset, warned):
    assert bool(label_risks([op], preset)) == warned


def test_label_risks_are_numbers_worded_at_render_time_in_the_page_language():
    [risk] = label_risks([Hue(op="hue", factor=0.4)], "natural")
    assert risk["risk"] == "hue" and risk["degrees"] == pytest.approx(72)
    [spanish] = risk_warnings([to_jsonable(risk)], "natural", "es")
    [english] = risk_warnings([to_jsonable(risk)], "natural", "en")
    assert "hue" in spanish and "±72°" in spanish and "color" in spanish
    assert "colour" in english and english != spanish


@pytest.mark.parametrize("preset", sorted(PRESET_PIPELINES))
def test_each_preset_pipeline_is_safe_for_its_kind_of_data(preset):
    assert label_risks(PRESET_PIPELINES[preset], preset) == []


@pytest.mark.parametrize("language, flip, rotation, mixup", [("es", "Volteo", "Rotación", "alpha 0,2, prob. 0,5"),
                                                              ("en", "Flip", "Rotation", "alpha 0.2, prob. 0.5")])
def test_describe_pipeline_lists_recorded_operations_in_order_with_readable_strengths(language, flip, rotation, mixup):
    recorded = to_jsonable(AugmentationConfig().advanced)
    rows = describe_pipeline(recorded, language, mixup={"alpha": 0.2, "probability": 0.5})
    assert rows[0] == {"operation": flip, "strength": "horizontal"}
    assert rows[1] == {"operation": rotation, "strength": "±36°"}
    assert rows[-1] == {"operation": "MixUp", "strength": mixup}
    assert len(rows) == len(AugmentationConfig().advanced) + 1


def test_mosaic_records_the_original_and_the_requested_draws(tmp_path):
    image = np.random.default_rng(5).integers(0, 256, (24, 24, 3)).astype(np.uint8)
    recorded = figure_data.mosaic(image, build_pipeline(AugmentationConfig().advanced, seed=0), draws=9)
    assert np.array_equal(recorded["original"], image)
    assert recorded["draws"].shape == (8, 24, 24, 3) and recorded["draws"].dtype == np.uint8
    assert not all(np.array_equal(draw, image) for draw in recorded["draws"])
    run = RunResults(id="r", config=None, status="ok", arrays={"mosaic": Recorder(tmp_path).arrays("mosaic", **recorded)})
    fig = drawers.mosaic(run, "en")
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    assert [ax.get_title() for ax in shown] == ["Original"] + [f"Draw {n}" for n in range(1, 9)]
    assert np.array_equal(shown[0].images[0].get_array(), image)


def _flat_images(values) -> np.ndarray:
    """Images of one flat colour each: where a pixel of a mix came from can be read back."""
    return np.stack([np.full((20, 20, 3), value, np.uint8) for value in values])


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_drawn_lambda_is_the_recorded_weight_of_the_first_image_in_mixup_and_cutmix(tmp_path, language):
    images = _flat_images([0, 200, 40, 240, 100, 160])
    labels = np.array([0, 1, 2, 0, 1, 2])
    recorded = figure_data.mixing(images, labels, 3, Mixing(alpha=0.4), Mixing(alpha=1.0), seed=3)
    first, second = recorded["first"].astype(float), recorded["second"].astype(float)
    for row, lam in enumerate(recorded["mixup_lambda"]):  # MixUp: lambda weighs x_i's pixels
        expected = lam * first[row] + (1 - lam) * second[row]
        assert np.abs(recorded["mixup_images"][row] - expected).max() <= 0.5
    for row, lam in enumerate(recorded["cutmix_lambda"]):  # CutMix: lambda is the share of x_i's area left
        from_first = (recorded["cutmix_images"][row] == recorded["first"][row]).all(axis=-1).mean()
        assert from_first == pytest.approx(lam)
    run = RunResults(id="r", config=None, status="ok", facts={"dataset": {"class_names": ["rosa", "azul", "verde"]}},
                     arrays={"mixing": Recorder(tmp_path).arrays("mixing", **recorded)})
    fig = drawers.mixing(run, language)
    for row in range(len(first)):
        row_axes = fig.axes[4 * row: 4 * row + 4]
        assert row_axes[0].get_xlabel() == ["rosa", "azul", "verde"][recorded["first_label"][row]]
        for ax, method in zip(row_axes[2:], ("mixup", "cutmix")):
            assert ax.get_xlabel() == f"λ = {number(recorded[f'{method}_lambda'][row], language, 2)}"


def test_mixing_records_only_the_methods_that_are_on():
    recorded = figure_data.mixing(_flat_images([0, 200, 40]), np.array([0, 1, 2]), 3, None, Mixing(alpha=1.0), seed=0)
    assert "cutmix_lambda" in recorded and "mixup_lambda" not in recorded
    assert (recorded["first_label"] != recorded["second_label"]).all()
