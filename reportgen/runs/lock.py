"""One writer of experiments/results at a time."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import sys

from reportgen.errors import ConfigError, LockTimeout
from reportgen.project import Project

log = logging.getLogger("reportgen")

DEFAULT_WAIT_MINUTES = 30  # longer than a quick report; a stuck one should not block forever


def lock_wait_seconds() -> float:
    """How long to wait for another writer: $REPORTGEN_LOCK_TIMEOUT (minutes), else 30 minutes."""
    value = os.environ.get("REPORTGEN_LOCK_TIMEOUT", "").strip()
    if not value:
        return DEFAULT_WAIT_MINUTES * 60
    try:
        minutes = float(value)
    except ValueError:
        minutes = -1
    if not minutes >= 0:  # also NaN
        raise ConfigError(f"REPORTGEN_LOCK_TIMEOUT={value!r}: expected a number of minutes (0 or more)")
    return minutes * 60


@contextlib.contextmanager
def results_lock(project: Project):
    """One writer of experiments/results at a time.

    The lock is an OS file lock: it dies with its process, so a killed `make report`
    never leaves a lock behind that blocks the next one. A live holder is waited for at most
    `lock_wait_seconds()`; then LockTimeout names it.
    """
    from filelock import FileLock, Timeout

    project.results_dir.mkdir(parents=True, exist_ok=True)
    lock_path = project.results_dir / ".lock"
    lock = FileLock(str(lock_path))
    owner = project.results_dir / ".lock.owner"
    limit = lock_wait_seconds()  # a bad setting is reported now, not only when another report runs
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = owner.read_text().strip() if owner.exists() else "another process"
        log.warning("waiting (at most %.0f min) for %s, which is writing experiments/results", limit / 60, holder)
        try:
            lock.acquire(timeout=limit)
        except Timeout:
            raise LockTimeout(
                f"{project.results_dir} is still locked after {limit / 60:g} min by {holder}. Wait for it to "
                f"finish (or stop it), then run again; REPORTGEN_LOCK_TIMEOUT (minutes) sets the wait.") from None
    try:
        started = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        owner.write_text(f"process {os.getpid()} (`{' '.join(sys.argv[1:])}`, since {started})\n")
        clean_stale_staging(project)
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()




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
