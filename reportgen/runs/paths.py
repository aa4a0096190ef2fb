"""Paths in a run file are relative to the project root, whatever folder the command or kernel runs in.

The notebook runs in a staging folder, so a relative `data.path` would be looked up there.
The runner resolves every path field once, here: the notebook receives absolute paths and
the data's identity in the cache key is computed from the same folders. The parameters'
hash keeps the paths as written, so a clone of the project elsewhere keeps its cache.
"""

from __future__ import annotations

from pathlib import Path

from reportgen.errors import RunFailed
from reportgen.practice.config import RunParameters

# (section, field) of every parameter that names a file or folder; values that are not paths stay.
PATH_FIELDS = (("data", "path"), ("data", "masks_path"), ("data", "data_dir"), ("model", "weights"))
NOT_PATHS = {"imagenet", "none"}
MAY_NOT_EXIST_YET = {("data", "data_dir")}  # TFDS downloads into it


def resolve(value: str, root: Path) -> str:
    """An absolute path: `~` expanded, a relative path taken from the project root."""
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (root / path).resolve())


def resolve_paths(parameters: RunParameters, root: Path) -> RunParameters:
    """A copy of the parameters with every path field absolute (relative to `root`)."""
    sections = {}
    for section, name in PATH_FIELDS:
        value = getattr(getattr(parameters, section), name)
        if value and value not in NOT_PATHS:
            sections.setdefault(section, {})[name] = resolve(value, root)
    return parameters.model_copy(update={section: getattr(parameters, section).model_copy(update=changes)
                                         for section, changes in sections.items()})


def check_paths_exist(parameters: RunParameters, resolved: RunParameters) -> None:
    """Fail before the notebook starts when a path field names nothing, showing both spellings."""
    missing = []
    for section, name in (field for field in PATH_FIELDS if field not in MAY_NOT_EXIST_YET):
        written, absolute = (getattr(getattr(p, section), name) for p in (parameters, resolved))
        if written and written not in NOT_PATHS and not Path(absolute).exists():
            missing.append(f"{section}.{name} {written!r} (resolved to {absolute}) does not exist")
    if missing:
        raise RunFailed("; ".join(missing) + ". Relative paths start at the project root.")


def injected_paths(parameters, root: Path) -> dict:
    """The practice's sections holding paths, made absolute for the notebook after checking they exist.

    Other notebooks get their parameters as written ({} here): which of them are paths is theirs to know.
    """
    if not isinstance(parameters, RunParameters):
        return {}
    resolved = resolve_paths(parameters, root)
    check_paths_exist(parameters, resolved)
    return resolved.model_dump(mode="json", include={"data", "model"})
