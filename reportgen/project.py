"""Where things live in a portfolio project, relative to its root folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    """The folders of a portfolio; every command works on one of these."""

    root: Path

    @classmethod
    def at(cls, root: str | Path = ".") -> "Project":
        return cls(Path(root).resolve())

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"

    @property
    def runs_dir(self) -> Path:
        return self.experiments / "runs"

    @property
    def results_dir(self) -> Path:
        return self.experiments / "results"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def mkdocs_yml(self) -> Path:
        return self.root / "mkdocs.yml"

    def notebook(self, name: str) -> Path:
        return self.experiments / f"{name}.ipynb"

    def run_file(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.yaml"

    def results(self, run_id: str) -> Path:
        """The last successful results of a run (absent until one succeeds)."""
        return self.results_dir / run_id

    def failed_results(self, run_id: str) -> Path:
        """The last failed attempt, kept beside the successful results for inspection."""
        return self.results_dir / f"{run_id}.failed"
