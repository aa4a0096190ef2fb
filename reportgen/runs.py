"""Runs: find them, decide which are stale, execute them with papermill, keep results safe.

A run is `experiments/runs/<run-id>.yaml`. Executing it means papermill runs
`experiments/<notebook>.ipynb` with the run's parameters in a staging folder; only a
successful execution is moved into `experiments/results/<run-id>/`, so earlier results
are never lost to a failed or interrupted run. A failed attempt is kept in
`experiments/results/<run-id>.failed/` for inspection and shown on the site.

The results cache: `run.json` stores a key made of everything that changes results
(parameters, the notebook's code, the package's code, library versions, the data's
identity). A run executes again only when that key changes, or with `force`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.config import ConfigError, RunFile, load_run_file
from reportgen.project import Project
from reportgen.record import write_json
from reportgen.scrub import Scrubber

log = logging.getLogger("reportgen")

KERNEL_NAME = "reportgen"
# Modules that only turn results into pages: changing them must not re-train anything.
PRESENTATION_MODULES = {"__main__.py", "cli.py", "harvest.py", "render.py", "site.py", "runs.py",
                        "project.py", "scrub.py"}
# Libraries whose version can change a number on the page.
RESULT_LIBRARIES = ["keras", "tensorflow", "tensorflow-cpu", "jax", "jaxlib", "torch", "numpy",
                    "scikit-learn", "scipy", "tensorflow-datasets", "papermill"]


@dataclass
class Run:
    id: str
    path: Path
    config: RunFile


@dataclass
class RunState:
    """Whether a run's committed results match its current configuration."""

    id: str
    state: str  # fresh | stale | failed | new
    reason: str
    changed: list[str] = field(default_factory=list)


class RunFailed(RuntimeError):
    """A notebook raised, or produced a failure status; the message holds its last lines."""


# --------------------------------------------------------------------- discovery

def discover(project: Project, run_ids: list[str] | None = None) -> list[Run]:
    """Load and validate run files; all problems are reported together, before anything runs."""
    if run_ids:
        paths = [project.run_file(run_id) for run_id in run_ids]
    else:
        paths = sorted(project.runs_dir.glob("*.yaml"))
    runs, problems = [], []
    for path in paths:
        if not path.exists():
            available = ", ".join(sorted(p.stem for p in project.runs_dir.glob("*.yaml"))) or "none"
            problems.append(f"{path.relative_to(project.root)}: no such run; available runs: {available}.")
            continue
        try:
            config = load_run_file(path, notebooks_dir=project.experiments)
        except ConfigError as exc:
            problems.append(str(exc).replace(str(project.root) + os.sep, ""))
            continue
        runs.append(Run(id=path.stem, path=path, config=config))
    if problems:
        raise ConfigError("\n".join(problems))
    return runs


# ------------------------------------------------------------------------ cache

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def notebook_code_hash(notebook: Path) -> str:
    """Hash of the code cells only: editing Markdown or outputs does not re-train."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = "\n\0".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                       for c in cells if c["cell_type"] == "code")
    return _sha(code.encode())


def package_code_hash(package: Path = Path(__file__).parent) -> str:
    """Hash of the package modules the notebook uses (presentation modules excluded)."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative in PRESENTATION_MODULES:
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def library_versions() -> dict[str, str]:
    versions = {}
    for name in RESULT_LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def cache_components(project: Project, run: Run) -> dict[str, str]:
    """Everything that can change a run's results, each as a short hash or string."""
    from reportgen.data import data_identity

    return {
        "parameters": _sha(json.dumps(notebook_parameters(run), sort_keys=True).encode()),
        "notebook": notebook_code_hash(project.notebook(run.config.notebook)),
        "package": package_code_hash(),
        "libraries": _sha(json.dumps(library_versions(), sort_keys=True).encode()),
        "data": data_identity(run.config.parameters.data),
    }


