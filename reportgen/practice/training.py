"""A fair comparison: the baseline and advanced pipelines trained under ONE protocol.

`compare` builds a single `Protocol` from the run's parameters and hands that same object
to every run, so both pipelines get the same model, initial weights, optimizer, learning-rate
schedule, epochs, batch size, data order and validation split; only the augmentation differs.

The training itself is the notebook's: its `fit(run)` builds the pipeline and the classifier,
calls `run.start(classifier)` (both pipelines of a seed start from the same weights), compiles
and calls `model.fit` with what the `TrainingRun` gives (batches, validation data, optimizer,
callbacks). This module keeps the books around it: every seed and pipeline, determinism and
precision, the best epoch's weights, the history, divergence.

What a run trains is `augmentation -> classifier`: the per-image augmentation layers sit in
front of the classifier and only act while fitting, so the classifier handed back has no
augmentation in it and is what gets evaluated and explained. MixUp/CutMix change labels,
so they happen on the batch, in the data feed (`TrainingBatches`), before the per-image ops.

On a CPU a fixed seed gives identical metrics run after run (Keras seeds plus TensorFlow op
determinism). On a GPU both pipelines get mixed precision, and XLA when both allow it.

A loss that turns NaN is a result, not a crash: that run stops (its history ends at the NaN
epoch), `Comparison.diverged` says which pipeline and seed diverged, at which epoch and
learning rate, and the other runs go on. The comparison fails (`status == "nan_loss"`, with
a `message`) only when a pipeline has no seed that finished; later stages use the finished ones.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from pydantic import ConfigDict

from reportgen.facts import ProtocolSettings
from reportgen.practice.augmentation import mix_batch, supports_xla
from reportgen.practice.config import AugmentationConfig, Mixing, ModelConfig, RunParameters
from reportgen.practice.models import is_pretrained, unfreeze_top_layers

OK = "ok"
NAN_LOSS = "nan_loss"
HISTORY_COLUMNS = ["pipeline", "seed", "epoch", "phase", "loss", "accuracy", "val_loss", "val_accuracy",
                   "learning_rate", "epoch_seconds"]
SGD_MOMENTUM = 0.9


def gpu_available() -> bool:
    try:
        return bool(keras.distribution.list_devices("gpu"))
    except RuntimeError:  # JAX raises instead of listing none when it has no GPU platform
        return False


# ---------------------------------------------------------------------- protocol

class Protocol(ProtocolSettings):
    """Every training setting the two pipelines share; one instance serves both (its fields are
    protocol.json's `settings`, `reportgen.facts.ProtocolSettings`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    loss: str = "categorical_crossentropy"
    monitor: str = "val_accuracy"  # the best epoch, kept as the result, is chosen on the validation split
    mixed_precision: bool = False
    jit_compile: bool = False

    @classmethod
    def from_config(cls, params: RunParameters) -> "Protocol":
        """The protocol of a run. On a GPU: mixed precision, and XLA when both pipelines allow it
        (Keras cannot XLA-compile rotation, zoom, translation or crops), so both runs match."""
        model, training, augmentation = params.model, params.training, params.augmentation
        on_gpu = gpu_available()
        xla = on_gpu and supports_xla(augmentation.baseline) and supports_xla(augmentation.advanced)
        return cls(
            backbone=model.backbone, weights=model.weights, dropout=model.dropout,
            fine_tune_layers=model.fine_tune_layers, image_size=params.data.image_size,
            epochs=training.epochs, batch_size=training.batch_size, optimizer=training.optimizer,
            learning_rate=training.learning_rate, schedule=training.schedule,
            fine_tune_epochs=training.fine_tune_epochs,
            fine_tune_learning_rate=training.fine_tune_learning_rate,
            early_stopping_patience=training.early_stopping_patience, seeds=list(training.seeds),
            mixed_precision=on_gpu, jit_compile=xla,
        )

    @property
    def model(self) -> ModelConfig:
        return ModelConfig(backbone=self.backbone, weights=self.weights, dropout=self.dropout,
                           fine_tune_layers=self.fine_tune_layers)

    def settings(self) -> ProtocolSettings:
        """The settings as recorded (protocol.json); the page prints them once for both pipelines."""
        momentum = SGD_MOMENTUM if self.optimizer == "sgd" else None
        return ProtocolSettings.model_validate({**self.model_dump(), "momentum": momentum})


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """What differs between the two runs: the per-image operations and the batch mixing."""

    name: str
    ops: tuple
    mixup: Mixing | None = None
    cutmix: Mixing | None = None


def pipelines_from_config(augmentation: AugmentationConfig) -> list[Pipeline]:
    """Baseline (its operations only) and advanced (its operations plus MixUp/CutMix if set)."""
    return [Pipeline("baseline", tuple(augmentation.baseline)),
            Pipeline("advanced", tuple(augmentation.advanced), augmentation.mixup, augmentation.cutmix)]


# ------------------------------------------------------------------------- data

class TrainingBatches(keras.utils.PyDataset):
    """Shuffled batches of float images and one-hot labels, mixed by MixUp/CutMix if configured.

    Epoch e is ordered by a permutation seeded with (seed, e) and batch i draws its mixing
    from (seed, e, i): runs with the same seed see the same images in the same order,
    whatever their pipeline, and no draw depends on how Keras schedules the batches.
    """

    def __init__(self, images: np.ndarray, labels_onehot: np.ndarray, batch_size: int, seed: int,
                 mixup: Mixing | None = None, cutmix: Mixing | None = None):
        super().__init__()
        self.images, self.labels = images, labels_onehot
        self.batch_size, self.seed = batch_size, seed
        self.mixup, self.cutmix = mixup, cutmix
        self.epoch = 0
        self.order = self._permutation()

    def _permutation(self) -> np.ndarray:
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.images))

    def __len__(self) -> int:
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index: int):
        batch = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return mix_batch(self.images[batch], self.labels[batch], self.mixup, self.cutmix, rng)

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._permutation()


