"""Execute stale runs concurrently on a Dask cluster: a local one (`--workers N`) or an existing one
(`--scheduler tcp://HOST:PORT`, or REPORTGEN_SCHEDULER).

The submitting process keeps the results lock and the cache, as a serial `report` does. It sends each
run as a task carrying everything the run needs (the notebook, the parameters, the run record): no
shared filesystem is assumed. A worker imports reportgen from its own install, refuses when its practice
code differs from the submitter's (the `package` part of the cache key), executes the notebook with
papermill in a temporary folder and sends the results folder back as a tar archive. The submitter
checks the archive and places it like a serial execution would: a success replaces the last results, a
failure goes to `<run-id>.failed/`, and the last good results are never touched by a failure.

A worker that dies mid-run: the scheduler gives the run to another worker once (a local cluster is
started with `allowed-failures: 1`); if that one dies too, the run is reported failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from reportgen.errors import ConfigError, MissingDependency, ReportgenError, RunFailed
from reportgen.project import Project
from reportgen.record import write_json
from reportgen.results import RUN_RECORD, read_run_json
from reportgen.runs.cache import package_code_hash
from reportgen.runs.execution import Outcome, ensure_kernel, execute_in, place, run_record, staging_dir
from reportgen.safe import shown

if TYPE_CHECKING:
    from distributed import Client, Future

    from reportgen.runs import Run

log = logging.getLogger("reportgen")

PROGRESS_TOPIC = "reportgen-progress"
# Thread pools a kernel sizes from these (numpy's BLAS, TensorFlow): one share of the cores per worker.
THREAD_VARIABLES = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"]


class WorkerCodeDiffers(RunFailed):
    """A worker's reportgen practice code is not the submitter's: its numbers would not match the key."""


# ----------------------------------------------------------------- the worker's side

@dataclass(frozen=True)
class RunTask:
    """What a worker needs to execute one run, sent with the task."""

    run_id: str
    notebook_name: str
    notebook: bytes
    record: dict  # run.json as the submitter starts it (cache key, parameters, ...)
    kernel_environment: dict[str, str]
    package_hash: str
    gpus: tuple[str, ...] = ()  # a local cluster's GPUs: worker i sees gpus[i % len(gpus)]


def execute_task(task: RunTask) -> bytes:
    """On a worker: execute one run in a temporary folder; return the results folder as a tar archive."""
    from distributed import get_worker

    worker = get_worker()
    check_code(task.package_hash, worker.address)
    worker.log_event(PROGRESS_TOPIC, {"run": task.run_id, "event": "started", "worker": worker.address})
    environment = {**task.kernel_environment, **_gpu_environment(worker.name, task.gpus)}
    with tempfile.TemporaryDirectory(prefix="reportgen-task-") as tmp:
        root = Path(tmp)  # laid out like a project, so scrubbed paths read as a serial run's
        notebook = root / "experiments" / f"{task.notebook_name}.ipynb"
        notebook.parent.mkdir(parents=True)  # a notebook in a sub-folder of experiments/
        notebook.write_bytes(task.notebook)
        folder = root / "results"
        folder.mkdir()
        execute_in(folder, notebook, task.record, environment, root, progress=False)
        return pack(folder)


def check_code(expected: str, worker: str) -> None:
    """Refuse to execute when this worker's practice code differs from the submitter's."""
    here = package_code_hash()
    if here != expected:
        raise WorkerCodeDiffers(
            f"worker {worker} has different reportgen practice code (code hash {here}, the submitter's is "
            f"{expected}); install the submitter's version of reportgen on every worker "
            f"(e.g. pip install the same commit) and start the workers again.")


def _gpu_environment(worker_name, gpus: tuple[str, ...]) -> dict[str, str]:
    if len(gpus) < 2 or not isinstance(worker_name, int):
        return {}
    return {"CUDA_VISIBLE_DEVICES": gpus[worker_name % len(gpus)]}


def pack(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(folder.iterdir()):
            archive.add(path, arcname=path.name)
    return buffer.getvalue()


# -------------------------------------------------------------- the submitter's side

def unpack(archive: bytes, folder: Path) -> None:
    """Extract a worker's archive; the 'data' filter refuses links and paths leaving the folder."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")


