"""Damaging inputs (issue 20): nothing from outside a results folder or the project is published,
no run's results are lost to another run, generated pages never land in docs/.

Each test builds from a results folder made without a kernel (tests/results_fixtures.py), except the
one whose notebook damages another run's results, which executes it for real.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.errors import CorruptResults
from reportgen.harvest import harvest_run
from reportgen.project import Project
from reportgen.runs import discover
from reportgen.runs.guard import ResultsGuard

from conftest import write_notebook, write_run
from html_checks import live_script_problems
from results_fixtures import recorded_results, site_bytes

OUTSIDE = "contenido-de-fuera-del-proyecto-7f3a"


@pytest.fixture
def outside(tmp_path) -> Path:
    """A file outside the project, whose bytes must never reach a site."""
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(OUTSIDE)
    return path


def _report(project: Path, capsys) -> tuple[int, str]:
    code = main(["--project", str(project), "report", "--no-execute", "--quiet"])
    return code, capsys.readouterr().err


def _refused(project: Path, capsys, *named: str) -> str:
    """The build is refused as a corrupt results folder (exit 3) naming the file, and publishes nothing."""
    code, err = _report(project, capsys)
    assert code == 3, err
    assert "Traceback" not in err
    for name in named:
        assert name in err, err
    site = project / "site"
    assert not site.exists() or OUTSIDE.encode() not in site_bytes(site)
    return err


# ------------------------------------------------------------------ links and paths in a results folder

def test_a_table_linked_out_of_its_results_folder_is_refused(project, outside, capsys):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    (folder / "leak.csv").symlink_to(outside)
    _refused(project, capsys, "leak.csv", "link leading out of the folder")


def test_a_figure_linked_out_of_its_results_folder_is_refused(project, outside, capsys):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    (folder / "figures" / "curvas.png").unlink()
    (folder / "figures" / "curvas.png").symlink_to(outside)
    _refused(project, capsys, "curvas.png")


@pytest.mark.parametrize("written", ["/etc/hostname", "../../../mkdocs.yml", "figures/../../../mkdocs.yml",
                                     "~/x.png", "C:\\x.png"])
@pytest.mark.parametrize("index", ["figures.json", "records.json"])
def test_a_file_named_outside_the_folder_by_its_index_is_refused(project, capsys, written, index):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    path = folder / index
    entries = json.loads(path.read_text())
    if index == "figures.json":
        entries["curvas"]["file"] = written
    else:
        next(e for e in entries if e["kind"] == "figure")["file"] = written
    path.write_text(json.dumps(entries))
    _refused(project, capsys, index)


def test_a_link_inside_the_folder_is_followed(project, capsys):
    """Containment refuses what leaves the folder, not links as such."""
    write_run(project, "t")
    folder = recorded_results(project, "t")
    (folder / "copia.csv").symlink_to(folder / "tabla.csv")
    code, err = _report(project, capsys)
    assert code == 0, err
    assert (project / "site" / "runs" / "t" / "datos" / "copia.csv").read_bytes() == (folder / "tabla.csv").read_bytes()


def test_a_results_folder_that_is_a_link_is_refused(project, tmp_path, capsys):
    write_run(project, "t")
    elsewhere = recorded_results(tmp_path / "other", "t")
    (project / "experiments" / "results").mkdir(parents=True, exist_ok=True)
    (project / "experiments" / "results" / "t").symlink_to(elsewhere)
    _refused(project, capsys, "results/t", "link")


def test_a_notebook_or_run_record_linked_out_is_refused(project, outside, capsys):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    (folder / "notebook.ipynb").unlink()
    (folder / "notebook.ipynb").symlink_to(outside)
    _refused(project, capsys, "notebook.ipynb")
    shutil.rmtree(folder)
    folder = recorded_results(project, "t")
    (folder / "run.json").unlink()
    (folder / "run.json").symlink_to(outside)
    _refused(project, capsys, "run.json")


def test_a_failed_attempts_notebook_linked_out_is_refused(project, outside, capsys):
    write_run(project, "t")
    folder = recorded_results(project, "t", status="failed", error_summary="ValueError: x")
    (folder / "notebook.ipynb").unlink()
    (folder / "notebook.ipynb").symlink_to(outside)
    _refused(project, capsys, "notebook.ipynb")


def test_harvest_refuses_a_dangling_link_rather_than_skipping_it(project):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    (folder / "ghost.json").symlink_to(folder / "nowhere.json")
    run, = discover(Project.at(project), check_notebooks=False)
    with pytest.raises(CorruptResults, match="ghost.json"):
        harvest_run(Project.at(project), run)


# ------------------------------------------------------------------ run files

def test_a_run_file_named_with_html_is_refused_before_anything_runs(project, capsys):
    write_run(project, "<img src=x onerror=alert(1)>")
    code = main(["--project", str(project), "report", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "run id" in err and "onerror" in err and "Traceback" not in err
    assert not (project / "experiments" / "results").exists() and not (project / "site").exists()


def test_a_run_id_taking_a_failed_attempts_folder_is_refused(project, capsys):
    write_run(project, "t")
    write_run(project, "t.failed")
    recorded_results(project, "t", status="failed", error_summary="ValueError: x")
    kept = (project / "experiments" / "results" / "t.failed" / "run.json").read_bytes()
    code = main(["--project", str(project), "run", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "t.failed.yaml" in err and "'.failed'" in err
    assert (project / "experiments" / "results" / "t.failed" / "run.json").read_bytes() == kept


@pytest.mark.parametrize("notebook", ["/etc/passwd", "../../outside", "sub/../../x", "~/x", ".hidden"])
def test_a_notebook_outside_experiments_is_refused(project, capsys, notebook):
    write_run(project, "t", notebook=notebook)
    code = main(["--project", str(project), "report", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "t.yaml" in err and "field 'notebook'" in err and "Traceback" not in err


def test_a_notebook_linked_out_of_experiments_is_refused(project, tmp_path, capsys):
    outside_notebook = write_notebook(tmp_path / "elsewhere.ipynb", "print(1)")
    (project / "experiments" / "fuera.ipynb").symlink_to(outside_notebook)
    write_run(project, "t", notebook="fuera")
    code = main(["--project", str(project), "run", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "field 'notebook'" in err and "link leading out of experiments/" in err


def test_a_notebook_in_a_sub_folder_of_experiments_is_accepted(project):
    (project / "experiments" / "semana2").mkdir()
    shutil.copy(project / "experiments" / "tiny.ipynb", project / "experiments" / "semana2" / "cnn.ipynb")
    write_run(project, "t", notebook="semana2/cnn")
    assert [run.config.notebook for run in discover(Project.at(project))] == ["semana2/cnn"]


def test_no_absolute_path_reaches_a_page_or_the_search_index(project, capsys):
    """The pages name a run's notebook as written (relative to experiments/), never where it lies."""
    (project / "experiments" / "semana2").mkdir()
    write_run(project, "t", notebook="semana2/cnn")
    recorded_results(project, "t", notebook="semana2/cnn")
    code, err = _report(project, capsys)
    assert code == 0, err
    published = site_bytes(project / "site")
    assert str(project).encode() not in published and str(project.parent).encode() not in published
    assert (project / "site" / "search" / "search_index.json").is_file()


