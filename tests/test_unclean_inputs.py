"""Unclean inputs (issue 20): each ends in one paragraph naming the file or field, with the right exit
code (errors.exit_status), no traceback, nothing lost. Most need no kernel."""

from __future__ import annotations

import json
import shutil
import time

import nbformat
import pytest

from reportgen import cli
from reportgen.cli import main
from reportgen.errors import MAX_MESSAGE
from reportgen.project import Project
from reportgen.runs import discover

from conftest import write_notebook, write_run
from results_fixtures import recorded_results


def _cli(project, capsys, *args) -> tuple[int, str]:
    code = main(["--project", str(project), *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _write(project, name: str, text: str):
    path = project / "experiments" / "runs" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_impossible_date_names_the_field(project, capsys):
    _write(project, "t.yaml", "notebook: tiny\ntitle: T\ndate: 2026-02-30\n")
    code, err = _cli(project, capsys, "run", "--quiet")
    assert code == 2 and "t.yaml" in err and "field 'date'" in err


def test_a_yaml_bomb_is_refused_in_a_short_message(project, capsys):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
              f"*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    _write(project, "t.yaml", "notebook: tiny\ntitle: T\nparameters:\n" + "\n".join("  " + line for line in lines)
           + "\n")
    started = time.perf_counter()
    code, err = _cli(project, capsys, "run", "--quiet")
    assert code == 2 and "t.yaml" in err and "100,000 values" in err
    assert len(err) < 1000 and time.perf_counter() - started < 60


def test_a_huge_value_is_cut_in_the_message(project, capsys):
    write_run(project, "t", parameters={"epochs": "x" * 200_000})
    code, err = _cli(project, capsys, "run", "--quiet")
    assert code == 2 and "parameters.epochs" in err and len(err) < MAX_MESSAGE + 200


def test_a_matrix_above_the_limit_needs_the_flag(project, capsys):
    write_run(project, "grid", matrix={"epochs": list(range(100)), "x": list(range(100))})
    code, err = _cli(project, capsys, "status")
    assert code == 2 and "grid.yaml" in err and "10,000 combinations" in err and "--large-matrix" in err
    write_run(project, "grid", matrix={"epochs": list(range(300))})
    assert len(discover(Project.at(project), large_matrix=True)) == 300
    code, err = _cli(project, capsys, "status")
    assert code == 2 and "300 combinations" in err


def test_large_matrix_flag_reaches_discovery(project, monkeypatch):
    write_run(project, "grid", matrix={"epochs": list(range(300))})
    seen = {}
    monkeypatch.setattr(cli, "_require_practice", lambda: None)
    monkeypatch.setattr(cli, "COMMANDS", {**cli.COMMANDS, "status": lambda project, args: seen.setdefault(
        "runs", len(cli._runs(project, args))) and 0})
    monkeypatch.delenv("REPORTGEN_LARGE_MATRIX", raising=False)
    assert main(["--project", str(project), "status", "--large-matrix"]) == 0 and seen["runs"] == 300


@pytest.mark.parametrize("stem, said", [("a" * 250, "250 characters"), ("..", "run id"), ("Demo", "upper-case"),
                                        ("con", "Windows"), ("t.failed", "'.failed'"), ("-x", "run id")])
def test_run_ids_break_one_rule_with_exit_2(project, capsys, stem, said):
    write_run(project, stem)
    code, err = _cli(project, capsys, "report", "--no-execute", "--quiet")
    assert code == 2 and said in err and f"{stem}.yaml"[:60] in err


def test_matrix_ids_follow_the_rule(project):
    write_run(project, "grid", matrix={"label": ["Alta", "baja"], "epochs": [1]}, parameters={"label": "x"})
    write_notebook(project / "experiments" / "tiny.ipynb", "print(1)", parameters="label = 'x'\nepochs = 1")
    assert [run.id for run in discover(Project.at(project))] == ["grid-1-alta", "grid-1-baja"]
    write_run(project, "grid", matrix={"label": ["A", "a"]})
    assert all(run.id.startswith("grid-") and run.id == run.id.lower() for run in discover(Project.at(project)))


def test_an_infinite_timeout_is_refused(project, capsys):
    _write(project, "t.yaml", "notebook: tiny\ntitle: T\ntimeout_minutes: .inf\n")
    code, err = _cli(project, capsys, "run", "--quiet")
    assert code == 2 and "timeout_minutes" in err


def test_a_schema_that_is_not_a_pydantic_model_is_refused(project, capsys):
    write_notebook(project / "experiments" / "tiny.ipynb", "print(1)", schema="os:system")
    write_run(project, "t")
    code, err = _cli(project, capsys, "run", "--quiet")
    assert code == 2 and "os:system" in err and "not a pydantic model class" in err


def test_a_syntax_error_in_the_parameters_cell_is_exit_2_before_execution(project, capsys):
    write_notebook(project / "experiments" / "tiny.ipynb", "print(1)", parameters="epochs = (1\n%matplotlib inline")
    write_run(project, "t")
    code, err = _cli(project, capsys, "run", "--quiet")
    assert code == 2 and "tiny.ipynb" in err and "parameters" in err and "not valid Python" in err
    assert not (project / "experiments" / "results").exists()


def test_magics_in_the_parameters_cell_are_valid(project):
    write_notebook(project / "experiments" / "tiny.ipynb", "print(1)", parameters="%matplotlib inline\nepochs = 1")
    write_run(project, "t", parameters={"epochs": 2})
    assert discover(Project.at(project))[0].config.parameters == {"epochs": 2}


def test_an_nbformat_3_notebook_has_its_parameters_read(project):
    v3 = nbformat.v3
    cell = v3.new_code_cell(input="epochs = 1\nlanguage = 'es'", metadata={"tags": ["parameters"]})
    nb = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[cell, v3.new_code_cell(input="print(epochs)")])])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (project / "experiments" / "old.ipynb").write_text(v3.writes_json(nb), encoding="utf-8")
    assert json.loads((project / "experiments" / "old.ipynb").read_text())["nbformat"] == 3
    write_run(project, "t", notebook="old", parameters={"epochs": 3})
    assert discover(Project.at(project))[0].config.parameters == {"epochs": 3}
    write_run(project, "t", notebook="old", parameters={"epocs": 3})
    with pytest.raises(Exception, match="closest: 'epochs'"):
        discover(Project.at(project))