# -------------------------------------------------------------------- callbacks

class EpochLog(keras.callbacks.Callback):
    """One history row per epoch, appended to `rows`: metrics, the learning rate at the epoch's start,
    its duration."""

    def __init__(self, phase: int, rows: list[dict]):
        super().__init__()
        self.phase, self.rows = phase, rows

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        metrics = {name: float(logs.get(name, math.nan)) for name in HISTORY_COLUMNS[4:8]}
        self.rows.append({"epoch": epoch + 1, "phase": self.phase, **metrics,
                          "learning_rate": self._learning_rate,
                          "epoch_seconds": time.perf_counter() - self._start})


class KeepBestWeights(keras.callbacks.Callback):
    """Remember the classifier's weights at the epoch with the highest `monitor`, across fits."""

    def __init__(self, classifier: keras.Model, monitor: str):
        super().__init__()
        self.classifier, self.monitor = classifier, monitor
        self.best, self.best_weights = -math.inf, None

    def on_epoch_end(self, epoch, logs=None):
        value = logs.get(self.monitor, math.nan)
        if math.isfinite(logs.get("loss", math.nan)) and value > self.best:
            self.best, self.best_weights = value, self.classifier.get_weights()


# ------------------------------------------------------------------------- runs

@dataclasses.dataclass
class Run:
    """One pipeline trained with one seed: its classifier at the best epoch and what happened."""

    pipeline: str
    seed: int
    classifier: keras.Model
    history: pd.DataFrame
    status: str
    initial_weights_hash: str


def weights_hash(model: keras.Model) -> str:
    """A short fingerprint of all of a model's weights: equal hashes mean equal weights."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and the backend; on a TensorFlow CPU run also make its ops deterministic.

    TF op determinism stays off on GPU: some GPU kernels (e.g. max-pool gradients under XLA)
    have no deterministic version and would raise.
    """
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow" and not gpu_available():
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


