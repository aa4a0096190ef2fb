"""Shared checks of drawn figures: the texts they draw and how large those texts show on a page."""

from __future__ import annotations

import io

from PIL import Image

from reportgen.record import FIGURE_DPI
from reportgen.render.figures import DISPLAY_WIDTH_PX


def drawn_texts(fig) -> list[tuple[str, float]]:
    """Every text the figure actually draws (tick labels included), with its size in points.

    Read from the renderer, so texts of hidden axes or ticks outside the view are not counted.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    drawn, draw_text = [], renderer.draw_text

    def record(gc, x, y, text, prop, angle, ismath=False, mtext=None):
        if text.strip():
            drawn.append((text, prop.get_size_in_points()))
        return draw_text(gc, x, y, text, prop, angle, ismath, mtext)

    renderer.draw_text = record
    fig.draw(renderer)
    return drawn


def saved_width_px(fig) -> int:
    """The width of the PNG the site gets (saved as `reportgen.render.figures.draw` saves it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    with Image.open(buffer) as image:
        return image.width


def smallest_text_px(fig) -> tuple[float, str]:
    """The smallest text's font size in CSS px as a 1280 px wide window shows the figure, and that text.

    A PNG wider than the page's content column (DISPLAY_WIDTH_PX) is scaled down to it.
    """
    scale = min(1.0, DISPLAY_WIDTH_PX / saved_width_px(fig))
    text, points = min(drawn_texts(fig), key=lambda item: item[1])
    return points * FIGURE_DPI / 72 * scale, text


def texts(fig) -> list[str]:
    return [text for text, _ in drawn_texts(fig)]
