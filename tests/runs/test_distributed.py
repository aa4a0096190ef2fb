"""Runs executed on a real Dask cluster on 127.0.0.1 give the pages of a serial execution; a worker
that dies mid-run costs one retry, then a reported failure, never the last good results."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.errors import EXIT_FAILED
from reportgen.project import Project
from reportgen.runs import discover, state_of

from conftest import PRACTICE_SCHEMA, RECORDING_CELL, REPO, write_notebook, write_run


pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

VOLATILE = re.compile(r"\d{4}-\d\d-\d\d[T ][\d:]+(\+00:00| UTC)?|\b\d+(\.\d+)? (s|min)\b")
VOLATILE_RECORD_KEYS = {"started", "finished", "seconds"}


def _matrix_project(root: Path) -> Path:
    """Two tiny runs from one matrix file (no training: the notebook records a figure and a fact)."""
    (root / "experiments" / "runs").mkdir(parents=True)
    for folder in ("templates",):
        (root / folder).symlink_to(REPO / folder)
    (root / "mkdocs.yml").symlink_to(REPO / "mkdocs.yml")
    write_notebook(root / "experiments" / "tiny.ipynb", RECORDING_CELL, schema=PRACTICE_SCHEMA,
                   parameters="training = {}")
    write_run(root, "grid", matrix={"training.seeds": [[0], [1]]})
    return root


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> Path:
    """The reference: the matrix executed here, one run after another, and rendered."""
    root = _matrix_project(tmp_path_factory.mktemp("serial") / "portfolio")
    assert main(["--project", str(root), "run", "--quiet"]) == 0
    assert main(["--project", str(root), "render", "--out", str(root / "rendered")]) == 0
    return root


def _site_view(root: Path) -> dict[str, object]:
    """The rendered pages and results, without what differs between two executions (times)."""
    view: dict[str, object] = {}
    for base in ("rendered", "experiments/results"):
        for path in sorted((root / base).rglob("*")):
            name = path.relative_to(root).as_posix()
            if not path.is_file() or path.name.startswith(".") or path.suffix in (".ipynb", ".log"):
                continue
            if path.name == "run.json":
                record = json.loads(path.read_text())
                view[name] = {k: v for k, v in record.items() if k not in VOLATILE_RECORD_KEYS}
            elif path.suffix == ".md":
                view[name] = VOLATILE.sub("<time>", path.read_text())
            elif path.name != "timings.json":
                view[name] = path.read_bytes()
    return view


def _assert_same_site(root: Path, serial: Path) -> None:
    assert main(["--project", str(root), "render", "--out", str(root / "rendered")]) == 0
    mine, reference = _site_view(root), _site_view(serial)
    assert sorted(mine) == sorted(reference)
    assert "experiments/results/grid-1/figures/curves.png" in mine
    for name in reference:
        assert mine[name] == reference[name], name


def test_two_workers_give_the_pages_of_serial_execution(tmp_path, serial, caplog):
    caplog.set_level(logging.INFO, logger="reportgen")
    root = _matrix_project(tmp_path / "portfolio")
    assert main(["--project", str(root), "run", "--quiet", "--workers", "2"]) == 0
    log = caplog.text
    for run_id in ("grid-0", "grid-1"):
        assert re.search(rf"{run_id}: started on tcp://127\.0\.0\.1:\d+", log)
        assert re.search(rf"{run_id}: done in \d+ s", log)
    _assert_same_site(root, serial)
    assert not list((root / "experiments" / "results").glob(".staging-*"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _dask(*arguments: str, log: Path, pythonpath: Path = REPO) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.Popen([sys.executable, "-m", "dask", *arguments], env=env, cwd=pythonpath,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_cluster(tmp_path: Path, worker_pythonpaths: list[Path]) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and workers started as processes on 127.0.0.1, each alive 10 minutes at most."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    processes = [_dask("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                       "--no-dashboard", "--idle-timeout", "600s", log=tmp_path / "scheduler.log")]
    try:
        for index, pythonpath in enumerate(worker_pythonpaths):
            processes.append(_dask("worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                   "--no-dashboard", "--lifetime", "600s", "--name", f"w{index}",
                                   log=tmp_path / f"worker{index}.log", pythonpath=pythonpath))
        deadline = time.time() + 90
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(len(worker_pythonpaths), timeout=90)
                break
            except OSError:
                assert time.time() < deadline, (tmp_path / "scheduler.log").read_text()[-2000:]
                time.sleep(1)
    except BaseException:
        _stop(processes)
        raise
    return address, processes


def test_a_separately_started_cluster_gives_the_pages_of_serial_execution(tmp_path, serial, monkeypatch):
    address, processes = _start_cluster(tmp_path, [REPO, REPO])
    try:
        root = _matrix_project(tmp_path / "portfolio")
        monkeypatch.setenv("REPORTGEN_SCHEDULER", address)
        assert main(["--project", str(root), "run", "--quiet"]) == 0
    finally:
        _stop(processes)
    _assert_same_site(root, serial)


def test_a_worker_with_other_practice_code_refuses(tmp_path, caplog):
    """A worker whose reportgen differs by one comment in the practice: the run fails, saying why."""
    import shutil

    other = tmp_path / "other-install"
    shutil.copytree(REPO / "reportgen", other / "reportgen", ignore=shutil.ignore_patterns("__pycache__"))
    with (other / "reportgen" / "practice" / "config.py").open("a") as handle:
        handle.write("\n# an edit the submitter does not have\n")
    address, processes = _start_cluster(tmp_path, [other])
    try:
        root = _matrix_project(tmp_path / "portfolio")
        code = main(["--project", str(root), "run", "--quiet", "grid-0", "--scheduler", address])
    finally:
        _stop(processes)
    assert code == EXIT_FAILED
    failed = json.loads((Project.at(root).failed_results("grid-0") / "run.json").read_text())
    assert "has different reportgen practice code" in failed["error_summary"]
    assert "install the submitter's version of reportgen" in caplog.text
    assert not Project.at(root).results("grid-0").exists()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_worker_killed_mid_run_costs_a_retry_then_a_failure_never_earlier_results(tmp_path):
    root = _matrix_project(tmp_path / "portfolio")
    write_run(root, "late")
    assert main(["--project", str(root), "run", "--quiet"]) == 0
    project = Project.at(root)
    before = {run_id: _snapshot(project.results(run_id)) for run_id in ("grid-0", "grid-1", "late")}

    # `late` now writes its worker's and its own process ids, then sleeps: each attempt gets killed.
    attempts = tmp_path / "attempts.txt"
    write_notebook(root / "experiments" / "sleepy.ipynb",
                   f"import os, time\nwith open({str(attempts)!r}, 'a') as f:\n"
                   f"    f.write(f'{{os.getppid()}} {{os.getpid()}}\\n')\ntime.sleep(300)")
    write_run(root, "late", notebook="sleepy")
    write_run(root, "newcomer")                                   # and a new run executes beside it
    runner = subprocess.Popen([sys.executable, "-m", "reportgen", "--project", str(root), "run", "--quiet",
                               "--workers", "2"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                              stderr=(tmp_path / "runner.log").open("w"), start_new_session=True)
    killed: list[str] = []
    try:
        deadline = time.time() + 300
        while runner.poll() is None:
            assert time.time() < deadline, "the runner did not finish"
            lines = attempts.read_text().splitlines() if attempts.exists() else []
            for line in lines[len(killed):]:
                for pid in map(int, line.split()):  # the worker dies, and its kernel with it
                    os.kill(pid, signal.SIGKILL)
                killed.append(line)
            time.sleep(0.2)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
        runner.wait()
    log = (tmp_path / "runner.log").read_text()

    assert len(killed) == 2, log                                  # retried once on another worker, no more
    assert re.search(r"late: started on tcp://127\.0\.0\.1:\d+\n(.|\n)*late: started on \S+ \(attempt 2\)", log), log
    assert runner.returncode == EXIT_FAILED, log
    failed = json.loads((project.failed_results("late") / "run.json").read_text())
    assert failed["status"] == "failed" and "died" in failed["error_summary"]
    assert json.loads((project.results("newcomer") / "run.json").read_text())["status"] == "ok"
    for run_id in ("grid-0", "grid-1", "late"):
        assert _snapshot(project.results(run_id)) == before[run_id], run_id  # earlier results untouched
    late = next(run for run in discover(project) if run.id == "late")
    assert state_of(project, late).state == "failed"
    assert not list(project.results_dir.glob(".staging-*")) and not list(project.results_dir.glob(".old-*"))


def test_a_returned_archive_must_belong_to_the_run_and_stay_in_its_folder(tmp_path):
    import io
    import tarfile

    from reportgen.errors import RunFailed
    from reportgen.runs.distributed import check_results, pack, unpack

    done = tmp_path / "done"
    done.mkdir()
    (done / "run.json").write_text(json.dumps({"run_id": "grid-0", "cache_key": "k1", "status": "ok"}))
    (done / "notebook.ipynb").write_text("{}")
    unpack(pack(done), tmp_path / "back")
    check_results(tmp_path / "back", {"run_id": "grid-0", "cache_key": "k1"})
    with pytest.raises(RunFailed, match="results of another run \\(cache_key 'k1', expected 'k2'\\)"):
        check_results(tmp_path / "back", {"run_id": "grid-0", "cache_key": "k2"})

    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as archive:
        archive.add(done / "run.json", arcname="../outside.json")
    with pytest.raises(tarfile.TarError):
        unpack(evil.getvalue(), tmp_path / "evil")
    assert not (tmp_path / "outside.json").exists()


def test_each_local_worker_sees_one_gpu(monkeypatch):
    from reportgen.runs.distributed import _gpu_environment, local_gpus

    assert [_gpu_environment(name, ("0", "1"))["CUDA_VISIBLE_DEVICES"] for name in range(3)] == ["0", "1", "0"]
    assert _gpu_environment(0, ("0",)) == {} and _gpu_environment("w0", ("0", "1")) == {}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert local_gpus() == ("2", "3")  # a user's own restriction is kept