def test_a_run_record_with_wrong_types_is_corrupt_and_never_fresh(project, capsys):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    record = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**record, "seconds": "mucho", "parameters": [1, 2]}))
    code, err = _cli(project, capsys, "report", "--no-execute", "--quiet")
    assert code == 3 and "run.json" in err and "seconds" in err
    code, out_err = main(["--project", str(project), "status"]), capsys.readouterr()
    assert code == 3 and "corrupt" in out_err.out and "fresh" not in out_err.out


@pytest.mark.parametrize("address, said", [("not a url", "HOST:PORT"), ("foo://host:1", "unknown protocol"),
                                           ("tcp://host:99999", "not a Dask scheduler"), ("tcp://host", "port")])
def test_a_bad_scheduler_address_is_refused_before_the_lock(project, capsys, monkeypatch, address, said):
    import reportgen.runs.execution as execution

    write_run(project, "t")
    monkeypatch.setattr(execution, "results_lock", lambda project: pytest.fail("the lock was taken"))
    code, err = _cli(project, capsys, "run", "--scheduler", address)
    assert code == 2 and "--scheduler" in err and said in err


def test_a_missing_optional_dependency_is_exit_1_with_the_install_command(project, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("papermill", "distributed")
                        else real(name, *a))
    write_run(project, "t")
    code, err = _cli(project, capsys, "run", "--quiet")
    assert code == 1 and "papermill" in err and "pip install" in err
    monkeypatch.setattr(cli, "_require_practice", lambda: None)
    code, err = _cli(project, capsys, "run", "--workers", "2")
    assert code == 1 and "distributed" in err and "pip install 'reportgen[dask]'" in err


def test_ctrl_c_is_one_line_and_exit_130(project, capsys, monkeypatch):
    def interrupted(project, args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "COMMANDS", {**cli.COMMANDS, "status": interrupted})
    code, err = _cli(project, capsys, "status")
    assert code == 130 and len(err.strip().splitlines()) == 1 and "interrupted" in err


def test_ctrl_c_during_a_run_loses_nothing(project, monkeypatch):
    import papermill

    write_run(project, "t")
    recorded_results(project, "t")
    results = project / "experiments" / "results"
    before = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}

    def interrupted(*args, **kwargs):
        (results / "t" / "tabla.csv").write_text("a medias")  # what the notebook did before Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    assert main(["--project", str(project), "run", "--force", "--quiet"]) == 130
    after = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == before and sorted(p.name for p in results.iterdir() if p.name != ".lock") == ["t"]


