"""Imported runs: a notebook executed elsewhere (Colab, Kaggle, a lab GPU) published as a run.

`python -m reportgen import NOTEBOOK.ipynb [RUN_ID]` checks the notebook's outputs, then writes,
under the results lock, `experiments/results/<run-id>/` (the notebook, scrubbed, and a run.json whose
provenance says where and when it ran and that it was not reproduced here) and, the first time,
`experiments/runs/<run-id>.yaml` with `executed: elsewhere`. The page is built from the notebook's
outputs by the same reader as any run's; `run` and `report` never execute an imported run.

A notebook whose outputs are missing or stale (a code cell never run, execution counts out of order,
an error that stopped it) is refused, naming the cells, unless `--allow-stale`: then its page says
which cells. Importing a newer download replaces the results as a run would: assembled in a staging
folder, the old results kept until the new ones are complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import shutil
import unicodedata
from pathlib import Path

from reportgen.errors import ConfigError, CorruptResults
from reportgen.project import Project
from reportgen.record import write_json
from reportgen.render.strings import DEFAULT as DEFAULT_LANGUAGE
from reportgen.results import NOTEBOOK, RUN_RECORD, read_run_json
from reportgen.safe import check_run_id  # the one rule for run ids
from reportgen.scrub import Scrubber

log = logging.getLogger("reportgen")

ELSEWHERE = "elsewhere"  # the run file's `executed:` value of an imported run
MAX_BYTES = 200 * 2**20  # a notebook larger than this is not a download of one
SHOWN_PROBLEMS = 12  # cells named in a refusal; the rest are counted
MAX_FIELD = 100  # characters kept of a string from a notebook's metadata
PYTHON_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+)?[A-Za-z0-9.+-]{0,12}$")

# Libraries whose version a notebook's outputs may show (pip list, `tf.__version__`, "Keras: 3.4.1").
KNOWN_LIBRARIES = {
    "tensorflow": "tensorflow", "tf": "tensorflow", "keras": "keras", "torch": "torch", "pytorch": "torch",
    "torchvision": "torchvision", "jax": "jax", "jaxlib": "jaxlib", "numpy": "numpy", "np": "numpy",
    "scipy": "scipy", "scikit-learn": "scikit-learn", "sklearn": "scikit-learn", "pandas": "pandas",
    "pd": "pandas", "matplotlib": "matplotlib", "tensorflow-datasets": "tensorflow-datasets",
    "tfds": "tensorflow-datasets", "timm": "timm", "transformers": "transformers", "cuda": "cuda",
    "cudnn": "cudnn", "python": "python", "papermill": "papermill", "reportgen": "reportgen",
}
VERSION = r"v?(\d+\.\d+(?:\.\d+)?(?:[.+-]?[A-Za-z0-9]+)*)"
NAMED_VERSION = re.compile(r"^\s*([A-Za-z][\w.-]*)(?:\s+version)?\s*(?:[:=]=?|\s)\s*['\"]?" + VERSION + r"['\"]?\s*$",
                           re.I)
BARE_VERSION = re.compile(r"^\s*['\"]?" + VERSION + r"['\"]?\s*$")
VERSION_ATTRIBUTE = re.compile(r"\b([A-Za-z_][\w]*)\.__version__\b")
IMPORT_ALIAS = re.compile(r"^\s*import\s+([\w.]+)\s+as\s+(\w+)", re.M)
NVIDIA_SMI_GPU = re.compile(r"^\|\s*\d+\s+(.+?)\s{2,}(?:On|Off)\s+\|", re.M)
CUDA_VERSION = re.compile(r"CUDA Version:\s*(\d+\.\d+)")


# ------------------------------------------------------------------ reading

def read_download(path: Path):
    """The notebook file as nbformat 4 (older formats upgraded); ConfigError naming the file otherwise."""
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such notebook file")
    if path.stat().st_size > MAX_BYTES:
        raise ConfigError(f"{path}: {path.stat().st_size / 2**20:.0f} MB is more than a notebook download "
                          f"({MAX_BYTES / 2**20:.0f} MB at most); clear its largest outputs and download it again")
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except (UnicodeDecodeError, nbformat.reader.NotJSONError, ValueError) as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: not a Jupyter notebook ({first})") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a damaged file
        raise ConfigError(f"{path}: not a readable Jupyter notebook ({type(exc).__name__})") from None
    if not isinstance(nb.get("cells"), list):
        raise ConfigError(f"{path}: not a Jupyter notebook (no list of cells)")
    return nb


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _first_line(cell) -> str:
    first = next((line.strip() for line in _source(cell).splitlines() if line.strip()), "")
    return first[:40] + ("…" if len(first) > 40 else "")


def output_problems(nb) -> list[dict]:
    """Code cells whose outputs are missing or stale, each named by its number in the notebook (all
    cells counted, 1-based) and first line: `never_run`, `out_of_order` (run before a cell above it)
    or `error` (stopped by an error; a cell tagged `raises-exception` expects its error)."""
    problems, previous = [], None  # (execution count, cell number) of the last numbered code cell
    for number, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code" or not _source(cell).strip():
            continue
        found = {"cell": number, "code": _first_line(cell)}
        count = cell.get("execution_count")
        if not isinstance(count, int) or isinstance(count, bool):
            problems.append({**found, "problem": "never_run"})
            continue
        if previous is not None and count <= previous[0]:
            problems.append({**found, "problem": "out_of_order", "count": count, "above": previous[1],
                             "above_count": previous[0]})
        previous = (count, number)
        tags = cell.get("metadata", {}).get("tags", []) or []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and "raises-exception" not in tags:
                problems.append({**found, "problem": "error", "error": str(output.get("ename", "Error"))[:80]})
                break
    return problems


def describe(problem: dict) -> str:
    """One problem in the terminal's words (the page words it in its own language)."""
    where = f"cell {problem['cell']} (`{problem['code']}`)"
    if problem["problem"] == "never_run":
        return f"{where}: never executed"
    if problem["problem"] == "out_of_order":
        return (f"{where}: executed before cell {problem['above']} above it (execution count {problem['count']} "
                f"after {problem['above_count']}), so outputs above it may be stale")
    return f"{where}: stopped with {problem['error']}, so the cells after it ran without it"


