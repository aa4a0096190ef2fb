"""Serial execution vs `--workers N`: the wall time of a 3-run matrix of a small CPU notebook.

    python benchmarks/bench_workers.py [--workers 2] [--repeats 2] [--size 500] [--epochs 30] [--out PATH]

Builds a throw-away project whose notebook does a few seconds of real work with one compute thread
(NumPy matrix products, then a small Keras model trained on random data), and a run file whose
`matrix:` gives three runs (seeds 0, 1, 2). Executes the three with `python -m reportgen run --force`
serially and with `--workers N`, `--repeats` times each, and records the best wall times and their
ratio (serial / workers) as JSON in benchmarks/results/, with the machine's load before each repeat. Both include starting Python, the kernels and,
for `--workers`, the local Dask cluster: the time a user waits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")}

WORK = """
import os
os.environ.update({one_thread!r})  # before NumPy and TensorFlow size their thread pools
import numpy as np
import keras
from reportgen.record import Recorder

seed = training["seeds"][0]
rec = Recorder(".")
rng = np.random.default_rng(seed)
with rec.stage("NumPy"):
    a = rng.standard_normal(({size}, {size}))
    for _ in range(40):
        a = np.tanh(a @ a / {size})
with rec.stage("Keras"):
    keras.utils.set_random_seed(seed)
    x = rng.standard_normal((2048, 64)).astype("float32")
    y = (x[:, :4].argmax(axis=1)).astype("int32")
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs={epochs}, batch_size=64, verbose=0)
rec.json("work", {{"checksum": float(a.sum()), "accuracy": float(history.history["accuracy"][-1])}})
"""


def make_project(root: Path, size: int, epochs: int) -> None:
    """A project with the CPU notebook and a 3-run matrix file."""
    (root / "experiments" / "runs").mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("training = {'seeds': [0]}")
    parameters.metadata["tags"] = ["parameters"]
    work = WORK.format(one_thread=ONE_THREAD, size=size, epochs=epochs)
    notebook.cells = [parameters, nbformat.v4.new_code_cell(work)]
    nbformat.write(notebook, str(root / "experiments" / "cpu_work.ipynb"))
    run_file = {"notebook": "cpu_work", "title": "CPU work", "matrix": {"training.seeds": [[0], [1], [2]]}}
    (root / "experiments" / "runs" / "work.yaml").write_text(yaml.safe_dump(run_file), encoding="utf-8")


def timed_run(root: Path, *options: str) -> float:
    """Wall seconds of `python -m reportgen run --force` on the project (all three runs)."""
    command = [sys.executable, "-m", "reportgen", "--project", str(root), "run", "--quiet", "--force", *options]
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"reportgen run {' '.join(options)} failed:\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--size", type=int, default=500, help="side of the NumPy matrices")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of the small Keras model")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cores = os.cpu_count()
    print(f"3-run matrix, serial vs --workers {args.workers}, one compute thread per run, {cores} CPU cores")
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        root = Path(tmp) / "portfolio"
        make_project(root, args.size, args.epochs)
        timed_run(root)  # warm-up: the kernel spec, the file caches
        serial, workers, load = [], [], []
        for repeat in range(args.repeats):
            load.append(round(os.getloadavg()[0], 2))
            serial.append(timed_run(root))
            workers.append(timed_run(root, "--workers", str(args.workers)))
            print(f"  repeat {repeat + 1}: serial {serial[-1]:.1f} s, --workers {args.workers} {workers[-1]:.1f} s")
        runs = [json.loads((root / "experiments" / "results" / f"work-{seed}" / "run.json").read_text())
                for seed in range(3)]
    ratio = min(serial) / min(workers)
    print(f"best: serial {min(serial):.1f} s, --workers {args.workers} {min(workers):.1f} s: {ratio:.2f}x faster")
    today = dt.date.today().isoformat()
    out = args.out or REPO / "benchmarks" / "results" / f"workers-cpu-{cores}cores-{today}.json"
    out.write_text(json.dumps({
        "benchmark": "bench_workers",
        "date": today,
        "machine": {"device": "CPU", "cpu_cores": cores, "platform": f"{platform.system()} {platform.machine()}",
                    "python": platform.python_version()},
        "settings": {"runs": 3, "workers": args.workers, "compute_threads_per_run": 1, "repeats": args.repeats,
                     "numpy_matrix_size": args.size, "keras_epochs": args.epochs,
                     "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow")},
        "notebook_seconds_per_run": [run["seconds"] for run in runs],
        "serial_seconds": [round(s, 2) for s in serial],
        "workers_seconds": [round(s, 2) for s in workers],
        "ratio_serial_over_workers": round(ratio, 3),
        # Each repeat times serial then workers back to back: their ratio suffers less from changing load.
        "ratio_per_repeat": [round(s / w, 3) for s, w in zip(serial, workers)],
        # The machine is shared: a 1-minute load average above the core count means other work competed.
        "load_average_before_each_repeat": load,
    }, indent=2) + "\n", encoding="utf-8")
    print(f"written {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")


if __name__ == "__main__":
    main()
