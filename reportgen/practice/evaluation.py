"""Evaluation: every number the page shows about the two trained pipelines.

Each model is scored on the held-out test split:

- classification metrics from scikit-learn (accuracy, loss, top-k, macro precision/recall/F1
  over the classes present in the test split, per-class numbers, the normalised confusion
  matrix and its most-confused pairs);
- the train-validation gap of the kept (best-epoch) weights: accuracy on the clean training
  images, without augmentation or MixUp/CutMix, minus accuracy on the validation images;
- test-time augmentation (TTA): accuracy with and without flipped and shifted views;
- robustness: accuracy under six perturbations at increasing severity (numpy/scipy only);
- calibration: expected calibration error (ECE) and the reliability-diagram bins.

`evaluate_pipeline` gathers all of this for one model (one pipeline, one seed), with the
per-image numbers behind each headline number (which test images it got right, with what
confidence, under TTA and under perturbations); `build_report` combines the models into a
`reportgen.facts.MetricsReport`, the contract of `metrics.json` (`per_image_record` likewise gives a
`PerImageFacts` and `tsne_points` a `TsneFacts`),
`per_image_record` gathers the per-image numbers (per_image.json) from which the page computes
its comparisons and their intervals (`reportgen.render.interpretation`), and `metrics_table`
flattens the headline numbers into the CSV the page offers for download. Numbers only: the
words are the renderer's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    log_loss,
    precision_recall_fscore_support,
    top_k_accuracy_score,
)

from reportgen.facts import Aggregate, MetricsReport, PerImageFacts, PipelineReport, SeedMetrics, TsneFacts, headline_metrics
from reportgen.practice.config import EvaluationConfig

# ------------------------------------------------------------------ predictions


def predict(model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities (N, C) of a model that takes raw 0-255 images.

    Rows are renormalised in float64: a float32 softmax sums to 1 only within ~1e-7,
    which scikit-learn's log loss warns about.
    """
    probs = np.asarray(model.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)
    return probs / probs.sum(axis=1, keepdims=True)


