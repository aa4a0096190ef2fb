"""The public recording API: what a notebook leaves behind beyond its outputs.

A notebook needs no reportgen code to get a page (its headings, outputs and cell timings are
harvested from the executed notebook, `reportgen.read`). A `Recorder` adds what outputs cannot
say: named figures with captions, tables offered for download, metrics the comparison page and the
home cards line up across runs (with a group, e.g. the pipeline), and timed stages under which
everything recorded is shown in order. `reportgen.harvest` reads the same folder back; keeping both
ends of the contract in the package means a template never guesses a file name.

Layout of a results folder::

    run.json            provenance and status (written by reportgen.runs, not the notebook)
    notebook.ipynb      the executed notebook
    <name>.json         facts and numbers (dataset, protocol, metrics, explanations, ...)
    <name>.csv          tables (history, metrics, ...)
    <name>.npz          arrays a figure is drawn from at render time (images as uint8, maps, labels, ...)
    figures/<name>.png  figures, listed with their captions in figures.json
    timings.json        seconds spent in each stage of the notebook, in order
    records.json        figures, tables and metrics in recorded order, each with its stage
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import time
from pathlib import Path
from typing import Any

# Where a run's results go: reportgen sets it for the kernel, which runs in the notebook's own folder
# (as in Jupyter, so a notebook reads the files beside it); by hand, the current folder.
RESULTS_DIR_VARIABLE = "REPORTGEN_RESULTS_DIR"

RECORDS = "records.json"  # the ordered manifest of figures, tables and metrics (reportgen.results)
FIGURE_DPI = 110
PNG_COLORS = 256  # a palette keeps figures of photos small enough to commit (results budget: 5 MB a run)
MAP_LEVELS = 255  # a heatmap in [0, 1] is recorded as uint8 round(map * MAP_LEVELS) (Recorder.arrays)


def to_jsonable(value: Any) -> Any:
    """NumPy scalars/arrays and dataclasses to plain JSON; NaN and infinities to None."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, value: Any) -> None:
    """Write JSON through a temporary file, so a crash never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def save_compressed_png(source, path: Path) -> None:
    """Save an image as an optimised palette PNG: a third of the size, no visible loss at page width."""
    from PIL import Image

    with Image.open(source) as image:
        palette = image.convert("RGB").quantize(colors=PNG_COLORS, method=Image.Quantize.FASTOCTREE)
        palette.save(path, format="PNG", optimize=True)


class Recorder:
    """Saves a notebook's evidence into its results folder (papermill's working directory).

    The public, richer path for notebooks that want more than their outputs on the page::

        from reportgen.record import Recorder

        rec = Recorder()                                  # the run's results folder (REPORTGEN_RESULTS_DIR)
        with rec.stage("Entrenamiento"):                  # timed; a row of 'Actividades'
            history = model.fit(...)
            rec.figure(fig, "curvas", caption="Loss por época")    # named figure with caption
            rec.table("historia", pandas.DataFrame(history.history))  # CSV, shown and downloadable
        rec.metric("accuracy", 0.91, group="avanzado")   # comparison page and home cards
        rec.json("notas", {"clases": class_names})       # any facts, for your own templates

    Everything recorded appears on the run page in recorded order, under the stage it was recorded
    in; metrics with the same name (and group) across runs line up on the comparison page.
    """

    def __init__(self, output_dir: str | Path | None = None):
        self.dir = Path(output_dir or os.environ.get(RESULTS_DIR_VARIABLE, "."))
        (self.dir / "figures").mkdir(parents=True, exist_ok=True)
        self._timings: list[dict] = []
        self._stage: str | None = None
        records = self.dir / RECORDS
        self._records: list[dict] = json.loads(records.read_text(encoding="utf-8")) if records.exists() else []

    @staticmethod
    def _file_name(name: str) -> str:
        """A recorded name becomes a file name: it must not leave the results folder."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"recorded name {name!r}: use a plain name without '/', '\\' or a leading '.'")
        return name

    def _note(self, kind: str, name: str, **details: Any) -> None:
        """Add one entry to the ordered manifest (records.json); re-recording a name replaces it."""
        self._records = [r for r in self._records if (r["kind"], r["name"], r.get("group")) !=
                         (kind, name, details.get("group"))]
        self._records.append({"kind": kind, "name": name, "stage": self._stage, **details})
        write_json(self.dir / RECORDS, self._records)

    def json(self, name: str, value: Any) -> Path:
        """Save facts or numbers as `<name>.json` (read back as `run.facts[name]`)."""
        path = self.dir / f"{self._file_name(name)}.json"
        write_json(path, value)
        return path

    def table(self, name: str, frame, caption: str = "") -> Path:
        """Save a pandas DataFrame as CSV: shown on the page and offered for download."""
        path = self.dir / f"{self._file_name(name)}.csv"
        frame.to_csv(path, index=False, float_format="%.6g")
        self._note("table", name, file=path.name, caption=caption)
        return path

    def metric(self, name: str, value: float, group: str | None = None) -> None:
        """Record one number; `group` tells apart variants of it (e.g. the pipeline: baseline, advanced)."""
        number = to_jsonable(value)
        self._note("metric", name, value=None if number is None else float(number), group=group)

    def arrays(self, name: str, **arrays) -> Path:
        """Save NumPy arrays as a compressed `<name>.npz`: what a figure of the page is drawn from.

        The page draws the figure at build time, in its own language (`reportgen.render.figures`);
        the notebook records only numbers: images as uint8, maps, labels, probabilities. Arrays of
        Python objects are refused, because the page reads the file back without pickle.
        """
        import numpy as np

        values = {key: np.asarray(value) for key, value in arrays.items()}
        for key, value in values.items():
            if value.dtype.hasobject:
                raise ValueError(f"arrays {name!r}: {key!r} holds Python objects ({value.dtype}); record "
                                 f"numbers or strings, which are read back without pickle")
        path = self.dir / f"{self._file_name(name)}.npz"
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as file:  # through a temporary file: a crash never leaves half an archive
            np.savez_compressed(file, **values)
        tmp.replace(path)
        return path

    def figure(self, fig, name: str, caption: str = "") -> Path:
        """Save a matplotlib figure as a compressed PNG and list it with its caption."""
        import matplotlib.pyplot as plt

        path = self.dir / "figures" / f"{self._file_name(name)}.png"
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
        plt.close(fig)
        save_compressed_png(buffer, path)
        index_path = self.dir / "figures.json"
        index = json.loads(index_path.read_text(encoding="utf-8")) if index_path.exists() else {}
        index[name] = {"file": f"figures/{name}.png", "caption": caption}
        write_json(index_path, index)
        self._note("figure", name, file=f"figures/{name}.png", caption=caption)
        return path

    def show(self, *names: str, language: str = "es") -> None:
        """Display recorded figures in the notebook (its outputs are the published evidence): a saved
        PNG as it is, recorded arrays as the page draws them (`reportgen.render.figures.preview`)."""
        from IPython.display import Image, display

        for name in names:
            path = self.dir / "figures" / f"{name}.png"
            if path.exists():
                display(Image(filename=str(path)))
            elif (self.dir / f"{name}.npz").exists():
                from reportgen.render.figures import preview

                png = preview(self.dir, name, language)
                if png is not None:
                    display(Image(data=png))

    @contextlib.contextmanager
    def stage(self, name: str):
        """Time one stage; the page's 'Actividades' lists these, and what is recorded inside is shown under it."""
        start, outer = time.perf_counter(), self._stage
        self._stage = name
        try:
            yield
        finally:
            self._stage = outer
            self._timings = [t for t in self._timings if t["stage"] != name]
            self._timings.append({"stage": name, "seconds": round(time.perf_counter() - start, 2)})
            write_json(self.dir / "timings.json", self._timings)