def _stale_message(path: Path, problems: list[dict]) -> str:
    shown = "; ".join(describe(problem) for problem in problems[:SHOWN_PROBLEMS])
    more = f"; and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
    return (f"{path}: its outputs are missing or stale, so a page made of them would not show what its code "
            f"gives: {shown}{more}. Run it again from the top (Colab: Runtime > Restart session and run all), "
            f"download it and import it again; or import it as it is with --allow-stale, and its page will "
            f"name these cells.")


# ------------------------------------------------------------------ provenance

def where_it_ran(nb) -> dict:
    """Where the notebook says it ran: the service, its accelerator and machine, the kernel."""
    metadata = nb.get("metadata", {}) or {}
    colab = metadata.get("colab") if isinstance(metadata.get("colab"), dict) else None
    kaggle = metadata.get("kaggle") if isinstance(metadata.get("kaggle"), dict) else None
    kernel = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    language = metadata.get("language_info") if isinstance(metadata.get("language_info"), dict) else {}
    where: dict = {"service": "colab" if colab is not None or "accelerator" in metadata and not kaggle
                   else "kaggle" if kaggle is not None else "jupyter"}
    if where["service"] == "colab":
        colab = colab or {}
        where["accelerator"] = str(metadata.get("accelerator") or "CPU").upper()  # Colab writes none for CPU
        for key, name in (("gpuType", "gpu_type"), ("machine_shape", "machine_shape")):
            if isinstance(colab.get(key), str):
                where[name] = colab[key]
    elif where["service"] == "kaggle":
        accelerator = str(kaggle.get("accelerator") or ("gpu" if kaggle.get("isGpuEnabled") else "none"))
        where["accelerator"] = "CPU" if accelerator.lower() == "none" else \
            "TPU" if "tpu" in accelerator.lower() else "GPU"
        if accelerator.lower() not in ("none", "gpu", "tpu"):
            where["gpu_type"] = accelerator  # e.g. nvidiaTeslaT4
    where["kernel"] = {key: kernel[key] for key in ("name", "display_name") if isinstance(kernel.get(key), str)}
    if isinstance(language.get("version"), str) and PYTHON_VERSION.match(language["version"]):
        where["python"] = language["version"]
    return _short({key: value for key, value in where.items() if value})


