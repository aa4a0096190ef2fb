"""Building a site from the same executed notebooks: reportgen (`mkdocs build`) against jupyter-book.

    python benchmarks/bench_build.py --jupyter-book PATH [--counts 12 108] [--repeats 5] [--out PATH]

Each notebook of `benchmarks/notebooks/` (MyST-NB's executed test notebooks, BSD licence, see
LICENSE-MyST-NB there) becomes, `--counts` notebooks in all, copy k of it a different file (a last
Markdown cell "Copia k", so no reader can take two copies for one), and both sites are made of
those same files:

- reportgen: a throw-away portfolio (this repository's mkdocs.yml, templates and docs/ assets) whose
  runs are the notebooks imported with `python -m reportgen import --allow-stale` (nothing
  executed), built with `python -m mkdocs build --strict`;
- jupyter-book: a book of the same notebooks (`_toc.yml`, `_config.yml` with `execute_notebooks:
  "off"`), built with `jupyter-book build` from its own environment (`--jupyter-book`: its
  executable, e.g. after `python3 -m venv /tmp/jbvenv && /tmp/jbvenv/bin/pip install
  jupyter-book==1.0.4`).

Two cases, each timed as whole processes in pairs, one tool after the other (the order alternating
from pair to pair), after one warm-up pair, `--repeats` pairs: `clean` (site/ and reportgen's
.cache/, jupyter-book's _build/ removed first: nothing from a previous build) and `unchanged` (the
same build again with its caches, as after an edit elsewhere). Per pair: wall and CPU seconds, peak
memory (os.wait4), the machine's load average before it, and the ratio jupyter-book / reportgen
(above 1: reportgen is faster). The JSON keeps every pair, the medians and minima, both tools'
versions and the machine.

`--serve` also times what `mkdocs serve` does after a reflection is edited: one process builds the
portfolio twice (the plugin's caches warm, as in a serve session), then writes
`docs/runs/<run>/reflexion.md` and builds again; the time of that build is the edit's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "benchmarks" / "notebooks"
PORTFOLIO_FILES = ["mkdocs.yml", "templates", "docs/assets", "docs/javascripts", "docs/stylesheets"]
QUIET = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(REPO)}


# ------------------------------------------------------------------ the two projects

def copies(count: int) -> list[tuple[str, dict]]:
    """`count` notebooks: copy k of each notebook of benchmarks/notebooks/, told apart by a last cell."""
    sources = sorted(NOTEBOOKS.glob("*.ipynb"))
    made = []
    for index in range(count):
        source = sources[index % len(sources)]
        copy = index // len(sources) + 1
        nb = json.loads(source.read_text(encoding="utf-8"))
        nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": [f"Copia {copy}."]})
        made.append((f"{source.stem.replace('_', '-')}-{copy}", nb))
    return made


def write_notebooks(folder: Path, notebooks: list[tuple[str, dict]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, nb in notebooks:
        path = folder / f"{name}.ipynb"
        path.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")
        paths.append(path)
    return paths


def reportgen_project(root: Path, notebooks: list[Path]) -> Path:
    """A portfolio whose runs are the notebooks, imported (executed elsewhere, never here)."""
    from reportgen.project import Project
    from reportgen.runs.imported import import_notebook

    for name in PORTFOLIO_FILES:
        source, target = REPO / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    project = Project.at(root)
    for path in notebooks:
        import_notebook(project, path, path.stem, allow_stale=True)  # some of MyST-NB's ran out of order
    return root


def jupyter_book_project(root: Path, notebooks: list[Path]) -> Path:
    """A book of the same notebook files, execution off."""
    root.mkdir(parents=True, exist_ok=True)
    for path in notebooks:
        shutil.copy(path, root / path.name)
    (root / "_config.yml").write_text('title: Portafolio\nauthor: bench\nexecute:\n  execute_notebooks: "off"\n',
                                      encoding="utf-8")
    (root / "intro.md").write_text("# Portafolio\n\nNotebooks.\n", encoding="utf-8")
    chapters = "".join(f"- file: {path.stem}\n" for path in notebooks)
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n{chapters}", encoding="utf-8")
    return root


# ------------------------------------------------------------------ timing

def timed(command: list[str], cwd: Path) -> dict:
    """One whole process: wall and CPU seconds (its own and its children's), peak memory."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=QUIET, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {cwd} ({process.returncode}):\n{stderr.decode()[-3000:]}")
    return {"wall": round(wall, 3), "cpu": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_mb": round(usage.ru_maxrss / 1024, 1)}


class Tools:
    def __init__(self, reportgen_root: Path, book_root: Path, jupyter_book: str):
        self.reportgen_root, self.book_root, self.jupyter_book = reportgen_root, book_root, jupyter_book

    def reportgen(self, clean: bool) -> dict:
        shutil.rmtree(self.reportgen_root / "site", ignore_errors=True)
        if clean:
            shutil.rmtree(self.reportgen_root / ".cache", ignore_errors=True)
        return timed([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], self.reportgen_root)

    def book(self, clean: bool) -> dict:
        if clean:
            shutil.rmtree(self.book_root / "_build", ignore_errors=True)
        return timed([self.jupyter_book, "build", "-q", "."], self.book_root)


def pairs(tools: Tools, clean: bool, repeats: int) -> list[dict]:
    """A warm-up pair, then `repeats` pairs, the order alternating (A B, B A, ...)."""
    measured = []
    for number in range(repeats + 1):
        load = os.getloadavg()[0]
        first_reportgen = number % 2 == 0
        if first_reportgen:
            ours, theirs = tools.reportgen(clean), tools.book(clean)
        else:
            theirs, ours = tools.book(clean), tools.reportgen(clean)
        if number == 0:
            continue  # the warm-up: files into the page cache, Python's bytecode compiled
        measured.append({"load_before": round(load, 2), "reportgen_first": first_reportgen,
                         "reportgen": ours, "jupyter_book": theirs,
                         "ratio_wall": round(theirs["wall"] / ours["wall"], 3),
                         "ratio_cpu": round(theirs["cpu"] / ours["cpu"], 3)})
    return measured


def summary(measured: list[dict]) -> dict:
    def figures(values):
        return {"median": round(statistics.median(values), 3), "min": min(values), "max": max(values)}

    return {"reportgen_wall": figures([p["reportgen"]["wall"] for p in measured]),
            "jupyter_book_wall": figures([p["jupyter_book"]["wall"] for p in measured]),
            "reportgen_cpu": figures([p["reportgen"]["cpu"] for p in measured]),
            "jupyter_book_cpu": figures([p["jupyter_book"]["cpu"] for p in measured]),
            "reportgen_peak_mb": max(p["reportgen"]["peak_mb"] for p in measured),
            "jupyter_book_peak_mb": max(p["jupyter_book"]["peak_mb"] for p in measured),
            "ratio_wall": figures([p["ratio_wall"] for p in measured]),
            "ratio_cpu": figures([p["ratio_cpu"] for p in measured]),
            "load_before": figures([p["load_before"] for p in measured])}


def pages_built(tools: Tools, count: int) -> dict:
    """Both sites have a page per notebook (neither skipped work)."""
    ours = len(list((tools.reportgen_root / "site" / "runs").glob("*/notebook.html")))
    theirs = len([p for p in (tools.book_root / "_build" / "html").glob("*.html")
                  if (tools.book_root / f"{p.stem}.ipynb").exists()])
    if ours != count or theirs != count:
        raise SystemExit(f"expected {count} notebook pages from each tool, got reportgen {ours}, jupyter-book {theirs}")
    return {"reportgen": ours, "jupyter_book": theirs}


# ------------------------------------------------------------------ mkdocs serve

SERVE_SCRIPT = """
import sys, time
from pathlib import Path
from mkdocs.commands.build import build
from mkdocs.config import load_config

root, run_id, repeats = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def once():
    start = time.perf_counter()
    build(load_config(str(root / "mkdocs.yml"), site_dir=str(root / "site")), dirty=False)
    return time.perf_counter() - start
once(); once()  # a serve session's first builds: the plugin's caches warm
reflection = root / "docs" / "runs" / run_id / "reflexion.md"
times = []
for number in range(repeats):
    reflection.parent.mkdir(parents=True, exist_ok=True)
    reflection.write_text(f"## Mi reflexion\\n\\nEdicion {number}: el marcador BENCH-{number}.\\n", encoding="utf-8")
    times.append(once())
    page = (root / "site" / "runs" / run_id / "index.html").read_text(encoding="utf-8")
    assert f"BENCH-{number}" in page, "the edit is not on the rebuilt page"
print(" ".join(f"{t:.3f}" for t in times))
"""


def serve_rebuilds(root: Path, run_id: str, repeats: int) -> dict:
    """Seconds of the rebuild `mkdocs serve` makes after a reflection edit, with warm caches."""
    result = subprocess.run([sys.executable, "-c", SERVE_SCRIPT, str(root), run_id, str(repeats)], cwd=root,
                            env=QUIET, capture_output=True, text=True, check=True)
    times = [float(value) for value in result.stdout.split()]
    return {"seconds": times, "median": round(statistics.median(times), 3), "min": min(times)}


# ------------------------------------------------------------------ the record

def versions(jupyter_book: str) -> dict:
    book = subprocess.run([jupyter_book, "--version"], capture_output=True, text=True, check=True).stdout
    parts = dict(line.split(":", 1) for line in book.splitlines() if ":" in line)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return {"reportgen": {"commit": commit.stdout.strip() or None,
                          **{name: importlib.metadata.version(name) for name in ("mkdocs", "mkdocs-material",
                                                                                 "Markdown", "Jinja2")}},
            "jupyter_book": {name.strip(): value.strip() for name, value in parts.items()},
            "python": platform.python_version()}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cores": os.cpu_count(), "cpu": cpu, "system": platform.system(),
            "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
            "note": "shared with other work: ratios of pairs back to back, medians"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jupyter-book", required=True, help="the jupyter-book executable of its own environment")
    parser.add_argument("--counts", type=int, nargs="+", default=[12, 108])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", nargs="+", choices=["clean", "unchanged"], default=["clean", "unchanged"])
    parser.add_argument("--serve", action="store_true", help="also time the rebuild after a reflection edit")
    parser.add_argument("--out", type=Path,
                        default=REPO / "benchmarks" / "results" / f"build-cpu-{dt.date.today()}.json")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    record = {"benchmark": "build", "date": str(dt.date.today()), "machine": machine(),
              "versions": versions(args.jupyter_book), "repeats": args.repeats,
              "notebooks": sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")), "sites": {}}
    for count in args.counts:
        with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
            notebooks = write_notebooks(Path(tmp) / "notebooks", copies(count))
            tools = Tools(reportgen_project(Path(tmp) / "portfolio", notebooks),
                          jupyter_book_project(Path(tmp) / "book", notebooks), args.jupyter_book)
            site = {"notebooks": count, "notebook_bytes": sum(path.stat().st_size for path in notebooks)}
            for case in args.cases:
                measured = pairs(tools, clean=case == "clean", repeats=args.repeats)
                site[case] = {"summary": summary(measured), "pairs": measured}
                found = site[case]["summary"]
                print(f"{count} notebooks, {case}: reportgen {found['reportgen_wall']['median']:.2f} s, "
                      f"jupyter-book {found['jupyter_book_wall']['median']:.2f} s; jupyter-book / reportgen "
                      f"{found['ratio_wall']['median']:.2f}x (wall, min {found['ratio_wall']['min']:.2f}), "
                      f"{found['ratio_cpu']['median']:.2f}x (CPU); load {found['load_before']['median']:.1f}",
                      flush=True)
            site["pages"] = pages_built(tools, count)
            if args.serve:
                site["serve_reflection_edit"] = serve_rebuilds(tools.reportgen_root, notebooks[0].stem, args.repeats)
                print(f"{count} notebooks: rebuild after a reflection edit (serve, caches warm) "
                      f"{site['serve_reflection_edit']['median']:.2f} s", flush=True)
            record["sites"][str(count)] = site
    record["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
