"""The comparison protocol: shared settings and weights, determinism, best epoch, NaN guard.

The training is the notebook's own `fit` (tests/notebook_code.py runs its definitions); these tests
check the bookkeeping the package keeps around it.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import keras
import numpy as np
import pydantic
import pandas as pd
import pytest

from reportgen.practice import training
from reportgen.practice.config import Mixing, RunParameters
from reportgen.render.figures.training import lr_sensitivity, training_curves
from reportgen.render.interpretation import protocol_rows
from reportgen.practice.training import (HISTORY_COLUMNS, NAN_LOSS, OK, Pipeline, Protocol, TrainingBatches,
                                         TrainingRun, compare, lr_sweep, pipelines_from_config, train_pipeline)

from notebook_code import practice_functions

SIZE, CLASSES = 16, 3


def colour_data(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose class is their brightest channel, with noise: learnable in an epoch or two."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, count)
    images = rng.integers(0, 60, (count, SIZE, SIZE, 3)).astype(np.uint8)
    images[np.arange(count), :, :, labels] += 150
    return images, labels


TRAIN, VAL = colour_data(36, seed=0), colour_data(18, seed=1)


ADVANCED = ({"op": "flip"}, {"op": "brightness", "factor": 0.2})


def parameters(advanced=ADVANCED, **training_overrides) -> RunParameters:
    return RunParameters.model_validate({
        "data": {"image_size": SIZE, "num_classes": CLASSES},
        "evaluation": {"top_k": 1},
        "augmentation": {"baseline": [{"op": "flip"}], "advanced": list(advanced),
                         "mixup": {"alpha": 0.4, "probability": 1.0}},
        "training": {"epochs": 2, "batch_size": 12, "seeds": [3], **training_overrides},
    })


def notebook_fit(params=None):
    """The notebook's `fit`, for a run of `params` on the colour data."""
    return practice_functions(params or parameters(), [f"c{k}" for k in range(CLASSES)])["fit"]


@pytest.fixture(scope="module")
def spied_comparison(tmp_path_factory):
    """One comparison through the notebook's `fit`, with every run it was given and what it returned."""
    fit, calls = notebook_fit(), []

    def spy(run):
        classifier = fit(run)
        calls.append((run, classifier))
        return classifier

    checkpoints = tmp_path_factory.mktemp("checkpoints")
    comparison = compare(parameters(), spy, TRAIN, VAL, CLASSES, checkpoint_dir=checkpoints, progress=False)
    return comparison, calls, checkpoints


def test_both_pipelines_get_the_same_protocol_object_seed_and_initial_weights(spied_comparison):
    comparison, calls, _ = spied_comparison
    (baseline, _), (advanced, _) = calls
    assert [run.pipeline.name for run in (baseline, advanced)] == ["baseline", "advanced"]
    assert baseline.protocol is advanced.protocol is comparison.protocol
    for shared in ("train", "val", "num_classes", "seed", "initial_weights"):
        assert getattr(baseline, shared) is getattr(advanced, shared)
    hashes = comparison.initial_weights_hash
    assert hashes["baseline"] == hashes["advanced"] and set(hashes["baseline"]) == {3}


def test_the_models_kept_are_the_classifiers_the_notebooks_fit_returned(spied_comparison):
    comparison, calls, _ = spied_comparison
    assert {(run.pipeline.name, run.seed): classifier for run, classifier in calls} == comparison.models
    for run, _ in calls:  # the history is what the fit's callbacks logged, epoch by epoch
        logged = comparison.history[comparison.history.pipeline == run.pipeline.name]
        assert list(logged.val_accuracy) == [row["val_accuracy"] for row in run.rows]


def test_a_fit_that_skips_the_shared_start_is_refused():
    def careless(run):
        return keras.Sequential([keras.Input((SIZE, SIZE, 3)), keras.layers.Flatten(), keras.layers.Dense(CLASSES)])

    run = TrainingRun(Protocol.from_config(parameters()), Pipeline("baseline", ()), 3, TRAIN, VAL, CLASSES)
    with pytest.raises(RuntimeError, match=r"run.start\(classifier\)"):
        train_pipeline(careless, run)