def _short(value):
    """Strings from a notebook's metadata, cut to a length a page can show (they are escaped there)."""
    if isinstance(value, dict):
        return {key: _short(item) for key, item in value.items()}
    return value[:MAX_FIELD] if isinstance(value, str) else value


def _texts(cell) -> list[str]:
    """The text a cell's outputs show: streams and plain-text results."""
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            text = output.get("text", "")
        else:
            text = (output.get("data", {}) or {}).get("text/plain", "")
        texts.append("".join(text) if isinstance(text, list) else str(text))
    return texts


def versions_shown(nb) -> dict[str, str]:
    """Library versions the outputs show: `pip list` / `pip show` / `pip freeze` lines, lines such as
    "TensorFlow: 2.15.0", a bare version printed by a cell that reads one `<module>.__version__`,
    and the CUDA version of `nvidia-smi`. Only the libraries of the field are kept."""
    versions: dict[str, str] = {}
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        aliases = {alias: module for module, alias in IMPORT_ALIAS.findall(source)}
        attributes = VERSION_ATTRIBUTE.findall(source)
        for text in _texts(cell):
            if (cuda := CUDA_VERSION.search(text)) and "cuda" not in versions:
                versions["cuda"] = cuda.group(1)
            lines = text.splitlines()
            for index, line in enumerate(lines):
                if line.startswith("Name: ") and index + 1 < len(lines) and lines[index + 1].startswith("Version: "):
                    line = f"{line[6:]} {lines[index + 1][9:]}"  # pip show
                named = NAMED_VERSION.match(line)
                if named:
                    library = KNOWN_LIBRARIES.get(named.group(1).lower().replace("_", "-"))
                    if library:
                        versions.setdefault(library, named.group(2))
                    continue
                bare = BARE_VERSION.match(line)
                if bare and len(attributes) == 1:
                    name = aliases.get(attributes[0], attributes[0]).split(".")[0]
                    if library := KNOWN_LIBRARIES.get(name.lower()):
                        versions.setdefault(library, bare.group(1))
    return dict(sorted(versions.items()))


def gpus_shown(nb) -> list[str]:
    """GPU names in an `nvidia-smi` table the outputs show."""
    names: list[str] = []
    for cell in nb.cells:
        for text in _texts(cell) if cell.get("cell_type") == "code" else []:
            if "NVIDIA-SMI" in text:
                names += [name.strip()[:MAX_FIELD] for name in NVIDIA_SMI_GPU.findall(text)
                          if name.strip()[:MAX_FIELD] not in names]
    return names


