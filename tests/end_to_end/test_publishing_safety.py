"""Nothing local leaks into what gets published: paths, user and host names, secrets."""

from __future__ import annotations

import pytest

import getpass
import socket

from reportgen.cli import main

from conftest import write_notebook, write_run

pytestmark = pytest.mark.slow  # every test here executes a notebook

SECRET = "ghp_s3cr3tT0kenValue1234567890"


def test_site_and_results_hold_no_local_paths_or_secrets(project, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    write_notebook(project / "experiments" / "leaky.ipynb", """
        import os, pathlib, socket, getpass
        print("cwd:", pathlib.Path.cwd())
        print("home:", pathlib.Path.home())
        print("token:", os.environ.get("GITHUB_TOKEN"))
        print("who:", getpass.getuser(), "on", socket.gethostname())
        from reportgen.record import Recorder
        Recorder().json("notes", {"name": "x", "origin": str(pathlib.Path.cwd() / "data")})
        raise RuntimeError(f"failed in {pathlib.Path.cwd()} with {os.environ['GITHUB_TOKEN']}")
    """)
    write_run(project, "leaky", notebook="leaky")
    main(["--project", str(project), "report", "--quiet"])

    forbidden = [SECRET, str(project), str(project.parent)]
    names = [n for n in (getpass.getuser(), socket.gethostname()) if len(n) >= 3]
    published = [p for folder in ("site", "experiments/results", "docs")
                 for p in (project / folder).rglob("*") if p.is_file()
                 and p.suffix in {".html", ".md", ".json", ".ipynb", ".log", ".csv", ".txt"}]
    assert any(p.name == "notebook.ipynb" for p in published)
    for path in published:
        text = path.read_text(encoding="utf-8", errors="replace")
        for value in forbidden:
            assert value not in text, f"{value!r} leaked into {path.relative_to(project)}"
        for name in names:
            assert f"who: {name}" not in text and f" on {name}" not in text, f"{name!r} leaked into {path}"
    assert "[redactado]" in (project / "experiments" / "results" / "leaky.failed" / "notebook.ipynb").read_text()
