"""Explanation figures, drawn at render time in the page's language.

Of images (the arrays the practice recorded): `gradcam_hits` / `gradcam_errors`, both models'
Grad-CAM on the same test images, and `methods_<model>`, Grad-CAM, Grad-CAM++ and Integrated
Gradients side by side. Of numbers (`explanations.json`): `deletion_insertion`, the mean deletion
and insertion curves of Grad-CAM per model with their areas, and `randomisation`, the cascading
randomisation test (Spearman rho against the number of conv/dense layers randomised from the top,
per method and model: mean over the seeded draws, band from the lowest to the highest draw).
"""

from __future__ import annotations

from reportgen.render.explanations import SANITY_MAX_RHO
from reportgen.render.figures import ERROR_COLOR, HIT_COLOR, PAGE_WIDTH_IN, PIPELINE_COLORS, drawer, recorded_arrays
from reportgen.render.figures import images as cells
from reportgen.render.numbers import number, percent
from reportgen.render.strings import strings

HIT_MARK, ERROR_MARK = "✓", "✗"
GRADCAM_FIGURES = {"gradcam_hits": "hits", "gradcam_errors": "errors"}
METHOD_HEADER_WIDTH = 12  # characters: a longer method name breaks onto two lines

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
    fig, (deletion_ax, insertion_ax) = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.4), sharey=True,
                                                    layout="constrained")
    for model, methods in curves.items():
        curve = methods.get(CURVES_METHOD) or next(iter(methods.values()))
        name = words["models"].get(model, model)
        for ax, kind in ((deletion_ax, "deletion"), (insertion_ax, "insertion")):
            area = np.trapezoid(curve[kind], curve["fractions"])
            ax.plot(curve["fractions"], curve[kind], color=PIPELINE_COLORS.get(model),
                    label=f"{name} (AUC {number(area, language, 3)})")
    for ax, kind in ((deletion_ax, "deletion"), (insertion_ax, "insertion")):
        ax.set(title=words["figure"][kind], xlabel=words["figure"]["fraction"], xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(loc="upper right" if kind == "deletion" else "lower right")  # away from the curves
    deletion_ax.set_ylabel(words["figure"]["probability"])
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
    fig, axes = plt.subplots(1, len(methods), figsize=(PAGE_WIDTH_IN, 3.6), sharey=True, squeeze=False,
                             layout="constrained")
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
            ax.set_xticks(steps, cascade["layers"], rotation=45, ha="right")
        for limit in (SANITY_MAX_RHO, -SANITY_MAX_RHO):
            ax.axhline(limit, color="grey", linestyle=":", linewidth=1)
        ax.set(title=words["methods"].get(method, method), ylim=(-1.02, 1.02))
    axes[0, 0].set_ylabel(words["figure"]["rho"])
    fig.supxlabel(words["figure"]["randomised"], fontsize="medium")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(labels))
    return fig



# ------------------------------------------------------------------ figures of images

def _prediction(names: list[str], true: int, predicted: int, confidence: float | None, language: str):
    """'✓ class' or '✗ class' (with the confidence below when given) and its colour."""
    hit = int(predicted) == int(true)
    text = f"{HIT_MARK if hit else ERROR_MARK} {cells.short(names[predicted], 16)}"
    if confidence is not None:
        text += f"\n{percent(float(confidence), language, 0)}"
    return text, HIT_COLOR if hit else ERROR_COLOR


def _gradcam_drawer(name: str, kind: str):
    def gradcam_grid(run, language: str):
        """Rows are images; columns: the image (its true class below), then per model its map and the
        overlay, each overlay labelled with the model's prediction and confidence; one colour bar."""
        recorded = recorded_arrays(run, name)
        if recorded is None:
            return None
        words, models_words = strings(language)["figures"], strings(language)["explanations"]["models"]
        names, models = cells.class_names(run), [str(m) for m in recorded["models"]]
        images, rows = recorded["images"], len(recorded["images"])
        fig, axes = cells.grid(rows, 1 + 2 * len(models), cell_height=1.62)
        headers = [words["image"]]
        for model in models:
            model_name = models_words.get(model, model)
            headers += [f"{model_name}\n{words['heatmap']}", f"{model_name}\n{words['overlay']}"]
        cells.column_headers(axes[0], headers)
        for row in range(rows):
            true = int(recorded["true"][row])
            cells.show_image(axes[row, 0], images[row])
            axes[row, 0].set_xlabel(cells.short(names[true], 16))
            for m, model in enumerate(models):
                mappable = cells.show_heatmap(axes[row, 1 + 2 * m], recorded["maps"][m, row])
                cells.show_heatmap(axes[row, 2 + 2 * m], recorded["maps"][m, row], images[row])
                text, color = _prediction(names, true, recorded["predicted"][m, row],
                                          recorded["confidence"][m, row], language)
                axes[row, 2 + 2 * m].set_xlabel(text, color=color)
        cells.heatmap_colorbar(fig, axes, mappable, f"Grad-CAM · {words['heatmap_scale']}", language)
        seed = cells.detail_seed(run, "advanced")
        if seed is not None:
            fig.suptitle(words["gradcam_title"][kind].format(seed=seed))
        return fig
    return gradcam_grid


for _name, _kind in GRADCAM_FIGURES.items():
    drawer(_name)(_gradcam_drawer(_name, _kind))


def _method_header(name: str) -> str:
    return name.replace(" ", "\n", 1) if len(name) > METHOD_HEADER_WIDTH else name


def _methods_drawer(model: str):
    def methods_side_by_side(run, language: str):
        """Rows are images; columns: the image with the model's prediction, then one map per method
        over it (Integrated Gradients on its own, titled with its completeness gap); one colour bar."""
        recorded = recorded_arrays(run, f"methods_{model}")
        if recorded is None:
            return None
        words, xai_words = strings(language)["figures"], strings(language)["explanations"]
        names, methods = cells.class_names(run), [str(m) for m in recorded["methods"]]
        images, rows = recorded["images"], len(recorded["images"])
        gaps = recorded.get("completeness_gap")
        fig, axes = cells.grid(rows, 1 + len(methods), cell_height=1.72)
        cells.column_headers(axes[0], [words["image"]] + [_method_header(xai_words["methods"].get(m, m))
                                                          for m in methods])
        for row in range(rows):
            true, predicted = int(recorded["true"][row]), int(recorded["predicted"][row])
            cells.show_image(axes[row, 0], images[row])
            text, color = _prediction(names, true, predicted, None, language)
            if predicted != true:
                text = f"{cells.short(names[true], 16)}\n→ {text}"
            axes[row, 0].set_xlabel(text, color=color)
            for column, method in enumerate(methods, start=1):
                over = None if method == "integrated_gradients" else images[row]
                mappable = cells.show_heatmap(axes[row, column], recorded["maps"][column - 1, row], over)
                if method == "integrated_gradients" and gaps is not None:
                    axes[row, column].set_xlabel(words["completeness_gap"].format(
                        gap=percent(float(gaps[row]), language)))
        cells.heatmap_colorbar(fig, axes, mappable, words["heatmap_scale"], language)
        seed = cells.detail_seed(run, model)
        if seed is not None:
            in_sentence = strings(language)["verdicts"]["pipelines"].get(model, model)  # lower case: "el modelo avanzado"
            fig.suptitle(words["methods_title"].format(model=in_sentence, seed=seed))
        return fig
    return methods_side_by_side


for _model in ("baseline", "advanced"):
    drawer(f"methods_{_model}")(_methods_drawer(_model))
