"""harvest: a results folder as the Recorder wrote it, read back into what the pages show."""

from __future__ import annotations

import json
import shutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from reportgen.harvest import harvest_run  # noqa: E402
from reportgen.project import Project  # noqa: E402
from reportgen.record import Recorder, write_json  # noqa: E402
from reportgen.runs import discover  # noqa: E402

from conftest import write_run  # noqa: E402


def recorded(project: Project, run_id: str, finished: str, status: str = "ok", folder=None):
    """A results folder written by the Recorder, as an execution leaves it."""
    folder = folder or project.results(run_id)
    rec = Recorder(folder)
    with rec.stage("datos"):
        rec.json("notes", {"dataset": "flores"})
    rec.metric("accuracy", 0.75, group="baseline")
    rec.table("history", pd.DataFrame({"epoch": [1, 2], "loss": [1.0, 0.5]}))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    rec.figure(fig, "curves", caption="Curvas")
    plt.close(fig)
    shutil.copy(project.notebook("tiny"), folder / "notebook.ipynb")  # the executed copy
    write_json(folder / "run.json", {"status": status, "finished": finished, "error_summary": "ValueError: x"})
    return folder


def test_a_successful_folder_gives_its_facts_metrics_tables_figures_and_records_in_order(project):
    write_run(project, "tiny")
    proj = Project.at(project)
    recorded(proj, "tiny", finished="2026-12-01T10:00:00")
    [run] = discover(proj)
    results = harvest_run(proj, run)
    assert results.status == "ok"
    assert results.facts["notes"] == {"dataset": "flores"} and "run" not in results.facts
    assert [(m.name, m.value, m.group) for m in results.metrics] == [("accuracy", 0.75, "baseline")]
    assert list(results.history["loss"]) == [1.0, 0.5]
    assert results.figures["curves"].caption == "Curvas" and results.figures["curves"].path.is_file()
    assert [(r.kind, r.name) for r in results.records] == [("metric", "accuracy"), ("table", "history"),
                                                          ("figure", "curves")]


def test_a_failure_newer_than_the_last_success_shows_as_failed_and_keeps_the_success(project):
    write_run(project, "tiny")
    proj = Project.at(project)
    recorded(proj, "tiny", finished="2026-12-01T10:00:00")
    recorded(proj, "tiny", finished="2026-12-02T10:00:00", status="failed", folder=proj.failed_results("tiny"))
    [run] = discover(proj)
    results = harvest_run(proj, run)
    assert results.status == "failed" and results.failure.summary == "ValueError: x"
    assert results.metrics and results.folder == proj.results("tiny")  # the last good results stay linked


def test_an_older_failure_does_not_hide_a_newer_success_and_nothing_recorded_is_new(project):
    write_run(project, "tiny")
    proj = Project.at(project)
    [run] = discover(proj)
    assert harvest_run(proj, run).status == "new"
    recorded(proj, "tiny", finished="2026-12-01T10:00:00", status="failed", folder=proj.failed_results("tiny"))
    recorded(proj, "tiny", finished="2026-12-02T10:00:00")
    results = harvest_run(proj, run)
    assert results.status == "ok" and results.failure is not None


def test_the_practices_headline_metrics_come_from_its_metrics_file_when_nothing_else_was_recorded(project):
    write_run(project, "tiny")
    proj = Project.at(project)
    folder = proj.results("tiny")
    folder.mkdir(parents=True)
    aggregate = {"mean": 0.8, "sd": 0.01, "n": 3}
    (folder / "metrics.json").write_text(json.dumps({"pipelines": {
        "baseline": {"aggregate": {"accuracy": aggregate}}, "advanced": {"aggregate": {"accuracy": {**aggregate, "mean": 0.9}}}}}))
    shutil.copy(proj.notebook("tiny"), folder / "notebook.ipynb")
    write_json(folder / "run.json", {"status": "ok", "finished": "2026-12-01T10:00:00"})
    [run] = discover(proj)
    metrics = harvest_run(proj, run).metrics
    assert [(m.name, m.group, m.value) for m in metrics] == [("accuracy", "baseline", 0.8), ("accuracy", "advanced", 0.9)]