def test_an_unexpected_error_is_one_paragraph_and_exit_1(project, capsys, monkeypatch):
    def broken(project, args):
        raise ZeroDivisionError("x" * 100_000)

    monkeypatch.setattr(cli, "COMMANDS", {**cli.COMMANDS, "status": broken})
    code, err = _cli(project, capsys, "status")
    assert code == 1 and "ZeroDivisionError" in err and "REPORTGEN_DEBUG" in err and len(err) < MAX_MESSAGE + 200


@pytest.mark.parametrize("url", ["http://a) [x](javascript:alert(1))", "javascript:alert(1)", "http://a b"])
def test_a_reference_url_that_is_not_one_is_refused(project, capsys, url):
    write_run(project, "t", references=[{"title": "r", "url": url}])
    code, err = _cli(project, capsys, "report", "--no-execute", "--quiet")
    assert code == 2 and "t.yaml" in err and "references.0.url" in err


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["import sys; sys.exit(0)", "raise SystemExit(3)", "import sys; sys.exit('adiós')"])
def test_a_cell_that_stops_the_notebook_is_a_failed_run_that_keeps_the_last_results(project, capsys, stop):
    write_notebook(project / "experiments" / "stops.ipynb", stop, "print('never')")
    write_run(project, "t", notebook="stops")
    kept = recorded_results(project, "t", notebook="stops")
    shutil.copytree(kept, project / "kept")
    code, err = _cli(project, capsys, "run", "--force", "--quiet")
    assert code == 1, err
    assert sorted(p.name for p in kept.rglob("*")) == sorted(p.name for p in (project / "kept").rglob("*"))
    assert json.loads((kept / "run.json").read_text()) == json.loads((project / "kept" / "run.json").read_text())
    failed = json.loads((project / "experiments" / "results" / "t.failed" / "run.json").read_text())
    assert failed["status"] == "failed" and failed["failed_cell_number"] == 3 and "SystemExit" in failed["error_summary"]


@pytest.mark.parametrize("args, said", [(["new", "Mi<b>Run"], "run id"), (["new", "x.failed"], "'.failed'"),
                                        (["new", "ok", "--notebook", "../../fuera"], "--notebook")])
def test_new_holds_its_arguments_to_the_same_rules(project, capsys, args, said):
    code, err = _cli(project, capsys, *args)
    assert code == 2 and said in err
    assert sorted(p.name for p in (project / "experiments" / "runs").iterdir()) == []
    assert not (project.parent / "fuera.ipynb").exists()


def test_a_table_that_is_not_utf8_is_a_corrupt_results_folder(project, capsys):
    write_run(project, "t")
    folder = recorded_results(project, "t")
    (folder / "tabla.csv").write_bytes(b"valor\n\xff\xfe\n")
    code, err = _cli(project, capsys, "report", "--no-execute", "--quiet")
    assert code == 3 and "tabla.csv" in err and "UTF-8" in err and err.count("corrupt results") == 1


def test_a_notebook_off_the_schema_is_named_in_one_line(project, tmp_path, capsys, caplog):
    """nbformat logs a schema problem as a dozen lines naming no file; the terminal gets one naming it."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    cell.metadata["tags"] = "hide-input"  # a string where nbformat wants a list
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), cell, nbformat.v4.new_markdown_cell("x")]
    nb.cells[0]["id"] = nb.cells[2]["id"] = "repetido"
    download = tmp_path / "colab.ipynb"
    download.write_text(json.dumps(nb), encoding="utf-8")
    code, err = _cli(project, capsys, "import", str(download), "colab")
    assert code == 0, err
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for text in (err, logged):
        assert "Failed validating" not in text and "DuplicateCellId" not in text and "Notebook JSON" not in text
    said = [line for line in (err + "\n" + logged).splitlines() if "notebook format" in line]
    assert len(said) == 1 and "colab.ipynb" in said[0] and "cells/1/metadata/tags" in said[0], said
    caplog.clear()
    code, err = _cli(project, capsys, "report", "--no-execute", "--quiet")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert code == 0 and "Failed validating" not in err + logged and "Notebook JSON" not in err + logged
    assert all("notebook.ipynb" in line for line in logged.splitlines() if "notebook format" in line), logged
