"""Explanation figures made of numbers, drawn at render time from `explanations.json`.

`deletion_insertion`: the mean deletion and insertion curves of Grad-CAM per model, with
their areas. `randomisation`: the cascading randomisation test, Spearman rho against the
number of conv/dense layers randomised from the top, per method and model (mean over the
seeded draws, band from the lowest to the highest draw).
"""

from __future__ import annotations

from reportgen.practice.figures import PAGE_WIDTH_IN, PIPELINE_COLORS  # the figures' shared style
from reportgen.render.explanations import SANITY_MAX_RHO
from reportgen.render.numbers import number
from reportgen.render.figures import drawer
from reportgen.render.strings import strings

CURVES_METHOD = "gradcam"


def _recorded(run) -> dict:
    return run.facts.get("explanations") or {}


@drawer("deletion_insertion")
def deletion_insertion(run, language: str):
    """Mean deletion (left) and insertion (right) curves of each model's Grad-CAM, AUC in the legend."""
    import matplotlib.pyplot as plt
    import numpy as np

    curves = _recorded(run).get("curves")
    if not curves:
        return None
    words = strings(language)["explanations"]
    fig, (deletion_ax, insertion_ax) = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.8), sharey=True)
    for model, methods in curves.items():
        curve = methods.get(CURVES_METHOD) or next(iter(methods.values()))
        name = words["models"].get(model, model)
        for ax, kind in ((deletion_ax, "deletion"), (insertion_ax, "insertion")):
            area = np.trapezoid(curve[kind], curve["fractions"])
            ax.plot(curve["fractions"], curve[kind], color=PIPELINE_COLORS.get(model),
                    label=f"{name} (AUC {number(area, language, 3)})")
    for ax, kind in ((deletion_ax, "deletion"), (insertion_ax, "insertion")):
        ax.set(title=words["figure"][kind], xlabel=words["figure"]["fraction"], xlim=(0, 1), ylim=(0, 1.02))
        ax.legend()
    deletion_ax.set_ylabel(words["figure"]["probability"])
    fig.tight_layout()
    return fig


@drawer("randomisation")
def randomisation(run, language: str):
    """One panel per method: rho against layers randomised, a line and a min-max band per model."""
    import warnings

    import matplotlib.pyplot as plt
    import numpy as np

    cascades = _recorded(run).get("randomisation")
    if not cascades:
        return None
    words = strings(language)["explanations"]
    methods = list(next(iter(cascades.values())))
    fig, axes = plt.subplots(1, len(methods), figsize=(PAGE_WIDTH_IN, 3.6), sharey=True, squeeze=False)
    for ax, method in zip(axes[0], methods):
        for model, per_method in cascades.items():
            cascade = per_method[method]
            rho = np.array([[np.nan if value is None else value for value in draw] for draw in cascade["rho"]])
            steps = np.arange(1, rho.shape[1] + 1)
            color = PIPELINE_COLORS.get(model)
            with warnings.catch_warnings():  # a step where every draw was constant is left blank
                warnings.simplefilter("ignore", RuntimeWarning)
                ax.plot(steps, np.nanmean(rho, axis=0), marker="o", color=color,
                        label=words["models"].get(model, model))
                ax.fill_between(steps, np.nanmin(rho, axis=0), np.nanmax(rho, axis=0), color=color, alpha=0.2)
            ax.set_xticks(steps, cascade["layers"], rotation=45, ha="right", fontsize=7)
        for limit in (SANITY_MAX_RHO, -SANITY_MAX_RHO):
            ax.axhline(limit, color="grey", linestyle=":", linewidth=1)
        ax.set(title=words["methods"].get(method, method), xlabel=words["figure"]["randomised"], ylim=(-1.02, 1.02))
    axes[0, 0].set_ylabel(words["figure"]["rho"])
    axes[0, 0].legend()
    fig.tight_layout()
    return fig