def notebook_parameters(run: Run) -> dict:
    """What papermill injects: the validated parameters, defaults filled in, the page language and
    the Keras backend (so a change of either re-executes the run)."""
    return {**run.config.parameters.model_dump(mode="json"), "language": run.config.language,
            "backend": run.config.backend}


def cache_key(components: dict[str, str]) -> str:
    return _sha(json.dumps(components, sort_keys=True).encode())


def read_run_json(folder: Path) -> dict | None:
    path = folder / "run.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None


def state_of(project: Project, run: Run) -> RunState:
    """Fresh when the successful results carry the current key; otherwise why not."""
    components = cache_components(project, run)
    key = cache_key(components)
    failed = read_run_json(project.failed_results(run.id))
    if failed and failed.get("cache_key") == key:
        return RunState(run.id, "failed", f"last attempt failed: {failed.get('error_summary', '')}")
    done = read_run_json(project.results(run.id))
    if not done or done.get("status") != "ok":
        return RunState(run.id, "new", "never executed successfully")
    if done.get("cache_key") == key:
        return RunState(run.id, "fresh", "results match the configuration")
    before = done.get("cache_components", {})
    changed = [name for name, value in components.items() if before.get(name) != value]
    return RunState(run.id, "stale", "changed: " + ", ".join(changed), changed)


# -------------------------------------------------------------------- provenance

def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                           capture_output=True, text=True, timeout=10).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def device_description() -> str:
    """The accelerator the kernel will see, for the provenance table."""
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True)
        names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        if out.returncode == 0 and names:
            return "GPU: " + ", ".join(names)
    return f"CPU ({os.cpu_count()} núcleos)"


# -------------------------------------------------------------------- execution

def ensure_kernel() -> str:
    """Register this interpreter as a Jupyter kernel inside its own prefix (the project's kernel)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if spec.argv and Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="Python (reportgen)", prefix=sys.prefix)
    return KERNEL_NAME


@contextlib.contextmanager
def _notebook_log(path: Path):
    """Send the notebook's own output (papermill's log_output) to a file, not the terminal."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    pm_log = logging.getLogger("papermill")
    pm_log.addHandler(handler)
    previous_level, previous_propagate = pm_log.level, pm_log.propagate
    pm_log.setLevel(logging.INFO)
    pm_log.propagate = False
    try:
        yield
    finally:
        pm_log.removeHandler(handler)
        pm_log.setLevel(previous_level)
        pm_log.propagate = previous_propagate
        handler.close()


@contextlib.contextmanager
def _environment(**variables: str):
    """Variables the kernel inherits (papermill starts it from this process's environment)."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _failure_details(notebook: Path) -> tuple[int | None, str]:
    """The failing cell's index and the error's last lines, from a partially executed notebook."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, json.JSONDecodeError, KeyError):
        return None, ""
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                lines = [f"{output.get('ename')}: {output.get('evalue')}"]
                return index, "\n".join(lines)
    return None, ""


def _staging_dir(project: Project, run_id: str) -> Path:
    return project.results_dir / f".staging-{run_id}-{os.getpid()}"


