"""Explanations of image classifiers: Grad-CAM, Grad-CAM++ and Integrated Gradients.

Every method takes a Keras model and a batch of images exactly as the model takes them
(raw 0-255 pixels for the project's models) and returns NumPy arrays. The API follows
captum: one class per method with an `attribute` method, and a plain function for each::

    heatmaps = gradcam(model, images)                      # (N, H, W), in [0, 1]
    attributions, gaps = IntegratedGradients(model).attribute(images, return_gap=True)

Three things that usually go wrong are handled here, once:

- Gradients are taken of the class *logit*, not of its probability. The final softmax is
  left out of a *view* of the model: a new functional graph that re-calls the model's own
  layers (same weights), so the user's model is never modified.
- The feature map Grad-CAM needs may live inside a nested backbone (`Sequential([base,
  ...])`, or a functional model that calls `base`). The view splits the nested model at
  that layer and calls both halves, so the feature map becomes a node of the outer graph;
  the graph is then cut there into `images -> features` and `features -> logits`.
- Images, and the interpolation steps of Integrated Gradients, go through the model in
  batches of `batch_size`, so memory stays bounded; all arithmetic is per image.

Inputs that would give a silently wrong map are refused with an `ExplanationError` that
says what to pass instead: outputs that still look like probabilities once every known
softmax is left out, a class index that is not one integer per image in range, a
`layer=` without a spatial feature map, a model without a convolution (for Grad-CAM), an
empty batch. A one-unit sigmoid head is explained for the side it predicts: its logit
for class 1, minus its logit for class 0.

`_gradients` is the only backend-specific code (TensorFlow or JAX).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import keras
import numpy as np
from keras import layers, ops

from reportgen.errors import ExplanationError

DEFAULT_BATCH_SIZE = 32
# Functions a model may end with that turn logits into probabilities, by name: keras.ops,
# keras.activations, tf.nn ("softmax_v2") and jax.nn all name theirs like this.
OUTPUT_ACTIVATION_NAMES = {"softmax", "softmax_v2", "log_softmax", "log_softmax_v2", "sigmoid"}
CONV_LAYERS = (layers.Conv2D, layers.DepthwiseConv2D, layers.SeparableConv2D, layers.Conv2DTranspose)
PROBABILITY_TOLERANCE = 1e-3  # rows summing to 1 within this, all >= 0: outputs are probabilities


# ------------------------------------------------------------------ plain functions

def gradcam(model, images, class_index=None, layer: str | None = None) -> np.ndarray:
    """Grad-CAM heatmaps (N, H, W) in [0, 1]; `class_index` None explains the predicted class."""
    return GradCAM(model, layer).attribute(images, target=class_index)


def gradcam_plus_plus(model, images, class_index=None, layer: str | None = None) -> np.ndarray:
    """Grad-CAM++ heatmaps (N, H, W) in [0, 1]; arguments as in `gradcam`."""
    return GradCAMPlusPlus(model, layer).attribute(images, target=class_index)


def integrated_gradients(model, images, class_index=None, baseline=None, steps: int = 50) -> np.ndarray:
    """Integrated Gradients attributions (N, H, W, C) from a black (or given) baseline."""
    return IntegratedGradients(model, steps).attribute(images, target=class_index, baseline=baseline)


def attribution_heatmap(attributions: np.ndarray) -> np.ndarray:
    """(N, H, W) heatmap in [0, 1] of pixel attributions (N, H, W, C): |attribution| summed over channels."""
    return _scale_to_unit(np.abs(attributions).sum(axis=-1))


def select_examples(probs, labels, n: int) -> dict[str, np.ndarray]:
    """Indices of the `n` most confident correct predictions ("hits") and wrong ones ("errors")."""
    probs, labels = np.asarray(probs), np.asarray(labels)
    most_confident_first = np.argsort(-probs.max(axis=-1), kind="stable")
    correct = probs.argmax(axis=-1)[most_confident_first] == labels[most_confident_first]
    return {"hits": most_confident_first[correct][:n], "errors": most_confident_first[~correct][:n]}


def find_feature_layer(model) -> str:
    """Name of the last layer with a spatial (N, h, w, channels) output, nested models included."""
    return _feature_layer_path(model, None)[-1]


# ------------------------------------------------------------------------ methods

class GradCAM:
    """Grad-CAM (Selvaraju et al., 2017): feature maps weighted by their mean logit gradient.

    The model view is built once per instance: reuse one instance for many batches.
    """

    def __init__(self, model, layer: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE):
        self.logit_model = logit_view(model)
        path = _feature_layer_path(self.logit_model, layer)
        self.layer = path[-1]
        self.feature_model, self.head = _split_at(self.logit_model, path)
        self.batch_size = batch_size

    def attribute(self, images, target=None) -> np.ndarray:
        """Heatmaps (N, H, W) in [0, 1], upsampled to the image size; an all-zero map stays zero."""
        images = as_image_batch(images)
        targets = class_targets(predict_logits(self.logit_model, images, self.batch_size), target)
        maps = [self._class_activation_maps(images[part], targets[part])
                for part in _batches(len(images), self.batch_size)]
        return _scale_to_unit(_resize(np.concatenate(maps), images.shape[1:3]))

    def _class_activation_maps(self, images, targets) -> np.ndarray:
        features = ops.convert_to_numpy(self.feature_model(images, training=False))
        gradients, _ = _gradients(_class_logit(self.head, targets), features)
        weights = self.channel_weights(features, gradients)
        return np.maximum(np.einsum("nhwk,nk->nhw", features, weights), 0.0)

    @staticmethod
    def channel_weights(features: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        """One weight per image and channel: the gradient averaged over the map, never over the batch."""
        return gradients.mean(axis=(1, 2))


class GradCAMPlusPlus(GradCAM):
    """Grad-CAM++ (Chattopadhay et al., 2018): positive gradients weighted per pixel.

    Closed-form weights of the paper (exponential-score assumption), as in pytorch-grad-cam.
    """

    @staticmethod
    def channel_weights(features: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        squared = gradients**2
        denominator = 2 * squared + features.sum(axis=(1, 2), keepdims=True) * gradients**3
        alphas = np.divide(squared, denominator, out=np.zeros_like(squared), where=denominator != 0)
        return (alphas * np.maximum(gradients, 0.0)).sum(axis=(1, 2))


class IntegratedGradients:
    """Integrated Gradients (Sundararajan et al., 2017) of the class logit along baseline -> image.

    Exact attributions add up to f(image) - f(baseline) (completeness). The integral is
    approximated by the trapezoidal rule over `steps` intervals; `return_gap=True` tells,
    per image, how far the sum is from that difference, relative to |f(image) - f(baseline)|.
    """

    def __init__(self, model, steps: int = 50, batch_size: int = DEFAULT_BATCH_SIZE):
        if steps < 1:
            raise ExplanationError(f"steps must be a positive number of interpolation intervals, got {steps}")
        self.logit_model = logit_view(model)
        self.steps = steps
        self.batch_size = batch_size

    def attribute(self, images, target=None, baseline=None, return_gap: bool = False):
        """Attributions (N, H, W, C); with `return_gap`, also the relative completeness gap (N,)."""
        images = as_image_batch(images)
        baseline = np.broadcast_to(np.asarray(0.0 if baseline is None else baseline, np.float32),
                                   images.shape)
        targets = class_targets(predict_logits(self.logit_model, images, self.batch_size), target)
        mean_gradients, logit_change = self._path_gradients(images, baseline, targets)
        attributions = (images - baseline) * mean_gradients
        if not return_gap:
            return attributions
        return attributions, _relative_gap(attributions, logit_change)

    def _path_gradients(self, images, baseline, targets) -> tuple[np.ndarray, np.ndarray]:
        """Trapezoid-weighted mean logit gradient on the path, and f(image) - f(baseline)."""
        alphas = np.linspace(0.0, 1.0, self.steps + 1, dtype=np.float32)
        weights = np.full(self.steps + 1, 1.0 / self.steps, dtype=np.float32)
        weights[[0, -1]] /= 2
        mean_gradients = np.zeros_like(images)
        logits = np.zeros((len(images), self.steps + 1), dtype=np.float32)
        for image, step in image_step_batches(len(images), self.steps + 1, self.batch_size):
            alpha = alphas[step][:, None, None, None]
            points = baseline[image] + alpha * (images[image] - baseline[image])
            gradients, scores = _gradients(_class_logit(self.logit_model, targets[image]), points)
            logits[image, step] = scores
            np.add.at(mean_gradients, image, weights[step][:, None, None, None] * gradients)
        return mean_gradients, logits[:, -1] - logits[:, 0]


def completeness_gap(model, images, attributions, target=None, baseline=None) -> np.ndarray:
    """How far each image's attributions add up from f(image) - f(baseline), relative to it (N,):
    Integrated Gradients' completeness, checked on attributions computed elsewhere."""
    images = as_image_batch(images)
    baseline = np.broadcast_to(np.asarray(0.0 if baseline is None else baseline, np.float32), images.shape)
    logit_model = logit_view(model)
    targets = class_targets(predict_logits(logit_model, images), target)
    scores = [ops.convert_to_numpy(_class_logit(logit_model, targets)(ops.convert_to_tensor(points)))
              for points in (images, np.ascontiguousarray(baseline))]
    return _relative_gap(np.asarray(attributions), scores[0] - scores[1])


