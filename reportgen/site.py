"""Site: build docs/ into site/ with MkDocs Material, and publish it to GitHub Pages."""

from __future__ import annotations

import subprocess
import sys

from reportgen.errors import BuildFailed
from reportgen.project import Project


def _mkdocs(project: Project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", *args], cwd=project.root,
                          capture_output=True, text=True)


def build(project: Project) -> None:
    """`mkdocs build --strict`: any broken link or missing image fails the build."""
    result = _mkdocs(project, "build", "--strict", "--clean")
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
        raise BuildFailed("mkdocs build --strict failed:\n" + "\n".join(lines or result.stderr.splitlines()[-15:]))


def publish(project: Project) -> None:
    """Deploy the built site to the gh-pages branch (`mkdocs gh-deploy`)."""
    result = _mkdocs(project, "gh-deploy", "--strict", "--force", "--no-history")
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        raise BuildFailed("mkdocs gh-deploy failed:\n" + result.stderr[-2000:])
