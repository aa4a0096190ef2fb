"""The words of the pages: one table per language (`strings/<language>.yaml`), for Python and templates.

Numbers are recorded by the experiment; every word around them comes from here at render time,
so changing a run's language or a sentence never re-executes anything.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

STRINGS_DIR = Path(__file__).parent / "strings"
LANGUAGES = ("es", "en")
# libyaml's safe loader where PyYAML was built with it (the same tables, read about ten times faster)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def strings(language: str) -> dict:
    """The whole table of one language, as nested dicts (templates read it as `t.section.key`)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return yaml.load((STRINGS_DIR / f"{language}.yaml").read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506
