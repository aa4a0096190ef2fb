"""Classifier structure, input range by construction, weights handling and fine-tuning."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from reportgen.practice.config import ModelConfig
from reportgen.practice.models import WeightsUnavailableError, build_classifier, unfreeze_top_layers

RAW = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype(np.uint8)


def backbone_features(model: keras.Model, images) -> np.ndarray:
    """The feature map the model's backbone produces inside the model, for raw images."""
    probe = keras.Model(model.input, model.get_layer("pooling").input)
    return probe.predict(images, verbose=0)


def same(a, b) -> bool:
    # Relative to the largest value: a randomly initialised deep backbone has tiny activations.
    return np.allclose(a, b, rtol=1e-3, atol=1e-3 * np.abs(b).max())


@pytest.fixture(scope="module")
def mobilenet() -> keras.Model:
    return build_classifier(ModelConfig(backbone="mobilenetv2", weights="none"), num_classes=4, image_size=32)


def check_structure(model: keras.Model, num_classes: int) -> None:
    assert isinstance(model.get_layer("backbone"), keras.Model)
    assert len(model.get_layer("backbone").output.shape) == 4  # a feature map, for Grad-CAM
    assert model.get_layer("logits").get_config()["activation"] == "linear"
    assert model.layers[-1].name == "probabilities"
    assert model.layers[-1].get_config()["activation"] == "softmax"
    assert tuple(model.output.shape) == (None, num_classes)


def test_mobilenetv2_nests_a_backbone_and_ends_in_logits_then_probabilities(mobilenet):
    check_structure(mobilenet, num_classes=4)
    probabilities = mobilenet.predict(RAW, verbose=0)  # raw uint8 pixels are accepted as they are
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("backbone", ["small_cnn", "efficientnetb0", "resnet50v2"])
def test_other_backbones_have_the_same_structure(backbone):
    model = build_classifier(ModelConfig(backbone=backbone), num_classes=3, image_size=32)
    check_structure(model, num_classes=3)


def test_mobilenetv2_backbone_sees_its_own_preprocessing_of_raw_pixels(mobilenet):
    backbone = mobilenet.get_layer("backbone")
    preprocessed = keras.applications.mobilenet_v2.preprocess_input(RAW.astype(np.float32))
    assert preprocessed.min() >= -1 and preprocessed.max() <= 1
    inside = backbone_features(mobilenet, RAW)
    assert same(inside, backbone.predict(preprocessed, verbose=0))
    assert not same(inside, backbone.predict(RAW.astype(np.float32) / 255, verbose=0))


def test_small_cnn_backbone_sees_pixels_scaled_to_unit_range():
    model = build_classifier(ModelConfig(backbone="small_cnn"), num_classes=3, image_size=32)
    probe = keras.Model(model.input, model.get_layer("preprocessing").output)
    scaled = probe.predict(np.stack([np.zeros((32, 32, 3)), np.full((32, 32, 3), 255)]), verbose=0)
    assert scaled.min() == 0 and scaled.max() == pytest.approx(1)
    inside = backbone_features(model, RAW)
    assert same(inside, model.get_layer("backbone").predict(RAW / 255.0, verbose=0))


def test_seed_fixes_the_initial_weights():
    def weights(seed):
        return build_classifier(ModelConfig(), num_classes=3, image_size=16, seed=seed).get_weights()

    assert all(np.array_equal(a, b) for a, b in zip(weights(1), weights(1)))
    assert not all(np.array_equal(a, b) for a, b in zip(weights(1), weights(2)))


def test_imagenet_download_failure_says_where_keras_caches_weights(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- no network")

    monkeypatch.setattr(keras.src.utils.file_utils, "get_file", offline)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(WeightsUnavailableError) as error:
        build_classifier(ModelConfig(backbone="mobilenetv2", weights="imagenet"), num_classes=3,
                         image_size=32)
    message = str(error.value)
    assert str(tmp_path / "models") in message and "KERAS_HOME" in message
    assert "MobileNetV2(include_top=False, weights='imagenet')" in message


def test_small_cnn_has_no_imagenet_weights():
    with pytest.raises(ValueError, match="model.weights"):
        build_classifier(ModelConfig(backbone="small_cnn", weights="imagenet"), num_classes=3, image_size=16)


def test_weights_file_is_loaded_into_a_frozen_backbone(tmp_path):
    source = build_classifier(ModelConfig(), num_classes=3, image_size=16, seed=1).get_layer("backbone")
    path = tmp_path / "backbone.weights.h5"
    source.save_weights(path)
    model = build_classifier(ModelConfig(weights=str(path)), num_classes=3, image_size=16, seed=2)
    backbone = model.get_layer("backbone")
    assert all(np.array_equal(a, b) for a, b in zip(backbone.get_weights(), source.get_weights()))
    assert not backbone.trainable
    assert {w.path.split("/")[0] for w in model.trainable_weights} == {"logits"}

    unfreeze_top_layers(model, 3)  # block4_conv, its BatchNorm and its ReLU
    trainable = {w.path.split("/")[-2] for w in model.trainable_weights}
    assert trainable == {"block4_conv", "logits"}  # BatchNorm stays frozen


def test_missing_weights_file_names_the_field(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.weights"):
        build_classifier(ModelConfig(weights=str(tmp_path / "nope.weights.h5")), num_classes=3, image_size=16)
