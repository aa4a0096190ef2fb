"""The page's verdicts on simulated practices: false positives per reading and per page on equal
models, coverage and width of the accuracy interval, power at a true difference.

    python benchmarks/bench_verdicts.py [--draws 1000] [--seeds 2 3 5] [--images 200 500 2000]
        [--seed-sd 0.1 0.3] [--power 0.02 0.05] [--out benchmarks/results/verdicts-YYYY-MM-DD.json]

The generative model is tests/verdict_simulation.py (shared with tests/test_interpretation.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import verdict_simulation as simulation  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 5])
    parser.add_argument("--images", type=int, nargs="+", default=[200, 500, 2000])
    parser.add_argument("--seed-sd", type=float, nargs="+", default=[0.1, 0.3],
                        help="training offset of one model (logit); 0.1 is about the demo's seed spread")
    parser.add_argument("--power", type=float, nargs="+", default=[0.02, 0.05],
                        help="true accuracy differences at which power is measured (3 seeds x 500 images)")
    parser.add_argument("--one-seed", action="store_true", help="also the one-seed cells")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    today = datetime.date.today().isoformat()
    out = args.out or ROOT / "benchmarks" / "results" / f"verdicts-{today}.json"
    rng = np.random.default_rng(20261207)
    cells = []
    seeds = ([1] if args.one_seed else []) + args.seeds
    for seed_sd in args.seed_sd:
        base = simulation.World(seed_sd=seed_sd)
        for k in seeds:
            for n in args.images:
                cells.append(("null", replace(base, seeds=k, images=n)))
        for target in args.power:
            cells.append((f"+{100 * target:g} pp", replace(base, seeds=3, images=500).with_accuracy_difference(target)))
    results = []
    for name, world in cells:
        start = time.perf_counter()
        found = simulation.measure(world, args.draws, rng)
        found.update(case=name, world=asdict(world), seconds=round(time.perf_counter() - start, 1))
        results.append(found)
        worst = max(found["verdicts"].values())
        print(f"{name:>8} seed_sd {world.seed_sd:.2f} {world.seeds} x {world.images:>4}: page {found['page']:.3f}"
              f" worst reading {worst:.3f} (own intervals {max(found['marginal'].values()):.3f}) coverage"
              f" {found['coverage']:.3f} better {found['better']:.3f} width {100 * (found['mean_width'] or 0):.2f} pp"
              f" narrowest {100 * found['narrowest']:.3f} pp  [{found['seconds']} s]", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)  # after every cell: a stopped run keeps what it measured
        out.write_text(json.dumps({"date": today, "draws": args.draws, "settings": vars(args) | {"out": str(out)},
                                   "cells": results}, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
