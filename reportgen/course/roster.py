"""The roster: which students a course has, where each one's portfolio lives, where it is published.

    course: "Deep Learning 2026"
    language: es                                  # of the course site (es | en)
    students:
      - name: Ana Pérez
        repo: https://github.com/ana/portafolio   # a git URL, or a local folder (relative to the roster)
        site: https://ana.github.io/portafolio/    # optional: the published site

The roster is the reviewer's own file, read with `yaml.safe_load` (no tags) and checked whole
before any repository is fetched: a mistake costs a second, not a fetch of 200 repositories.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reportgen.errors import ConfigError
from reportgen.render.strings import DEFAULT as DEFAULT_LANGUAGE, check_language
from reportgen.runs.parameters import schema_problems

# Git transports a roster may name; anything else (ext::, fd::, a helper of the student's choosing)
# is refused here and by GIT_ALLOW_PROTOCOL when cloning (course/fetch.py).
GIT_URL = re.compile(r"^(?:https://|http://|ssh://|git://|git@[\w.-]+:)", re.I)
MAX_STUDENTS = 1000


class Student(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=120)
    repo: str = Field(..., min_length=1, max_length=500, description="a git URL or a local folder")
    site: str | None = Field(None, pattern=r"^https?://[^\s\"'<>`]+$", max_length=500,
                             description="the student's published site")
    id: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,59}$",
                           description="the student's page name (default: from the name)")

    @field_validator("repo")
    @classmethod
    def _no_options(cls, value: str) -> str:
        if value.startswith("-") or "::" in value or any(c in value for c in "\n\r\0"):
            raise ValueError("a git URL (https://, ssh://, git://, git@host:) or a local folder")
        return value

    @property
    def is_url(self) -> bool:
        return bool(GIT_URL.match(self.repo))

    @property
    def slug(self) -> str:
        return self.id or slug(self.name)


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid")

    course: str = Field(..., min_length=1, max_length=200)
    language: str = DEFAULT_LANGUAGE

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return check_language(value)
    students: list[Student] = Field(..., min_length=1, max_length=MAX_STUDENTS)

    @model_validator(mode="after")
    def _distinct_pages(self) -> "Roster":
        seen: dict[str, str] = {}
        for position, student in enumerate(self.students):
            if student.slug in seen:
                raise ValueError(f"students.{position}: {student.name!r} and {seen[student.slug]!r} would share "
                                 f"the page {student.slug!r}; give one of them an 'id'")
            seen[student.slug] = student.name
        return self


def slug(name: str) -> str:
    """A page name from a student's name: 'Ana Pérez' -> 'ana-perez'."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:60] or "estudiante"


def load_roster(path: str | Path) -> tuple[Roster, Path]:
    """The validated roster and the folder its local paths are relative to; ConfigError naming the
    file and the field otherwise."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: roster not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: roster unreadable ({exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())[:300]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a roster is a mapping with the keys 'course' and 'students' "
                          f"(a list of name, repo and optional site)")
    try:
        roster = Roster.model_validate(raw)
    except ValidationError as exc:
        problems = [p[:300] for p in schema_problems(exc)]
        raise ConfigError(f"{path}: invalid roster; " + "; ".join(problems[:5]) + ".") from None
    return roster, path.resolve().parent