def _relative_gap(attributions: np.ndarray, logit_change: np.ndarray) -> np.ndarray:
    gap = np.abs(attributions.sum(axis=(1, 2, 3)) - logit_change)
    return gap / np.maximum(np.abs(logit_change), 1e-12)


# --------------------------------------------------------------------- model views

def logit_view(model) -> keras.Model:
    """A functional view of `model` that outputs class logits: a final softmax/sigmoid is left out.

    Found as the last layer's activation (Dense, Activation, Softmax, a Lambda of a softmax
    function) or, when the last layer is a nested model (a keras.applications model with
    include_top=True in a Sequential), inside it. The view re-calls the model's own layers,
    so it shares their weights and the model itself is not changed.
    """
    last = model.layers[-1]
    if isinstance(last, keras.Model) and getattr(last, "outputs", None):
        without_activation = logit_view(last)
    elif isinstance(last, layers.Softmax) or _applies_output_activation(last):
        without_activation = _identity
    elif isinstance(last, layers.Dense) and _is_output_activation(last.activation):
        without_activation = _DenseLogits(last)
    else:
        without_activation = last
    return _rewire(model, {last.name: without_activation})


def _is_output_activation(function) -> bool:
    return getattr(function, "__name__", None) in OUTPUT_ACTIVATION_NAMES


