"""How training went: both pipelines' curves on shared axes, and the learning-rate sweep."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from reportgen.practice.figures import PAGE_WIDTH_IN, PIPELINE_COLORS, pipeline_label

TEXT = {
    "es": {"loss": "Pérdida", "accuracy": "Exactitud", "epoch": "Época", "train": "entrenamiento",
           "val": "validación", "fine_tune": "inicio del ajuste fino", "seeds": "media de {n} semillas",
           "lr": "Tasa de aprendizaje", "val_accuracy": "Exactitud de validación",
           "val_loss": "Pérdida de validación", "best": "mejor: {lr:g}", "nan": "pérdida NaN"},
    "en": {"loss": "Loss", "accuracy": "Accuracy", "epoch": "Epoch", "train": "train",
           "val": "validation", "fine_tune": "fine-tuning starts", "seeds": "mean of {n} seeds",
           "lr": "Learning rate", "val_accuracy": "Validation accuracy",
           "val_loss": "Validation loss", "best": "best: {lr:g}", "nan": "NaN loss"},
}


def _pipelines(frame: pd.DataFrame) -> list[str]:
    """The pipelines present, baseline first so colours and legends keep one order."""
    return sorted(frame["pipeline"].unique(), key=lambda name: (name != "baseline", name))


def training_curves(history: pd.DataFrame, language: str = "es") -> plt.Figure:
    """Loss and accuracy per epoch for both pipelines on shared axes: train dashed, validation solid.

    With several seeds the lines are the mean per epoch and a band spans the seeds'
    validation values. A dotted line marks where fine-tuning (phase 2) starts.
    """
    text = TEXT[language]
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.8))
    by_epoch = history.groupby(["pipeline", "epoch"])
    mean = by_epoch.mean(numeric_only=True)
    low, high = by_epoch.min(numeric_only=True), by_epoch.max(numeric_only=True)
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for pipeline in _pipelines(history):
            color, name = PIPELINE_COLORS.get(pipeline), pipeline_label(pipeline, language)
            epochs = mean.loc[pipeline].index
            validation = f"val_{metric}"
            ax.plot(epochs, mean.loc[pipeline, metric], "--", color=color,
                    label=f"{name} · {text['train']}")
            ax.plot(epochs, mean.loc[pipeline, validation], "-", color=color,
                    label=f"{name} · {text['val']}")
            ax.fill_between(epochs, low.loc[pipeline, validation], high.loc[pipeline, validation],
                            color=color, alpha=0.15, linewidth=0)
        if (history["phase"] == 2).any():
            first_fine_tune_epoch = history.loc[history["phase"] == 2, "epoch"].min()
            ax.axvline(first_fine_tune_epoch - 0.5, color="grey", linestyle=":", label=text["fine_tune"])
        ax.set_title(text[metric])
        ax.set_xlabel(text["epoch"])
    seeds = history["seed"].nunique()
    if seeds > 1:
        fig.suptitle(text["seeds"].format(n=seeds))
    axes[1].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def lr_sensitivity(sweep: pd.DataFrame, language: str = "es") -> plt.Figure:
    """Validation accuracy and loss against the learning rate (log scale), best rate marked.

    Rates whose loss became NaN have no point; a red dotted line marks each of them.
    """
    text = TEXT[language]
    color = PIPELINE_COLORS.get(sweep["pipeline"].iloc[0])
    finished = sweep[sweep["status"] == "ok"].sort_values("lr")
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.4))
    for ax, metric in zip(axes, ("val_accuracy", "val_loss")):
        ax.plot(finished["lr"], finished[metric], "o-", color=color)
        for position, lr in enumerate(sweep.loc[sweep["status"] != "ok", "lr"]):
            ax.axvline(lr, color="tab:red", linestyle=":", label=text["nan"] if position == 0 else None)
        ax.set_xscale("log")
        ax.set_xlabel(text["lr"])
        ax.set_title(text[metric])
    if not finished.empty:
        best = finished.loc[finished["val_accuracy"].idxmax()]
        axes[0].plot(best["lr"], best["val_accuracy"], "*", markersize=14, color=color,
                     label=text["best"].format(lr=best["lr"]))
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
