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