def _applies_output_activation(layer) -> bool:
    """An Activation or Lambda layer whose function is a softmax or sigmoid."""
    if isinstance(layer, layers.Activation):
        return _is_output_activation(layer.activation)
    return isinstance(layer, layers.Lambda) and _is_output_activation(layer.function)


class _DenseLogits(layers.Layer):
    """A Dense layer's output before its activation, computed with that layer's own weights."""

    def __init__(self, dense: layers.Dense, **kwargs):
        super().__init__(**kwargs)
        self.dense = dense

    def call(self, inputs):
        logits = ops.matmul(inputs, self.dense.kernel)
        return logits if self.dense.bias is None else logits + self.dense.bias


def _rewire(model, replacements: dict[str, Callable]) -> keras.Model:
    """Re-call `model`'s own layers on a new Input, calling `replacements[name]` instead of some."""
    inputs, outputs = getattr(model, "inputs", None), getattr(model, "outputs", None)
    if not inputs or not outputs or len(inputs) != 1 or len(outputs) != 1:
        raise ExplanationError(
            f"model {model.name!r} has no graph of layers to explain: explanations need a built "
            "Functional or Sequential model with one input and one output (start it with "
            "keras.Input, or build it on an input shape)")
    graph = keras.Model(inputs[0], outputs[0], name=model.name)  # a Sequential model becomes functional

    def call(layer, *args, **kwargs):
        return replacements.get(layer.name, layer)(*args, **kwargs)

    return keras.models.clone_model(graph, clone_function=lambda layer: layer, call_function=call)


def _split_at(model, path: list[str]) -> tuple[keras.Model, Callable]:
    """Cut `model` at the layer at `path` into `images -> feature map` and `feature map -> output`."""
    rewired, features = _expose(model, path)
    before = keras.Model(rewired.input, features)
    if features is rewired.output:  # the layer is the model's output: nothing comes after it
        return before, _identity
    try:
        return before, keras.Model(features, rewired.output)
    except ValueError as error:
        raise ExplanationError(
            f"model {model.name!r} cannot be cut at layer {path[-1]!r}: later layers also read "
            "tensors from before it (a skip connection). Choose the layer that ends a block (its "
            "'add' or 'out' layer), or layer=None for the last feature map") from error


def _identity(inputs, **kwargs):
    return inputs


def _expose(model, path: list[str]):
    """Rewire `model` so the output of the layer at `path` (maybe nested) is a node of its graph.

    Returns the rewired model and that output. A nested model on the path is itself cut at
    the layer and called as its two halves: no "Graph disconnected" across the nesting.
    """
    name, *inner_path = path
    layer = model.get_layer(name)
    exposed = []
    if inner_path:
        before, after = _split_at(layer, inner_path)

        def call(*args, **kwargs):
            exposed.append(before(*args, **kwargs))
            return after(exposed[0], training=kwargs.get("training"))
    else:
        def call(*args, **kwargs):
            exposed.append(layer(*args, **kwargs))
            return exposed[0]
    rewired = _rewire(model, {name: call})
    return rewired, exposed[0]


