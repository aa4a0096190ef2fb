"""The course view at scale: 200 generated portfolios, read and built into one course site.

    python benchmarks/bench_course.py [--students 200] [--copies 0] [--jobs 2] [--out PATH]

Generates local git repositories (tests/course_fixtures.py): practice portfolios with the committed
results of `demo` and `shortcut`, their numbers and their notebooks' outputs changed per student (so
no two notebooks read the same), one in ten a notebook of one's own, one in twenty only a failed run.
`--copies N`: the first N students give no published site, so their run pages are made here too.

Times, in this order: fetching alone (every clone, `--jobs` at a time); a cold `build_course`
(fetch, read, build: the goal is under 2 minutes for 200 portfolios on 2 cores, fetching aside, so
the JSON also gives cold minus fetching); a warm rebuild with nothing changed (summaries from the
cache: no portfolio fetched or read). Memory: the peak resident size of the main process and of the
largest reader process (resource.getrusage). The goal for memory: under 2 GB.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from course_fixtures import commit, own_notebook_portfolio, practice_portfolio  # noqa: E402


def vary(folder: Path, rng: random.Random, index: int) -> None:
    """Change a practice portfolio's numbers and its notebooks' first output: a student of their own."""
    for run_dir in (folder / "experiments" / "results").iterdir():
        metrics_path = run_dir / "metrics.json"
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        for report in metrics["pipelines"].values():
            report["aggregate"]["accuracy"]["mean"] = round(min(0.99, max(0.05, rng.gauss(0.7, 0.15))), 4)
        metrics_path.write_text(json.dumps(metrics), encoding="utf-8")
        notebook_path = run_dir / "notebook.ipynb"
        notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    text = output["text"]
                    output["text"] = ([f"estudiante {index}\n"] + text) if isinstance(text, list) else \
                        f"estudiante {index}\n" + text
                    break
        notebook_path.write_text(json.dumps(notebook), encoding="utf-8")


def generate(root: Path, students: int, copies: int) -> Path:
    rng = random.Random(0)
    entries = []
    for index in range(students):
        folder = root / "repos" / f"s{index:03d}"
        if index % 20 == 19:
            own_notebook_portfolio(folder, failed=True)
        elif index % 10 == 9:
            own_notebook_portfolio(folder, accuracy=round(rng.uniform(0.4, 0.9), 3))
        else:
            practice_portfolio(folder, answers=index % 6)
            vary(folder, rng, index)
        commit(folder)
        entry = {"name": f"Estudiante {index:03d}", "repo": f"repos/s{index:03d}"}
        if index >= copies:
            entry["site"] = f"https://s{index:03d}.github.io/portafolio/"
        entries.append(entry)
    roster = root / "roster.yaml"
    roster.write_text(yaml.safe_dump({"course": "Deep Learning 2026", "students": entries}, allow_unicode=True),
                      encoding="utf-8")
    return roster


def fetch_only(roster: Path, work: Path, jobs: int) -> float:
    from reportgen.course.fetch import fetch, source_of
    from reportgen.course.roster import load_roster

    students, base = load_roster(roster)[0].students, roster.parent
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda s: fetch(source_of(s, base), work / s.slug), students))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--copies", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import logging

    logging.basicConfig(level=logging.INFO, format="[bench] %(message)s")
    from reportgen.course import build_course

    root = Path(tempfile.mkdtemp(prefix="bench-course-"))
    try:
        started = time.perf_counter()
        roster = generate(root, args.students, args.copies)
        generated = time.perf_counter() - started
        fetching = fetch_only(roster, root / "fetch-only", args.jobs)
        shutil.rmtree(root / "fetch-only")
        started = time.perf_counter()
        summaries = build_course(roster, root / "site", jobs=args.jobs)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        build_course(roster, root / "site", jobs=args.jobs)
        warm = time.perf_counter() - started
        result = {
            "benchmark": "course",
            "date": dt.date.today().isoformat(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "students": args.students, "copies": args.copies, "jobs": args.jobs,
            "generate_seconds": round(generated, 1),
            "fetch_only_seconds": round(fetching, 1),
            "cold_seconds": round(cold, 1),
            "cold_minus_fetch_seconds": round(cold - fetching, 1),
            "warm_seconds": round(warm, 1),
            "peak_rss_main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "peak_rss_reader_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "rows": len(summaries),
            "flagged": sum(bool(s.flags) for s in summaries),
            "site_mb": round(sum(p.stat().st_size for p in (root / "site").rglob("*") if p.is_file()) / 2**20, 1),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result, indent=2))
    out = args.out or REPO / "benchmarks" / "results" / f"course-{args.students}-cpu-{result['date']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
