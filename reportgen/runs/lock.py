"""One writer of experiments/results at a time."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil

from reportgen.project import Project

log = logging.getLogger("reportgen")


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
