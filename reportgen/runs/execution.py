"""Execute one run's notebook with papermill in a staging folder; keep earlier results safe.

Only a successful execution is moved into `experiments/results/<run-id>/`. A failed attempt
is kept in `experiments/results/<run-id>.failed/` for inspection and shown on the site. A run is
successful only when every cell ran: a cell that stopped the notebook (`sys.exit()`, any code) fails
it. Before results are placed, the other runs' results are checked unchanged (`runs.guard`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.errors import EXIT_CORRUPT, EXIT_FAILED, EXIT_OK, CorruptResults, RunFailed
from reportgen.project import Project
from reportgen.read import expected_errors_only
from reportgen.record import RESULTS_DIR_VARIABLE, write_json
from reportgen.results import NOTEBOOK, RUN_RECORD, STATUS, TIMINGS, read_run_json
from reportgen.runs.cache import (cache_components, cache_key, library_versions, machine_id, notebook_parameters,
                                  run_library_versions, state_of)
from reportgen.runs.guard import ResultsGuard
from reportgen.runs.lock import results_lock
from reportgen.runs.parameters import reassignment_warnings
from reportgen.runs.paths import injected_paths
from reportgen.scrub import Scrubber

if TYPE_CHECKING:
    from reportgen.runs import Run

log = logging.getLogger("reportgen")

KERNEL_NAME = "reportgen"


class Outcome(str, enum.Enum):
    """What `execute_stale` did with a run."""

    CACHED = "cached"  # fresh: not executed
    OK = "ok"  # executed; its results replaced the previous ones
    FAILED = "failed"  # executed and failed: the last good results are kept
    CORRUPT = "corrupt"  # its results folder is damaged: left alone, not executed
    IMPORTED = "imported"  # executed elsewhere (`reportgen import`): never executed here

    @property
    def exit_code(self) -> int:
        return {Outcome.FAILED: EXIT_FAILED, Outcome.CORRUPT: EXIT_CORRUPT}.get(self, EXIT_OK)


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


def device_description() -> dict:
    """The accelerator the kernel will see, as numbers and names (the page puts it in words)."""
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True)
        names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        if out.returncode == 0 and names:
            return {"kind": "gpu", "names": names}
    return {"kind": "cpu", "cores": os.cpu_count()}


def runtime_service() -> str | None:
    """The hosted notebook service this process runs in, from the variables each sets."""
    if os.environ.get("COLAB_RELEASE_TAG") or os.environ.get("COLAB_GPU") is not None:
        return "Google Colab"
    if os.environ.get("KAGGLE_KERNEL_RUN_TYPE"):
        return "Kaggle"
    return None


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

    try:
        install(kernel_name=KERNEL_NAME, display_name="Python (reportgen)", prefix=sys.prefix)
    except OSError:  # a system Python without a venv, its prefix not writable: the user's own kernels
        install(kernel_name=KERNEL_NAME, display_name="Python (reportgen)", user=True)
    return KERNEL_NAME


def project_environment() -> dict[str, str]:
    """Variables that keep a notebook's shell commands in the project's environment.

    The kernel is this interpreter (`ensure_kernel`), so `import` and `%pip` (which runs the kernel's
    own `sys.executable -m pip`) use its packages; but `!pip install x` and `!python` run whatever
    PATH finds first, the machine's global ones unless the environment was activated. PATH therefore
    starts with this interpreter's folder (not resolved: a venv's `python` links to the base one), and
    VIRTUAL_ENV names the venv, as its activation would.
    """
    folder = str(Path(sys.executable).absolute().parent)
    rest = [entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry and entry != folder]
    variables = {"PATH": os.pathsep.join([folder, *rest])}
    if sys.prefix != sys.base_prefix:
        variables["VIRTUAL_ENV"] = sys.prefix
    return variables


class StageLines(logging.Handler):
    """Prints one terminal line per finished stage of the notebook, with its time.

    The notebook's Recorder rewrites timings.json after each stage; papermill logs at every
    cell, so each of its records is a moment to look for stages finished since the last one.
    """

    def __init__(self, run_id: str, timings: Path):
        super().__init__()
        self.run_id, self.timings, self.shown, self.seen = run_id, timings, 0, None

    def emit(self, record: logging.LogRecord) -> None:
        try:  # papermill logs every chunk of output: read the file only when it changed
            changed = self.timings.stat().st_mtime_ns
            if changed == self.seen:
                return
            stages = json.loads(self.timings.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        self.seen = changed
        for stage in stages[self.shown:]:
            log.info("%s: %s (%.0f s)", self.run_id, stage.get("stage"), stage.get("seconds", 0))
        self.shown = max(self.shown, len(stages))


@contextlib.contextmanager
def _notebook_log(path: Path, stage_lines: StageLines):
    """Send the notebook's own output (papermill's log_output) to a file, stage lines to the terminal."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    pm_log = logging.getLogger("papermill")
    pm_log.addHandler(handler)
    pm_log.addHandler(stage_lines)
    previous_level, previous_propagate = pm_log.level, pm_log.propagate
    pm_log.setLevel(logging.INFO)
    pm_log.propagate = False
    try:
        yield
    finally:
        stage_lines.emit(logging.makeLogRecord({}))  # the last stage ends with the last cell
        pm_log.removeHandler(handler)
        pm_log.removeHandler(stage_lines)
        pm_log.setLevel(previous_level)
        pm_log.propagate = previous_propagate
        handler.close()