def embeddings(model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Penultimate-layer features (N, D): the input of the layer named "logits"."""
    import keras

    extractor = keras.Model(model.inputs, model.get_layer("logits").input)
    return np.asarray(extractor.predict(images, batch_size=batch_size, verbose=0))


# ------------------------------------------------------- classification metrics

MOST_CONFUSED_LIMIT = 10  # rows of the most-confused-pairs table shown beside the matrix


def classification_metrics(y_true, probs, class_names, top_k: int = 5) -> dict:
    """Accuracy, loss, top-k, macro and per-class P/R/F1 and the confusion matrix.

    Macro averages run over the classes present in the test split: a class with no test image
    has no recall to average (counting it as 0 would make a subset of the classes look bad).
    `classes_absent` says how many were left out. `top_k_accuracy` is None when there are no
    more than `top_k` classes (it would be 1). The confusion matrix is normalised by row (true
    class), so each row shows where the images of one class went.
    """
    y_true = np.asarray(y_true)
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.arange(len(class_names))
    predicted = probs.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, predicted, labels=labels, zero_division=0)
    present = support > 0
    counts = confusion_matrix(y_true, predicted, labels=labels)
    return {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "loss": float(log_loss(y_true, probs, labels=labels)),
        "top_k_accuracy": (float(top_k_accuracy_score(y_true, probs, k=top_k, labels=labels))
                           if len(labels) > top_k else None),
        "macro_precision": float(precision[present].mean()),
        "macro_recall": float(recall[present].mean()),
        "macro_f1": float(f1[present].mean()),
        "classes_present": int(present.sum()),
        "classes_absent": int((~present).sum()),
        "per_class": [
            {"class_index": int(i), "name": class_names[i], "precision": float(precision[i]),
             "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i in labels
        ],
        "confusion": np.nan_to_num(counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)).tolist(),
        "most_confused": most_confused_pairs(counts, class_names),
    }


def most_confused_pairs(counts: np.ndarray, class_names, limit: int = MOST_CONFUSED_LIMIT) -> list[dict]:
    """The off-diagonal cells of a confusion-count matrix with the most images, as table rows.

    `rate` is the share of the true class's images that went to the predicted class. With
    many classes the matrix is drawn without numbers, and this table carries them.
    """
    counts = np.asarray(counts)
    off_diagonal = counts * (1 - np.eye(len(counts), dtype=counts.dtype))
    true_idx, pred_idx = np.nonzero(off_diagonal)
    order = np.argsort(-off_diagonal[true_idx, pred_idx], kind="stable")[:limit]
    class_totals = counts.sum(axis=1)
    return [
        {"true_index": int(t), "true": class_names[t], "predicted_index": int(p),
         "predicted": class_names[p], "count": int(counts[t, p]),
         "rate": float(counts[t, p] / class_totals[t])}
        for t, p in zip(true_idx[order], pred_idx[order])
    ]


def top_k_examples(y_true, probs, class_names, k: int = 5, count: int = 6) -> list[dict]:
    """The k most probable classes for `count` test images spread evenly over the split.

    Spreading by index (not at random) picks the same images for every model, so the
    page can compare the two pipelines on identical examples.
    """
    probs = np.asarray(probs)
    indices = np.unique(np.linspace(0, len(probs) - 1, num=min(count, len(probs))).round().astype(int))
    examples = []
    for i in indices:
        best = np.argsort(-probs[i])[:k]
        examples.append({
            "index": int(i), "true_index": int(y_true[i]), "true": class_names[int(y_true[i])],
            "predictions": [{"class_index": int(c), "name": class_names[c],
                             "probability": float(probs[i, c])} for c in best],
        })
    return examples


def correct(model, images, labels, batch_size: int = 64) -> np.ndarray:
    """1.0 where the model's top class is the label, per image (clean images: no augmentation)."""
    return (predict(model, images, batch_size).argmax(axis=1) == np.asarray(labels)).astype(float)


# ------------------------------------------------------- test-time augmentation

TTA_SHIFT = 0.05  # shift of the shifted views, as a fraction of the image side


def tta_views(images: np.ndarray) -> list[np.ndarray]:
    """The original images, their horizontal flip and four small shifts (up/down/left/right)."""
    step = max(1, round(TTA_SHIFT * images.shape[1]))
    shifts = [(step, 0), (-step, 0), (0, step), (0, -step)]
    shifted = [ndimage.shift(images, (0, dy, dx, 0), order=0, mode="nearest") for dy, dx in shifts]
    return [images, images[:, :, ::-1]] + shifted


def tta_accuracy(model, images, labels, batch_size: int = 64) -> dict:
    """Accuracy on the plain images and with the probabilities averaged over `tta_views`;
    `correct` says per image whether the averaged prediction is right."""
    view_probs = [predict(model, view, batch_size) for view in tta_views(np.asarray(images))]
    plain = accuracy_score(labels, view_probs[0].argmax(axis=1))
    right = np.mean(view_probs, axis=0).argmax(axis=1) == np.asarray(labels)
    return {"plain": float(plain), "tta": float(right.mean()), "delta": float(right.mean() - plain),
            "correct": right.astype(float)}


# ------------------------------------------------------------------- robustness

# One value per severity 1..5; each perturbation's unit is named beside it. They are in
# the spirit of ImageNet-C (Hendrycks & Dietterich, 2019), scaled to the image side so a
# severity means the same at 32 px and at 224 px.
PERTURBATION_LEVELS = {
    "gaussian_noise": (0.04, 0.08, 0.12, 0.18, 0.26),  # noise std, fraction of the 0-255 range
    "blur": (0.008, 0.016, 0.025, 0.035, 0.05),        # Gaussian sigma, fraction of the image side
    "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),           # added to every pixel, fraction of the range
    "contrast": (0.6, 0.45, 0.3, 0.2, 0.1),            # kept share of each pixel's distance to the mean
    "rotation": (5, 10, 15, 20, 30),                   # degrees, corners filled by reflection
    "occlusion": (0.15, 0.25, 0.35, 0.45, 0.55),       # side of a black square, fraction of the side
}
MAX_SEVERITY = 5


def _gaussian_noise(images, level, rng):
    return images + rng.standard_normal(images.shape, dtype=np.float32) * (level * 255.0)


def _blur(images, level, rng):
    sigma = level * images.shape[1]
    return ndimage.gaussian_filter(images, sigma=(0, sigma, sigma, 0))


def _brightness(images, level, rng):
    return images + level * 255.0


def _contrast(images, level, rng):
    mean = images.mean(axis=(1, 2, 3), keepdims=True)
    return mean + (images - mean) * level


def _rotation(images, level, rng):
    return ndimage.rotate(images, level, axes=(1, 2), reshape=False, order=1, mode="reflect")


def _occlusion(images, level, rng):
    n, height, width = images.shape[:3]
    side = max(1, round(level * min(height, width)))
    top = rng.integers(0, height - side + 1, size=n)[:, None]
    left = rng.integers(0, width - side + 1, size=n)[:, None]
    rows, cols = np.arange(height)[None, :], np.arange(width)[None, :]
    in_rows = (rows >= top) & (rows < top + side)  # (N, H)
    in_cols = (cols >= left) & (cols < left + side)  # (N, W)
    occluded = images.copy()
    occluded[in_rows[:, :, None] & in_cols[:, None, :]] = 0.0
    return occluded


_PERTURB = {"gaussian_noise": _gaussian_noise, "blur": _blur, "brightness": _brightness,
            "contrast": _contrast, "rotation": _rotation, "occlusion": _occlusion}


def perturb(images: np.ndarray, perturbation: str, severity: int, seed: int = 0) -> np.ndarray:
    """A perturbed copy of uint8 images (N, H, W, 3) at `severity` 1..5, still uint8.

    The same seed gives the same noise and occluder positions, so both models are scored
    on identical perturbed images.
    """
    if perturbation not in PERTURBATION_LEVELS:
        raise ValueError(f"unknown perturbation {perturbation!r}; "
                         f"available: {', '.join(PERTURBATION_LEVELS)}.")
    if not 1 <= severity <= MAX_SEVERITY:
        raise ValueError(f"severity must be between 1 and {MAX_SEVERITY}, got {severity}.")
    level = PERTURBATION_LEVELS[perturbation][severity - 1]
    rng = np.random.default_rng(seed)
    changed = _PERTURB[perturbation](np.asarray(images, dtype=np.float32), level, rng)
    return np.clip(np.rint(changed), 0, 255).astype(np.uint8)


def robustness(model, images, labels, severities: int = 3, seed: int = 0, batch_size: int = 64) -> dict:
    """Accuracy under each perturbation at severities 1..`severities`.

    Returns the clean accuracy, one accuracy curve per perturbation, their mean over all
    perturbations and severities, that mean relative to clean accuracy (1.0 means the
    perturbations cost nothing; None when clean accuracy is 0), and `score`: per image, the
    share of its perturbed versions the model got right (its mean is `mean_accuracy`).
    """
    if not 1 <= severities <= MAX_SEVERITY:
        raise ValueError(f"severities must be between 1 and {MAX_SEVERITY}, got {severities}.")

    right = {name: [correct(model, perturb(images, name, severity, seed), labels, batch_size)
                    for severity in range(1, severities + 1)]
             for name in PERTURBATION_LEVELS}
    clean = float(correct(model, images, labels, batch_size).mean())
    curves = {name: [float(r.mean()) for r in per_severity] for name, per_severity in right.items()}
    score = np.mean([r for per_severity in right.values() for r in per_severity], axis=0)
    mean_accuracy = float(score.mean())
    return {"clean": clean, "severities": list(range(1, severities + 1)), "accuracy": curves,
            "mean_accuracy": mean_accuracy,
            "relative_accuracy": mean_accuracy / clean if clean > 0 else None, "score": score}


# ------------------------------------------------------------------ calibration

CALIBRATION_BINS = 15


def calibration(y_true, probs, bins: int = CALIBRATION_BINS) -> dict:
    """Expected calibration error and the reliability-diagram bins (Guo et al., 2017).

    Images are grouped by confidence (top probability) into equal-width bins; ECE is the
    mean |accuracy - confidence| of the bins, weighted by how many images each holds.
    Empty bins have None as confidence and accuracy.
    """
    probs = np.asarray(probs)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == np.asarray(y_true)).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_of = np.digitize(confidence, edges[1:-1], right=True)  # bin i holds (edge i, edge i+1]
    count = np.bincount(bin_of, minlength=bins)
    with np.errstate(invalid="ignore"):  # empty bins: 0 / 0 = NaN
        mean_confidence = np.bincount(bin_of, weights=confidence, minlength=bins) / count
        mean_accuracy = np.bincount(bin_of, weights=correct, minlength=bins) / count
    ece = np.nansum(count / len(probs) * np.abs(mean_accuracy - mean_confidence))
    return {"ece": float(ece), "bin_edges": edges.tolist(), "confidence": _nan_to_none(mean_confidence),
            "accuracy": _nan_to_none(mean_accuracy), "count": count.tolist()}


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(value) else float(value) for value in values]