# ------------------------------------------------------------------ render --out

def test_render_out_never_writes_into_docs(project, capsys):
    write_run(project, "t")
    recorded_results(project, "t")
    (project / "docs" / "index.md").write_text("# Mi portada\n")
    before = sorted(p.relative_to(project) for p in (project / "docs").rglob("*"))
    (project / "docs-link").symlink_to(project / "docs")
    for out in ("docs", "docs/sub", "docs/runs/t", "docs-link", "docs/../docs"):
        code = main(["--project", str(project), "render", "--out", str(project / out), "--force"])
        err = capsys.readouterr().err
        assert code == 2 and "docs/" in err, (out, err)
    assert (project / "docs" / "index.md").read_text() == "# Mi portada\n"
    assert sorted(p.relative_to(project) for p in (project / "docs").rglob("*")) == before


def test_render_out_needs_force_for_a_folder_that_holds_files(project, tmp_path, capsys):
    write_run(project, "t")
    recorded_results(project, "t")
    out = tmp_path / "pages"
    out.mkdir()
    (out / "mine.txt").write_text("mío")
    assert main(["--project", str(project), "render", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and sorted(os.listdir(out)) == ["mine.txt"]
    assert main(["--project", str(project), "render", "--out", str(out), "--force"]) == 0
    assert (out / "runs" / "t" / "index.md").is_file() and (out / "mine.txt").read_text() == "mío"
    assert main(["--project", str(project), "render", "--out", str(tmp_path / "new")]) == 0


# ------------------------------------------------------------------ runs cannot hurt each other

def test_the_guard_restores_what_changed_byte_for_byte(project):
    recorded_results(project, "a")
    recorded_results(project, "b", status="failed", error_summary="x")
    results = project / "experiments" / "results"
    before = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}
    with ResultsGuard(Project.at(project)) as guard:
        assert guard.changes() == []
        shutil.rmtree(results / "a" / "figures")
        (results / "b.failed" / "run.json").write_text("{}")
        (results / "fake").mkdir()
        assert sorted(guard.restore()) == ["a/ was changed", "b.failed/ was changed", "fake was added"]
        assert guard.changes() == []
    after = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.slow
def test_a_notebook_that_damages_another_runs_results_fails_and_loses_nothing(project, capsys):
    write_run(project, "other")
    recorded_results(project, "other")
    results = project / "experiments" / "results"
    before = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}
    write_notebook(project / "experiments" / "vandal.ipynb", f"""
        import os, pathlib, shutil
        other = pathlib.Path(os.environ["REPORTGEN_RESULTS_DIR"]).parent / "other"
        (other / "tabla.csv").write_text("cambiado")
        shutil.rmtree(other / "figures")
        print("done")
    """)
    write_run(project, "vandal", notebook="vandal")
    code = main(["--project", str(project), "run", "vandal", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1, err
    after = {p.relative_to(results): p.read_bytes() for p in results.rglob("*")
             if p.is_file() and p.relative_to(results).parts[0] == "other"}
    assert after == before
    failed = json.loads((results / "vandal.failed" / "run.json").read_text())
    assert failed["status"] == "failed" and "other/ was changed" in failed["error_summary"]
    assert not (results / "vandal").exists()
    assert main(["--project", str(project), "report", "--no-execute", "--quiet"]) == 0
    assert live_script_problems(project / "site") == []



def test_a_corrupt_folder_found_inside_the_build_is_exit_3(tmp_path, capsys):
    """The shipped runs have reflections, so their folders are first read by the MkDocs plugin: a run.json
    of the wrong types there is still a corrupt folder (exit 3) naming the file, not a failed build."""
    from conftest import committed_project

    root = committed_project(tmp_path / "portfolio")
    path = root / "experiments" / "results" / "demo" / "run.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "finished": "ayer", "failed_cell": -1}))
    err = _refused(root, capsys, "run.json", "finished")
    assert "demo" in err


# ------------------------------------------------------------------ other file-system tricks

def test_a_hard_link_to_a_file_outside_is_refused(project, outside, capsys):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    os.link(outside, folder / "hard.csv")
    _refused(project, capsys, "hard.csv", "hard link")


@pytest.mark.parametrize("name", ["loop.json", "figures/curvas.png"])
def test_a_link_that_loops_is_a_corrupt_results_folder(project, capsys, name):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    (folder / name).unlink(missing_ok=True)
    (folder / name).symlink_to(Path(name).name)
    _refused(project, capsys, name)


def test_a_file_name_that_is_not_utf8_is_a_corrupt_results_folder(project, capsys):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    (folder / os.fsdecode(b"tabla\xff.csv")).write_text("a\n1\n")
    _refused(project, capsys, "not UTF-8")


@pytest.mark.parametrize("suffix", ["svg", "html", "htm", "xhtml"])
@pytest.mark.parametrize("index", ["figures.json", "records.json"])
def test_a_figure_that_is_a_document_is_refused(project, capsys, suffix, index):
    """Published as it is, an SVG or HTML 'figure' would be a page of the site running its own script."""
    write_run(project, "t")
    folder = recorded_results(project, "t")
    (folder / "figures" / f"evil.{suffix}").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                                                      '<script>alert(2)</script></svg>')
    path = folder / index
    entries = json.loads(path.read_text())
    if index == "figures.json":
        entries["curvas"]["file"] = f"figures/evil.{suffix}"
    else:
        next(e for e in entries if e["kind"] == "figure")["file"] = f"figures/evil.{suffix}"
    path.write_text(json.dumps(entries))
    _refused(project, capsys, index, f"evil.{suffix}")
    assert not list((project / "site").rglob(f"evil.{suffix}")) if (project / "site").exists() else True
