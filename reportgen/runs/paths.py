"""Paths in a run file are relative to the project root, whatever folder the command or kernel runs in.

The notebook runs in a staging folder, so a relative `data.path` would be looked up there.
The runner resolves every path field once, here: the notebook receives absolute paths and
the data's identity in the cache key is computed from the same folders. The parameters'
hash keeps the paths as written, so a clone of the project elsewhere keeps its cache.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from reportgen.errors import RunFailed
from reportgen.record import to_jsonable

# (section, field) of every parameter that names a file or folder; values that are not paths stay.
PATH_FIELDS = (("data", "path"), ("data", "masks_path"), ("data", "data_dir"), ("model", "weights"))
NOT_PATHS = {"imagenet", "none"}
MAY_NOT_EXIST_YET = {("data", "data_dir")}  # TFDS downloads into it


def resolve(value: str, root: Path) -> str:
    """An absolute path: `~` expanded, a relative path taken from the project root."""
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (root / path).resolve())


def resolve_paths(values: dict, root: Path) -> dict:
    """A copy of the parameters (as plain JSON values) with every path field absolute (relative to `root`).

    The path fields are the practice's; a notebook of one's own that names its parameters the same
    way (`data = {"path": ...}`) gets them resolved too.
    """
    resolved = {key: dict(value) if isinstance(value, dict) else value for key, value in values.items()}
    for section, name in PATH_FIELDS:
        value = _field(resolved, section, name)
        if value is not None:
            resolved[section][name] = resolve(value, root)
    return resolved


def check_paths_exist(values: dict, resolved: dict) -> None:
    """Fail before the notebook starts when a path field names nothing, showing both spellings."""
    missing = []
    for section, name in (field for field in PATH_FIELDS if field not in MAY_NOT_EXIST_YET):
        written = _field(values, section, name)
        if written is not None and not Path(resolved[section][name]).exists():
            missing.append(f"{section}.{name} {written!r} (resolved to {resolved[section][name]}) does not exist")
    if missing:
        raise RunFailed("; ".join(missing) + ". Relative paths start at the project root.")


def injected_paths(parameters, root: Path) -> dict:
    """The sections holding paths, made absolute for the notebook after checking they exist."""
    values = to_jsonable(parameters)
    resolved = resolve_paths(values, root)
    check_paths_exist(values, resolved)
    sections = {section for section, name in PATH_FIELDS if _field(values, section, name) is not None}
    return {section: resolved[section] for section in sections}


def data_identity(parameters, root: Path) -> str:
    """The identity of the data a run reads outside its notebook, for the results cache.

    A notebook's typed schema may know its data (the practice's names its source, dataset and subset:
    `data_identity(root)` on the validated parameters); otherwise the listing (relative path, size,
    modification time) of every path parameter that exists. "" when the run reads no path.
    """
    hook = getattr(parameters, "data_identity", None)
    if callable(hook):
        return hook(root)
    values = to_jsonable(parameters)
    resolved = resolve_paths(values, root)
    listing = []
    for section, name in PATH_FIELDS:
        if _field(values, section, name) is None:
            continue
        folder = Path(resolved[section][name])
        files = sorted(folder.rglob("*")) if folder.is_dir() else [folder] if folder.exists() else []
        for file in (f for f in files if f.is_file()):
            stat = file.stat()
            listing.append([f"{section}.{name}", file.relative_to(folder).as_posix() if folder.is_dir() else "",
                            stat.st_size, stat.st_mtime_ns])
    if not listing:
        return ""
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:16]


def _field(values: dict, section: str, name: str) -> str | None:
    """A path field's value as written, or None where it is absent or not a path ("none", "imagenet")."""
    value = values.get(section, {}).get(name) if isinstance(values.get(section), dict) else None
    return value if isinstance(value, str) and value and value not in NOT_PATHS else None
