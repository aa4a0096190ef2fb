"""The practice's contract (reportgen/facts.py): a new headline metric is three lines in three files,
and from them it is computed, recorded, aggregated over seeds, and shown in the run page's table in
the one form its field declares, in every language."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from reportgen.facts import PERCENT, PLAIN, SeedMetrics, headline_metrics
from reportgen.render import numbers

from conftest import PRACTICE_SCHEMA, REPO, write_notebook, write_run

# The whole change a maintainer makes for a new metric, Matthews' correlation coefficient:
# (file, the line it goes after, the new line).
NEW_METRIC = [
    ("reportgen/facts.py", '    ece: float = _metric(PLAIN, 3, "expected calibration error", card=True)\n',
     "    matthews: float = _metric(PLAIN, 3)\n"),
    ("reportgen/practice/evaluation.py", "    accuracy_score,\n", "    matthews_corrcoef,\n"),
    ("reportgen/practice/evaluation.py", '        "macro_f1": float(f1[present].mean()),\n',
     '        "matthews": float(matthews_corrcoef(y_true, predicted)),\n'),
    ("reportgen/render/strings/en.yaml", "    macro_f1: F1 macro\n", "    matthews: Matthews correlation\n"),
]

RENDER = """
import sys
from pathlib import Path

import reportgen
from reportgen.cli import main
from reportgen.facts import MetricsReport
from reportgen.practice.evaluation import metrics_table
from results_fixtures import practice_results

project = Path(sys.argv[1])
assert Path(reportgen.__file__).is_relative_to(Path(sys.argv[2])), reportgen.__file__
folder = project / "experiments" / "results" / "numbers"
practice_results(folder, {"baseline": 0.6, "advanced": 0.8})
report = MetricsReport.model_validate_json((folder / "metrics.json").read_text())
metrics_table(report).to_csv(folder / "metrics.csv", index=False)  # as the evaluation stage records it
sys.exit(main(["--project", str(project), "render", "--quiet", "--out", str(project / "rendered")]))
"""


def _with_new_metric(copy: Path) -> list[str]:
    """The package copied to `copy`, the new metric added to it; the files that differ from ours."""
    shutil.copytree(REPO / "reportgen", copy / "reportgen", ignore=shutil.ignore_patterns("__pycache__"))
    for name, anchor, line in NEW_METRIC:
        path = copy / name
        text = path.read_text(encoding="utf-8")
        assert text.count(anchor) == 1, f"{name}: the line the metric goes after is not there once"
        path.write_text(text.replace(anchor, anchor + line), encoding="utf-8")
    return sorted(str(path.relative_to(copy)) for path in (copy / "reportgen").rglob("*")
                  if path.is_file() and not filecmp.cmp(path, REPO / path.relative_to(copy), shallow=False))


def test_a_new_headline_metric_is_three_files_and_reaches_the_page(project, tmp_path):
    changed = _with_new_metric(tmp_path / "copy")
    assert len(changed) <= 3, changed

    write_notebook(project / "experiments" / "practice.ipynb", schema=PRACTICE_SCHEMA, parameters="training = {}")
    pages = {}
    for language in ("es", "en"):
        write_run(project, "numbers", notebook="practice", language=language)
        shutil.rmtree(project / "experiments" / "results", ignore_errors=True)
        shutil.rmtree(project / "rendered", ignore_errors=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "copy"), str(REPO / "tests")])}
        done = subprocess.run([sys.executable, "-c", RENDER, str(project), str(tmp_path / "copy")],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        pages[language] = (project / "rendered" / "runs" / "numbers" / "index.md").read_text(encoding="utf-8")

    results = project / "experiments" / "results" / "numbers"
    metrics = json.loads((results / "metrics.json").read_text())
    baseline, advanced = (metrics["pipelines"][p] for p in ("baseline", "advanced"))
    assert all("matthews" in seed for seed in baseline["seeds"] + advanced["seeds"])
    assert baseline["aggregate"]["matthews"]["values"] == [seed["matthews"] for seed in baseline["seeds"]]
    assert (results / "metrics.csv").read_text().count(",matthews,") == 5  # 3 baseline seeds, 2 advanced

    mean = {p: metrics["pipelines"][p]["aggregate"]["matthews"]["mean"] for p in ("baseline", "advanced")}
    for language, page in pages.items():
        row = re.search(r"^\| Matthews correlation \| (.+?) ± .+? \| (.+?) ± .+? \| (.+?) \|$", page, re.MULTILINE)
        assert row, f"{language}: no results row for the new metric"
        shown = [numbers.value("macro_f1", mean[p], language) for p in ("baseline", "advanced")]  # PLAIN, 3
        assert [row[1], row[2]] == shown
        assert row[3] == numbers.difference("macro_f1", mean["advanced"], mean["baseline"], language)
    assert "0," in pages["es"].split("Matthews correlation")[1].splitlines()[0]  # the Spanish decimal mark


def test_every_headline_metric_declares_how_it_reads():
    forms = headline_metrics()
    assert list(forms) == [name for name in SeedMetrics.model_fields if name != "seed"]
    for name, shown in forms.items():
        assert shown["form"] in (PERCENT, PLAIN) and isinstance(shown["digits"], int), name
        assert numbers.quantity(name) == (shown["form"], shown["digits"])
    assert [name for name, shown in forms.items() if shown["card"]] == ["accuracy", "macro_f1", "ece"]