def _moment(value) -> dt.datetime | None:
    """A cell's recorded time: Colab's milliseconds since the epoch, or Jupyter's / papermill's ISO text."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc)
        if isinstance(value, str) and value:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def when_it_ran(nb, path: Path) -> dict:
    """When it ran: the first and last execution times its cells record (Colab's executionInfo,
    JupyterLab's `execution`, papermill's start/end) and their summed elapsed time; else the file's
    modification time, which says only when it was saved."""
    moments, elapsed = [], 0.0
    for cell in nb.cells:
        metadata = cell.get("metadata", {}) or {}
        info = metadata.get("executionInfo") if isinstance(metadata.get("executionInfo"), dict) else {}
        jupyter = metadata.get("execution") if isinstance(metadata.get("execution"), dict) else {}
        papermill = metadata.get("papermill") if isinstance(metadata.get("papermill"), dict) else {}
        for value in (info.get("timestamp"), *jupyter.values(), papermill.get("start_time"),
                      papermill.get("end_time")):
            if (moment := _moment(value)) is not None:
                moments.append(moment)
        for seconds in (info.get("elapsed", 0) / 1000 if isinstance(info.get("elapsed"), (int, float)) else 0,
                        papermill.get("duration") if isinstance(papermill.get("duration"), (int, float)) else 0):
            elapsed += max(0.0, float(seconds))
    if moments:
        when = {"from": "cells", "started": min(moments), "finished": max(moments)}
    else:
        saved = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
        when = {"from": "file", "started": None, "finished": saved}
    when = {key: value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else value
            for key, value in when.items()}
    if elapsed:
        when["seconds"] = round(elapsed, 1)
    return when


PLATFORM_NAMES = {"colab": "Google Colab", "kaggle": "Kaggle", "jupyter": "Jupyter"}


def provenance(nb, path: Path, stale: list[dict]) -> dict:
    """The run record of an imported notebook: the fields every run page reads (finished, device,
    python, platform, libraries) from what the notebook says, and `imported` with the rest."""
    where, when = where_it_ran(nb), when_it_ran(nb, path)
    gpus = gpus_shown(nb)
    if gpus or where.get("accelerator") == "GPU":
        device = {"kind": "gpu", "names": gpus or [where.get("gpu_type", "GPU")]}
    else:
        device = where.get("accelerator", "—")
    versions = versions_shown(nb)
    record = {
        "status": "ok",
        "executed": ELSEWHERE,
        "started": when.get("started"),
        "finished": when["finished"],
        "device": device,
        "platform": PLATFORM_NAMES[where["service"]],
        "libraries": {name: version for name, version in versions.items() if name not in ("python",)},
        "imported": {
            **where, "executed_at": when, "file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "imported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "code_cells": sum(1 for c in nb.cells if c.get("cell_type") == "code" and _source(c).strip()),
        },
        "stale_outputs": stale,
    }
    if python := where.get("python") or versions.get("python"):
        record["python"] = python
    if "seconds" in when:
        record["seconds"] = when["seconds"]
    return record


def without_personal_data(nb):
    """The notebook as published: Colab's per-cell author (name, id, photo) left out."""
    for cell in nb.cells:
        info = cell.get("metadata", {}).get("executionInfo")
        if isinstance(info, dict):
            info.pop("user", None)
    colab = nb.get("metadata", {}).get("colab")
    if isinstance(colab, dict):
        colab.pop("authorship_tag", None)
    return nb


# ------------------------------------------------------------------ the run

def run_id_from(path: Path) -> str:
    """A run id from a download's name: "Copia de Práctica 2.ipynb" -> "copia-de-practica-2"."""
    text = unicodedata.normalize("NFKD", Path(path).stem).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return text[:80].rstrip("-._") or "importado"


def is_imported(run) -> bool:
    """Whether a run (runs.Run) was executed elsewhere and imported."""
    return getattr(run.config, "executed", "here") == ELSEWHERE


def check_run_file(path: Path, config) -> list[str]:
    """Problems of an imported run's run file: it has nothing to execute, so no parameters nor matrix."""
    if getattr(config, "executed", "here") != ELSEWHERE:
        return []
    problems = []
    for name in ("parameters", "matrix"):
        if getattr(config, name):
            problems.append(f"{path}: field '{name}': an imported run (executed: elsewhere) is not executed "
                            f"here, so it takes no {name}; remove the field, or import the notebook again "
                            f"after running it with other values.")
    return problems


RUN_FILE = """\
# Run '{run_id}', imported: executed elsewhere ({platform}) and published from
# experiments/results/{run_id}/. reportgen never executes it; to update it, run the notebook there
# again, download it and `python -m reportgen import NOTEBOOK.ipynb {run_id}`.
executed: elsewhere

# The notebook's name: experiments/{notebook}.ipynb, if you keep its source here too (optional).
notebook: {notebook}

# The page's title (shown as written), date and language (es | en). Yours to edit.
title: {title}
date: {date}
language: {language}

# Optional page fields, as for any run: description, objectives, checklist, references.
"""


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            heading = re.search(r"^\s{0,3}#{1,2}\s+(.+?)\s*#*\s*$", _source(cell), re.M)
            if heading:
                return re.sub(r"[*_`<>]", "", heading.group(1)).strip()[:200] or fallback
    colab = nb.get("metadata", {}).get("colab", {})
    name = colab.get("name") if isinstance(colab, dict) else None
    return (Path(name).stem if isinstance(name, str) and name else fallback)[:200]


