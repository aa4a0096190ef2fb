"""Executing runs: failures are kept aside, interrupted runs leave nothing half-written, one writer at a time."""

from __future__ import annotations

import pytest

import json
import re
import os
import signal
import subprocess
import sys
import time

import nbformat

from reportgen.cli import main
from reportgen.errors import EXIT_FAILED
from reportgen.project import Project
from reportgen.runs import discover, execute, state_of

from conftest import REPO, write_notebook, write_run

pytestmark = pytest.mark.slow  # every test here executes a notebook


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_failing_notebook_keeps_previous_results_and_others_run(project, capsys):
    write_run(project, "a_good")
    write_run(project, "b_flaky")
    assert main(["--project", str(project), "run", "--quiet"]) == 0
    proj = Project.at(project)
    before = _snapshot(proj.results("b_flaky"))

    write_run(project, "b_flaky", notebook="broken")   # the same run now fails
    write_run(project, "c_new")                         # and a new run comes after it
    code = main(["--project", str(project), "report", "--quiet"])
    assert code == EXIT_FAILED

    assert _snapshot(proj.results("b_flaky")) == before          # earlier success untouched
    failed = json.loads((proj.failed_results("b_flaky") / "run.json").read_text())
    assert failed["status"] == "failed"
    partial = json.loads((proj.failed_results("b_flaky") / "notebook.ipynb").read_text())
    assert "raise ValueError" in "".join(partial["cells"][failed["failed_cell"]]["source"])
    assert failed["failed_cell"] > 2 and failed["failed_cell_number"] == 3  # as the student counts: 3rd cell
    assert "la celda falló a propósito" in failed["error_summary"]
    assert json.loads((proj.results("c_new") / "run.json").read_text())["status"] == "ok"
    assert state_of(proj, discover(proj, ["b_flaky"])[0]).state == "failed"

    # The site was still rendered and built, with the failure visible.
    comparison = (project / "site" / "comparacion.html").read_text()
    assert "la celda falló a propósito" in comparison
    assert (project / "site" / "runs" / "b_flaky" / "notebook-fallido.html").exists()
    run_page = (project / "site" / "runs" / "b_flaky" / "index.html").read_text()
    assert "falló en la celda 3:" in run_page  # papermill's injected and banner cells are not counted
    failed_page = (project / "site" / "runs" / "b_flaky" / "notebook-fallido.html").read_text()
    for page, prefix in ((run_page, ""), (comparison, "runs/b_flaky/")):  # each link lands on the failing cell
        anchor = re.search(rf'href="{prefix}notebook-fallido\.html#([^"]+)"', page).group(1)
        assert f'id="{anchor}"' in failed_page


