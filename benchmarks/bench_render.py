"""Re-rendering costs a fraction of executing: switch every run's language and rebuild the site.

    python benchmarks/bench_render.py [--repeats 3] [--out PATH]

Copies the project (run files, committed results, templates, docs, mkdocs.yml) to a temporary
folder, switches each run's `language` (es <-> en), and times `python -m reportgen report
--no-execute` there. The results folders must come out byte-identical (nothing re-executed)
and the site must be rebuilt; the time is compared with the runs' own execution time from
their run.json (the goal: under 5 %). The JSON keeps every repeat.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
COPIED = ["experiments", "templates", "docs", "mkdocs.yml"]


def folder_digest(folder: Path) -> str:
    """One hash of every file's relative path and bytes: equal digests, byte-identical folders."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def switch_languages(project: Path) -> dict[str, str]:
    """Flip every run file's language; returns run id -> the new language."""
    switched = {}
    for path in sorted((project / "experiments" / "runs").glob("*.yaml")):
        run = yaml.safe_load(path.read_text(encoding="utf-8"))
        run["language"] = "en" if run.get("language", "es") == "es" else "es"
        path.write_text(yaml.safe_dump(run, allow_unicode=True, sort_keys=False), encoding="utf-8")
        switched[path.stem] = run["language"]
    return switched


def execution_seconds(project: Path) -> float:
    total = 0.0
    for record in (project / "experiments" / "results").glob("*/run.json"):
        total += json.loads(record.read_text(encoding="utf-8")).get("seconds") or 0.0
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path,
                        default=REPO / "benchmarks" / "results" / f"render-cpu-{dt.date.today()}.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "portfolio"
        project.mkdir()
        for name in COPIED:
            source = REPO / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
        results = project / "experiments" / "results"
        before = folder_digest(results)
        languages = switch_languages(project)
        walls = []
        for _ in range(args.repeats):
            shutil.rmtree(project / "site", ignore_errors=True)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "reportgen", "report", "--no-execute", "--quiet"],
                           cwd=project, check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
        identical = folder_digest(results) == before
        built = (project / "site" / "index.html").exists()
        executed = execution_seconds(project)
    record = {
        "benchmark": "render", "date": str(dt.date.today()), "device": f"CPU ({os.cpu_count()} cores)",
        "languages": languages, "render_seconds": walls, "best_render_seconds": min(walls),
        "execution_seconds": executed, "ratio": min(walls) / executed if executed else None,
        "results_byte_identical": identical, "site_built": built,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"re-render after a language switch: {min(walls):.1f} s; execution: {executed:.0f} s "
          f"({100 * record['ratio']:.1f} %); results byte-identical: {identical}; site built: {built}")


if __name__ == "__main__":
    main()
