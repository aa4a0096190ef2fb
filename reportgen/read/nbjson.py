"""A notebook's JSON read as `nbformat.reads(text, as_version=4)` does, its problems said once.

nbformat logs a schema problem (a tag that is a string, a number where text goes) as a dozen lines
naming no file, and warns about duplicate cell ids with a Python warning. A notebook from anywhere
is read as far as it goes, as nbformat does, and the terminal gets one line naming the file.
"""

from __future__ import annotations

import logging
import warnings

log = logging.getLogger("reportgen")


def reads(text: str, where) -> "nbformat.NotebookNode":  # noqa: F821
    """The notebook in `text` as nbformat 4 (older formats upgraded with nbformat's converter);
    nbformat's own exceptions for what is not a notebook at all."""
    import nbformat
    from nbformat.reader import reads as parsed

    nb = nbformat.convert(parsed(text), 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DuplicateCellId: nbformat repairs the ids in place
        try:
            nbformat.validate(nb)
        except nbformat.ValidationError as exc:
            log.warning("%s: does not follow Jupyter's notebook format (%s); it is read as far as it goes",
                        where, _problem(exc))
    return nb


def _problem(exc) -> str:
    from reportgen.safe import shown

    message = (str(getattr(exc, "message", "") or exc).splitlines() or [type(exc).__name__])[0]
    place = "/".join(str(part) for part in getattr(exc, "absolute_path", []) or [])
    return f"{shown(message)[1:-1]}" + (f" at {place}" if place else "")


def writes(nb) -> str:
    """The notebook as nbformat 4 JSON, as `nbformat.writes` writes it, without logging its schema problems
    again (they were said once, when it was read)."""
    from nbformat.v4 import writes as v4_writes

    return v4_writes(nb) + "\n"