# ----------------------------------------------------------------- one pipeline

TOP_K_EXAMPLES = 6  # test images in the top-k predictions figure


def evaluate_pipeline(model, split_images, split_labels, class_names, cfg: EvaluationConfig,
                      pipeline: str, seed: int, train: tuple | None = None, val: tuple | None = None,
                      batch_size: int = 64, perturbation_seed: int = 0) -> dict:
    """Everything measured on one trained model (one pipeline, one seed) on the test split.

    TTA and robustness run only when `cfg` asks for them (they are None otherwise); the
    train-validation gap only when the clean `train` and `val` splits, (images, labels), are
    given. `perturbation_seed` is fixed by default so every model meets the same perturbed images.
    `per_image` holds the numbers behind the headline ones, image by image.
    """
    labels = np.asarray(split_labels)
    probs = predict(model, split_images, batch_size)
    tta = tta_accuracy(model, split_images, labels, batch_size) if cfg.tta else None
    robust = (robustness(model, split_images, labels, severities=cfg.severities, seed=perturbation_seed,
                         batch_size=batch_size) if cfg.robustness else None)
    gap_splits = {"train_correct": correct(model, *train, batch_size), "val_correct": correct(model, *val, batch_size)} \
        if train is not None and val is not None else {}
    per_image = {"test_correct": (probs.argmax(axis=1) == labels).astype(float), "test_confidence": probs.max(axis=1),
                 "tta_correct": None if tta is None else tta.pop("correct"),
                 "perturbed_score": None if robust is None else robust.pop("score"), **gap_splits}
    return {
        "pipeline": pipeline,
        "seed": seed,
        "test_size": len(labels),
        "top_k": cfg.top_k,
        "metrics": classification_metrics(labels, probs, class_names, top_k=cfg.top_k),
        "train_accuracy": float(gap_splits["train_correct"].mean()) if gap_splits else None,
        "val_accuracy": float(gap_splits["val_correct"].mean()) if gap_splits else None,
        "tta": tta,
        "robustness": robust,
        "calibration": calibration(labels, probs),
        "top_k_examples": top_k_examples(labels, probs, class_names,
                                         k=min(cfg.top_k, len(class_names)), count=TOP_K_EXAMPLES),
        "per_image": per_image,
    }


