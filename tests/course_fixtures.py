"""Portfolios for the course view's tests and benchmark: local git repositories made on the spot.

Practice portfolios carry copies of the committed results of `experiments/results/demo` and
`shortcut` (numbers altered where a test needs it); others a notebook of one's own, a failed run,
a corrupt results folder, or hostile content.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
PRACTICE_RUNS = ("demo", "shortcut")
GIT = ["git", "-c", "user.email=student@example.org", "-c", "user.name=Student", "-c", "init.defaultBranch=main"]


def commit(folder: Path, message: str = "portfolio") -> None:
    if not (folder / ".git").exists():
        subprocess.run([*GIT, "init", "-q", str(folder)], check=True)
    subprocess.run([*GIT, "-C", str(folder), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(folder), "commit", "-qm", message, "--allow-empty"], check=True)


def practice_portfolio(folder: Path, runs=PRACTICE_RUNS, accuracy: dict | None = None,
                       answers: int = 0, edit_code: bool = False) -> Path:
    """A portfolio with the shipped practice runs' committed results; `accuracy` sets a pipeline's mean
    test accuracy (pipeline -> value); `answers` reflection questions of the demo answered."""
    (folder / "experiments" / "runs").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "experiments" / "augmentation_xai.ipynb", folder / "experiments")
    for run in runs:
        shutil.copy(REPO / "experiments" / "runs" / f"{run}.yaml", folder / "experiments" / "runs")
        shutil.copytree(REPO / "experiments" / "results" / run, folder / "experiments" / "results" / run,
                        ignore=shutil.ignore_patterns("notebook.log"))
    if edit_code:  # the committed notebook's code is no longer the one the results came from
        notebook = folder / "experiments" / "augmentation_xai.ipynb"
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "print('otra celda')",
                            "outputs": [], "execution_count": None})
        notebook.write_text(json.dumps(nb), encoding="utf-8")
    for pipeline, value in (accuracy or {}).items():
        path = folder / "experiments" / "results" / runs[0] / "metrics.json"
        metrics = json.loads(path.read_text(encoding="utf-8"))
        metrics["pipelines"][pipeline]["aggregate"]["accuracy"]["mean"] = value
        path.write_text(json.dumps(metrics), encoding="utf-8")
    if answers:
        seed = (REPO / "docs" / "runs" / runs[0] / "reflexion.md").read_text(encoding="utf-8")
        lines = seed.splitlines()
        questions = [i for i, line in enumerate(lines) if line.startswith("**")]
        for position in reversed(questions[:answers]):
            lines.insert(position + 1, "\nMi respuesta: el modelo aprendió a mirar el fondo, no la flor.")
        target = folder / "docs" / "runs" / runs[0] / "reflexion.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def own_notebook_portfolio(folder: Path, run_id: str = "mio", accuracy: float = 0.7, failed: bool = False) -> Path:
    """A notebook of one's own with committed results (a recorded accuracy), or only a failed attempt."""
    from reportgen.runs.cache import notebook_code_hash

    experiments = folder / "experiments"
    (experiments / "runs").mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Mi experimento\n\nComparo dos modelos."),
                nbformat.v4.new_code_cell("accuracy = 0.7\nprint(accuracy)")]
    nbformat.write(nb, str(experiments / "mio.ipynb"))
    (experiments / "runs" / f"{run_id}.yaml").write_text(
        yaml.safe_dump({"notebook": "mio", "title": f"Mi corrida {run_id}", "language": "es"}), encoding="utf-8")
    key = {"notebook": notebook_code_hash(experiments / "mio.ipynb")}
    if failed:
        results = experiments / "results" / f"{run_id}.failed"
        results.mkdir(parents=True)
        (results / "run.json").write_text(json.dumps({
            "status": "failed", "error_summary": "ValueError: la celda falló", "error_tail": "",
            "finished": "2026-11-30T10:00:00+00:00", "cache_components": key}), encoding="utf-8")
        return folder
    results = experiments / "results" / run_id
    results.mkdir(parents=True)
    nbformat.write(nb, str(results / "notebook.ipynb"))
    (results / "run.json").write_text(json.dumps({"status": "ok", "finished": "2026-11-30T10:00:00+00:00",
                                                  "cache_components": key}), encoding="utf-8")
    (results / "records.json").write_text(json.dumps([
        {"kind": "metric", "name": "accuracy", "value": accuracy, "stage": None}]), encoding="utf-8")
    return folder


