"""Time a wording-only change: switch each shipped run's language and rebuild from its results.

    python benchmarks/bench_rerender.py [--repeats 3]

Copies the portfolio to a temporary folder, switches every run's `language`, and times
`report --no-execute` (what `make report` does when nothing that changes results changed),
first with an empty figure cache, then warm. The target: under 5 % of the runs' own execution
time (the `seconds` in their run.json).
"""

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from reportgen.cli import main as reportgen

REPO = Path(__file__).resolve().parents[1]


def copy_portfolio(root: Path) -> Path:
    for folder in ("templates", "docs", "experiments"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("*.failed", ".*"))
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for path in (root / "experiments" / "runs").glob("*.yaml"):
        run = yaml.safe_load(path.read_text(encoding="utf-8"))
        run["language"] = "en" if run.get("language", "es") == "es" else "es"
        path.write_text(yaml.safe_dump(run, allow_unicode=True), encoding="utf-8")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    executed = sum(json.loads(p.read_text())["seconds"] for p in (REPO / "experiments" / "results").glob("*/run.json"))
    with tempfile.TemporaryDirectory() as folder:
        root = copy_portfolio(Path(folder) / "portfolio")
        walls = []
        for repeat in range(args.repeats):
            start = time.perf_counter()
            assert reportgen(["--project", str(root), "report", "--no-execute", "--quiet"]) == 0
            walls.append(time.perf_counter() - start)
            print(f"  {'cold' if repeat == 0 else 'warm'}: {walls[-1]:.1f} s")
    print(f"runs executed in {executed:.0f} s; re-render after a language switch: "
          f"{walls[0]:.1f} s cold ({100 * walls[0] / executed:.1f} %), {min(walls):.1f} s warm "
          f"({100 * min(walls) / executed:.1f} %); target < 5 %")


if __name__ == "__main__":
    main()