def test_protocol_carries_every_setting_of_the_run(monkeypatch):
    monkeypatch.setattr(training, "gpu_available", lambda: False)  # the same table on a GPU machine
    params = parameters(optimizer="sgd", schedule="constant", early_stopping_patience=2, seeds=[1, 2])
    protocol = Protocol.from_config(params)
    assert (protocol.epochs, protocol.batch_size, protocol.optimizer) == (2, 12, "sgd")
    assert protocol.learning_rate == 1e-3
    assert (protocol.schedule, protocol.early_stopping_patience, protocol.seeds) == ("constant", 2, [1, 2])
    assert (protocol.backbone, protocol.image_size) == ("small_cnn", SIZE)
    assert protocol.mixed_precision is protocol.jit_compile is False  # no GPU: neither
    run = SimpleNamespace(facts={"protocol": {"settings": protocol.settings().model_dump()}})
    rows = dict(protocol_rows(run, "en"))  # the page's table, written at render time
    assert rows["Optimizer"] == "sgd (momentum 0.9)" and rows["Early stopping"] == "patience 2"
    assert rows["Seeds (weights and data order)"] == "1, 2" and rows["Learning-rate schedule"] == "constant"
    assert dict(protocol_rows(run, "es"))["Optimizador"] == "sgd (momento 0,9)"
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        protocol.epochs = 3


def test_on_a_gpu_both_pipelines_get_mixed_precision_and_xla_only_if_both_allow_it(monkeypatch):
    monkeypatch.setattr(training, "gpu_available", lambda: True)
    flip_and_brightness = Protocol.from_config(parameters())
    assert flip_and_brightness.mixed_precision and flip_and_brightness.jit_compile
    with_rotation = Protocol.from_config(parameters(advanced=[{"op": "rotation"}]))
    assert with_rotation.mixed_precision and not with_rotation.jit_compile  # Keras cannot XLA a rotation


def test_only_the_advanced_pipeline_mixes():
    baseline, advanced = pipelines_from_config(parameters().augmentation)
    assert baseline.mixup is None and advanced.mixup == Mixing(alpha=0.4, probability=1.0)


def test_history_has_one_row_per_epoch_and_the_same_schedule_for_both(spied_comparison):
    comparison, _, _ = spied_comparison
    history = comparison.history
    assert list(history.columns) == HISTORY_COLUMNS
    baseline, advanced = (history[history.pipeline == name].reset_index(drop=True)
                          for name in ("baseline", "advanced"))
    assert list(baseline.epoch) == [1, 2] and list(baseline.phase) == [1, 1]
    assert list(baseline.learning_rate) == list(advanced.learning_rate)
    assert baseline.learning_rate[1] < baseline.learning_rate[0]  # cosine decay
    assert (history.epoch_seconds > 0).all() and comparison.status == OK and comparison.seconds > 0


def test_returned_classifiers_have_no_augmentation_and_keep_their_best_epoch(spied_comparison):
    comparison, _, checkpoints = spied_comparison
    images, labels = VAL
    for (pipeline, seed), classifier in comparison.models.items():
        assert not any(layer.name.startswith("random") for layer in classifier.layers)
        accuracy = (classifier.predict(images, verbose=0).argmax(axis=1) == labels).mean()
        best = comparison.history.loc[comparison.history.pipeline == pipeline, "val_accuracy"].max()
        assert accuracy == pytest.approx(best, abs=1e-6)
        assert (checkpoints / f"{pipeline}_seed{seed}.weights.h5").is_file()


@pytest.mark.skipif(training.gpu_available(), reason="on a GPU, TensorFlow's kernels are not bit-deterministic "
                    "(the practice enables op determinism on the CPU only), so equal seeds give close, not equal, metrics")