def _yaml_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON is YAML: any title, quoted


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def import_notebook(project: Project, notebook: Path, run_id: str | None = None, *, title: str | None = None,
                    language: str = DEFAULT_LANGUAGE, allow_stale: bool = False) -> dict:
    """Import an executed notebook as run `run_id` (default: from its file name); returns its run record.

    Everything is checked before anything is written; the results replace the previous ones only
    once complete, under the results lock. The run file is written once; a re-import keeps it."""
    import nbformat

    from reportgen.runs import discover
    from reportgen.runs.config import load_run_file
    from reportgen.runs.execution import _replace_folder, staging_dir
    from reportgen.runs.lock import results_lock

    notebook = Path(notebook).resolve()
    run_id = run_id or run_id_from(notebook)
    check_run_id(run_id, str(notebook))
    nb = read_download(notebook)
    stale = output_problems(nb)
    if stale and not allow_stale:
        raise ConfigError(_stale_message(notebook, stale))
    if not any(c.get("cell_type") == "code" and _source(c).strip() for c in nb.cells):
        raise ConfigError(f"{notebook}: has no code cell, so there is no run to import")
    run_file = project.run_file(run_id)
    if run_file.exists():
        existing = load_run_file(run_file)
        if existing.executed != ELSEWHERE:
            raise ConfigError(f"{run_file}: run '{run_id}' is executed here (its run file has no "
                              f"'executed: elsewhere'); import under another run id, or delete that run file.")
    elif run_id in _other_run_ids(project, discover):
        raise ConfigError(f"{notebook}: run id '{run_id}' is already given by a matrix's run file; "
                          f"import under another run id")
    record = {"run_id": run_id, **provenance(nb, notebook, stale)}
    digest = record["imported"]["sha256"]
    with results_lock(project):
        try:
            current = read_run_json(project.results(run_id))
        except CorruptResults:  # a damaged folder: the import replaces it
            current = None
        if current and current.get("imported", {}).get("sha256") == digest and run_file.exists() \
                and current.get("stale_outputs", []) == stale:
            log.info("%s: this notebook is already imported; nothing changed", run_id)
            return current
        if current and current.get("finished", "") > record["finished"]:
            log.warning("%s: this download ran before the results it replaces (%s < %s)", run_id,
                        record["finished"], current.get("finished"))
        config = load_run_file(run_file) if run_file.exists() else None
        record.update(notebook=config.notebook if config else run_id_from(notebook).replace(".", "-"),
                      title=config.title if config else title or _title(nb, run_id))
        staging = staging_dir(project, run_id)
        try:
            nbformat.write(without_personal_data(nb), str(staging / NOTEBOOK))
            write_json(staging / RUN_RECORD, record)
            Scrubber(project.root, {str(notebook.parent): "."}).folder(staging)
            _replace_folder(staging, project.results(run_id))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(project.failed_results(run_id), ignore_errors=True)
        if config is None:
            project.runs_dir.mkdir(parents=True, exist_ok=True)
            _write_text(run_file, RUN_FILE.format(
                run_id=run_id, platform=record["platform"], notebook=record["notebook"],
                title=_yaml_text(record["title"]), date=str(record["finished"])[:10], language=language))
    log.info("%s: imported %s (executed on %s%s)%s", run_id, notebook.name, record["platform"],
             f", {_device_words(record['device'])}", f"; {len(stale)} cells flagged as stale" if stale else "")
    return record


def _other_run_ids(project: Project, discover) -> set[str]:
    """The ids the project's run files give (a broken run file elsewhere does not block an import)."""
    try:
        return {run.id for run in discover(project, check_notebooks=False)}
    except ConfigError:
        return set()


def _device_words(device) -> str:
    if isinstance(device, dict):
        return "GPU " + ", ".join(device.get("names", []))
    return str(device)


def imported_state(project: Project, run):
    """The state `status` shows for an imported run: 'imported', or 'corrupt' without its results."""
    from reportgen.runs.cache import RunState

    folder = project.results(run.id)
    try:
        record = read_run_json(folder)
    except CorruptResults as exc:
        return RunState(run.id, "corrupt", str(exc))
    if not record or record.get("status") != "ok":
        return RunState(run.id, "corrupt", f"{folder}: an imported run without its results; import its notebook "
                                           f"again (python -m reportgen import NOTEBOOK.ipynb {run.id})")
    where = record.get("platform", "elsewhere")
    flagged = f"; {len(record.get('stale_outputs') or [])} cells with stale outputs" \
        if record.get("stale_outputs") else ""
    return RunState(run.id, "imported", f"executed on {where} ({_device_words(record.get('device'))}), "
                                        f"{str(record.get('finished', ''))[:10]}; not reproduced here{flagged}")
