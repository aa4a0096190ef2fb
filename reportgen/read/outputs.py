"""A code cell's outputs as Jupyter Book shows them: one block per output, by MIME type.

Each `display_data` / `execute_result` shows its richest representation in MyST-NB's order for
HTML (`text/html`, SVG, PNG, JPEG, `text/markdown`, `text/latex`, `text/plain`); stdout and
stderr are separate blocks, as the terminal left them, with log noise left out; errors show with
their traceback. What would run on a page (widgets, JavaScript) is not shown, and every piece of
HTML is sanitised. Outputs too long for a page are cut (`Budget`), and the page links to the
full executed notebook.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from reportgen.read.markdown import SiteMarkdown
from reportgen.read.model import REMOVE_STDERR, REMOVE_STDOUT, Cut, Output
from reportgen.read.terminal import plain, without_noise
from reportgen.safe import sanitize_html, sanitize_svg

# MyST-NB's priority for HTML builders, without what would run (widgets, JavaScript).
MIME_PRIORITY = ["text/html", "image/svg+xml", "image/png", "image/gif", "image/jpeg", "text/markdown",
                 "text/latex", "text/plain"]
IMAGE_SUFFIXES = {"image/svg+xml": "svg", "image/png": "png", "image/gif": "gif", "image/jpeg": "jpg"}
LIVE = {"application/vnd.jupyter.widget-view+json", "application/javascript"}
# Reprs that say only that a figure or a display object exists (Jupyter Book shows them; noise here).
OBJECT_REPRS = re.compile(r"^(<Figure size .*>|\[?<matplotlib\..* at 0x[0-9a-f]+>.*|Text\(.*\)"
                          r"|<IPython\.core\.display\.\w+ object>)$", re.S)
TRACEBACK_FRAMES = 40  # the end of a long traceback is where the error is


@dataclass
class Budget:
    """How much text a notebook may put on one page: per output, and for all outputs together.

    A notebook that prints 50 MB keeps its pages light: each output keeps its beginning and its
    end, and once the page's share is spent the rest is a note with a link to the notebook."""

    per_output: int = 20_000  # characters of one text output
    per_html: int = 150_000  # characters of one HTML output (a DataFrame), shown whole or not at all
    total: int = 400_000
    spent: int = 0

    def take(self, size: int) -> bool:
        """Whether an HTML output of `size` characters fits; if so, it is spent."""
        if size <= min(self.per_html, self.total - self.spent):
            self.spent += size
            return True
        return False

    def trimmed(self, raw: str) -> tuple[str, int]:
        """A huge raw text shortened before any work on it (its beginning and end), and its size."""
        if len(raw) <= 8 * self.per_output:
            return raw, len(raw)
        return raw[: 4 * self.per_output] + "\n" + raw[-4 * self.per_output:], len(raw)

    def cut(self, text: str, total: int | None = None) -> tuple[str, Cut | None]:
        allowed = max(0, min(self.per_output, self.total - self.spent))
        total = max(total or 0, len(text))
        if total <= allowed:
            self.spent += len(text)
            return text, None
        head = text[: allowed * 3 // 4]
        tail = text[len(text) - allowed // 4:] if allowed >= 4 else ""
        head = head[: head.rfind("\n") + 1] or head
        tail = tail[tail.find("\n") + 1:] if "\n" in tail else tail
        kept = head + ("\n…\n" if head and tail else "") + tail
        self.spent += len(kept)
        return kept, Cut(shown=len(head) + len(tail), total=total)


def coalesced(outputs: list) -> list:
    """Consecutive chunks of one stream as one output (nbconvert's coalesce_streams, without copying)."""
    merged: list = []
    for output in outputs:
        if (output.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == output.get("name")):
            merged[-1] = {**merged[-1], "text": _joined(merged[-1].get("text", "")) + _joined(output.get("text", ""))}
        else:
            merged.append(output)
    return merged


def one_output(raw, stem: str, engine: SiteMarkdown, budget: Budget, tags: frozenset[str] = frozenset(),
               heading_level: int = 4) -> Output | None:
    kind = raw.get("output_type")
    if kind == "stream":
        name = raw.get("name")
        if (name == "stdout" and REMOVE_STDOUT in tags) or (name == "stderr" and REMOVE_STDERR in tags):
            return None
        raw_text, size = budget.trimmed(_joined(raw.get("text", "")))
        text = without_noise(raw_text)
        if not text.strip():
            return None
        text, cut = budget.cut(text, size)
        return Output("stderr" if name == "stderr" else "stdout", text=text, cut=cut)
    if kind == "error":
        frames = [plain(frame) for frame in raw.get("traceback", []) or []][-TRACEBACK_FRAMES:]
        text = "\n".join(frames) or f"{raw.get('ename', 'Error')}: {raw.get('evalue', '')}"
        text, cut = budget.cut(text)
        return Output("error", text=text, alt=plain(str(raw.get("ename", "Error"))), cut=cut)
    if kind in ("display_data", "execute_result"):
        return mime_output(raw.get("data", {}) or {}, raw.get("metadata", {}) or {}, stem, engine, budget,
                           heading_level=heading_level)
    return None


def mime_output(data: dict, metadata: dict, stem: str, engine: SiteMarkdown, budget: Budget,
                heading_level: int = 4) -> Output | None:
    """The representation of a display that a page shows (None: nothing worth showing)."""
    from reportgen.read.markdown import demote_headings

    if LIVE & set(data) and not set(MIME_PRIORITY[:-1]) & set(data):
        return None  # a widget or a script: nothing a static page can show (its text/plain is a repr)
    mime = next((m for m in MIME_PRIORITY if m in data), None)
    if mime is None:
        return None
    value = _joined(data[mime])
    if mime in IMAGE_SUFFIXES:
        image = sanitize_svg(value.encode("utf-8")) if mime == "image/svg+xml" else _base64(value)
        if image is None:
            return None
        size = metadata.get(mime, {}) if isinstance(metadata.get(mime), dict) else {}
        return Output("figure", data=image, file=f"{stem}.{IMAGE_SUFFIXES[mime]}",
                      width=length(size.get("width")), height=length(size.get("height")))
    if mime == "text/html":
        return _sized("html", demote_headings(sanitize_html(value), heading_level), budget)
    if mime == "text/markdown":
        return _sized("markdown", demote_headings(engine.html(value), heading_level), budget)
    if mime == "text/latex":
        text, cut = budget.cut(plain(strip_latex_delimiters(value)))
        return Output("latex", text=text, cut=cut)
    value, size = budget.trimmed(value)
    text = plain(value).strip("\n")
    if not text.strip() or OBJECT_REPRS.match(text.strip()):
        return None
    text, cut = budget.cut(text, size)
    return Output("result", text=text, cut=cut)  # a repr: its own block, never merged with printed text


def _sized(kind: str, html: str, budget: Budget) -> Output | None:
    """HTML cannot be cut in the middle: one that does not fit is left for the notebook."""
    if not html.strip():
        return None
    if not budget.take(len(html)):
        return Output(kind, html="", cut=Cut(shown=0, total=len(html)))
    return Output(kind, html=html)


def strip_latex_delimiters(source: str) -> str:
    r"""A formula without its own `$…$`, `$$…$$`, `\(…\)` or `\[…\]` (the page adds MathJax's)."""
    source = source.strip()
    for start, end in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        if source.startswith(start) and source.endswith(end) and len(source) >= len(start) + len(end):
            return source[len(start): len(source) - len(end)].strip()
    return source


def length(value) -> str | None:
    """A width or height from output metadata, as an HTML length (pixels or a percentage)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)) and value > 0:
        return str(int(value))
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(px|%)?\s*", str(value))
    if not match:
        return None
    return match.group(1) + ("%" if match.group(2) == "%" else "")


def _base64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value)
    except (binascii.Error, ValueError):
        return None


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)
