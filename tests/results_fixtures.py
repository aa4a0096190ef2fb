"""Results folders made without a kernel: what the Recorder and the runner write, for tests that
build a site from results (containment, hostile strings) in seconds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import nbformat


def executed_notebook(path: Path, *sources: str, heading: str = "# Notebook") -> Path:
    """A notebook as papermill leaves it: a heading, a parameters cell, code cells with their outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("language = 'es'", execution_count=1)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(heading), params]
    for number, source in enumerate(sources, start=2):
        cell = nbformat.v4.new_code_cell(source, execution_count=number)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hecho\n")]
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def recorded_results(root: Path, run_id: str, notebook: str = "tiny", *, status: str = "ok",
                     stage: str = "Datos", names: dict | None = None, title: str | None = None,
                     **record) -> Path:
    """experiments/results/<run_id>/ as a successful (or failed) run leaves it: a Recorder's files
    (a stage, a metric, a table, a figure, facts), the executed notebook and run.json.
    `names`: hostile names and captions for what is recorded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from reportgen.record import Recorder

    names = {"metric": "accuracy", "group": None, "table": "tabla", "figure": "curvas", "caption": "Curvas",
             "column": "valor", **(names or {})}
    folder = root / "experiments" / "results" / (run_id if status == "ok" else f"{run_id}.failed")
    rec = Recorder(folder)
    with rec.stage(stage):
        rec.json("notes", {"dataset": names.get("dataset", "synthetic"), "class_names": ["a", "b"]})
        rec.metric(names["metric"], 0.75, group=names["group"])
        rec.table(names["table"], pd.DataFrame({names["column"]: [names["caption"], "1"]}), caption=names["caption"])
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        rec.figure(fig, names["figure"], caption=names["caption"])
    executed_notebook(folder / "notebook.ipynb", "print('hecho')")
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    run_json = {"run_id": run_id, "status": status, "notebook": notebook, "title": title or f"Corrida {run_id}",
                "cache_key": "0" * 16, "cache_components": {}, "parameters": {"language": "es"},
                "started": now, "finished": now, "seconds": 1.0, **record}
    (folder / "run.json").write_text(json.dumps(run_json), encoding="utf-8")
    return folder


def site_bytes(site: Path) -> bytes:
    """Every byte the built site publishes, to look for what must not be there."""
    return b"".join(path.read_bytes() for path in sorted(site.rglob("*")) if path.is_file())


# ------------------------------------------------------------------ the practice's results, from numbers

CLASSES = [f"flor_{i}" for i in range(6)]
PRESENT = 4  # the test split holds classes 0-3 only
SEEDS = {"baseline": [0, 1, 2], "advanced": [0, 2]}  # advanced seed 1 diverged
N = 200


def _model_result(pipeline: str, seed: int, accuracy: float, rng) -> dict:
    """What evaluate_pipeline returns for one model, made from numbers (no network is trained)."""
    import numpy as np

    from reportgen.practice import evaluation as ev

    labels = np.arange(N) % PRESENT
    right = rng.random(N) < accuracy
    predicted = np.where(right, labels, (labels + 1) % PRESENT)
    probs = np.full((N, len(CLASSES)), 0.02)
    probs[np.arange(N), predicted] = 0.9
    probs /= probs.sum(axis=1, keepdims=True)
    train_right, val_right = rng.random(300) < accuracy + 0.05, rng.random(100) < accuracy
    return {"pipeline": pipeline, "seed": seed, "test_size": N, "top_k": 3,
            "metrics": ev.classification_metrics(labels, probs, CLASSES, top_k=3),
            "train_accuracy": train_right.mean(), "val_accuracy": val_right.mean(),
            "tta": None, "robustness": None, "calibration": ev.calibration(labels, probs),
            "top_k_examples": ev.top_k_examples(labels, probs, CLASSES, k=3),
            "per_image": {"test_correct": right.astype(float), "test_confidence": probs.max(axis=1),
                          "tta_correct": None, "perturbed_score": None,
                          "train_correct": train_right.astype(float), "val_correct": val_right.astype(float)}}


def practice_results(folder: Path, accuracy: dict) -> None:
    """A practice's results folder as the notebook leaves it (numbers only, no network trained):
    `accuracy` {'baseline': p, 'advanced': q} is each model's chance of a right answer on each of
    N test images of CLASSES; advanced seed 1 diverged."""
    import numpy as np
    import pandas as pd

    from reportgen.practice import evaluation as ev
    from reportgen.practice.config import RunParameters
    from reportgen.record import write_json

    rng = np.random.default_rng(0)
    per_model = {p: [_model_result(p, s, accuracy[p], rng) for s in seeds] for p, seeds in SEEDS.items()}
    folder.mkdir(parents=True)
    write_json(folder / "run.json", {"status": "ok", "finished": "2026-11-24T00:00:00", "seconds": 10,
                                     "parameters": RunParameters().model_dump(mode="json")})  # the defaults, as run
    nbformat.write(nbformat.v4.new_notebook(), str(folder / "notebook.ipynb"))  # a results folder has its notebook
    write_json(folder / "metrics.json", ev.build_report(per_model, CLASSES))
    write_json(folder / "pipelines.json", {"baseline": [{"op": "flip", "mode": "horizontal"}], "advanced": [],
                                           "mixup": None, "cutmix": None, "preset": "natural", "risks": []})
    write_json(folder / "per_image.json", ev.per_image_record(per_model))
    write_json(folder / "protocol.json", {
        "settings": {"backbone": "small_cnn", "epochs": 3, "optimizer": "adam", "learning_rate": 0.002,
                     "schedule": "cosine", "fine_tune_epochs": 0, "early_stopping_patience": None,
                     "seeds": [0, 1, 2], "momentum": None},
        "diverged": [{"pipeline": "advanced", "seed": 1, "epoch": 2, "phase": 1, "learning_rate": 0.5}]})
    rows = [{"pipeline": p, "seed": s, "epoch": e, "phase": 1, "loss": 1 / e, "accuracy": 0.5, "val_loss": 1 / e,
             "val_accuracy": 0.5, "learning_rate": 0.002, "epoch_seconds": 1.0}
            for p in SEEDS for s in (0, 1, 2) for e in (1, 2, 3)]
    history = pd.DataFrame(rows)
    history.loc[(history.pipeline == "advanced") & (history.seed == 1) & (history.epoch == 2), "loss"] = np.nan
    history = history[~((history.pipeline == "advanced") & (history.seed == 1) & (history.epoch == 3))]
    history.to_csv(folder / "history.csv", index=False)
