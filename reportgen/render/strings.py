"""The words of the pages: one table per language (`strings/<language>.yaml`), for Python and templates.

A language is its strings file and nothing else: the languages are the files present in
`STRINGS_DIR`, and each file holds its words and its number formats (the `numbers:` section:
decimal mark, thousands separator, how a percentage is written). A file may be partial: a key it
lacks is taken from English (`FALLBACK`), as MkDocs Material's translations do.

Numbers are recorded by the experiment; every word around them comes from here at render time,
so changing a run's language or a sentence never re-executes anything.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

# Where the languages are; a test may point it at another folder (e.g. with monkeypatch.setattr).
STRINGS_DIR = Path(__file__).parent / "strings"
FALLBACK = "en"  # a key a language lacks reads as in this one
DEFAULT = "es"  # the language of a site or run that names none


class UnknownLanguage(ValueError):
    """A language with no strings file."""


def strings_dir() -> Path:
    return Path(STRINGS_DIR)


def languages() -> tuple[str, ...]:
    """Every language the pages can be written in: one per strings file present."""
    return _languages(strings_dir())
# libyaml's safe loader where PyYAML was built with it (the same tables, read about ten times faster)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _languages(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in folder.glob("*.yaml")))


def check_language(language: str) -> str:
    """`language` itself if it has a strings file; UnknownLanguage naming the ones there are otherwise."""
    known = languages()
    if language not in known:
        raise UnknownLanguage(f"unknown language {language!r}: the pages can be written in "
                              f"{', '.join(known)} (one strings file each in {strings_dir()})")
    return language


def strings(language: str) -> dict:
    """The whole table of one language, as nested dicts (templates read it as `t.section.key`),
    its missing keys filled from the fallback language."""
    check_language(language)
    return _table(strings_dir(), language)


@functools.cache
def _table(folder: Path, language: str) -> dict:
    own = _read(folder / f"{language}.yaml")
    if language == FALLBACK or not (folder / f"{FALLBACK}.yaml").is_file():
        return own
    return _merged(_table(folder, FALLBACK), own)


def _read(path: Path) -> dict:
    table = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}  # noqa: S506
    if not isinstance(table, dict):
        raise UnknownLanguage(f"{path}: a strings file must be a mapping of keys to words")
    return table


def _merged(fallback: dict, own: dict) -> dict:
    """`own` over `fallback`, section by section (a partial section keeps the fallback's other keys)."""
    merged = dict(fallback)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(fallback.get(key), dict):
            merged[key] = _merged(fallback[key], value)
        else:
            merged[key] = value
    return merged
