"""Runs cannot hurt each other: what a notebook did to other runs' results is found and undone.

A notebook runs as the user (here: as root), so file permissions protect nothing: a cell can delete
or rewrite `experiments/results/<other-run>/`. Before the first execution of a command, the guard
takes every results folder's digest (each file's path, kind and SHA-256) and a copy of the folders
outside experiments/. After each execution, before its results are placed, the folders are digested
again: a change is restored from the copy, byte for byte, and fails the run that was executing, naming
what changed. Nothing is lost: the copy is the state the previous run left.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from reportgen.project import Project

log = logging.getLogger("reportgen")


def _digest(folder: Path) -> dict[str, str]:
    """Relative path -> what it is (a file's SHA-256, a link's target, a folder), links not followed."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = "link:" + os.readlink(path)
        elif path.is_dir():
            found[name] = "folder"
        elif path.is_file():
            found[name] = "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = "other"
    return found


def _guarded(results_dir: Path) -> list[Path]:
    """The folders a run's execution may not touch: every run's results and failed attempt (reportgen's
    own working folders, whose names start with a dot, are left out)."""
    if not results_dir.is_dir():
        return []
    return sorted(path for path in results_dir.iterdir() if not path.name.startswith("."))


class ResultsGuard:
    """Digests and a copy of experiments/results, taken under the results lock."""

    def __init__(self, project: Project):
        self.results_dir = project.results_dir
        self.copy = Path(tempfile.mkdtemp(prefix="reportgen-guard-"))
        self.digests: dict[str, dict[str, str] | None] = {}  # name -> digest (None: a file, not a folder)
        for path in _guarded(self.results_dir):
            self._keep(path)

    def _keep(self, path: Path) -> None:
        kept = self.copy / path.name
        if kept.is_dir() and not kept.is_symlink():
            shutil.rmtree(kept)
        elif kept.exists() or kept.is_symlink():
            kept.unlink()
        if path.is_dir() and not path.is_symlink():
            shutil.copytree(path, kept, symlinks=True)
            self.digests[path.name] = _digest(path)
        elif path.exists() or path.is_symlink():
            shutil.copy2(path, kept, follow_symlinks=False)
            self.digests[path.name] = None

    def changes(self) -> list[str]:
        """What differs from the digests: changed, removed or added entries of experiments/results."""
        changed = []
        now = {path.name: path for path in _guarded(self.results_dir)}
        for name, digest in self.digests.items():
            path = now.get(name)
            if path is None:
                changed.append(f"{name}/ was removed")
            elif digest is not None and (path.is_symlink() or not path.is_dir() or _digest(path) != digest):
                changed.append(f"{name}/ was changed")
        changed += [f"{name} was added" for name in sorted(set(now) - set(self.digests))]
        return changed

    def restore(self) -> list[str]:
        """Undo every change since the digests were taken; returns what was changed."""
        changed = self.changes()
        if not changed:
            return []
        now = {path.name: path for path in _guarded(self.results_dir)}
        for name, path in now.items():
            if name not in self.digests:  # made by the notebook: not a run's results
                _remove(path)
        for name, digest in self.digests.items():
            path = self.results_dir / name
            if digest is None or not path.is_dir() or path.is_symlink() or _digest(path) != digest:
                _remove(path)
                kept = self.copy / name
                if kept.is_dir() and not kept.is_symlink():
                    shutil.copytree(kept, path, symlinks=True)
                else:
                    shutil.copy2(kept, path, follow_symlinks=False)
        log.error("a notebook changed other runs' results (%s); restored from the copy taken before it ran",
                  "; ".join(changed))
        return changed

    def refresh(self, *names: str) -> None:
        """Take the digests and copy again of `names` (a run just placed), or forget them if gone."""
        for name in names:
            path = self.results_dir / name
            if path.exists() or path.is_symlink():
                self._keep(path)
            else:
                self.digests.pop(name, None)
                _remove(self.copy / name)

    def close(self) -> None:
        shutil.rmtree(self.copy, ignore_errors=True)

    def __enter__(self) -> "ResultsGuard":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