def check_results(folder: Path, expected: dict) -> None:
    """The folder a worker returned belongs to this run and this cache key, and is complete
    (read_run_json refuses a folder without run.json, or a successful one without its notebook)."""
    record = read_run_json(folder)
    for name in ("run_id", "cache_key"):
        if record.get(name) != expected[name]:
            raise RunFailed(f"the worker returned results of another run ({name} "
                            f"{record.get(name)!r}, expected {expected[name]!r})")
    if record.get("status") not in ("ok", "failed"):
        raise RunFailed(f"the worker returned a run with status {record.get('status')!r}")


@dataclass
class DaskExecutor:
    """Executes runs on a local cluster of `workers` processes, or on the cluster at `scheduler`."""

    workers: int | None = None
    scheduler: str | None = None
    started: dict[str, float] = field(default_factory=dict)  # run id -> when its last attempt started
    attempts: dict[str, int] = field(default_factory=dict)

    def __call__(self, project: Project, runs: list["Run"], components: dict[str, dict] | None = None,
                 guard=None) -> dict[str, Outcome]:
        """Execute `runs` (the caller holds the results lock); returns run id -> Outcome.
        `components`: each run's cache-key parts where the caller has just computed them; `guard`
        (runs.guard): the other runs' results, checked before each run's results are placed."""
        from distributed import as_completed

        ensure_kernel()  # registered once here, not raced by the local workers
        with self._client() as client:
            client.subscribe_topic(PROGRESS_TOPIC, self._on_progress)
            gpus = local_gpus() if self.scheduler is None else ()
            submitted = {}
            for run in runs:
                task = self._task(project, run, gpus, (components or {}).get(run.id))
                submitted[self._submit(client, task)] = (run, task.record)
            outcomes = {}
            for future in as_completed(submitted):
                run, record = submitted[future]
                outcomes[run.id] = self._receive(project, run.id, record, future, guard)
        return {run.id: outcomes[run.id] for run in runs}

    @contextlib.contextmanager
    def _client(self) -> Iterator["Client"]:
        import dask
        from distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.WARNING)  # one line per run, not Dask's chatter
        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout="20s")
            except OSError as exc:
                raise ReportgenError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
            with client:
                yield client
            return
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
                LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                             dashboard_address=":0") as cluster, Client(cluster) as client:
            log.info("local Dask cluster: %d worker processes, one run at a time each", self.workers)
            yield client

    def _task(self, project: Project, run: "Run", gpus: tuple[str, ...], components: dict | None) -> RunTask:
        record = run_record(project, run, components)
        return RunTask(run_id=run.id, notebook_name=run.config.notebook,
                       notebook=project.notebook(run.config.notebook).read_bytes(),
                       record=record, kernel_environment=self._kernel_environment(run),
                       package_hash=record["cache_components"]["package"], gpus=gpus)

    @staticmethod
    def _submit(client: "Client", task: RunTask) -> "Future":
        """One task per run; an exception in it (e.g. a refusing worker) is retried once."""
        log.info("%s: submitted", task.run_id)
        return client.submit(execute_task, task, key=f"reportgen-{task.run_id}-{uuid.uuid4().hex[:8]}",
                             retries=1, pure=False)

    def _kernel_environment(self, run: "Run") -> dict[str, str]:
        environment = {"KERAS_BACKEND": run.config.backend}
        if self.workers:  # a local cluster shares this machine's cores between its workers
            threads = str(max(1, (os.cpu_count() or 1) // self.workers))
            environment.update({name: os.environ.get(name, threads) for name in THREAD_VARIABLES})
        return environment

    def _on_progress(self, event: tuple) -> None:
        _, message = event
        run_id = message["run"]
        self.attempts[run_id] = attempt = self.attempts.get(run_id, 0) + 1
        self.started[run_id] = time.perf_counter()
        log.info("%s: started on %s%s", run_id, message["worker"], f" (attempt {attempt})" if attempt > 1 else "")

    def _receive(self, project: Project, run_id: str, record: dict, future: "Future", guard=None) -> Outcome:
        """Place a finished task's results; a task that raised is recorded as a failed attempt."""
        elapsed = time.perf_counter() - self.started.get(run_id, time.perf_counter())
        staging = staging_dir(project, run_id)
        try:
            try:
                unpack(future.result(), staging)
                check_results(staging, record)
            except Exception as exc:  # noqa: BLE001 - a died worker, a refusal, a bad archive: all fail the run
                _record_failure(staging, record, _describe(exc))
            place(project, run_id, staging, guard=guard)
        except RunFailed as exc:
            log.error("%s: FAILED after %.0f s: %s", run_id, elapsed, exc)
            return Outcome.FAILED
        log.info("%s: done in %.0f s", run_id, elapsed)
        return Outcome.OK


def _record_failure(staging: Path, record: dict, message: str) -> None:
    """A failed attempt with no results of its own: only run.json, with the reason."""
    shutil.rmtree(staging)
    staging.mkdir()
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    write_json(staging / RUN_RECORD, {**record, "status": "failed", "finished": now, "failed_cell": None,
                                      "error_summary": message, "error_tail": message})


def _describe(exc: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return (f"every Dask worker that executed this run died ({exc.allowed_failures + 1} attempts: "
                f"killed, out of memory or lost); the last good results were kept")
    return f"{type(exc).__name__}: {exc}"


def local_gpus() -> tuple[str, ...]:
    """This machine's GPUs as CUDA_VISIBLE_DEVICES values (those already visible, if it is set)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return tuple(gpu for gpu in visible.split(",") if gpu.strip())
    if shutil.which("nvidia-smi") is None:
        return ()
    listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    count = sum(line.startswith("GPU ") for line in listing.stdout.splitlines())
    return tuple(str(index) for index in range(count)) if listing.returncode == 0 else ()


SCHEDULER_PROTOCOLS = ("tcp", "tls", "ws", "wss", "ucx", "inproc")  # Dask's comm protocols


def scheduler_address(address: str) -> str:
    """A Dask scheduler address (`tcp://HOST:PORT`, or `HOST:PORT` for tcp), checked before anything
    starts; ConfigError naming --scheduler otherwise."""
    from urllib.parse import urlsplit

    written = address.strip()
    full = written if "://" in written else f"tcp://{written}"
    problem = None
    try:
        parts = urlsplit(full)
        port = parts.port
    except ValueError as exc:  # a port that is not a number in range
        parts, port, problem = None, None, str(exc)
    if problem is None and parts.scheme not in SCHEDULER_PROTOCOLS:
        problem = f"unknown protocol {parts.scheme!r}; Dask speaks {', '.join(SCHEDULER_PROTOCOLS)}"
    elif problem is None and parts.scheme != "inproc" and (
            not parts.hostname or any(c.isspace() for c in written) or parts.path not in ("", "/")
            or parts.query or parts.fragment or parts.username):
        problem = "expected HOST:PORT after the protocol"
    elif problem is None and parts.scheme != "inproc" and port is None:
        problem = "no port (a Dask scheduler listens on 8786 by default: tcp://HOST:8786)"
    if problem:
        raise ConfigError(f"--scheduler (or REPORTGEN_SCHEDULER) {shown(address)}: not a Dask scheduler address: "
                          f"{problem}. Write it as tcp://HOST:PORT.")
    return full


def executor_from(workers: int | None, scheduler: str | None) -> DaskExecutor | None:
    """The executor a command line asked for: a scheduler address wins over a local cluster; None: serial.
    Checked here, before the results lock is taken: the address, and that Dask is installed."""
    if not scheduler and not workers:
        return None
    if scheduler:
        scheduler = scheduler_address(scheduler)
    import importlib.util

    missing = [name for name in ("dask", "distributed") if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependency("--workers and --scheduler need Dask", missing, "pip install 'reportgen[dask]'")
    return DaskExecutor(scheduler=scheduler) if scheduler else DaskExecutor(workers=workers)
