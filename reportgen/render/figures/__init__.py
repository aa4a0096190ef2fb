"""The page's figures, drawn at render time from recorded data, in the page's language.

The experiment records numbers (curves, confusion counts, calibration bins, ...) and arrays
(images as uint8, quantised maps, labels, probabilities: `Recorder.arrays`); every word on a
figure (titles, column headers, axis labels, legends) and the way its numbers read belong to
rendering, so a change of language or wording re-draws the figure without re-executing the run.
Each module of this package registers its drawers with `@drawer("name")`; a drawer takes the
harvested run and the page language and returns a matplotlib Figure, or None when the run did
not record what it needs (results recorded before a figure was drawn here keep their PNG).

One style for every figure lives here: the width a page shows, the fonts, the pipelines' colours.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.record import FIGURE_DPI

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from reportgen.results import RunResults

# The width of a run page's content column at a 1280 px wide window: measured in headless Chromium
# (Playwright, /usr/bin/chromium, viewport 1280x900) on the built demo page, where every figure's
# <img> is 688 CSS px wide (MkDocs Material's content column between the navigation and the table of
# contents). A PNG wider than this is scaled down to it.
DISPLAY_WIDTH_PX = 688
# Figures are drawn at the width they are shown at, so a font of n points shows n * FIGURE_DPI / 72 px.
PAGE_WIDTH_IN = 6.0  # 660 px at FIGURE_DPI; bbox_inches="tight" adds at most a few pixels of margin
# The smallest text a reader must make out at 1280 px (tests/render/figures/test_practice_figures.py).
MIN_TEXT_PX = 11.0

# The two pipelines keep the same colours on every figure of a page.
PIPELINE_COLORS = {"baseline": "#4C72B0", "advanced": "#DD8452"}
HIT_COLOR, ERROR_COLOR = "#2E7D32", "#C62828"

STYLE = {
    "figure.dpi": FIGURE_DPI,
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "figure.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "axes.unicode_minus": True,
}

Drawer = Callable[["RunResults", str], "Figure | None"]
DRAWERS: dict[str, Drawer] = {}


def drawer(name: str) -> Callable[[Drawer], Drawer]:
    """Register a drawer under the figure name the templates use."""
    def register(function: Drawer) -> Drawer:
        DRAWERS[name] = function
        return function
    return register


def make_figure(run: "RunResults", name: str, language: str) -> "Figure | None":
    """The named figure of a run in the shared style, its numbers read in the page's language."""
    import matplotlib

    matplotlib.use("Agg")  # figures are files; never open a window
    import matplotlib.pyplot as plt

    _load_drawers()
    with plt.rc_context(STYLE):
        figure = DRAWERS[name](run, language)
        if figure is not None:
            localise_axes(figure, language)
    return figure


def draw(run: "RunResults", name: str, language: str) -> bytes | None:
    """The named figure of a run as compressed PNG bytes, or None when its data was not recorded."""
    import matplotlib.pyplot as plt

    from reportgen.record import save_compressed_png

    figure = make_figure(run, name, language)
    if figure is None:
        return None
    buffer, png = io.BytesIO(), io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    plt.close(figure)
    save_compressed_png(buffer, png)
    return png.getvalue()


def preview(folder: Path, name: str, language: str) -> bytes | None:
    """A figure drawn from a results folder still being written (the notebook shows its own figures):
    the facts the drawers read and the recorded arrays, as the harvest will list them."""
    import json

    from reportgen.results import RunResults

    folder = Path(folder)
    facts = {path.stem: json.loads(path.read_text(encoding="utf-8"))
             for path in (folder / "dataset.json", folder / "metrics.json") if path.is_file()}
    run = RunResults(id=folder.name, config=None, status="ok", folder=folder, facts=facts,
                     arrays={path.stem: path for path in sorted(folder.glob("*.npz"))})
    _load_drawers()
    return draw(run, name, language) if name in DRAWERS else None


def recorded_caption(run: "RunResults", name: str) -> str | None:
    """The caption of a figure the run saved as a PNG before the page drew it (its columns have no
    headers, so the caption names them), or None when the page draws the figure."""
    from reportgen.render.strings import strings

    figure = run.figure(name)
    if figure is None or run.folder is None or not Path(figure.path).is_relative_to(run.folder):
        return None
    words = strings(run.language)
    model = name.removeprefix("methods_")
    caption = words["captions_recorded"].get("methods" if model != name else name)
    return None if caption is None else caption.format(model=words["explanations"]["models"].get(model, model))


def recorded_arrays(run: "RunResults", name: str) -> dict | None:
    """The arrays a run recorded under `name` (`Recorder.arrays`), or None when it recorded none.

    Only files the harvest listed are read, and never with pickle: a results folder is untrusted.
    """
    import zipfile

    import numpy as np

    from reportgen.errors import CorruptResults

    path = getattr(run, "arrays", {}).get(name)
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CorruptResults(Path(path).parent, f"{Path(path).name} is unreadable: {exc}") from None


def localise_axes(figure: "Figure", language: str) -> None:
    """Tick labels of every numeric axis with the page's decimal mark (0,25 in Spanish, 0.25 in English)."""
    from matplotlib.ticker import ScalarFormatter

    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(_decimal_formatter_class()(decimal_mark(language)))


def decimal_mark(language: str) -> str:
    """The language's decimal mark, as render/numbers.py writes it."""
    from reportgen.render.numbers import number

    return number(0.5, language, 1)[1]


@functools.cache
def _decimal_formatter_class():
    """matplotlib's own tick labels with another decimal mark (built on first use: matplotlib loads lazily)."""
    from matplotlib.ticker import ScalarFormatter

    class DecimalFormatter(ScalarFormatter):
        def __init__(self, mark: str):
            super().__init__()
            self.mark = mark

        def __call__(self, value, position=None):
            return super().__call__(value, position).replace(".", self.mark)

    return DecimalFormatter


def has_data(run: "RunResults") -> bool:
    """Whether the run recorded anything a drawer reads (facts, a history or other tables, arrays):
    without any, every drawer returns None, so none is run (nor matplotlib imported)."""
    return bool(run.facts or run.tables or run.arrays) or run.history is not None


def names() -> list[str]:
    """Every registered figure name."""
    _load_drawers()
    return list(DRAWERS)


@functools.cache
def code_digest() -> str:
    """Identity of everything a drawn figure depends on besides the run's data: the drawers' code,
    the words tables and matplotlib's version (the key of the figure cache under .cache/)."""
    import importlib.metadata

    from reportgen.render import numbers
    from reportgen.render.strings import strings_dir

    digest = hashlib.sha256(importlib.metadata.version("matplotlib").encode())
    for path in sorted([*Path(__file__).parent.glob("*.py"), *strings_dir().glob("*.yaml"), Path(numbers.__file__)]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _load_drawers() -> None:
    """Import the drawer modules (each registers itself); add new modules here."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