def clean_stale_staging(project: Project) -> None:
    """Remove staging folders left by interrupted runs (their process is gone)."""
    for folder in project.results_dir.glob(".staging-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _process_alive(int(pid)) and int(pid) != os.getpid():
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _replace_folder(new: Path, target: Path) -> None:
    """Move `new` into place as `target`; the old target is removed only after the move."""
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def execute(project: Project, run: Run, components: dict[str, str] | None = None,
            progress: bool = True) -> dict:
    """Execute one run's notebook; on success its results replace the previous ones.

    Returns the run record (the content of run.json). Raises RunFailed on failure, after
    keeping the partial notebook and the error in `<run-id>.failed/`.
    """
    import papermill

    components = components or cache_components(project, run)
    project.results_dir.mkdir(parents=True, exist_ok=True)
    staging = _staging_dir(project, run.id)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    scrubber = Scrubber(project.root, {str(staging): "."})
    parameters = notebook_parameters(run)
    record = {
        "run_id": run.id,
        "status": "running",
        "notebook": run.config.notebook,
        "title": run.config.title,
        "cache_key": cache_key(components),
        "cache_components": components,
        "parameters": parameters,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "device": device_description(),
        "git_commit": git_commit(project.root),
    }
    write_json(staging / "run.json", record)
    start = time.perf_counter()
    output = staging / "notebook.ipynb"
    error: BaseException | None = None
    try:
        with _notebook_log(staging / "notebook.log"), _environment(KERAS_BACKEND=run.config.backend):
            papermill.execute_notebook(
                str(project.notebook(run.config.notebook)), str(output),
                parameters=parameters, cwd=str(staging), kernel_name=ensure_kernel(),
                progress_bar=progress, log_output=True, report_mode=False,
            )
        status_path = staging / "status.json"
        if status_path.exists():  # the notebook can report a failure it caught (e.g. NaN loss)
            status = json.loads(status_path.read_text(encoding="utf-8"))
            if status.get("status", "ok") != "ok":
                raise RunFailed(status.get("message", status["status"]))
    except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt must leave results intact too
        error = exc
    record["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    record["seconds"] = round(time.perf_counter() - start, 1)
    if error is None:
        record["status"] = "ok"
        write_json(staging / "run.json", record)
        scrubber.folder(staging)
        _replace_folder(staging, project.results(run.id))
        shutil.rmtree(project.failed_results(run.id), ignore_errors=True)
        return record
    if isinstance(error, KeyboardInterrupt):
        shutil.rmtree(staging, ignore_errors=True)
        raise error
    cell, summary = _failure_details(output)
    record.update(status="failed", failed_cell=cell,
                  error_summary=scrubber.text(summary or f"{type(error).__name__}: {error}"),
                  error_tail=scrubber.text(_tail(str(error), 20)))
    write_json(staging / "run.json", record)
    scrubber.folder(staging)
    _replace_folder(staging, project.failed_results(run.id))
    raise RunFailed(record["error_summary"]) from None


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# ------------------------------------------------------------------------ locking

@contextlib.contextmanager
def results_lock(project: Project, wait: bool = True):
    """One writer of experiments/results at a time.

    The lock is an OS file lock: it dies with its process, so a killed `make report`
    never leaves a lock behind that blocks the next one.
    """
    from filelock import FileLock, Timeout

    project.results_dir.mkdir(parents=True, exist_ok=True)
    lock_path = project.results_dir / ".lock"
    lock = FileLock(str(lock_path))
    owner = project.results_dir / ".lock.owner"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise
        holder = owner.read_text().strip() if owner.exists() else "another process"
        log.warning("waiting for %s, which is writing experiments/results", holder)
        lock.acquire()
    try:
        owner.write_text(f"process {os.getpid()}\n")
        clean_stale_staging(project)
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def execute_stale(project: Project, runs: list[Run], force: bool = False,
                  progress: bool = True) -> dict[str, str]:
    """Execute every run that is not fresh (all with `force`); returns run id -> outcome.

    Outcomes: 'cached', 'ok' or 'failed: <summary>'. A failure does not stop the other runs.
    """
    outcomes = {}
    with results_lock(project):
        for run in runs:
            state = state_of(project, run)
            if state.state == "fresh" and not force:
                log.info("%s: fresh, not executed", run.id)
                outcomes[run.id] = "cached"
                continue
            log.info("%s: executing %s.ipynb (%s)", run.id, run.config.notebook, state.reason)
            started = time.perf_counter()
            try:
                execute(project, run, progress=progress)
            except RunFailed as exc:
                log.error("%s: FAILED after %.0f s: %s", run.id, time.perf_counter() - started, exc)
                outcomes[run.id] = f"failed: {exc}"
                continue
            log.info("%s: done in %.0f s", run.id, time.perf_counter() - started)
            outcomes[run.id] = "ok"
    return outcomes