# ---------------------------------------------------------------- the report


def _seed_metrics(result: dict) -> SeedMetrics:
    """One model's headline numbers: every SeedMetrics field, from the classification metrics or
    the other measurements of the same name."""
    tta, robust, train, val = result["tta"], result["robustness"], result["train_accuracy"], result["val_accuracy"]
    measured = {
        **result["metrics"],
        "train_accuracy": train, "val_accuracy": val, "train_val_gap": None if train is None else train - val,
        "tta_accuracy": tta["tta"] if tta else None, "tta_delta": tta["delta"] if tta else None,
        "ece": result["calibration"]["ece"],
        "perturbed_accuracy": robust["mean_accuracy"] if robust else None,
        "relative_robustness": robust["relative_accuracy"] if robust else None,
    }
    return SeedMetrics(seed=result["seed"], **{name: measured[name] for name in headline_metrics()})


def _aggregate(values: list[float]) -> Aggregate:
    return Aggregate(mean=float(np.mean(values)),
                     std=float(np.std(values, ddof=1)) if len(values) > 1 else None,
                     values=values)


def _pipeline_report(results: list[dict]) -> PipelineReport:
    seeds = [_seed_metrics(result) for result in results]
    aggregate = {}
    for name in headline_metrics():
        values = [getattr(seed, name) for seed in seeds if getattr(seed, name) is not None]
        if values:
            aggregate[name] = _aggregate(values)
    detail = results[0]
    return PipelineReport(
        seeds=seeds, aggregate=aggregate, detail_seed=detail["seed"],
        per_class=detail["metrics"]["per_class"], confusion=detail["metrics"]["confusion"],
        most_confused=detail["metrics"]["most_confused"], tta=detail["tta"],
        robustness=detail["robustness"], calibration=detail["calibration"],
        top_k_examples=detail["top_k_examples"])


