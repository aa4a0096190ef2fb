"""What an executed notebook shows, read from the notebook alone: the typed view the pages use.

No ML library and no parser here: plain data, so `reportgen.results` can name these types.
Every `html` field holds HTML that has passed `reportgen.safe.sanitize_html`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Cell tags, as Jupyter Book / MyST-NB honour them for display (underscore spellings too).
REMOVE_CELL, REMOVE_INPUT, REMOVE_OUTPUT = "remove-cell", "remove-input", "remove-output"
REMOVE_STDOUT, REMOVE_STDERR = "remove-stdout", "remove-stderr"
HIDE_CELL, HIDE_INPUT, HIDE_OUTPUT = "hide-cell", "hide-input", "hide-output"
RAISES_EXCEPTION = "raises-exception"
PARAMETERS, INJECTED_PARAMETERS = "parameters", "injected-parameters"  # papermill's
PAPERMILL_ERROR_CELL = "papermill-error-cell-tag"  # the banner papermill adds to a failed notebook
CELL_OPTIONS = ("mystnb", "myst", "render")  # where MyST-NB reads a cell's display options ("render": legacy)


def tags_of(cell) -> frozenset[str]:
    """A cell's tags, with MyST-NB's underscore spellings read as the dashed ones."""
    tags = cell.get("metadata", {}).get("tags", []) or []
    return frozenset(str(tag).replace("_", "-") for tag in tags if isinstance(tag, str))


def cell_options(cell) -> dict:
    """A cell's display options as MyST-NB reads them from its metadata (`image`, `figure`,
    `code_prompt_show`), under `mystnb`, `myst` or the legacy `render`."""
    metadata = cell.get("metadata", {}) or {}
    for key in CELL_OPTIONS:
        if isinstance(metadata.get(key), dict):
            return metadata[key]
    return {}


@dataclass
class Cut:
    """An output too long for a page: how much of it the page shows."""

    shown: int  # characters shown
    total: int  # characters in the executed notebook


@dataclass
class Output:
    """One output of a code cell, as a page shows it."""

    kind: str  # stdout | stderr | result (a text/plain repr) | html | markdown | latex | figure | error
    text: str = ""  # stdout, stderr, result, error: text as a terminal leaves it; latex: the formula
    html: str = ""  # html, markdown: sanitised HTML
    data: bytes = b""  # figure: the image
    file: str = ""  # figure: its file name beside the page
    width: str | None = None  # figure: from the output's metadata, as Jupyter Book reads it
    height: str | None = None
    alt: str = ""
    caption: str = ""  # figure: sanitised inline HTML, from the cell's `figure: {caption: ...}`
    hidden: bool = False  # hide-output / hide-cell: shown collapsed
    cut: Cut | None = None  # too long for a page: what was kept
    glue: str | None = None  # the name it was glued under (myst_nb / scrapbook)


@dataclass
class Cell:
    """A code cell with what it left: its outputs and papermill's measured time."""

    index: int  # in the executed notebook
    number: int | None  # in the student's notebook, 1-based (None for cells papermill added)
    source: str
    tags: frozenset[str]
    seconds: float | None
    outputs: list[Output] = field(default_factory=list)
    failed: bool = False  # its error stopped the run
    prompt: str = ""  # what a collapsed part says (MyST-NB's `code_prompt_show`), "" for the page's own

    @property
    def input_shown(self) -> bool:
        return REMOVE_INPUT not in self.tags and bool(self.source.strip())

    @property
    def is_parameters(self) -> bool:
        return bool(self.tags & {PARAMETERS, INJECTED_PARAMETERS})


@dataclass
class Prose:
    """Markdown of a cell between headings, rendered by the site's engine and sanitised."""

    html: str


@dataclass
class Section:
    """A heading of the notebook with what follows it up to the next heading."""

    title: str  # the heading's text
    level: int  # depth under Desarrollo: 0 for the notebook's top sections, 1 for theirs, ...
    parts: list[Prose | Cell] = field(default_factory=list)

    @property
    def cells(self) -> list[Cell]:
        return [part for part in self.parts if isinstance(part, Cell)]

    @property
    def outputs(self) -> list[Output]:
        return [output for cell in self.cells for output in cell.outputs]

    @property
    def seconds(self) -> float | None:
        """Papermill's measured time of the section's code cells (None when none was measured)."""
        measured = [cell.seconds for cell in self.cells if cell.seconds is not None and not cell.is_parameters]
        return sum(measured) if measured else None

    @property
    def has_code(self) -> bool:
        return any(not cell.is_parameters for cell in self.cells)

    @property
    def prose(self) -> str:
        return "\n".join(part.html for part in self.parts if isinstance(part, Prose))


@dataclass
class Glued:
    """A value a notebook glued under a name (myst_nb.glue, scrapbook.glue)."""

    name: str
    value: float | None = None  # a number: a metric
    output: Output | None = None  # an image: a figure (or any other display)
    stage: str | None = None  # the section it was glued in


@dataclass
class NotebookHarvest:
    """An executed notebook as its pages show it."""

    title: str | None  # the notebook's own title heading, when it has one
    intro: str  # sanitised HTML: the prose before the first section, else the first paragraph, else ""
    preamble: str = ""  # sanitised HTML: the prose before the first section (after the title)
    sections: list[Section] = field(default_factory=list)
    glued: list[Glued] = field(default_factory=list)
    failed_cell: Cell | None = None  # the cell whose error stopped the run
    fresh_prose: bool = False  # the prose is the notebook's as it is now, not as executed
    key: str = ""  # identity of what it was read from (caches of pages key on it)

    @property
    def figures(self) -> list[Output]:
        return [o for s in self.sections for o in s.outputs if o.kind == "figure"]

    @property
    def cut(self) -> bool:
        return any(o.cut is not None for s in self.sections for o in s.outputs)

    def has(self, kind: str) -> bool:
        return any(o.kind == kind for s in self.sections for o in s.outputs)