def test_interrupted_run_leaves_previous_results_and_recovers(project):
    write_run(project, "demo")
    proj = Project.at(project)
    execute(proj, discover(proj)[0], progress=False)
    before = _snapshot(proj.results("demo"))

    write_notebook(project / "experiments" / "sleepy.ipynb",
                   "import os, time\nopen(os.path.join(os.environ['REPORTGEN_RESULTS_DIR'], 'started'), 'w').close()\ntime.sleep(120)")
    write_run(project, "demo", notebook="sleepy")
    process = subprocess.Popen([sys.executable, "-m", "reportgen", "--project", str(project), "run", "--quiet"],
                               cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while not list(proj.results_dir.glob(".staging-*/started")):
            assert time.time() < deadline, "the notebook never started"
            assert process.poll() is None, "the runner exited early"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the machine dies: runner and kernel at once
        process.wait()

    assert _snapshot(proj.results("demo")) == before             # nothing half-written taken for complete
    assert state_of(proj, discover(proj)[0]).state == "stale"    # and the next report will re-execute it
    assert list(proj.results_dir.glob(".staging-*"))              # the debris is there...

    write_run(project, "demo")                                    # back to a notebook that finishes
    assert main(["--project", str(project), "run", "--quiet"]) == 0
    assert not list(proj.results_dir.glob(".staging-*"))          # ...and the next run cleaned it up
    assert state_of(proj, discover(proj)[0]).state == "fresh"


def test_concurrent_reports_do_not_corrupt_results(project):
    write_run(project, "one")
    write_run(project, "two")
    command = [sys.executable, "-m", "reportgen", "--project", str(project), "run", "--quiet"]
    first = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    errors = [first.communicate(timeout=300)[1], second.communicate(timeout=300)[1]]
    assert first.returncode == 0 and second.returncode == 0, errors
    proj = Project.at(project)
    for run_id in ("one", "two"):
        record = json.loads((proj.results(run_id) / "run.json").read_text())
        assert record["status"] == "ok"
        assert (proj.results(run_id) / "figures" / "curves.png").stat().st_size > 0
    executions = sum(err.count("executing tiny.ipynb") for err in errors)
    assert executions == 2  # each run executed once: the second process waited, then found them fresh
    assert not list(proj.results_dir.glob(".staging-*")) and not list(proj.results_dir.glob(".old-*"))


def test_a_failure_status_from_the_notebook_fails_the_run(project):
    """The notebook catches a NaN loss itself and says so in status.json: the run is failed, not ok."""
    write_notebook(project / "experiments" / "nan.ipynb", """
        from reportgen.record import Recorder
        Recorder().json("status", {"status": "nan_loss", "message": "la loss se volvió NaN en la época 3"})
    """)
    write_run(project, "diverges", notebook="nan")
    assert main(["--project", str(project), "run", "--quiet"]) == EXIT_FAILED
    proj = Project.at(project)
    failed = json.loads((proj.failed_results("diverges") / "run.json").read_text())
    assert failed["status"] == "failed" and "NaN en la época 3" in failed["error_summary"]
    assert not proj.results("diverges").exists()


def test_a_notebook_that_names_no_kernel_runs_on_the_projects_python(project):
    """Notebooks written by tools (or by hand) often carry no kernelspec or language metadata."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("n = 3", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("print('contados', n)")]
    nbformat.write(nb, str(project / "experiments" / "desnudo.ipynb"))
    write_run(project, "desnudo", notebook="desnudo", parameters={"n": 5})
    assert main(["--project", str(project), "report", "--quiet"]) == 0
    assert "contados 5" in (project / "site" / "runs" / "desnudo" / "index.html").read_text()


def test_an_attempt_that_failed_before_its_first_cell_still_builds_the_site(project):
    """A failure with no notebook (a worker lost, a kernel that never started) links to nothing missing."""
    write_run(project, "perdida")
    failed = Project.at(project).failed_results("perdida")
    failed.mkdir(parents=True)
    (failed / "run.json").write_text(json.dumps({
        "run_id": "perdida", "status": "failed", "finished": "2026-11-24T10:00:00+00:00", "failed_cell": None,
        "error_summary": "el worker se perdió", "error_tail": "el worker se perdió"}))
    assert main(["--project", str(project), "report", "--no-execute", "--quiet"]) == 0
    for page in ("comparacion.html", "runs/perdida/index.html"):
        html = (project / "site" / page).read_text()
        assert "el worker se perdió" in html and "notebook-fallido" not in html


def test_shell_commands_in_a_cell_run_in_the_projects_environment(project, monkeypatch):
    """`!pip` and `!python` find this interpreter's folder first, so they install where `import` looks,
    even when the environment was never activated (its folder left out of PATH here)."""
    from pathlib import Path

    from reportgen.scrub import Scrubber

    folder = str(Path(sys.executable).absolute().parent)
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != folder))
    write_notebook(project / "experiments" / "shell.ipynb",
                   "!which pip\n!python -c \"import sys; print('prefix:', sys.prefix)\"\n%pip --version")
    write_run(project, "shell", notebook="shell")
    proj = Project.at(project)
    execute(proj, discover(proj)[0], progress=False)
    executed = nbformat.read(str(proj.results("shell") / "notebook.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    scrub = Scrubber(project).text  # the published notebook is scrubbed: so is what it is compared with
    lines = printed.splitlines()
    assert lines[0] == scrub(str(Path(folder) / "pip")), printed
    assert lines[1] == "prefix: " + scrub(sys.prefix), printed
    assert scrub(sys.prefix) in lines[2], printed  # %pip: the kernel's own pip
