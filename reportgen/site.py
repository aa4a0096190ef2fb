"""Site: build the portfolio into site/ with MkDocs Material, and publish it to GitHub Pages.

The pages are generated during the build by the `reportgen` MkDocs plugin (listed in mkdocs.yml),
so `python -m reportgen build` and a plain `mkdocs build --strict` make the same site.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys

from reportgen.errors import BuildFailed, ReportgenError
from reportgen.project import Project
from reportgen.render.strings import DEFAULT as DEFAULT_LANGUAGE


class _Collect(logging.Handler):
    """Keeps MkDocs' warnings so a failed strict build can say what failed."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


@contextlib.contextmanager
def _mkdocs_warnings():
    """MkDocs' warnings, collected; its INFO chatter is left out of reportgen's log."""
    logger, handler = logging.getLogger("mkdocs"), _Collect()
    previous = logger.level
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def site_language(project: Project) -> str:
    """The language of the site-wide pages (home, comparison): mkdocs.yml's `theme.language`."""
    from mkdocs.config import load_config

    with _mkdocs_warnings():
        return load_config(str(project.mkdocs_yml)).theme.get("language") or DEFAULT_LANGUAGE


def build(project: Project) -> None:
    """`mkdocs build --strict`, in this process: any broken link or missing image fails the build."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    with _mkdocs_warnings() as warnings:
        try:
            mkdocs_build(load_config(str(project.mkdocs_yml), strict=True))
        except MkDocsException as exc:
            reportgen_error = _reportgen_cause(exc)
            if reportgen_error is not None:  # a corrupt results folder, found while the plugin made the pages
                raise reportgen_error from None
            details = "\n".join(warnings) or str(exc)
            raise BuildFailed(f"mkdocs build --strict failed ({exc}):\n{details}") from None


def _reportgen_cause(exc: BaseException) -> ReportgenError | None:
    """The reportgen error behind a failed build (the plugin's PluginError, wrapped by MkDocs' Abort)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ReportgenError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def publish(project: Project) -> None:
    """Deploy the built site to the gh-pages branch (`mkdocs gh-deploy`)."""
    result = subprocess.run([sys.executable, "-m", "mkdocs", "gh-deploy", "--strict", "--force", "--no-history"],
                            cwd=project.root, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        raise BuildFailed("mkdocs gh-deploy failed:\n" + result.stderr[-2000:])