@contextlib.contextmanager
def dtype_policy(mixed_precision: bool):
    """Build models under mixed_float16 (GPU) or float32, restoring the previous global policy."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16" if mixed_precision else "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def make_optimizer(name: str, learning_rate: float, schedule: str, steps: int) -> keras.optimizers.Optimizer:
    """The optimizer with a constant rate or a cosine decay to zero over `steps`."""
    if schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=SGD_MOMENTUM)
    return {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW}[name](learning_rate)


@dataclasses.dataclass
class TrainingRun:
    """One pipeline trained with one seed under the shared protocol.

    The notebook's `fit(run)` gets one of these: the settings (`protocol`), the pipeline, the seed and
    the data, and from it the batches, the validation data, the optimizer and the callbacks. It leaves
    here what the comparison keeps: one history row per epoch and the best epoch's weights.
    """

    protocol: Protocol
    pipeline: Pipeline
    seed: int
    train: tuple
    val: tuple
    num_classes: int
    initial_weights: list | None = None  # the seed's first pipeline sets them; the second starts from them
    verbose: int = 0
    rows: list[dict] = dataclasses.field(default_factory=list)
    keep_best: KeepBestWeights | None = None
    initial_weights_hash: str = ""

    def start(self, classifier: keras.Model) -> None:
        """Start `classifier` from the seed's initial weights (the first pipeline of a seed sets them)."""
        if self.initial_weights is None:
            self.initial_weights = classifier.get_weights()
        else:
            classifier.set_weights(self.initial_weights)
        self.initial_weights_hash = weights_hash(classifier)
        self.keep_best = KeepBestWeights(classifier, self.protocol.monitor)

    def batches(self) -> TrainingBatches:
        """Shuffled training batches, in the same order for both pipelines of a seed; mixed by this
        pipeline's MixUp/CutMix, if any."""
        images, labels = self.train
        return TrainingBatches(images, keras.utils.to_categorical(labels, self.num_classes), self.protocol.batch_size,
                               self.seed, self.pipeline.mixup, self.pipeline.cutmix)

    @property
    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        images, labels = self.val
        return images.astype(np.float32), keras.utils.to_categorical(labels, self.num_classes)

    def optimizer(self, steps_per_epoch: int, phase: int = 1) -> keras.optimizers.Optimizer:
        """The protocol's optimizer for phase 1 (or 2, fine-tuning), its schedule spread over the phase."""
        protocol = self.protocol
        rate, epochs = ((protocol.learning_rate, protocol.epochs) if phase == 1
                        else (protocol.fine_tune_learning_rate, protocol.fine_tune_epochs))
        return make_optimizer(protocol.optimizer, rate, protocol.schedule, epochs * steps_per_epoch)

    def callbacks(self, phase: int = 1) -> list[keras.callbacks.Callback]:
        """What every fit of the protocol runs with: the epoch log, the best-epoch keeper, the NaN guard
        and, if set, early stopping."""
        if self.keep_best is None:
            raise RuntimeError("call run.start(classifier) before fitting: both pipelines of a seed start from "
                               "the same initial weights, and the best epoch is kept from there")
        callbacks = [EpochLog(phase, self.rows), self.keep_best, keras.callbacks.TerminateOnNaN()]
        if self.protocol.early_stopping_patience:
            callbacks.append(keras.callbacks.EarlyStopping(self.protocol.monitor, mode="max",
                                                           patience=self.protocol.early_stopping_patience))
        return callbacks

    def fine_tune(self, model: keras.Model, batches: TrainingBatches) -> None:
        """Phase 2, when the protocol has fine-tuning epochs and phase 1 stayed finite: the top
        `fine_tune_layers` of a pretrained backbone train too, at `fine_tune_learning_rate`."""
        protocol = self.protocol
        if not protocol.fine_tune_epochs or not all(math.isfinite(row["loss"]) for row in self.rows):
            return
        if is_pretrained(protocol.model):
            unfreeze_top_layers(self.keep_best.classifier, protocol.fine_tune_layers)
        model.compile(optimizer=self.optimizer(len(batches), phase=2), loss=protocol.loss,
                      metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")], jit_compile=protocol.jit_compile)
        model.fit(batches, validation_data=self.validation, validation_batch_size=protocol.batch_size,
                  initial_epoch=len(self.rows), epochs=len(self.rows) + protocol.fine_tune_epochs,
                  callbacks=self.callbacks(phase=2), verbose=self.verbose)


def train_pipeline(fit, run: TrainingRun, checkpoint_dir: Path | None = None) -> Run:
    """Train one pipeline with one seed: the notebook's `fit(run)` does the training; this keeps the
    books (determinism, precision, the best epoch's weights, the history, the status, a checkpoint).

    With `checkpoint_dir`, the best weights are also saved there as `<pipeline>_seed<seed>.weights.h5`.
    """
    make_deterministic(run.seed)
    if run.verbose:
        print(f"[{run.pipeline.name} · seed {run.seed}]")
    with dtype_policy(run.protocol.mixed_precision):
        classifier = fit(run)
    if run.keep_best is None or run.keep_best.classifier is not classifier:
        raise RuntimeError("fit(run) must call run.start(classifier) and return that classifier")
    history = pd.DataFrame([{"pipeline": run.pipeline.name, "seed": run.seed, **row} for row in run.rows],
                           columns=HISTORY_COLUMNS)
    status = OK if len(history) and np.isfinite(history["loss"]).all() else NAN_LOSS
    if run.keep_best.best_weights is not None:
        classifier.set_weights(run.keep_best.best_weights)
    if checkpoint_dir is not None and status == OK:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
        classifier.save_weights(Path(checkpoint_dir) / f"{run.pipeline.name}_seed{run.seed}.weights.h5")
    return Run(run.pipeline.name, run.seed, classifier, history[HISTORY_COLUMNS], status, run.initial_weights_hash)


# ------------------------------------------------------------------ comparison

@dataclasses.dataclass
class Comparison:
    """Both pipelines over every seed: models at their best epoch, per-epoch history, evidence."""

    protocol: Protocol
    models: dict[tuple[str, int], keras.Model]
    history: pd.DataFrame
    status: str  # "ok", or "nan_loss" when a pipeline has no seed that finished
    initial_weights_hash: dict[str, dict[int, str]]  # pipeline -> seed -> hash; equal per seed
    seconds: float
    diverged: list[dict] = dataclasses.field(default_factory=list)  # pipeline, seed, epoch, phase, learning_rate
    message: str = ""  # what went wrong when status is not "ok"


def _train_all(protocol: Protocol, pipelines: list[Pipeline], fit, train, val, num_classes: int,
               checkpoint_dir, progress: bool) -> list[Run]:
    """Every (seed, pipeline) run; both pipelines of a seed start from the same weights; a run that
    diverges stops alone, the others go on."""
    runs = []
    for seed in protocol.seeds:
        initial_weights = None
        for pipeline in pipelines:
            run = TrainingRun(protocol, pipeline, seed, train, val, num_classes, initial_weights,
                              verbose=2 if progress else 0)
            runs.append(train_pipeline(fit, run, checkpoint_dir))
            initial_weights = run.initial_weights
    return runs


def divergence(run: Run) -> dict:
    """Where a run's loss became NaN: pipeline, seed, epoch, phase and the learning rate then."""
    failed = run.history.loc[~np.isfinite(run.history["loss"])].iloc[0]
    return {"pipeline": run.pipeline, "seed": run.seed, "epoch": int(failed["epoch"]),
            "phase": int(failed["phase"]), "learning_rate": float(failed["learning_rate"])}


def _failure_message(diverged: list[dict], pipelines: list[str]) -> str:
    where = "; ".join(f"pipeline {d['pipeline']!r}, seed {d['seed']}: epoch {d['epoch']} (phase {d['phase']}, "
                      f"learning rate {d['learning_rate']:g})" for d in diverged)
    return (f"no seed of pipeline(s) {', '.join(map(repr, pipelines))} finished: the training loss became NaN "
            f"({where}); lower training.learning_rate (or fine_tune_learning_rate) or the augmentation strengths.")


def compare(params: RunParameters, fit, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
            num_classes: int, checkpoint_dir: Path | None = None, progress: bool = True) -> Comparison:
    """Train baseline and advanced under one protocol, for every seed in `training.seeds`, each with
    the notebook's `fit(run)` (`TrainingRun`), which returns the trained classifier.

    `train` and `val` are (images uint8 or float 0-255 of shape (N, H, W, 3), integer labels).
    """
    start = time.perf_counter()
    protocol = Protocol.from_config(params)
    pipelines = pipelines_from_config(params.augmentation)
    runs = _train_all(protocol, pipelines, fit, train, val, num_classes, checkpoint_dir, progress)
    diverged = [divergence(run) for run in runs if run.status != OK]
    unfinished = [p.name for p in pipelines if not any(r.pipeline == p.name and r.status == OK for r in runs)]
    hashes: dict[str, dict[int, str]] = {}
    for run in runs:
        hashes.setdefault(run.pipeline, {})[run.seed] = run.initial_weights_hash
    return Comparison(
        protocol=protocol,
        models={(run.pipeline, run.seed): run.classifier for run in runs if run.status == OK},
        history=pd.concat([run.history for run in runs], ignore_index=True),
        status=NAN_LOSS if unfinished else OK,
        initial_weights_hash=hashes,
        seconds=time.perf_counter() - start,
        diverged=diverged,
        message=_failure_message(diverged, unfinished) if unfinished else "",
    )


def lr_sweep(params: RunParameters, fit, train: tuple, val: tuple, num_classes: int,
             learning_rates: list[float] | None = None, pipeline: str = "baseline") -> pd.DataFrame:
    """Learning-rate sensitivity: short runs (`training.lr_sweep_epochs`) at each rate.

    Everything else follows the run's protocol (first seed, no fine-tuning, no early stopping).
    Returns one row per rate: pipeline, lr, val_accuracy and val_loss at the best epoch, status;
    a run whose loss became NaN has status "nan_loss" and NaN metrics.
    """
    learning_rates = learning_rates or params.training.lr_sweep
    if not learning_rates:
        raise ValueError("training.lr_sweep: give the learning rates to try, e.g. [1e-4, 1e-3, 1e-2].")
    protocol = Protocol.from_config(params).model_copy(update=dict(epochs=params.training.lr_sweep_epochs,
                                   fine_tune_epochs=0, early_stopping_patience=None))
    chosen = {p.name: p for p in pipelines_from_config(params.augmentation)}[pipeline]
    rows = []
    for learning_rate in learning_rates:
        run = train_pipeline(fit, TrainingRun(protocol.model_copy(update={"learning_rate": learning_rate}), chosen,
                                              protocol.seeds[0], train, val, num_classes))
        best = (run.history.loc[run.history["val_accuracy"].idxmax()] if run.status == OK
                else {"val_accuracy": math.nan, "val_loss": math.nan})
        rows.append({"pipeline": pipeline, "lr": learning_rate, "val_accuracy": best["val_accuracy"],
                     "val_loss": best["val_loss"], "status": run.status})
    return pd.DataFrame(rows)
