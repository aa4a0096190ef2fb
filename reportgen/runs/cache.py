"""The results cache: a run executes again only when something that can change its results changed.

`run.json` stores a key made of everything that changes results (parameters, the notebook's
code, the practice's code, library versions, the data's identity). The libraries are the practice's
for a notebook that runs it, and those its code imports for a notebook of one's own; the same list
is the run's provenance. Titles, languages, templates
and wording are not part of it: changing them re-renders, never re-trains.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.errors import CorruptResults
from reportgen.project import Project
from reportgen.record import to_jsonable
from reportgen.results import read_run_json
from reportgen.runs.cells import imported_distributions, imported_names
from reportgen.runs.paths import data_identity

if TYPE_CHECKING:
    from reportgen.runs import Run

PACKAGE = Path(__file__).resolve().parents[1]
# Code a notebook's numbers depend on: the practice and the recording contract.
RESULT_CODE = ["practice", "record.py"]
# Libraries whose version can change a number on the page of a run of the practice: those every
# such run uses, those of its Keras backend and those of its data source. A library the run does not
# import is not in its key, so upgrading a test tool or the other backend re-trains nothing.
COMMON_LIBRARIES = ["keras", "numpy", "scikit-learn", "scipy", "papermill"]
BACKEND_LIBRARIES = {"tensorflow": ["tensorflow", "tensorflow-cpu"], "jax": ["jax", "jaxlib"]}
SOURCE_LIBRARIES = {"embedded": [], "folder": ["pillow"],
                    "tfds": ["tensorflow-datasets", "tensorflow", "tensorflow-cpu", "pillow"]}
RESULT_LIBRARIES = sorted({*COMMON_LIBRARIES, *sum(BACKEND_LIBRARIES.values(), []),
                           *sum(SOURCE_LIBRARIES.values(), [])})
PRACTICE_MODULE = "reportgen.practice"  # a notebook importing it runs the practice's code


@dataclass
class RunState:
    """Whether a run's committed results match its current configuration."""

    id: str
    state: str  # fresh | stale | failed | new | corrupt
    reason: str
    changed: list[str] = field(default_factory=list)
    components: dict[str, str] = field(default_factory=dict)  # the key's parts, as just computed


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def notebook_code_hash(notebook: Path) -> str:
    """Hash of the code cells only: editing Markdown or outputs does not re-train."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = "\n\0".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                       for c in cells if c["cell_type"] == "code")
    return _sha(code.encode())


def package_code_hash(package: Path = PACKAGE) -> str:
    """Hash of the code the notebook's numbers depend on (the practice, the recorder)."""
    digest = hashlib.sha256()
    for entry in RESULT_CODE:
        root = package / entry
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            relative = path.relative_to(package).as_posix()
            digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def result_libraries(project: Project, run: "Run") -> list[str]:
    """The libraries whose versions can change this run's numbers, sorted.

    A notebook that runs the practice's code (it imports `reportgen.practice`): the practice's
    libraries, its backend's and its data source's. A notebook of one's own: the distributions its
    code cells import (a scikit-learn notebook: scikit-learn, numpy, ...), with the Keras backend's
    when it imports Keras."""
    notebook = project.notebook(run.config.notebook)
    if uses_practice(notebook):
        return sorted({*COMMON_LIBRARIES, *BACKEND_LIBRARIES[run.config.backend],
                       *SOURCE_LIBRARIES.get(_data_source(run.config.parameters), [])})
    imported = imported_distributions(notebook)
    return sorted({*imported, *(BACKEND_LIBRARIES[run.config.backend] if "keras" in imported else [])})


def uses_practice(notebook: Path) -> bool:
    return any(name == PRACTICE_MODULE or name.startswith(PRACTICE_MODULE + ".")
               for name in imported_names(notebook))


def _data_source(parameters) -> str | None:
    """The `data.source` of the practice's parameters, or of a notebook's own that passes one."""
    data = parameters.get("data") if isinstance(parameters, dict) else getattr(parameters, "data", None)
    return data.get("source") if isinstance(data, dict) else getattr(data, "source", None)


def run_library_versions(project: Project, run: "Run") -> dict[str, str]:
    """Installed versions of the libraries this run uses (the cache key's and the provenance's)."""
    wanted = result_libraries(project, run)
    return {name: version for name, version in library_versions(wanted).items() if name in wanted}


def library_versions(names=RESULT_LIBRARIES) -> dict[str, str]:
    """Installed versions of the distributions `names` (those not installed left out), in that order."""
    return {name: version for name in names if (version := _installed_version(name)) is not None}


