"""Render: harvested runs -> Markdown pages, through the Jinja templates in templates/."""

from reportgen.render.pages import GENERATED_MARKER, Renderer

__all__ = ["GENERATED_MARKER", "Renderer"]