def build_report(per_model: dict[str, list[dict]], class_names) -> MetricsReport:
    """Combine `evaluate_pipeline` results, {pipeline: [one result per seed]}, into the report.

    The first seed's model provides the detailed sections.
    """
    counts = {pipeline: len(seed_results) for pipeline, seed_results in per_model.items()}
    if not counts or 0 in counts.values():
        raise ValueError("build_report needs at least one evaluate_pipeline result per pipeline; "
                         f"got these numbers of results: {counts}.")
    results = [result for seed_results in per_model.values() for result in seed_results]
    sizes = {result["test_size"] for result in results}
    if len(sizes) > 1:
        raise ValueError(f"the models were scored on test splits of different sizes {sorted(sizes)}; "
                         "the pipelines are only comparable on the same test images.")
    classes = results[0]["metrics"]
    return MetricsReport(
        class_names=list(class_names), test_size=sizes.pop(), top_k=results[0]["top_k"],
        classes_present=classes["classes_present"], classes_absent=classes["classes_absent"],
        pipelines={pipeline: _pipeline_report(seed_results)
                   for pipeline, seed_results in per_model.items()})


def per_image_record(per_model: dict[str, list[dict]]) -> PerImageFacts:
    """per_image.json: pipeline -> seed -> the per-image numbers of that model (see evaluate_pipeline),
    each array written as one string (see `_compact`).

    The page's comparisons and their intervals are computed from these at render time.
    """
    return PerImageFacts(models={pipeline: {str(result["seed"]): _compact(result["per_image"])
                                            for result in seed_results}
                                 for pipeline, seed_results in per_model.items()})


def _compact(per_image: dict) -> dict:
    """Each array as one string: answers as "0110…", fractions as "0.9123 0.8812 …" (4 decimals).

    One line per array instead of one per number: a twentieth of the size, the same statistics
    (`reportgen.render.interpretation.decode` reads it back).
    """
    def compact(key, values):
        if values is None:
            return None
        values = np.asarray(values)
        if key.endswith("_correct"):
            return "".join("1" if value else "0" for value in values)
        return " ".join(f"{value:.4f}" for value in values)
    return {key: compact(key, values) for key, values in per_image.items()}


def tsne_points(embeddings: dict, labels, max_points: int = 500, seed: int = 0) -> TsneFacts:
    """2-D t-SNE coordinates of each pipeline's embeddings of the same test images (tsne.json).

    At most `max_points` images (the same ones for every pipeline); the figure is drawn at
    render time from these coordinates. A pipeline whose embeddings are not finite or all alike
    (a model trained at a learning rate far too high) has no map: scikit-learn's Barnes-Hut tree
    crashes the kernel on such points instead of raising.
    """
    from sklearn.manifold import TSNE

    labels = np.asarray(labels)
    chosen = np.sort(np.random.default_rng(seed).choice(len(labels), size=min(len(labels), max_points),
                                                        replace=False))
    points = {}
    for pipeline, features in embeddings.items():
        features = np.asarray(features, dtype=np.float64)[chosen]
        spread = features.std(axis=0).max() if np.isfinite(features).all() else 0.0
        if not spread > 0:
            continue
        # One global scale changes no t-SNE affinity (each point's bandwidth is calibrated to the
        # perplexity) and keeps the tree's coordinates in range.
        features = (features - features.mean(axis=0)) / spread
        tsne = TSNE(n_components=2, perplexity=min(30.0, (len(chosen) - 1) / 3), init="pca", random_state=seed)
        points[pipeline] = np.round(tsne.fit_transform(features), 3).tolist()
    return TsneFacts(index=chosen.tolist(), labels=labels[chosen].tolist(), points=points)


def metrics_table(report: MetricsReport) -> pd.DataFrame:
    """The headline numbers as a long table: pipeline, seed, metric, value (for the CSV)."""
    rows = [{"pipeline": pipeline, "seed": seed.seed, "metric": name, "value": getattr(seed, name)}
            for pipeline, pipeline_report in report.pipelines.items()
            for seed in pipeline_report.seeds
            for name in headline_metrics() if getattr(seed, name) is not None]
    return pd.DataFrame(rows, columns=["pipeline", "seed", "metric", "value"])
