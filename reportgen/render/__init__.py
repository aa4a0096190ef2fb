"""Render: harvested runs -> the site's pages and figures, in memory, through the templates in templates/."""

from reportgen.render.pages import Renderer, SiteFile

__all__ = ["Renderer", "SiteFile"]
