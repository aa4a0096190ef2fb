"""The practice's facts: typed models of every file the practice records, for both halves.

The practice (`reportgen.practice`) writes each of its JSON files through one of these models; the
generator checks them with the same models (`read_facts`), so renaming a field breaks a test, not a
page. Numbers only: the words around them are the page's.
Importable without any ML library (pydantic only), like the rest of the contract.

    dataset.json      DatasetFacts        which data, how many images per split and class
    pipelines.json    PipelinesFacts      the two pipelines' operations, MixUp/CutMix, label risks
    protocol.json     ProtocolFacts       the one training protocol, diverged seeds
    metrics.json      MetricsReport       both pipelines on the test split, per seed and aggregated
    per_image.json    PerImageFacts       the per-image numbers the page's comparisons come from
    explanations.json ExplanationFacts    the explanation checks, per model and method
    tsne.json         TsneFacts           2-D coordinates of the embeddings
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ dataset

class DatasetFacts(_Fact):
    """What data a run used: every source reports these (a source may add its own, e.g. a version)."""

    model_config = ConfigDict(extra="allow")

    source: str
    name: str
    class_names: list[str]
    num_classes: int
    image_size: int
    split_sizes: dict[str, int] = Field(description="train / val / test -> images")
    class_counts: dict[str, dict[str, int]] = Field(description="split -> class name -> images")
    imbalance_ratio: float = Field(description="largest over smallest training class")
    val_split: str
    test_split: str
    has_masks: bool
    shortcut: float | None = None
    skipped_files: list[str] = Field(default_factory=list)
    homepage: str | None = None


# ---------------------------------------------------------------- pipelines

class Operation(BaseModel):
    """One augmentation operation as configured: its name and its settings (numbers)."""

    model_config = ConfigDict(extra="allow")

    op: str


class Mixing(_Fact):
    alpha: float
    probability: float


class LabelRisk(BaseModel):
    """An operation that may change an image's class (e.g. a vertical flip of digits), with its numbers."""

    model_config = ConfigDict(extra="allow")

    risk: str
    op: str


class PipelinesFacts(_Fact):
    baseline: list[Operation]
    advanced: list[Operation]
    mixup: Mixing | None = None
    cutmix: Mixing | None = None
    preset: str = Field(description="the kind of images the label risks are judged for")
    risks: list[LabelRisk] = Field(default_factory=list)


# ----------------------------------------------------------------- protocol

class ProtocolSettings(_Fact):
    """Every training setting both pipelines share."""

    backbone: str
    weights: str
    dropout: float
    fine_tune_layers: int
    image_size: int
    epochs: int
    batch_size: int
    optimizer: str
    learning_rate: float
    schedule: str
    fine_tune_epochs: int
    fine_tune_learning_rate: float
    early_stopping_patience: int | None
    seeds: list[int]
    loss: str
    monitor: str
    mixed_precision: bool
    jit_compile: bool
    momentum: float | None = None


class Divergence(_Fact):
    """A run whose training loss became NaN: where, and with what learning rate."""

    pipeline: str
    seed: int
    epoch: int
    phase: int
    learning_rate: float


class ProtocolFacts(_Fact):
    settings: ProtocolSettings
    initial_weights_hash: dict[str, dict[str, str]] = Field(description="pipeline -> seed -> hash; equal per seed")
    status: str = Field(description="ok, or nan_loss when a pipeline has no seed that finished")
    diverged: list[Divergence] = Field(default_factory=list)
    seconds: float


# ------------------------------------------------------------------ metrics

class ClassRow(_Fact):
    class_index: int
    name: str
    precision: float
    recall: float
    f1: float
    support: int = Field(description="test images of this class")


class ConfusedPair(_Fact):
    true_index: int
    true: str
    predicted_index: int
    predicted: str
    count: int
    rate: float = Field(description="share of the true class's test images predicted as `predicted`")


class Prediction(_Fact):
    class_index: int
    name: str
    probability: float


class TopKExample(_Fact):
    index: int = Field(description="position of the image in the test split")
    true_index: int
    true: str
    predictions: list[Prediction] = Field(description="most probable first")


