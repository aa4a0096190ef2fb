"""Figures of the report: one module per concept, one consistent style.

Every figure function takes the data it draws and a `language` ("es" or "en") for its
titles and axis labels, and returns a matplotlib Figure; the notebook saves it with
`reportgen.record.Recorder.figure`.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window (headless CI, papermill kernels)

import matplotlib.pyplot as plt  # noqa: E402

# The two pipelines keep the same colours on every figure of a page.
PIPELINE_COLORS = {"baseline": "#4C72B0", "advanced": "#DD8452"}
PIPELINE_LABELS = {
    "es": {"baseline": "Baseline", "advanced": "Avanzado"},
    "en": {"baseline": "Baseline", "advanced": "Advanced"},
}
PAGE_WIDTH_IN = 10.0  # width the pages show figures at; wider figures get scaled down and unreadable

STYLE = {
    "figure.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}
plt.rcParams.update(STYLE)


def pipeline_label(pipeline: str, language: str = "es") -> str:
    return PIPELINE_LABELS.get(language, PIPELINE_LABELS["en"]).get(pipeline, pipeline)