def test_same_seed_gives_identical_metrics_including_fine_tuning():
    protocol = Protocol.from_config(parameters(epochs=1, fine_tune_epochs=1))
    pipeline = Pipeline("advanced", tuple(parameters().augmentation.advanced), mixup=Mixing(alpha=0.4))
    first, second = (train_pipeline(notebook_fit(), TrainingRun(protocol, pipeline, 7, TRAIN, VAL, CLASSES)).history
                     for _ in range(2))
    metrics = ["loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"]
    pd.testing.assert_frame_equal(first[metrics], second[metrics])
    assert list(first.phase) == [1, 2]
    assert first.learning_rate[1] == pytest.approx(protocol.fine_tune_learning_rate)


def test_a_comparison_where_every_seed_diverges_fails_and_says_where():
    images = TRAIN[0].astype(np.float32)
    images[0, 0, 0, 0] = np.nan
    comparison = compare(parameters(), notebook_fit(), (images, TRAIN[1]), VAL, CLASSES, progress=False)
    assert comparison.status == NAN_LOSS
    assert comparison.models == {}
    assert [(d["pipeline"], d["seed"], d["epoch"]) for d in comparison.diverged] == [("baseline", 3, 1),
                                                                                   ("advanced", 3, 1)]
    assert "'baseline', seed 3: epoch 1" in comparison.message and "learning_rate" in comparison.message


def test_a_diverged_seed_is_a_result_and_the_other_seeds_go_on(monkeypatch):
    """The first run diverges; every other (seed, pipeline) still trains and the comparison holds."""
    fit, calls = notebook_fit(parameters(seeds=[3, 4])), []

    def first_diverges(run):
        calls.append((run.pipeline.name, run.seed))
        if len(calls) == 1:
            run.protocol = run.protocol.model_copy(update={"learning_rate": 1e12, "optimizer": "sgd"})
        return fit(run)

    comparison = compare(parameters(seeds=[3, 4]), first_diverges, TRAIN, VAL, CLASSES, progress=False)
    assert calls == [("baseline", 3), ("advanced", 3), ("baseline", 4), ("advanced", 4)]
    assert comparison.status == OK and comparison.message == ""
    assert set(comparison.models) == {("advanced", 3), ("baseline", 4), ("advanced", 4)}
    (diverged,) = comparison.diverged
    assert (diverged["pipeline"], diverged["seed"]) == ("baseline", 3)
    assert diverged["learning_rate"] == pytest.approx(1e12, rel=1e-6)
    failed = comparison.history[(comparison.history.pipeline == "baseline") & (comparison.history.seed == 3)]
    assert len(failed) == diverged["epoch"] and not np.isfinite(failed["loss"].iloc[-1])  # up to the NaN epoch


def test_data_order_depends_on_seed_and_epoch_only():
    images, labels = TRAIN
    onehot = keras.utils.to_categorical(labels, CLASSES)
    plain = TrainingBatches(images, onehot, 12, seed=0)
    mixed = TrainingBatches(images, onehot, 12, seed=0, mixup=Mixing(alpha=1.0, probability=1.0))
    for _ in range(2):
        assert np.array_equal(plain.order, mixed.order)
        batch_images, batch_labels = mixed[0]
        assert batch_images.dtype == np.float32 and np.allclose(batch_labels.sum(axis=1), 1)
        first_order = plain.order
        plain.on_epoch_end(), mixed.on_epoch_end()
    assert not np.array_equal(first_order, TrainingBatches(images, onehot, 12, seed=1).order)
    assert len(plain) == 3


