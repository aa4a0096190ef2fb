"""An executed notebook, read with the site's Markdown engine: sections, cells, outputs, glue.

The prose comes from the notebook as it is now (`experiments/<notebook>.ipynb`) and the outputs
from its last execution, as long as their code cells are the same: editing a Markdown cell (or a
tag) reaches the page at the next build, with no re-execution. When the code changed, the run is
stale and the executed copy is read as it ran, prose included.

Sections: every heading that the site's Markdown renders at the top level of a Markdown cell
(ATX or setext, `##Resultados` too, on any line) starts one. A lone top heading at the start is
the notebook's title; the other heading levels map, in order, to depths under the page's
*Desarrollo* (0, 1, 2, ...), so no heading of a notebook lands beside the page's own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from reportgen.read import cache as stored
from reportgen.read import pasted
from reportgen.read.glue import glue_name, glued_number, scrap_value, shown_in_cell, unprefixed
from reportgen.read.markdown import Chunk, Heading, SiteMarkdown, demote_headings, inline_html, site_markdown
from reportgen.read.model import (HIDE_CELL, HIDE_OUTPUT, INJECTED_PARAMETERS, PAPERMILL_ERROR_CELL,
                                  RAISES_EXCEPTION, REMOVE_CELL, REMOVE_OUTPUT, Cell, Glued, Output,
                                  NotebookHarvest, Prose, Section, cell_options, tags_of)
from reportgen.read.outputs import Budget, coalesced, length, mime_output, one_output
from reportgen.read.terminal import plain

ADDED_BY_PAPERMILL = {INJECTED_PARAMETERS, PAPERMILL_ERROR_CELL}
SUBHEADING = 4  # a section at depth d is h(3 + d) on a page; headings inside it sit one below
_READ: dict[str, NotebookHarvest] = {}  # by what was read: `mkdocs serve` rebuilds often


@dataclass
class _Entry:
    """A cell to show: the student's text (fresh) and, for code, the executed cell."""

    kind: str  # markdown | code | raw
    text: str
    tags: frozenset[str]
    executed: dict | None  # the executed code cell (outputs, papermill's duration)
    index: int | None  # in the executed notebook
    number: int | None  # in the student's notebook
    options: dict = dataclasses.field(default_factory=dict)  # display options (`cell_options`), as now


def read_notebook(executed: Path, source: Path | None = None, mkdocs_yml: Path | None = None,
                  cache: Path | None = None) -> NotebookHarvest | None:
    """What an executed notebook shows (None when there is none), its prose from `source` when
    `source` has the same code cells; `cache`: a folder that keeps readings between builds."""
    executed = Path(executed)
    if not executed.is_file():
        return None
    engine = site_markdown(mkdocs_yml)
    data = executed.read_bytes()
    fresh = Path(source).read_bytes() if source is not None and Path(source).is_file() else b""
    key = hashlib.sha256(b"\0".join([data, fresh, engine.key.encode(), _CODE.encode()])).hexdigest()[:24]
    if key not in _READ:
        if len(_READ) > 64:
            _READ.clear()
        kept = stored.load(cache, key)
        try:
            _READ[key] = stored.harvest_from_json(kept) if kept else None
        except (KeyError, TypeError, ValueError, IndexError):  # a damaged entry: read again
            _READ[key] = None
        if _READ[key] is None:
            _READ[key] = _read(data, fresh, engine, key, executed, source)
            stored.store(cache, key, stored.harvest_to_json(_READ[key]))
    return _READ[key]


def _read(data: bytes, fresh: bytes, engine: SiteMarkdown, key: str, executed: Path,
          source_path: Path | None) -> NotebookHarvest:
    from reportgen.read.nbjson import reads

    nb = reads(data.decode("utf-8"), executed)
    source = None
    if fresh:
        try:
            source = reads(fresh.decode("utf-8"), source_path)
        except (ValueError, UnicodeDecodeError):  # a broken notebook of one's own: the executed prose
            source = None
    entries, is_fresh = _entries(nb, source)
    harvest = _sections(entries, engine)
    harvest.fresh_prose, harvest.key = is_fresh, key
    return harvest


def _entries(nb, source) -> tuple[list[_Entry], bool]:
    """The cells to show, in order: the student's notebook's cells with the executed outputs when
    its code cells are those that ran; otherwise the executed notebook as it is."""
    ran = [(index, cell) for index, cell in enumerate(nb.cells) if not tags_of(cell) & ADDED_BY_PAPERMILL]
    executed_code = [(index, cell) for index, cell in ran if cell.cell_type == "code"]
    if source is not None and _code(c for c in source.cells) == _code(c for _, c in executed_code):
        entries, pending = [], iter(executed_code)
        for number, cell in enumerate(source.cells, start=1):
            if cell.cell_type != "code":
                entries.append(_Entry(cell.cell_type, _text(cell), tags_of(cell), None, None, number))
                continue
            index, executed = next(pending)
            entries.append(_Entry("code", _text(executed), tags_of(cell), executed, index, number, cell_options(cell)))
            following = index + 1  # papermill's injected parameters come right after the parameters cell
            while following < len(nb.cells) and INJECTED_PARAMETERS in tags_of(nb.cells[following]):
                injected = nb.cells[following]
                entries.append(_Entry("code", _text(injected), tags_of(injected), injected, following, None))
                following += 1
        return entries, True
    entries, number = [], 0
    for index, cell in enumerate(nb.cells):
        tags = tags_of(cell)
        if PAPERMILL_ERROR_CELL in tags:
            continue
        if INJECTED_PARAMETERS not in tags:
            number += 1
        executed = cell if cell.cell_type == "code" else None
        entries.append(_Entry(cell.cell_type, _text(cell), tags, executed, index if executed else None,
                              None if INJECTED_PARAMETERS in tags else number, cell_options(cell)))
    return entries, False