@functools.lru_cache(maxsize=None)
def _installed_version(name: str) -> str | None:
    """Read once per process: reading a package's metadata costs milliseconds, and `status` asks per run."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def cache_components(project: Project, run: "Run") -> dict[str, str]:
    """Everything that can change a run's results, each as a short hash or string."""
    return {
        # The backend changes results even where the notebook does not declare it (KERAS_BACKEND).
        "parameters": _sha(json.dumps({**notebook_parameters(run), "backend": run.config.backend},
                                      sort_keys=True).encode()),
        "notebook": notebook_code_hash(project.notebook(run.config.notebook)),
        "package": package_code_hash(),
        "libraries": _sha(json.dumps(run_library_versions(project, run), sort_keys=True).encode()),
        "data": data_identity(run.config.parameters, project.root),
    }


def notebook_parameters(run: "Run") -> dict:
    """What papermill injects: the validated parameters (a schema's defaults filled in) and the Keras
    backend where the notebook declares it.

    Only what reaches the notebook: the title, language, description and date are the page's,
    so changing them re-renders without re-executing."""
    parameters = run.config.parameters
    values = to_jsonable(parameters)
    declared = run.config.declared_parameters
    if declared is None or "backend" in declared:
        values["backend"] = run.config.backend
    return values


def machine_id() -> str:
    """A short, anonymous identity of this machine: results recorded with another one came back from
    elsewhere (Colab, a lab GPU, a Dask worker). A digest, so no host name is published."""
    parts = [platform.node()]
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            parts.append(Path(path).read_text(encoding="utf-8").strip())
            break
        except OSError:
            continue
    return _sha("\0".join(parts).encode())[:12]


def from_another_machine(record: dict) -> bool:
    """Whether results were executed on another machine (results recorded before machines were
    recorded count as this machine's)."""
    machine = record.get("machine")
    return isinstance(machine, str) and bool(machine) and machine != machine_id()


def code_check(project: Project, record: dict, notebook: str) -> dict | None:
    """A results folder's cache key against this project's code: which code parts differ (the
    notebook's code cells, the practice's code) and which library versions (there, here)."""
    before = record.get("cache_components")
    if not isinstance(before, dict):
        return None
    path = project.notebook(notebook)
    here = {"notebook": notebook_code_hash(path) if path.is_file() else None, "package": package_code_hash()}
    differs = [name for name, value in here.items() if value is not None and before.get(name) != value]
    recorded = record.get("libraries") if isinstance(record.get("libraries"), dict) else {}
    installed = library_versions([str(name) for name in recorded])
    libraries = {name: [str(there), installed[name]] for name, there in sorted(recorded.items())
                 if name in installed and installed[name] != there}
    return {"key": record.get("cache_key"), "matches": not differs, "differs": differs, "libraries": libraries}


def cache_key(components: dict[str, str]) -> str:
    return _sha(json.dumps(components, sort_keys=True).encode())


def state_of(project: Project, run: "Run") -> RunState:
    """Fresh when the successful results carry the current key; otherwise why not."""
    from reportgen.runs.imported import imported_state, is_imported

    if is_imported(run):  # executed elsewhere: no key to compute here, never stale
        return imported_state(project, run)
    components = cache_components(project, run)
    key = cache_key(components)
    try:
        failed = read_run_json(project.failed_results(run.id))
        done = read_run_json(project.results(run.id))
    except CorruptResults as exc:
        return RunState(run.id, "corrupt", str(exc), components=components)
    if failed and failed.get("cache_key") == key:
        return RunState(run.id, "failed", f"last attempt failed: {failed.get('error_summary', '')}",
                        components=components)
    if not done or done.get("status") != "ok":
        return RunState(run.id, "new", "never executed successfully", components=components)
    if done.get("cache_key") == key:
        from reportgen.read import prose_changed

        prose = prose_changed(project.notebook(run.config.notebook), project.results(run.id) / "notebook.ipynb")
        return RunState(run.id, "fresh", "results match the configuration" + (
            "; prose changed since execution (the page shows it, nothing re-executes)" if prose else ""),
            components=components)
    before = done.get("cache_components", {})
    changed = [name for name, value in components.items() if before.get(name) != value]
    if changed == ["libraries"] and from_another_machine(done):  # e.g. Colab's TensorFlow: same code, other versions
        where = done.get("runtime") or "another machine"
        return RunState(run.id, "fresh", f"executed on {where}, whose library versions differ from this machine's; "
                        f"same code and parameters, so not re-executed here (--force re-executes it here)",
                        components=components)
    return RunState(run.id, "stale", "changed: " + ", ".join(changed), changed, components)