def test_lr_sweep_runs_the_protocol_shortened_at_each_rate(monkeypatch):
    seen = []

    def fake_train(fit, run, checkpoint_dir=None):
        seen.append(run.protocol)
        loss = np.nan if run.protocol.learning_rate > 1 else 0.5
        history = pd.DataFrame({"loss": [loss, loss], "val_accuracy": [0.4, 0.6], "val_loss": [1.0, 0.9]})
        return training.Run(run.pipeline.name, run.seed, None, history, OK if loss == 0.5 else NAN_LOSS, "")

    monkeypatch.setattr(training, "train_pipeline", fake_train)
    params = parameters(epochs=9, lr_sweep=[1e-3, 10.0], lr_sweep_epochs=2, fine_tune_epochs=3)
    sweep = lr_sweep(params, None, TRAIN, VAL, CLASSES)
    assert [p.learning_rate for p in seen] == [1e-3, 10.0]
    assert {(p.epochs, p.fine_tune_epochs, p.batch_size) for p in seen} == {(2, 0, 12)}
    assert list(sweep.columns) == ["pipeline", "lr", "val_accuracy", "val_loss", "status"]
    assert sweep.val_accuracy[0] == 0.6 and sweep.val_loss[0] == 0.9
    assert sweep.status[1] == NAN_LOSS and np.isnan(sweep.val_accuracy[1])
    with pytest.raises(ValueError, match="training.lr_sweep"):
        lr_sweep(parameters(), None, TRAIN, VAL, CLASSES)


def curves_run(history: pd.DataFrame, diverged=()):
    return SimpleNamespace(history=history, facts={"protocol": {"diverged": list(diverged)}}, tables={})


def history_rows(seeds=(0, 1)):
    return [{"pipeline": p, "seed": s, "epoch": e, "phase": 1 if e < 3 else 2, "loss": 1 / e, "accuracy": 0.5,
             "val_loss": 1.5 / e + s, "val_accuracy": 0.4, "learning_rate": 1e-3, "epoch_seconds": 1.0}
            for p in ("baseline", "advanced") for s in seeds for e in (1, 2, 3)]


def test_training_curves_draw_both_pipelines_on_shared_axes():
    fig = training_curves(curves_run(pd.DataFrame(history_rows())), "en")
    loss_axes, accuracy_axes = fig.axes
    labels = [line.get_label() for line in loss_axes.lines]
    assert labels[:4] == ["Baseline · train", "Baseline · validation",
                          "Advanced · train", "Advanced · validation"]
    assert [line.get_linestyle() for line in loss_axes.lines[:2]] == ["--", "-"]
    assert list(loss_axes.lines[1].get_ydata()) == pytest.approx([2.0, 1.25, 1.0])  # mean over the seeds
    assert loss_axes.lines[-1].get_label() == "fine-tuning starts"


def test_a_diverged_seed_is_drawn_alone_up_to_its_last_finite_epoch():
    rows = history_rows(seeds=(0, 1, 2))
    for row in rows:
        if row["pipeline"] == "advanced" and row["seed"] == 2 and row["epoch"] == 3:
            row["loss"] = float("nan")
    diverged = [{"pipeline": "advanced", "seed": 2, "epoch": 3, "phase": 2, "learning_rate": 1e-3}]
    fig = training_curves(curves_run(pd.DataFrame(rows), diverged), "es")
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    assert list(lines["Avanzado · divergió (semilla 2)"].get_xdata()) == [1, 2]
    assert list(lines["Avanzado · validación"].get_ydata()) == pytest.approx([2.0, 1.25, 1.0])  # seeds 0 and 1
    assert fig._suptitle.get_text() == "Baseline: media de 3 semillas · Avanzado: media de 2 semillas"


def test_lr_sensitivity_marks_the_best_rate_and_the_failed_ones(tmp_path):
    sweep = pd.DataFrame({"pipeline": "baseline", "lr": [1e-4, 1e-3, 1e-1],
                          "val_accuracy": [0.5, 0.7, np.nan], "val_loss": [1.2, 0.8, np.nan],
                          "status": [OK, OK, NAN_LOSS]})
    sweep.to_csv(tmp_path / "lr_sweep.csv", index=False)
    fig = lr_sensitivity(SimpleNamespace(tables={"lr_sweep": tmp_path / "lr_sweep.csv"}), "en")
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert "best: 0.001" in labels and "NaN loss" in labels
    assert fig.axes[0].get_xscale() == "log"
    assert lr_sensitivity(SimpleNamespace(tables={}), "en") is None