def _code(cells) -> list[str]:
    return [_text(cell) for cell in cells if cell.cell_type == "code"]


def _text(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _sections(entries: list[_Entry], engine: SiteMarkdown) -> NotebookHarvest:
    glued = _glued_outputs(entries, engine)  # what the prose may paste, wherever it was glued
    blocks: list[tuple[_Entry, Heading | Chunk | None]] = []
    for entry in entries:
        if (REMOVE_CELL in entry.tags and not _stopped(entry)) or entry.kind == "raw":  # a failure always shows
            continue
        if entry.kind == "markdown":
            blocks += [(entry, block) for block in pasted.blocks(engine, entry.text, glued)]
        else:
            blocks.append((entry, None))
    headings = [block for _, block in blocks if isinstance(block, Heading)]
    title = _title(blocks, headings)
    depth = {level: rank for rank, level in enumerate(sorted({h.level for h in headings if h is not title}))}

    harvest = NotebookHarvest(title=title.title if title else None, intro="")
    preamble: list[str] = []
    current: Section | None = None
    budget = Budget()
    for entry, block in blocks:
        if block is title and title is not None:
            continue
        if isinstance(block, Heading):
            current = Section(title=block.title, level=depth[block.level])
            harvest.sections.append(current)
        elif isinstance(block, Chunk):
            if current is None and not harvest.sections:
                preamble.append(demote_headings(block.html, None))  # shown in Contexto: no heading there
            else:
                current.parts.append(Prose(demote_headings(block.html, SUBHEADING + current.level)))
        else:
            if current is None:
                current = Section(title="", level=0)
                harvest.sections.append(current)
            cell = _cell(entry, engine, budget, current, harvest)
            current.parts.append(cell)
            if cell.failed and harvest.failed_cell is None:
                harvest.failed_cell = cell
    harvest.preamble = "\n".join(preamble)
    harvest.intro = harvest.preamble or _first_paragraph(harvest)
    return harvest


def _title(blocks, headings: list[Heading]) -> Heading | None:
    """The notebook's title: its first heading, above every other heading, with no code cell that
    shows something before it (a `%matplotlib inline` first, as jupytext writes, does not count)."""
    if not headings:
        return None
    first = headings[0]
    for entry, block in blocks:
        if block is first:
            break
        if block is None and (entry.executed or {}).get("outputs"):
            return None
    return first if all(first.level < h.level for h in headings[1:]) else None


def _first_paragraph(harvest: NotebookHarvest) -> str:
    from reportgen.read.markdown import split_paragraph

    for section in harvest.sections:
        for part in section.parts:
            if isinstance(part, Prose) and (paragraph := split_paragraph(part.html)):
                return paragraph
    return ""


def _cell(entry: _Entry, engine: SiteMarkdown, budget: Budget, section: Section, harvest: NotebookHarvest) -> Cell:
    executed = entry.executed or {}
    duration = (executed.get("metadata", {}).get("papermill", {}) or {}).get("duration")
    if duration is None:  # a notebook executed on Colab (imported): its executionInfo, in milliseconds
        elapsed = (executed.get("metadata", {}).get("executionInfo", {}) or {}).get("elapsed")
        duration = elapsed / 1000 if isinstance(elapsed, (int, float)) and elapsed >= 0 else None
    prompt = entry.options.get("code_prompt_show")
    cell = Cell(index=entry.index, number=entry.number, source=entry.text, tags=entry.tags,
                seconds=float(duration) if isinstance(duration, (int, float)) else None,
                prompt=plain(prompt) if isinstance(prompt, str) else "")
    level = SUBHEADING + section.level
    hidden = bool(entry.tags & {HIDE_OUTPUT, HIDE_CELL})
    for number, raw in enumerate(coalesced(executed.get("outputs", []) or [])):
        stem = f"celda{entry.index}-{number}"
        if raw.get("output_type") == "error" and RAISES_EXCEPTION not in entry.tags:
            cell.failed = True
        name = glue_name(raw)
        if name is not None:
            harvest.glued.append(_glued(raw, name, stem, engine, budget, section))
            if not shown_in_cell(raw):
                continue
        if REMOVE_OUTPUT in entry.tags and not (cell.failed and raw.get("output_type") == "error"):
            continue
        output = one_output(raw, stem, engine, budget, entry.tags, level)
        if output is None:
            continue
        output.hidden, output.glue = hidden, name
        if output.kind == "figure":
            _image_options(output, entry.options, engine)
        last = cell.outputs[-1] if cell.outputs else None
        if (last is not None and output.kind in ("stdout", "stderr") and last.kind == output.kind
                and last.cut is None and output.cut is None):
            last.text += "\n" + output.text  # one stream, split only by the noise left out between
        else:
            cell.outputs.append(output)
    return cell


def _stopped(entry: _Entry) -> bool:
    """Whether a code cell's error stopped the run (an error not tagged `raises-exception`)."""
    outputs = (entry.executed or {}).get("outputs", []) or []
    return RAISES_EXCEPTION not in entry.tags and any(o.get("output_type") == "error" for o in outputs)


def _image_options(figure: Output, options: dict, engine: SiteMarkdown) -> None:
    """A figure as the cell's `image` and `figure` options set it (MyST-NB's): alt text, width and
    height where the output's own metadata says none, a caption in the site's Markdown."""
    image = options.get("image") if isinstance(options.get("image"), dict) else {}
    caption = (options.get("figure") or {}).get("caption") if isinstance(options.get("figure"), dict) else None
    if isinstance(image.get("alt"), str):
        figure.alt = plain(image["alt"])
    figure.width = figure.width or length(image.get("width"))
    figure.height = figure.height or length(image.get("height"))
    if isinstance(caption, str) and caption.strip():
        figure.caption = inline_html(engine.html(caption))


def _glued_outputs(entries: list[_Entry], engine: SiteMarkdown) -> dict[str, pasted.Value]:
    """Every glued value of the notebook by name, as prose pastes it (`reportgen.read.pasted`)."""
    found: dict[str, pasted.Value] = {}
    budget = Budget()
    for entry in entries:
        for number, raw in enumerate(coalesced((entry.executed or {}).get("outputs", []) or [])):
            name = glue_name(raw)
            if name is None:
                continue
            glued = _glued(raw, name, f"celda{entry.index}-{number}", engine, budget, Section("", 0))
            text = unprefixed(raw).get("text/plain")
            text = plain("".join(text) if isinstance(text, list) else text) if isinstance(text, (str, list)) else None
            if text is None and (scrap := scrap_value(raw)) is not None:
                text = repr(scrap) if isinstance(scrap, str) else str(scrap)
            if glued.output is None and text is not None:
                glued.output = Output("result", text=text, glue=name)
            if glued.output is not None:
                found[name] = pasted.Value(glued.output, text if text is not None else glued.output.text)
    return found


def _glued(raw, name: str, stem: str, engine: SiteMarkdown, budget: Budget, section: Section) -> Glued:
    data = {key: value for key, value in unprefixed(raw).items() if not key.startswith("application/scrapbook.")}
    output = mime_output(data, raw.get("metadata", {}) or {}, f"{stem}-glue", engine, budget) if data else None
    if output is not None:
        output.glue = name
    return Glued(name=name, value=glued_number(raw), output=output, stage=section.title or None)


# ------------------------------------------------------------------ what other modules ask

def until_failure(harvest: NotebookHarvest) -> NotebookHarvest:
    """A failed attempt as its run page shows it: the sections up to the failing cell, that cell last."""
    if harvest is None or harvest.failed_cell is None:
        return harvest
    sections = []
    for section in harvest.sections:
        if harvest.failed_cell in section.parts:
            cut = section.parts.index(harvest.failed_cell) + 1
            sections.append(dataclasses.replace(section, parts=section.parts[:cut]))
            break
        sections.append(section)
    return dataclasses.replace(harvest, sections=sections)


def prose_changed(source: Path, executed: Path) -> bool:
    """Whether the notebook's Markdown differs from the executed copy's (its page shows the new)."""
    try:
        now = json.loads(Path(source).read_text(encoding="utf-8"))["cells"]
        then = json.loads(Path(executed).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return False

    def prose(cells):
        return [(_text(c), sorted(c.get("metadata", {}).get("tags", []) or [])) for c in cells
                if c.get("cell_type") == "markdown" and not tags_of(c) & ADDED_BY_PAPERMILL]

    return prose(now) != prose(then)


def expected_errors_only(executed: Path) -> bool:
    """Whether every error in an executed notebook is in a cell tagged `raises-exception` (at least
    one error, no cell papermill saw fail otherwise): such a run succeeded, and shows them."""
    try:
        cells = json.loads(Path(executed).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    failing = [cell for cell in cells
               if any(o.get("output_type") == "error" for o in cell.get("outputs", []) or [])
               or (cell.get("metadata", {}).get("papermill", {}) or {}).get("exception") is True]
    return bool(failing) and all(RAISES_EXCEPTION in tags_of(cell) for cell in failing)


def _code_digest() -> str:
    """The reader's own code: a cached reading is made again when it changes."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_CODE = _code_digest()
