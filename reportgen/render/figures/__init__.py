"""Figures made of numbers, drawn at render time from recorded data, in the page's language.

The experiment records numbers (curves, confusion counts, calibration bins, ...); the words on a
figure (titles, axis labels, legends) belong to rendering, so a change of language or wording
re-draws the figure without re-executing the run. Each module of this package registers its
drawers with `@drawer("name")`; a drawer takes the harvested run and the page language and
returns a matplotlib Figure, or None when the run did not record what it needs.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from reportgen.results import RunResults

Drawer = Callable[["RunResults", str], "Figure | None"]
DRAWERS: dict[str, Drawer] = {}


def drawer(name: str) -> Callable[[Drawer], Drawer]:
    """Register a drawer under the figure name the templates use."""
    def register(function: Drawer) -> Drawer:
        DRAWERS[name] = function
        return function
    return register


def draw(run: "RunResults", name: str, language: str) -> bytes | None:
    """The named figure of a run as compressed PNG bytes, or None when its data was not recorded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reportgen.record import FIGURE_DPI, save_compressed_png

    _load_drawers()
    figure = DRAWERS[name](run, language)
    if figure is None:
        return None
    buffer, png = io.BytesIO(), io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    plt.close(figure)
    save_compressed_png(buffer, png)
    return png.getvalue()


def names() -> list[str]:
    """Every registered figure name."""
    _load_drawers()
    return list(DRAWERS)


def _load_drawers() -> None:
    """Import the drawer modules (each registers itself); add new modules here."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
