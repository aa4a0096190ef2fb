"""The page's verdicts on simulated practices: false positives per reading and per page on equal
models, coverage and width of the accuracy interval, power at a true difference.

    python benchmarks/bench_verdicts.py [--draws 1000] [--seeds 2 3 5] [--images 200 500 2000]
        [--seed-sd 0.1 0.3] [--power 0.02 0.05] [--out benchmarks/results/verdicts-YYYY-MM-DD.json]

The generative model is tests/verdict_simulation.py (shared with tests/render/test_interpretation.py).
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
from scipy import special, stats

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import verdict_simulation as simulation  # noqa: E402


def size_if_the_floor_had_more_degrees_of_freedom(seeds: int, floor_df: float) -> dict:
    """Why the seed part keeps k - 1 degrees of freedom although its floor (the noise of single
    answers) is known from thousands of cells: in the normal model of one seed part and one image
    part, crediting the floor with `floor_df` degrees of freedom (Cochran-Cox weights, the excess
    over the floor at k - 1) fires on equal models more than 5 % of the time once the seeds vary
    several times more than the floor. Exact over the chi2 of the seed spread (quadrature).
    Returns the worst size over seed noise / floor in [0, 200] and image part / floor in [0, 3]."""
    quantiles = stats.chi2.ppf((np.arange(4000) + 0.5) / 4000, seeds - 1) / (seeds - 1)
    worst = (0.0, None, None)
    for excess in (0, 0.5, 1, 2, 4, 8, 16, 50, 200):
        for images in (0, 0.1, 0.3, 1, 3):
            true = (1 + excess) / seeds + images
            spread = (1 + excess) * quantiles
            above = np.maximum(spread - 1, 0) / seeds
            variance = above + 1 / seeds + images
            t = (above * stats.t.isf(0.025, seeds - 1) + stats.t.isf(0.025, floor_df) / seeds
                 + images * stats.norm.isf(0.025)) / variance
            size = float(np.mean(2 * special.ndtr(-t * np.sqrt(variance / true))))
            worst = max(worst, (size, excess, images), key=lambda w: w[0])
    return {"seeds": seeds, "floor_df": floor_df, "worst_size": round(worst[0], 4),
            "at_seed_noise_over_floor": worst[1], "at_image_part_over_floor": worst[2]}


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
    credited = [size_if_the_floor_had_more_degrees_of_freedom(k, df * (k - 1)) for k in (2, 3, 5) for df in (1, 2, 4)]
    for row in credited:
        print(f"floor credited with {row['floor_df']:g} df at {row['seeds']} seeds: worst size {row['worst_size']:.3f}")
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
                                   "floor_credited": credited, "cells": results}, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