# ------------------------------------------------------------------ feature layer

def _feature_layer_path(model, layer: str | None) -> list[str]:
    """Names leading to the feature layer, e.g. ["backbone", "top_conv"] inside a nested backbone."""
    if layer is None:
        return _last_feature_map_path(model)
    path = _layer_path(model, layer)
    if not path:
        raise ExplanationError(f"layer {layer!r} not found in model {model.name!r} nor in its nested "
                               "models; model.summary(expand_nested=True) lists the layer names")
    chosen = _layer_at(model, path)
    if not _is_spatial(chosen):
        raise ExplanationError(
            f"layer {layer!r} outputs shape {_output_shape(chosen)}, not a spatial feature map "
            "(N, h, w, channels): Grad-CAM weighs the channels of a convolutional layer's map. "
            "Choose a convolutional layer, or layer=None for the last one")
    return path


def _layer_path(model, name: str) -> list[str]:
    for layer in model.layers:
        if layer.name == name:
            return [name]
        if isinstance(layer, keras.Model) and (inner := _layer_path(layer, name)):
            return [layer.name, *inner]
    return []


def _layer_at(model, path: list[str]):
    for name in path:
        model = model.get_layer(name)
    return model


def _last_feature_map_path(model) -> list[str]:
    """The last layer with a spatial output at or after the first convolution, nested models opened."""
    path, seen_convolution, last_spatial = [], False, None
    for candidate_path, layer in _walk(model):
        seen_convolution |= isinstance(layer, CONV_LAYERS)
        if _is_spatial(layer):
            last_spatial = layer.name
            if seen_convolution:
                path = candidate_path
    if not path:
        spatial = f"; its last spatial layer is {last_spatial!r}" if last_spatial else ""
        raise ExplanationError(
            f"model {model.name!r} has no convolutional layer, so it has no feature map for Grad-CAM "
            f"to weigh{spatial}. Explain it with Integrated Gradients, or pass layer= explicitly")
    return path


def _walk(model, prefix: tuple = ()):
    """(path of names, layer) for every layer in graph order, nested models opened up."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _walk(layer, (*prefix, layer.name))
        elif not isinstance(layer, layers.InputLayer):
            yield [*prefix, layer.name], layer


def _output_shape(layer):
    try:
        return tuple(layer.output.shape)
    except (AttributeError, ValueError):  # a layer called several times has no single output
        return None


def _is_spatial(layer) -> bool:
    shape = _output_shape(layer)
    return shape is not None and len(shape) == 4


# ----------------------------------------------------------------------- gradients

def _gradients(scores_of: Callable, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the per-image scores `scores_of(inputs)` w.r.t. `inputs`, and the scores.

    Images are independent in inference mode, so the gradient of the scores' sum holds each
    image's own gradient. This adapter is the module's only backend-specific code.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        inputs = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            scores = scores_of(inputs)
        gradients = tape.gradient(scores, inputs, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    elif backend == "jax":
        import jax

        scores, pullback = jax.vjp(scores_of, jax.numpy.asarray(inputs))
        (gradients,) = pullback(jax.numpy.ones_like(scores))
    else:
        raise NotImplementedError(f"explanations run on the tensorflow and jax Keras backends, "
                                  f"not on {backend!r}; set KERAS_BACKEND to one of them")
    return ops.convert_to_numpy(gradients), ops.convert_to_numpy(scores)


def _class_logit(model, targets: np.ndarray) -> Callable:
    """A function of the model's input giving each image's logit for its target class."""
    def class_logit(inputs):
        return target_logits(model(inputs, training=False), targets)
    return class_logit


def target_logits(logits, targets: np.ndarray):
    """Each image's logit for its class; with one sigmoid unit, +logit for class 1 and -logit for 0."""
    if logits.shape[-1] == 1:
        sign = np.where(np.asarray(targets) == 1, 1.0, -1.0).astype("float32")
        return ops.cast(logits[:, 0], "float32") * ops.convert_to_tensor(sign)
    chosen = ops.take_along_axis(logits, ops.convert_to_tensor(np.asarray(targets)[:, None]), axis=1)
    return ops.cast(chosen[:, 0], "float32")


# ------------------------------------------------------- helpers shared with xai_checks

