"""Values a notebook glued under a name, with `myst_nb.glue` or `scrapbook.glue`.

Both leave a `display_data` output whose metadata carries `scrapbook: {name: ...}`:
- myst_nb writes the value's own representations; with `display=False` their MIME types carry the
  prefix `application/papermill.record/` and Jupyter Book does not show them in the cell;
- scrapbook writes the data as `application/scrapbook.scrap.<encoder>+json` (`{"name", "data", ...}`),
  never shown, and, with `display=True`, a second output with the representations to show.
A number becomes a named metric (cards, comparison) and an image a named figure, as the Recorder's.
"""

from __future__ import annotations

import math
import re

PAPERMILL_RECORD = "application/papermill.record/"
SCRAP = re.compile(r"^application/scrapbook\.scrap\.[\w.-]+\+json$")
NUMBER_REPR = re.compile(r"^(?:np\.\w+\()?\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\)?$")


def glue_name(output) -> str | None:
    """The name an output was glued under, or None."""
    scrapbook = (output.get("metadata") or {}).get("scrapbook")
    if isinstance(scrapbook, dict) and isinstance(scrapbook.get("name"), str):
        return scrapbook["name"]
    return None


def shown_in_cell(output) -> bool:
    """Whether Jupyter Book shows a glued output where it was glued (display=True)."""
    data = output.get("data") or {}
    scrapbook = (output.get("metadata") or {}).get("scrapbook") or {}
    if any(key.startswith(PAPERMILL_RECORD) or SCRAP.match(key) for key in data):
        return False
    return scrapbook.get("display", True) is not False


def unprefixed(output) -> dict:
    """The representations of a glued value, without myst_nb's hiding prefix."""
    return {key.removeprefix(PAPERMILL_RECORD): value for key, value in (output.get("data") or {}).items()}


def scrap_value(output):
    """The value scrapbook stored as JSON data (None for myst_nb's glue)."""
    for key, value in (output.get("data") or {}).items():
        if SCRAP.match(key) and isinstance(value, dict):
            return value.get("data")
    return None


def glued_number(output) -> float | None:
    """A glued value that is a number (scrapbook's JSON data, or myst_nb's text/plain repr)."""
    data = output.get("data") or {}
    for key, value in data.items():
        if SCRAP.match(key) and isinstance(value, dict):
            scrap = value.get("data")
            if isinstance(scrap, (int, float)) and not isinstance(scrap, bool) and math.isfinite(scrap):
                return float(scrap)
            return None
    text = unprefixed(output).get("text/plain")
    text = "".join(text) if isinstance(text, list) else text
    match = NUMBER_REPR.match(text.strip()) if isinstance(text, str) else None
    if match:
        value = float(match.group(1))
        return value if math.isfinite(value) else None
    return None
