"""Keep local details out of what gets published: paths, user and host names, secrets.

Executed notebooks, logs and error messages end up on a public site. Tracebacks carry
absolute paths, the kernel carries the user's environment. Everything written into a
results folder (the published side) goes through `Scrubber` first. Messages in the user's own
terminal are not scrubbed: there the real paths are what the user needs to act.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from pathlib import Path

SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL)", re.I)
MIN_SECRET_LENGTH = 6  # shorter values ("1", "true") would redact half the page
TEXT_SUFFIXES = {".ipynb", ".json", ".csv", ".log", ".txt", ".md"}


class Scrubber:
    """Replaces local paths with short placeholders and secret values with [redactado]."""

    def __init__(self, project_root: Path, extra_paths: dict[str, str] | None = None):
        replacements: dict[str, str] = {}
        for value, label in (extra_paths or {}).items():
            replacements[value] = label
        replacements[str(Path(project_root).resolve())] = "<proyecto>"
        replacements[str(Path.home())] = "~"
        for name, value in os.environ.items():
            if SECRET_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH:
                replacements[value] = "[redactado]"
        # Longest first, so /home/ana/portfolio wins over /home/ana.
        self._pairs = sorted(replacements.items(), key=lambda kv: -len(kv[0]))
        names = {n for n in (_safe(getpass.getuser), _safe(socket.gethostname)) if n and len(n) >= 3}
        self._names = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None
        self._temp_paths = re.compile(r"(/tmp|/var/folders|/private/var)/[^\s\"'\\,)]*")

    def text(self, text: str) -> str:
        for value, label in self._pairs:
            text = text.replace(value, label)
        text = self._temp_paths.sub("<tmp>", text)
        if self._names is not None:
            text = self._names.sub("<usuario>", text)
        return text

    def folder(self, folder: Path) -> None:
        """Scrub every text file of a results folder in place."""
        for path in Path(folder).rglob("*"):
            if path.is_file() and path.suffix in TEXT_SUFFIXES:
                original = path.read_text(encoding="utf-8", errors="replace")
                cleaned = self.text(original)
                if cleaned != original:
                    path.write_text(cleaned, encoding="utf-8")


def _safe(getter) -> str:
    try:
        return getter()
    except Exception:  # no user name in some containers
        return ""