def as_image_batch(images) -> np.ndarray:
    """Images as a float32 (N, H, W, C) array, with a clear error for anything else."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ExplanationError(f"images must be a batch shaped (N, height, width, channels), got shape "
                               f"{images.shape}; for a single image pass image[None]")
    if len(images) == 0:
        raise ExplanationError("images is an empty batch (0 images): there is nothing to explain")
    return images


def predict_logits(logit_model, images: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """The logit view's outputs (N, K) as float32, refused when they still look like probabilities.

    A softmax that `logit_view` could not see (inside a custom layer, a Lambda of a lambda)
    leaves outputs that are >= 0 and sum to 1 per image: explaining them would explain
    probabilities, not logits.
    """
    logits = predict(logit_model, images, batch_size).astype(np.float32)
    if logits.ndim != 2:
        raise ExplanationError(f"model {logit_model.name!r} outputs shape {logits.shape[1:]} per image; "
                               "explanations need one score per class, shaped (N, classes)")
    if logits.shape[1] > 1 and (logits >= 0).all() and np.allclose(logits.sum(axis=1), 1.0,
                                                                   atol=PROBABILITY_TOLERANCE):
        raise ExplanationError(
            f"model {logit_model.name!r} outputs probabilities (each row sums to 1) and no final softmax "
            "layer was found to leave out. Explain the model that outputs the logits, e.g. "
            "keras.Model(model.input, model.get_layer('logits').output), or end the model with "
            "Dense(classes, activation='softmax') or a Softmax/Activation('softmax') layer")
    return logits


def class_targets(logits: np.ndarray, target=None) -> np.ndarray:
    """One class index per image: `target` (an int or one int per image) or, if None, the predicted class.

    `logits` (N, K) are the model's logits for those images; with K = 1 (one sigmoid unit)
    the classes are 0 and 1 and the predicted one is 1 where the logit is positive.
    """
    num_images, num_classes = logits.shape[0], max(2, logits.shape[1])
    if target is None:
        return (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(axis=1)
    targets = np.asarray(target)
    if targets.dtype == bool or not np.issubdtype(targets.dtype, np.integer):
        raise ExplanationError(
            f"class_index must be integers, got {target!r} ({targets.dtype}); a float such as 2.7 is not "
            "truncated. For one-hot labels pass labels.argmax(axis=-1)")
    if targets.ndim > 1 or (targets.ndim == 1 and len(targets) != num_images):
        raise ExplanationError(
            f"class_index must be one int or one int per image ({num_images}), got shape {targets.shape}; "
            "for one-hot labels pass labels.argmax(axis=-1)")
    if targets.min() < 0 or targets.max() >= num_classes:
        raise ExplanationError(f"class_index {target!r} is out of range: the model has {num_classes} classes")
    return np.broadcast_to(targets, (num_images,)).astype(int)


def class_probabilities(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N,) probability of each image's class from its logits: softmax, or sigmoid for one unit."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.shape[1] == 1:
        signed = np.where(targets == 1, logits[:, 0], -logits[:, 0])
        return 1.0 / (1.0 + np.exp(-signed))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted[np.arange(len(logits)), targets] / shifted.sum(axis=1)


def predict(model, images: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """The model's outputs for `images`, called in batches (eagerly: no retracing per model)."""
    outputs = [model(images[part], training=False) for part in _batches(len(images), batch_size)]
    return np.concatenate([ops.convert_to_numpy(output) for output in outputs])


def image_step_batches(num_images: int, num_steps: int, batch_size: int) -> Iterator[tuple]:
    """(image index, step index) arrays covering every step of every image, `batch_size` at a time.

    Integrated Gradients (path points) and deletion/insertion curves (pixel fractions) send
    all their steps through the model this way: a few large calls, bounded memory.
    """
    image = np.repeat(np.arange(num_images), num_steps)
    step = np.tile(np.arange(num_steps), num_images)
    for part in _batches(len(image), batch_size):
        yield image[part], step[part]


def _batches(total: int, batch_size: int) -> Iterator[slice]:
    for start in range(0, total, batch_size):
        yield slice(start, start + batch_size)


def _resize(maps: np.ndarray, size) -> np.ndarray:
    resized = ops.image.resize(maps[..., None], tuple(size), interpolation="bilinear")
    return ops.convert_to_numpy(resized)[..., 0]


def _scale_to_unit(maps: np.ndarray) -> np.ndarray:
    """Divide each map by its maximum; an all-zero map stays all zeros (never NaN)."""
    peaks = maps.max(axis=(1, 2), keepdims=True)
    return np.divide(maps, peaks, out=np.zeros_like(maps), where=peaks > 0)