class Tta(_Fact):
    plain: float = Field(description="test accuracy without test-time augmentation")
    tta: float = Field(description="test accuracy with probabilities averaged over the TTA views")
    delta: float = Field(description="tta - plain")


class Robustness(_Fact):
    clean: float
    severities: list[int]
    accuracy: dict[str, list[float]] = Field(description="perturbation -> accuracy per severity")
    mean_accuracy: float = Field(description="mean over all perturbations and severities")
    relative_accuracy: float | None = Field(description="mean_accuracy / clean")


class Calibration(_Fact):
    ece: float = Field(description="expected calibration error")
    bin_edges: list[float]
    confidence: list[float | None] = Field(description="mean confidence per bin (None: empty bin)")
    accuracy: list[float | None] = Field(description="accuracy per bin (None: empty bin)")
    count: list[int]


PERCENT, PLAIN = "percent", "number"  # how a metric reads: "87,3 %" or "0,873"


def _metric(form: str, digits: int, description: str | None = None, *, row: bool = True, card: bool = False):
    """A headline metric's field: how its numbers read everywhere (`form` with `digits` decimals),
    whether the run page's results table has a row for it, and whether the home cards and the
    comparison line it up."""
    return Field(description=description, json_schema_extra={"form": form, "digits": digits, "row": row, "card": card})


class SeedMetrics(_Fact):
    """The headline numbers of one trained model; None where not measured.

    A new headline metric is three lines in three files: a field here, the number computed under the
    same name by `practice.evaluation.classification_metrics`, and its label in the English strings
    file's `page.metric_rows` (the fallback of every language; a translation may follow). Its table row,
    aggregate over seeds, difference and number format all derive from the field."""

    seed: int
    accuracy: float = _metric(PERCENT, 1, card=True)
    loss: float = _metric(PLAIN, 3)
    top_k_accuracy: float | None = _metric(PERCENT, 1, "None with no more classes than k")
    macro_precision: float = _metric(PLAIN, 3)
    macro_recall: float = _metric(PLAIN, 3)
    macro_f1: float = _metric(PLAIN, 3, card=True)
    train_accuracy: float | None = _metric(PERCENT, 1, "accuracy on the clean training images, after training",
                                           row=False)
    val_accuracy: float | None = _metric(PERCENT, 1, "accuracy on the validation images, same weights", row=False)
    train_val_gap: float | None = _metric(PERCENT, 1, "train_accuracy - val_accuracy")
    tta_accuracy: float | None = _metric(PERCENT, 1, "accuracy with test-time augmentation", row=False)
    tta_delta: float | None = _metric(PERCENT, 1, "tta_accuracy - accuracy", row=False)
    ece: float = _metric(PLAIN, 3, "expected calibration error", card=True)
    perturbed_accuracy: float | None = _metric(PERCENT, 1, "robustness mean_accuracy")
    relative_robustness: float | None = _metric(PERCENT, 1, "robustness relative_accuracy", row=False)


def headline_metrics() -> dict[str, dict]:
    """Every headline metric, in the order the page lists them (SeedMetrics' fields), with how it
    reads: {name: {"form", "digits", "row", "card"}}."""
    return {name: dict(field.json_schema_extra) for name, field in SeedMetrics.model_fields.items()
            if name != "seed"}


class Aggregate(_Fact):
    mean: float
    std: float | None = Field(description="sample standard deviation over seeds; None with one seed")
    values: list[float] = Field(description="per-seed values, in the order of `seeds` (seeds where measured)")


class PipelineReport(_Fact):
    """One pipeline: headline numbers per seed and aggregated, and details of `detail_seed`."""

    seeds: list[SeedMetrics]
    aggregate: dict[str, Aggregate] = Field(description="headline metric -> mean/std/values over seeds")
    detail_seed: int = Field(description="seed whose model the detailed sections below describe")
    per_class: list[ClassRow]
    confusion: list[list[float]] = Field(description="row-normalised confusion matrix [true][predicted]")
    most_confused: list[ConfusedPair]
    tta: Tta | None
    robustness: Robustness | None
    calibration: Calibration
    top_k_examples: list[TopKExample]


