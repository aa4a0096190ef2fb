"""Render: harvested runs -> the site's pages and figures, in memory, through the templates in templates/.

`Renderer` and `SiteFile` load on first use, so that reading the words of a language
(`reportgen.render.strings`, e.g. to validate a run file's language) imports no template machinery."""

__all__ = ["Renderer", "SiteFile"]


def __getattr__(name: str):
    if name in __all__:
        from reportgen.render import pages

        return getattr(pages, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