def hostile_run_files(folder: Path) -> Path:
    """Run files whose id is markup and whose notebook lies outside experiments/ (refused by discover)."""
    practice_portfolio(folder, runs=("demo",))
    run_file = folder / "experiments" / "runs" / "demo.yaml"
    config = yaml.safe_load(run_file.read_text(encoding="utf-8"))
    shutil.copy(run_file, run_file.with_name("<img src=x onerror=alert(9)>.yaml"))
    outside = dict(config, notebook="../../../../../../../../tmp/<b>x</b>")
    run_file.with_name("fuera.yaml").write_text(yaml.safe_dump(outside), encoding="utf-8")
    return folder


def corrupt_portfolio(folder: Path) -> Path:
    """Two runs, each corrupt its own way: a run.json that does not parse, and numbers of the wrong shape."""
    practice_portfolio(folder)
    (folder / "experiments" / "results" / "demo" / "run.json").write_text("{not json", encoding="utf-8")
    metrics = folder / "experiments" / "results" / "shortcut" / "metrics.json"
    metrics.write_text(json.dumps({"pipelines": {"baseline": {"aggregate": "x"}, "advanced": []}}), encoding="utf-8")
    return folder


PWNED = "reportgen-course-pwned"  # a file a hostile portfolio tries to create by getting code executed


def hostile_portfolio(folder: Path, marker_dir: Path) -> Path:
    """Everything a hostile student could commit: links out, YAML that imports code, templates that reach
    Python, a schema naming a function, script in names, titles and the reflection."""
    practice_portfolio(folder)
    results = folder / "experiments" / "results" / "demo"
    escaping = folder / "experiments" / "results" / "shortcut"  # its files point out of its folder
    marker = marker_dir / PWNED
    (results / "leak.csv").symlink_to("/etc/passwd")
    (results / "figures").mkdir(exist_ok=True)
    (results / "figures" / "shadow.png").symlink_to("/etc/passwd")
    outside = "../" * 40 + "etc/passwd"
    (escaping / "figures.json").write_text(json.dumps({"escape": {"file": outside, "caption": "x"}}), encoding="utf-8")
    records = json.loads((escaping / "records.json").read_text(encoding="utf-8"))
    records.append({"kind": "table", "name": "escape", "file": outside, "caption": "x"})
    (escaping / "records.json").write_text(json.dumps(records), encoding="utf-8")
    (folder / "mkdocs.yml").write_text(f"site_name: !!python/object/apply:os.system ['touch {marker}']\n"
                                       "markdown_extensions: [!!python/name:os.system ]\n", encoding="utf-8")
    (folder / "templates").mkdir()
    (folder / "templates" / "run_page.md.j2").write_text(
        "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }} TEMPLATE-OF-THE-STUDENT",
        encoding="utf-8")
    run_file = folder / "experiments" / "runs" / "demo.yaml"
    config = yaml.safe_load(run_file.read_text(encoding="utf-8"))
    config["title"] = "<img src=x onerror=alert(1)> **t**{: onclick=\"alert(2)\"}"
    config["description"] = "[x](javascript:alert(3)) <script>alert(4)</script>"
    run_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    notebook = folder / "experiments" / "augmentation_xai.ipynb"
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb["metadata"].setdefault("reportgen", {})["parameters_schema"] = "os:system"
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    reflection = folder / "docs" / "runs" / "demo" / "reflexion.md"
    reflection.parent.mkdir(parents=True, exist_ok=True)
    reflection.write_text("**1. Data augmentation.** x\n\n<script>alert(5)</script><img src=x onerror=alert(6)>\n"
                          "[y](javascript:alert(7))\n", encoding="utf-8")
    (folder / ".gitmodules").write_text('[submodule "evil"]\n\tpath = evil\n\turl = ../evil\n', encoding="utf-8")
    (folder / "docs" / "leak.md").symlink_to("/etc/hostname")
    return folder
