"""The summary cache: a portfolio at a commit already read is not fetched nor read again.

One JSON file per student under the course's cache folder, keyed by the portfolio's identity (its
commit, or a folder's listing) and by the reader's own code: a new reportgen reads everything again.
An entry that does not parse is read again, never trusted.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from pydantic import ValidationError

from reportgen.course.summary import StudentSummary

PACKAGE = Path(__file__).resolve().parents[1]
# The code a summary depends on: the course's, the harvest, the contract, the verdicts and the words.
READER_CODE = ("course", "harvest.py", "results.py", "facts.py", "read", "render/interpretation.py",
               "render/evidence.py", "render/strings", "runs/config.py", "runs/cache.py")


@functools.cache
def reader_digest() -> str:
    digest = hashlib.sha256()
    for entry in READER_CODE:
        root = PACKAGE / entry
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file() and path.suffix in (".py", ".yaml"):
                digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def key(identity: str, language: str) -> str:
    return f"{identity}:{language}:{reader_digest()}"


def load(folder: Path, slug: str, wanted: str) -> StudentSummary | None:
    path = folder / f"{slug}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry.get("key") != wanted:
            return None
        return StudentSummary.model_validate(entry["summary"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ValidationError):
        return None


def store(folder: Path, slug: str, wanted: str, summary: StudentSummary) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f"{slug}.json.tmp"
    temporary.write_text(json.dumps({"key": wanted, "summary": summary.model_dump(mode="json")}), encoding="utf-8")
    temporary.replace(folder / f"{slug}.json")
