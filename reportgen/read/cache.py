"""Readings of notebooks kept between builds, as JSON under `.cache/reportgen/notebooks/`.

Keyed by a digest of everything a reading depends on (the executed notebook, the notebook as it
is now, the site's Markdown settings, the reader's code), so a stale entry is never used. JSON,
not pickle: a cache folder may come with someone else's portfolio, and loading it must run
nothing. What comes back is sanitised again where it reaches a page.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from reportgen.read.model import Cell, Cut, Glued, NotebookHarvest, Output, Prose, Section


def load(folder: Path | None, key: str) -> dict | None:
    if folder is None:
        return None
    try:
        return json.loads((Path(folder) / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


KEPT = 256  # entries: older readings of edited notebooks go


def store(folder: Path | None, key: str, data: dict) -> None:
    if folder is None:
        return
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        temporary = Path(folder) / f".{key}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(Path(folder) / f"{key}.json")
        entries = sorted(Path(folder).glob("*.json"), key=lambda path: path.stat().st_mtime)
        for old in entries[:-KEPT]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only project builds all the same, only slower


def output_to_json(output: Output) -> dict:
    return {**output.__dict__, "data": base64.b64encode(output.data).decode("ascii"),
            "cut": output.cut.__dict__ if output.cut else None}


def output_from_json(data: dict) -> Output:
    cut = data.get("cut")
    return Output(**{**data, "data": base64.b64decode(data.get("data", "")), "cut": Cut(**cut) if cut else None})


def harvest_to_json(harvest: NotebookHarvest) -> dict:
    cells: list[Cell] = [part for s in harvest.sections for part in s.parts if isinstance(part, Cell)]

    def part(value):
        if isinstance(value, Prose):
            return {"prose": value.html}
        return {"cell": {**value.__dict__, "tags": sorted(value.tags),
                         "outputs": [output_to_json(o) for o in value.outputs]}}

    return {
        "title": harvest.title, "intro": harvest.intro, "preamble": harvest.preamble,
        "fresh_prose": harvest.fresh_prose, "key": harvest.key,
        "failed_cell": cells.index(harvest.failed_cell) if harvest.failed_cell in cells else None,
        "sections": [{"title": s.title, "level": s.level, "parts": [part(p) for p in s.parts]}
                     for s in harvest.sections],
        "glued": [{**g.__dict__, "output": output_to_json(g.output) if g.output else None} for g in harvest.glued],
    }


def harvest_from_json(data: dict) -> NotebookHarvest:
    cells: list[Cell] = []

    def part(value):
        if "prose" in value:
            return Prose(value["prose"])
        fields = value["cell"]
        cell = Cell(**{**fields, "tags": frozenset(fields["tags"]),
                       "outputs": [output_from_json(o) for o in fields["outputs"]]})
        cells.append(cell)
        return cell

    sections = [Section(s["title"], s["level"], [part(p) for p in s["parts"]]) for s in data["sections"]]
    glued = [Glued(**{**g, "output": output_from_json(g["output"]) if g["output"] else None}) for g in data["glued"]]
    failed = data.get("failed_cell")
    return NotebookHarvest(title=data["title"], intro=data["intro"], preamble=data["preamble"], sections=sections,
                           glued=glued, failed_cell=cells[failed] if failed is not None else None,
                           fresh_prose=data["fresh_prose"], key=data["key"])
