"""The practice's parameters: the typed schema of what the shipped notebook accepts.

One section per stage (data, augmentation, model, training, evaluation, explanations).
A run file's `parameters:` for the practice notebook are validated against `RunParameters`
before anything executes, so a typo costs a second, not an hour of GPU time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- data

BACKBONE_MIN_SIZE = {"small_cnn": 16, "mobilenetv2": 32, "efficientnetb0": 32, "resnet50v2": 32}


class DataConfig(_Strict):
    """Where the images come from and how many of them."""

    source: Literal["embedded", "tfds", "folder"] = "embedded"
    name: str = Field("synthetic_flowers", description="TFDS dataset name (source: tfds)")
    path: str | None = Field(None, description="image folder root <path>/<class>/*.jpg (source: folder)")
    masks_path: str | None = Field(None, description="optional parallel folder of object masks")
    data_dir: str | None = Field(None, description="pre-downloaded TFDS data (default $TFDS_DATA_DIR)")
    image_size: int = Field(96, ge=16, le=512)
    num_classes: int = Field(10, ge=2, le=40, description="classes of the embedded dataset")
    train_size: int | None = Field(1500, ge=10, le=200_000)
    val_size: int | None = Field(300, ge=5, le=100_000)
    test_size: int | None = Field(500, ge=5, le=100_000)
    shortcut: float = Field(0.0, ge=0.0, le=1.0, description="background-class correlation on train")
    imbalance: float = Field(1.0, ge=1.0, le=20.0, description="largest / smallest class size on train")
    resize: Literal["resize", "crop", "pad"] = "resize"
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _source_fields(self) -> "DataConfig":
        if self.source == "folder" and not self.path:
            raise ValueError("source 'folder' needs 'path' (a folder with one sub-folder per class)")
        if self.source == "tfds" and self.name == "synthetic_flowers":
            raise ValueError("source 'tfds' needs 'name', e.g. oxford_flowers102 or oxford_iiit_pet")
        return self


# ------------------------------------------------------------------ augmentation

class Flip(_Strict):
    op: Literal["flip"]
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = "horizontal"


class Rotation(_Strict):
    op: Literal["rotation"]
    factor: float = Field(0.1, gt=0, le=0.5, description="fraction of a full turn, both ways")


class Zoom(_Strict):
    op: Literal["zoom"]
    factor: float = Field(0.1, gt=0, lt=1)


class Translation(_Strict):
    op: Literal["translation"]
    factor: float = Field(0.1, gt=0, lt=1, description="fraction of the image size, both axes")


class RandomResizedCrop(_Strict):
    op: Literal["random_resized_crop"]
    scale: tuple[float, float] = (0.6, 1.0)

    @model_validator(mode="after")
    def _ordered(self) -> "RandomResizedCrop":
        lo, hi = self.scale
        if not 0 < lo <= hi <= 1:
            raise ValueError("scale must be two numbers with 0 < min <= max <= 1")
        return self


class Brightness(_Strict):
    op: Literal["brightness"]
    factor: float = Field(0.2, gt=0, le=1)


class Contrast(_Strict):
    op: Literal["contrast"]
    factor: float = Field(0.2, gt=0, le=1)


class Hue(_Strict):
    op: Literal["hue"]
    factor: float = Field(0.05, gt=0, le=0.5)


class Saturation(_Strict):
    op: Literal["saturation"]
    factor: float = Field(0.2, gt=0, le=1)


class RandomErasing(_Strict):
    op: Literal["random_erasing"]
    probability: float = Field(0.5, ge=0, le=1)
    scale: tuple[float, float] = (0.02, 0.2)


AugmentationOp = Annotated[
    Union[Flip, Rotation, Zoom, Translation, RandomResizedCrop, Brightness, Contrast, Hue,
          Saturation, RandomErasing],
    Field(discriminator="op"),
]
AUGMENTATION_OPS = ["flip", "rotation", "zoom", "translation", "random_resized_crop", "brightness",
                    "contrast", "hue", "saturation", "random_erasing"]


class Mixing(_Strict):
    """MixUp or CutMix on the batch: Beta(alpha, alpha) mixing, applied with `probability`."""

    alpha: float = Field(0.2, gt=0, le=10)
    probability: float = Field(0.5, ge=0, le=1)


def _default_advanced() -> list:
    return [Flip(op="flip"), Rotation(op="rotation", factor=0.1), Zoom(op="zoom", factor=0.15),
            Translation(op="translation", factor=0.1), Brightness(op="brightness", factor=0.2),
            Contrast(op="contrast", factor=0.2), RandomErasing(op="random_erasing", probability=0.3)]


class AugmentationConfig(_Strict):
    """The two pipelines being compared; everything else about training is shared."""

    baseline: list[AugmentationOp] = Field(default_factory=lambda: [Flip(op="flip")])
    advanced: list[AugmentationOp] = Field(default_factory=_default_advanced)
    mixup: Mixing | None = None
    cutmix: Mixing | None = None
    preset: Literal["natural", "digits", "text", "none"] = Field(
        "natural", description="kind of data, used to warn about label-changing operations")
    mosaic_draws: int = Field(9, ge=1, le=25)


# ------------------------------------------------------------------------ model

class ModelConfig(_Strict):
    backbone: Literal["small_cnn", "efficientnetb0", "mobilenetv2", "resnet50v2"] = "small_cnn"
    weights: str = Field("none", description="'imagenet', 'none' or a path to a weights file")
    dropout: float = Field(0.2, ge=0, lt=1)
    fine_tune_layers: int = Field(0, ge=0, description="top backbone layers unfrozen in phase 2")


# --------------------------------------------------------------------- training

class TrainingConfig(_Strict):
    """The protocol shared by both pipelines."""

    epochs: int = Field(8, ge=1, le=500)
    batch_size: int = Field(32, ge=1, le=4096)
    learning_rate: float = Field(1e-3, gt=0, le=1e6, description="an absurd rate runs: its divergence is reported")
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    schedule: Literal["constant", "cosine"] = "cosine"
    fine_tune_epochs: int = Field(0, ge=0, le=500)
    fine_tune_learning_rate: float = Field(1e-5, gt=0, le=1)
    early_stopping_patience: int | None = Field(None, ge=1)
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1, max_length=10,
                             description="3 by default: with fewer, no comparison on the page can conclude much")
    lr_sweep: list[float] | None = Field(None, description="learning rates for a short sensitivity sweep")
    lr_sweep_epochs: int = Field(2, ge=1, le=50)


# ------------------------------------------------------------------- evaluation

class EvaluationConfig(_Strict):
    tta: bool = True
    top_k: int = Field(5, ge=1, le=20)
    robustness: bool = True
    severities: int = Field(3, ge=1, le=5)
    tsne_points: int = Field(500, ge=20, le=5000)


class ExplanationsConfig(_Strict):
    methods: list[Literal["gradcam", "gradcam_plus_plus", "integrated_gradients"]] = Field(
        default_factory=lambda: ["gradcam", "gradcam_plus_plus", "integrated_gradients"])
    num_images: int = Field(4, ge=1, le=16, description="images per figure (hits and errors)")
    ig_steps: int = Field(32, ge=4, le=512)
    checks_images: int = Field(32, ge=4, le=1000, description="images used for the quantitative checks")


class RunParameters(_Strict):
    """The notebook's parameters, one section per stage of the practice."""

    data: DataConfig = Field(default_factory=DataConfig)
    augmentation: AugmentationConfig = Field(default_factory=AugmentationConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    explanations: ExplanationsConfig = Field(default_factory=ExplanationsConfig)

    @model_validator(mode="after")
    def _consistent(self) -> "RunParameters":
        minimum = BACKBONE_MIN_SIZE[self.model.backbone]
        if self.data.image_size < minimum:
            raise ValueError(f"data.image_size {self.data.image_size} is too small for backbone "
                             f"{self.model.backbone!r}: it needs at least {minimum} px")
        if self.data.source == "embedded" and self.evaluation.top_k >= self.data.num_classes:
            raise ValueError(f"evaluation.top_k {self.evaluation.top_k} needs more classes than "
                             f"data.num_classes {self.data.num_classes}; lower top_k")
        if self.model.fine_tune_layers and not self.training.fine_tune_epochs:
            raise ValueError("model.fine_tune_layers is set but training.fine_tune_epochs is 0")
        return self

    def data_identity(self, root) -> str:
        """The data's identity for the results cache, its paths taken from the project root `root`
        (the hook `reportgen.runs.paths.data_identity` calls on a notebook's typed parameters)."""
        from reportgen.practice.data import data_identity

        paths = {name: str((Path(root) / Path(value).expanduser()).resolve())
                 for name in ("path", "masks_path", "data_dir")
                 if isinstance(value := getattr(self.data, name), str) and value}
        return data_identity(self.data.model_copy(update=paths))

    @model_validator(mode="after")
    def _backend_supports_data(self, info: ValidationInfo) -> "RunParameters":
        """The run's backend (validation context from the run file) must be able to read the data."""
        backend = (info.context or {}).get("backend")
        if backend == "jax" and self.data.source == "tfds":
            raise ValueError("backend 'jax' cannot read TensorFlow Datasets here; use backend "
                             "'tensorflow' or an embedded/folder source")
        return self