def kernel_writing_to(path: Path):
    """A kernel manager class whose kernel's stdout and stderr go to `path`, not the terminal.

    That is where TensorFlow's C++ and absl lines (`I0000 ... oneDNN`, `E0000 ...`) and
    ipykernel's own warnings land: kept in the run's log, out of the user's terminal.
    """
    from jupyter_client.manager import AsyncKernelManager

    class KernelWritingToLog(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            with open(path, "ab") as log_file:  # the child keeps its own copy of the descriptor
                await super()._async_launch_kernel(kernel_cmd, stdout=log_file, stderr=log_file, **kw)

    return KernelWritingToLog


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


# Cells papermill adds to an executed notebook: not part of the student's numbering.
PAPERMILL_CELL_TAGS = {"papermill-error-cell-tag", "injected-parameters"}


def _failure_details(notebook: Path) -> tuple[int | None, int | None, str]:
    """From a partially executed notebook: the failing cell's index there, its number in the
    student's own notebook (1-based, papermill's added cells left out) and the error."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, json.JSONDecodeError, KeyError):
        return None, None, ""
    number = 0
    for index, cell in enumerate(cells):
        if PAPERMILL_CELL_TAGS.isdisjoint(cell.get("metadata", {}).get("tags", [])):
            number += 1
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue  # an expected error (MyST-NB's tag): shown on the page, not a failure
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return index, number, f"{output.get('ename')}: {output.get('evalue')}"
    return None, None, ""


def _unfinished_cell(notebook: Path) -> tuple[int | None, int | None, str]:
    """A cell papermill left failed or pending though it raised nothing: the notebook was stopped
    (`sys.exit()`, `raise SystemExit`, any code), so the cells after it never ran."""
    cell, number, summary = _failure_details(notebook)
    if cell is not None:
        return cell, number, f"{summary} (a cell stopped the notebook; the cells after it never ran)"
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, json.JSONDecodeError, KeyError):
        return None, None, "the executed notebook is unreadable"
    number = 0
    for index, cell in enumerate(cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if PAPERMILL_CELL_TAGS.isdisjoint(tags):
            number += 1
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if cell.get("cell_type") == "code" and status not in (None, "completed") \
                and "raises-exception" not in tags:
            return index, number, f"cell {number} did not finish (papermill: {status}); the notebook was stopped"
    return None, None, ""


def _timeout_summary(record: dict) -> str:
    return (f"a cell ran longer than the run's time limit (timeout_minutes: {record['timeout_minutes']:g}) "
            f"and was stopped; raise timeout_minutes in the run file if it needs longer")


def staging_dir(project: Project, run_id: str) -> Path:
    """A new, empty folder beside the results, where a run's results are assembled."""
    staging = project.results_dir / f".staging-{run_id}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _replace_folder(new: Path, target: Path) -> None:
    """Move `new` into place as `target`; the old target is removed only after the move."""
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def run_record(project: Project, run: "Run", components: dict[str, str] | None = None) -> dict:
    """The part of run.json the submitting process knows: which run, its cache key, its parameters
    (paths made absolute from the project root), its time limit and the libraries it depends on."""
    components = components or cache_components(project, run)
    return {
        "run_id": run.id,
        "status": "running",
        "notebook": run.config.notebook,
        "title": run.config.title,
        "cache_key": cache_key(components),
        "cache_components": components,
        "parameters": {**notebook_parameters(run), **injected_paths(run.config.parameters, project.root)},
        "timeout_minutes": run.config.timeout_minutes,
        "libraries": run_library_versions(project, run),
        "git_commit": git_commit(project.root),
    }


def execute_in(folder: Path, notebook: Path, record: dict, kernel_environment: dict[str, str],
               root: Path, progress: bool = True) -> dict:
    """Execute `notebook` with papermill in the empty `folder`; leave there the results and run.json.

    Does not raise when the notebook fails: the returned record (also in `folder/run.json`) says
    'ok' or 'failed'. `root` is the project (or a worker's task folder): its path is scrubbed.
    The kernel's own output (TensorFlow's log lines) goes to `folder/notebook.log`, not the terminal.
    """
    import papermill

    scrubber = Scrubber(root, {str(folder): "."})
    here = library_versions(record["libraries"])  # the versions where it runs, of the libraries the run uses
    record = {**record, "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "libraries": {name: here.get(name, version) for name, version in record["libraries"].items()},
              "python": platform.python_version(), "platform": f"{platform.system()} {platform.machine()}",
              "device": device_description(), "machine": machine_id(),
              **({"runtime": runtime} if (runtime := runtime_service()) else {})}
    write_json(folder / RUN_RECORD, record)
    start = time.perf_counter()
    output = folder / NOTEBOOK
    error: BaseException | None = None
    try:
        stage_lines = StageLines(record["run_id"], folder / TIMINGS)
        # The kernel runs in the notebook's folder, as in Jupyter; the Recorder writes to `folder`.
        with _notebook_log(folder / "notebook.log", stage_lines), \
                _environment(**project_environment(), **kernel_environment,
                             **{RESULTS_DIR_VARIABLE: str(folder.resolve())}):
            papermill.execute_notebook(
                str(notebook), str(output), parameters=record["parameters"], cwd=str(notebook.parent),
                kernel_name=ensure_kernel(), language="python",  # also for a notebook that names no kernel
                progress_bar=progress, log_output=True, report_mode=False,
                execution_timeout=max(1, round(record["timeout_minutes"] * 60)),
                kernel_manager_class=kernel_writing_to(folder / "notebook.log"),
            )
        status_path = folder / STATUS
        if status_path.exists():  # the notebook can report a failure it caught (e.g. NaN loss)
            status = json.loads(status_path.read_text(encoding="utf-8"))
            if not isinstance(status, dict):
                raise RunFailed(f"{STATUS} written by the notebook is not a mapping")
            if status.get("status", "ok") != "ok":
                raise RunFailed(str(status.get("message", status["status"])))
        if _unfinished_cell(output)[0] is not None:  # papermill ran to the end of a notebook stopped early
            raise RunFailed(_unfinished_cell(output)[2])
    except KeyboardInterrupt:
        raise  # the caller removes the folder: an interrupted run leaves nothing taken for complete
    except BaseException as exc:  # noqa: BLE001 - whatever stopped the notebook, the run failed
        error = exc
    if type(error).__name__ == "PapermillExecutionError" and expected_errors_only(output) \
            and not (folder / STATUS).exists():
        error = None  # papermill ran on past cells tagged raises-exception, then raised for their errors
    record["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    record["seconds"] = round(time.perf_counter() - start, 1)
    record["status"] = "ok"
    if error is not None:
        cell, number, summary = _unfinished_cell(output) if isinstance(error, RunFailed) else _failure_details(output)
        if isinstance(error, TimeoutError):  # nbclient's CellTimeoutError: a hung or too slow cell
            summary = _timeout_summary(record)  # the notebook shows the interrupted cell (KeyboardInterrupt)
        record.update(status="failed", failed_cell=cell, failed_cell_number=number, error_summary=summary or f"{type(error).__name__}: {error}",
                      error_tail=_tail(str(error), 20))
    # What is published is scrubbed; the returned record keeps the real paths for the terminal.
    write_json(folder / RUN_RECORD, {**record, **{key: scrubber.text(record[key])
                                                 for key in ("error_summary", "error_tail") if key in record}})
    scrubber.folder(folder)
    return record


def place(project: Project, run_id: str, folder: Path, summary: str | None = None,
          guard: ResultsGuard | None = None) -> dict:
    """Move an executed run's folder into place (the caller holds the results lock).

    A success replaces the previous results and clears the last failure; a failure goes to
    `<run-id>.failed/` and raises RunFailed (with `summary`, the unscrubbed error, where known),
    leaving the last good results as they were. With `guard`, the results folders are first checked
    unchanged since it last looked: a change is restored and fails the run.
    """
    try:
        record = read_run_json(folder) or {}
    except CorruptResults as exc:  # what the notebook left in its own folder is no run record
        record = _failed(folder, {}, f"the run's results folder is unusable: {exc}")
    damaged = guard.restore() if guard is not None else []
    if damaged:
        summary = (f"the notebook changed results that are not its own ({'; '.join(damaged)}); they were "
                   f"restored from the copy taken before it ran, and the run counts as failed")
        record = _failed(folder, record, summary)
    try:
        if record.get("status") == "ok":
            _replace_folder(folder, project.results(run_id))
            shutil.rmtree(project.failed_results(run_id), ignore_errors=True)
            return record
        _replace_folder(folder, project.failed_results(run_id))
    finally:
        if guard is not None:
            guard.refresh(run_id, project.failed_results(run_id).name)
    # The terminal gets the real paths; only what is published is scrubbed.
    raise RunFailed(f"{summary or record.get('error_summary', 'the run left no run record')} "
                    f"(see {project.failed_results(run_id) / 'notebook.log'})")


def _failed(folder: Path, record: dict, summary: str) -> dict:
    """Rewrite `folder`'s run.json as a failed attempt with `summary` (its notebook and log kept)."""
    record = {**record, "status": "failed", "error_summary": summary, "error_tail": summary,
              "finished": record.get("finished") or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    write_json(folder / RUN_RECORD, record)
    return record


def execute(project: Project, run: "Run", components: dict[str, str] | None = None,
            progress: bool = True, guard: ResultsGuard | None = None) -> dict:
    """Execute one run's notebook here; on success its results replace the previous ones.

    Returns the run record (the content of run.json). Raises RunFailed on failure, after
    keeping the partial notebook and the error in `<run-id>.failed/`.
    """
    record = run_record(project, run, components)  # checks the paths before anything starts
    project.results_dir.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(project, run.id)
    try:
        executed = execute_in(staging, project.notebook(run.config.notebook), record,
                              {"KERAS_BACKEND": run.config.backend}, project.root, progress)
    except BaseException:  # Ctrl-C, or a bug: nothing half-made is left, the last good results stay
        shutil.rmtree(staging, ignore_errors=True)
        if guard is not None:
            guard.restore()
        raise
    return place(project, run.id, staging, summary=executed.get("error_summary"), guard=guard)


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def execute_stale(project: Project, runs: list["Run"], force: bool = False, progress: bool = True,
                  executor=None) -> dict[str, Outcome]:
    """Execute every run that is not fresh (all with `force`); returns run id -> Outcome.

    A damaged results folder is left alone unless forced (CORRUPT); a failure does not stop the other
    runs. `executor` (e.g. `runs.distributed.DaskExecutor`) executes the stale runs elsewhere and
    concurrently; without it they execute here, one after another. Either way, the other runs'
    results are checked unchanged before each run's results are placed (`runs.guard`).
    """
    outcomes = {}
    with results_lock(project):
        stale = []
        components = {}  # run id -> its cache key's parts, computed once here
        for run in runs:
            state = state_of(project, run)
            if state.state in ("imported", "corrupt") and run.config.executed == "elsewhere":
                (log.info if state.state == "imported" else log.error)(
                    "%s: imported (%s); never executed here, even with --force", run.id, state.reason)
                outcomes[run.id] = Outcome.IMPORTED if state.state == "imported" else Outcome.CORRUPT
                continue
            if state.state == "corrupt" and not force:
                log.error("%s: %s", run.id, state.reason)
                outcomes[run.id] = Outcome.CORRUPT
                continue
            if state.state == "fresh" and not force:
                log.info("%s: fresh, not executed (--force executes it again)", run.id)
                outcomes[run.id] = Outcome.CACHED
                continue
            log.info("%s: executing %s.ipynb (%s)", run.id, run.config.notebook, state.reason)
            warn_reassigned(project, run)
            stale.append(run)
            components[run.id] = state.components
        if stale:
            with ResultsGuard(project) as guard:
                outcomes.update(executor(project, stale, components, guard=guard) if executor
                                else _execute_here(project, stale, components, progress, guard))
    return {run.id: outcomes[run.id] for run in runs}


def warn_reassigned(project: Project, run: "Run") -> None:
    """Warn, before it runs, of each parameter the notebook assigns again below its parameters cell."""
    names = run.config.declared_parameters or ()
    for warning in reassignment_warnings(project.notebook(run.config.notebook), names, notebook_parameters(run)):
        log.warning("%s: warning: %s", run.id, warning)


def _execute_here(project: Project, runs: list["Run"], components: dict[str, dict],
                  progress: bool, guard: ResultsGuard | None = None) -> dict[str, Outcome]:
    outcomes = {}
    for run in runs:
        log.info("%s: started here", run.id)
        started = time.perf_counter()
        try:
            execute(project, run, components.get(run.id), progress=progress, guard=guard)
        except RunFailed as exc:
            log.error("%s: FAILED after %.0f s: %s", run.id, time.perf_counter() - started, exc)
            outcomes[run.id] = Outcome.FAILED
            continue
        log.info("%s: done in %.0f s", run.id, time.perf_counter() - started)
        outcomes[run.id] = Outcome.OK
    return outcomes
