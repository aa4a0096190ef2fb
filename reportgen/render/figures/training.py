"""How training went, drawn at render time: both pipelines' curves on shared axes, and the LR sweep."""

from __future__ import annotations

import pandas as pd

from reportgen.render.figures import PAGE_WIDTH_IN, PIPELINE_COLORS, drawer
from reportgen.render.numbers import general
from reportgen.render.strings import strings


def words(language: str) -> dict:
    return strings(language)["verdicts"]["figures"]


def pipeline_name(pipeline: str, language: str) -> str:
    return strings(language)["verdicts"]["pipelines"].get(pipeline, pipeline).capitalize()


def _pipelines(frame: pd.DataFrame) -> list[str]:
    """The pipelines present, baseline first so colours and legends keep one order."""
    return sorted(frame["pipeline"].unique(), key=lambda name: (name != "baseline", name))


def _diverged(run) -> set[tuple[str, int]]:
    return {(d["pipeline"], d["seed"]) for d in (run.facts.get("protocol") or {}).get("diverged", [])}


@drawer("curves")
def training_curves(run, language: str):
    """Loss and accuracy per epoch for both pipelines on shared axes: train dashed, validation solid.

    With several seeds the lines are the mean per epoch of the seeds that finished and a band
    spans their validation values. A seed that diverged is drawn alone, thin, up to its last
    finite epoch, ending in a cross. A dotted line marks where fine-tuning (phase 2) starts.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    history = run.history
    if history is None or history.empty:
        return None
    text = words(language)
    diverged = _diverged(run)
    is_diverged = [(p, s) in diverged for p, s in zip(history["pipeline"], history["seed"])]
    finished, failed = history[[not d for d in is_diverged]], history[is_diverged]
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.6), layout="constrained")
    by_epoch = finished.groupby(["pipeline", "epoch"])
    mean, low, high = (by_epoch.mean(numeric_only=True), by_epoch.min(numeric_only=True),
                       by_epoch.max(numeric_only=True))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for pipeline in _pipelines(finished):
            color, name = PIPELINE_COLORS.get(pipeline), pipeline_name(pipeline, language)
            epochs = mean.loc[pipeline].index
            validation = f"val_{metric}"
            ax.plot(epochs, mean.loc[pipeline, metric], "--", color=color, label=f"{name} · {text['train']}")
            ax.plot(epochs, mean.loc[pipeline, validation], "-", color=color, label=f"{name} · {text['val']}")
            ax.fill_between(epochs, low.loc[pipeline, validation], high.loc[pipeline, validation],
                            color=color, alpha=0.15, linewidth=0)
        for (pipeline, seed), rows in failed.groupby(["pipeline", "seed"]):
            rows = rows[rows["loss"].notna() & (rows["loss"] < float("inf"))]
            if not rows.empty:
                ax.plot(rows["epoch"], rows[metric], ":", color=PIPELINE_COLORS.get(pipeline), linewidth=1,
                        marker="x", markevery=[len(rows) - 1],
                        label=f"{pipeline_name(pipeline, language)} · {text['diverged'].format(seed=seed)}")
        if (history["phase"] == 2).any():
            first_fine_tune_epoch = history.loc[history["phase"] == 2, "epoch"].min()
            ax.axvline(first_fine_tune_epoch - 0.5, color="grey", linestyle=":", label=text["fine_tune"])
        ax.set_title(text[metric])
        ax.set_xlabel(text["epoch"])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    seeds = finished.groupby("pipeline")["seed"].nunique()
    if len(set(seeds)) == 1 and seeds.iloc[0] > 1:
        fig.suptitle(text["seeds"].format(n=seeds.iloc[0]))
    elif len(set(seeds)) > 1:  # a diverged seed left the pipelines with different counts
        fig.suptitle(" · ".join(f"{pipeline_name(p, language)}: {text['seeds'].format(n=seeds[p])}"
                                for p in _pipelines(finished)))
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    return fig


@drawer("lr_sensitivity")
def lr_sensitivity(run, language: str):
    """Validation accuracy and loss against the learning rate (log scale), best rate marked.

    Rates whose loss became NaN have no point; a red dotted line marks each of them.
    """
    import matplotlib.pyplot as plt

    if "lr_sweep" not in run.tables:
        return None
    sweep = pd.read_csv(run.tables["lr_sweep"])
    text = words(language)
    color = PIPELINE_COLORS.get(sweep["pipeline"].iloc[0])
    finished = sweep[sweep["status"] == "ok"].sort_values("lr")
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 2.9), layout="constrained")
    for ax, metric in zip(axes, ("val_accuracy", "val_loss")):
        ax.plot(finished["lr"], finished[metric], "o-", color=color)
        for position, lr in enumerate(sweep.loc[sweep["status"] != "ok", "lr"]):
            ax.axvline(lr, color="tab:red", linestyle=":", label=text["nan"] if position == 0 else None)
        ax.set_xscale("log")
        ax.set_xticks(finished["lr"], [general(lr, language) for lr in finished["lr"]])
        ax.minorticks_off()
        ax.set_xlabel(text["lr"])
        ax.set_title(text[metric])
    if not finished.empty:
        best = finished.loc[finished["val_accuracy"].idxmax()]
        axes[0].plot(best["lr"], best["val_accuracy"], "*", markersize=14, color=color,
                     label=text["best"].format(lr=general(best["lr"], language)))
    axes[0].legend()
    return fig