class MetricsReport(_Fact):
    """The schema of `metrics.json`: both pipelines on the test split, numbers only."""

    schema_version: int = 2
    class_names: list[str]
    test_size: int = Field(description="test images each model was scored on")
    top_k: int
    classes_present: int = Field(description="classes with test images: the macro averages run over these")
    classes_absent: int = Field(description="classes of the dataset without any test image")
    pipelines: dict[str, PipelineReport] = Field(description="'baseline' and 'advanced'")


# ---------------------------------------------------------------- per image

class PerImageFacts(_Fact):
    """pipeline -> seed -> per-image array, each as one string: answers "0110…", fractions "0.91 0.88 …".

    Over the test images: test_correct, test_confidence, tta_correct, perturbed_score; over the
    clean training and validation images: train_correct, val_correct (None: not measured).
    """

    models: dict[str, dict[str, dict[str, str | None]]]


# ------------------------------------------------------------- explanations

class MethodChecks(_Fact):
    """One model and method: deletion/insertion areas, and per image the localisation scores (with masks)."""

    deletion_auc: float
    insertion_auc: float
    pointing_game: list[float] | None = None
    energy_in_mask: list[float] | None = None


class Curves(_Fact):
    fractions: list[float]
    deletion: list[float]
    insertion: list[float]


class Cascade(_Fact):
    """The cascading randomisation: per draw, the mean Spearman rho (None: constant maps) at each step."""

    layers: list[str]
    rho: list[list[float | None]]
    constant: list[list[int]]


class Substrates(_Fact):
    deletion: str
    insertion: str
    blur_sigma: float


class ExplanationFacts(_Fact):
    images: int
    has_masks: bool
    shortcut: float | None = None
    substrates: Substrates
    randomisation_draws: int
    randomisation_images: int
    checks: dict[str, dict[str, MethodChecks]] = Field(description="model -> method -> checks")
    curves: dict[str, dict[str, Curves]] = Field(default_factory=dict)
    randomisation: dict[str, dict[str, Cascade]] = Field(default_factory=dict)
    ig_completeness: dict[str, float] = Field(default_factory=dict, description="model -> mean relative gap")
    centre_sigma: float | None = None
    baselines: dict[str, dict[str, list[float]]] | None = Field(
        None, description="model-free map (centre, uniform) -> metric -> per-image score")


# --------------------------------------------------------------------- t-SNE

class TsneFacts(_Fact):
    index: list[int] = Field(description="positions in the test split")
    labels: list[int]
    points: dict[str, list[list[float]]] = Field(description="pipeline -> [x, y] per image")


# ---------------------------------------------------------------- the whole

FILES: dict[str, type[BaseModel]] = {
    "dataset": DatasetFacts, "pipelines": PipelinesFacts, "protocol": ProtocolFacts, "metrics": MetricsReport,
    "per_image": PerImageFacts, "explanations": ExplanationFacts, "tsne": TsneFacts,
}


class PracticeFacts(BaseModel):
    """Every practice file a results folder holds (None where a stage did not record it)."""

    dataset: DatasetFacts | None = None
    pipelines: PipelinesFacts | None = None
    protocol: ProtocolFacts | None = None
    metrics: MetricsReport | None = None
    per_image: PerImageFacts | None = None
    explanations: ExplanationFacts | None = None
    tsne: TsneFacts | None = None


class FactError(ValueError):
    """A practice file that does not match its model: the file and the field."""


def read_facts(files: dict[str, Any]) -> PracticeFacts:
    """The practice's facts from a results folder's JSON files ({stem: parsed JSON}); others are ignored."""
    found = {}
    for name, model in FILES.items():
        if name in files:
            try:
                found[name] = model.model_validate(files[name])
            except ValidationError as exc:
                where = "; ".join(".".join(map(str, e["loc"])) + f": {e['msg']}" for e in exc.errors()[:3])
                raise FactError(f"{name}.json does not match the practice's contract ({where})") from None
    return PracticeFacts(**found)
