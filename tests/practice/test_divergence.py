"""A diverged training is a result, not a crash: through the real notebook, on tiny data.

Plain SGD at an absurd learning rate overflows the loss to NaN on the embedded flowers: at 1e6
every run in its first batches; at 1e5 only some seeds (which ones is deterministic on a CPU).
"""

from __future__ import annotations

import json

import pytest

from reportgen.cli import main

pytestmark = pytest.mark.slow


def run_with_learning_rate(tmp_path, learning_rate: float, seeds: list[int]):
    from conftest import TINY_PARAMETERS, make_project, write_run

    root = make_project(tmp_path / "portfolio")
    training = {**TINY_PARAMETERS["training"], "learning_rate": learning_rate, "optimizer": "sgd",
                "schedule": "constant", "seeds": seeds, "lr_sweep": None}
    write_run(root, "diverges", notebook="augmentation_xai", parameters={**TINY_PARAMETERS, "training": training})
    status = main(["--project", str(root), "run", "--quiet"])
    assert main(["--project", str(root), "render", "--quiet", "--out", str(root / "rendered")]) == 0
    return root, status


def test_a_run_where_every_seed_diverges_fails_with_the_divergence_as_its_error(tmp_path):
    root, status = run_with_learning_rate(tmp_path, 1e6, seeds=[0])
    assert status == 1
    failed = root / "experiments" / "results" / "diverges.failed"
    summary = json.loads((failed / "run.json").read_text())["error_summary"]
    assert "NaN" in summary and "'baseline', seed 0: epoch 1" in summary and "learning rate 1e+06" in summary
    protocol = json.loads((failed / "protocol.json").read_text())
    assert [(d["pipeline"], d["seed"]) for d in protocol["diverged"]] == [("baseline", 0), ("advanced", 0)]
    assert not (failed / "metrics.json").exists()  # no later stage ran on models that did not finish
    page = (root / "rendered" / "runs" / "diverges" / "index.md").read_text()
    assert "'baseline', seed 0: epoch 1" in page


def test_a_diverged_seed_is_reported_and_the_finished_seeds_make_the_results(tmp_path):
    root, status = run_with_learning_rate(tmp_path, 1e5, seeds=[0, 1, 2])
    assert status == 0
    results = root / "experiments" / "results" / "diverges"
    diverged = json.loads((results / "protocol.json").read_text())["diverged"]
    assert diverged, "no seed diverged at this learning rate: pick a larger one"
    metrics = json.loads((results / "metrics.json").read_text())
    for pipeline, report in metrics["pipelines"].items():
        lost = {d["seed"] for d in diverged if d["pipeline"] == pipeline}
        assert {seed["seed"] for seed in report["seeds"]} == {0, 1, 2} - lost
    page = (root / "rendered" / "runs" / "diverges" / "index.md").read_text()
    for d in diverged:
        pipeline = {"baseline": "baseline", "advanced": "avanzado"}[d["pipeline"]]
        assert (f"La semilla {d['seed']} del pipeline {pipeline} divergió (pérdida NaN) en la época {d['epoch']}, "
                f"con learning rate 100000") in page
    assert (root / "rendered" / "runs" / "diverges" / "figures" / "curves.png").exists()
