"""The Recorder's manifest: what was recorded, in order, under which stage; read back by harvest."""

from __future__ import annotations

import json

import matplotlib
import pandas as pd
import pytest

from reportgen.record import Recorder
from reportgen.results import read_folder

matplotlib.use("Agg")


def test_records_keep_order_stage_and_group(tmp_path):
    import matplotlib.pyplot as plt

    rec = Recorder(tmp_path)
    rec.metric("loss", 1.0)
    with rec.stage("Entrenamiento"):
        rec.figure(plt.figure(), "curvas", caption="Curvas")
        with rec.stage("Detalle"):
            rec.table("historia", pd.DataFrame({"a": [1]}))
        rec.metric("accuracy", 0.8, group="baseline")
        rec.metric("accuracy", 0.9, group="avanzado")
    rec.metric("loss", 0.5)  # recorded again: replaces, moves to the end

    manifest = json.loads((tmp_path / "records.json").read_text())
    assert [(r["kind"], r["name"], r["stage"], r.get("group")) for r in manifest] == [
        ("figure", "curvas", "Entrenamiento", None), ("table", "historia", "Detalle", None),
        ("metric", "accuracy", "Entrenamiento", "baseline"), ("metric", "accuracy", "Entrenamiento", "avanzado"),
        ("metric", "loss", None, None)]
    (tmp_path / "notebook.ipynb").write_text("{}")  # read_folder reads a successful run's folder
    records = read_folder(tmp_path).records
    assert [r.metric.key for r in records if r.metric] == ["accuracy · baseline", "accuracy · avanzado", "loss"]
    assert records[0].path == tmp_path / "figures" / "curvas.png"


@pytest.mark.parametrize("name", ["../fuera", "a/b", ".oculto", ""])
def test_a_recorded_name_cannot_leave_the_results_folder(tmp_path, name):
    with pytest.raises(ValueError, match="recorded name"):
        Recorder(tmp_path).json(name, {})
