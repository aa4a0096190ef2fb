"""Time the embedded generator on 3,000 images of 128 px (the target: under 30 s on 2 cores).

    python benchmarks/bench_data.py [--images 3000] [--size 128] [--repeats 3]

Draws a training split directly (no cache) and prints the wall-clock and CPU time of each
repeat. On a shared machine the best repeat is the one to compare with the target.
"""

import argparse
import os
import time

from reportgen.practice.config import DataConfig
from reportgen.practice.data.embedded import generate_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cfg = DataConfig(image_size=args.size, train_size=args.images)
    print(f"embedded generator: {args.images} images of {args.size} px on {os.cpu_count()} cores")
    walls = []
    for repeat in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        generate_split(cfg, "train")
        walls.append(time.perf_counter() - wall)
        print(f"  repeat {repeat + 1}: {walls[-1]:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
    print(f"best: {min(walls):.1f} s ({args.images / min(walls):.0f} images/s)")


if __name__ == "__main__":
    main()
