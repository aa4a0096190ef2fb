"""Stream text as a terminal leaves it, without the noise a reader of results does not need.

A kernel's stdout and stderr are what a program wrote to a terminal: carriage returns redraw a
line (progress bars, Keras' `verbose=1`), backspaces erase, ANSI sequences colour. A page shows
the final state of each line, as Jupyter's own frontends do (nbconvert's `coalesce_streams`
applies the same carriage-return rule), with no control character left. Lines that are log noise
(TensorFlow's C++ and absl lines, Python logging from libraries, tqdm bars) stay in the executed
notebook, off the pages, and so do Python's warnings (`file.py:3: UserWarning: ...` and the source
line under it), which libraries print by the dozen.
"""

from __future__ import annotations

import re

from reportgen.safe import ANSI, CONTROL, printable

NOISE_LINES = re.compile("|".join([
    r"^[IWEF]\d{4} \d\d:\d\d:\d\d",  # absl/glog: I0000 00:00:1732... file.cc:12] ...
    r"^WARNING: All log messages before absl::InitializeLog\(\)",
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.,]\d+: [IWEF] ",  # TensorFlow C++ logging
    r"\d+%\|",  # tqdm
    r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):[\w.]+:",  # Python logging's default format (tensorflow, absl)
]))
# warnings.showwarning's format, `path:line: Category: message` (the path may be scrubbed to `<tmp>`)
PYTHON_WARNING = re.compile(r"^(?:\S.*?[:>] )?[A-Z]\w*Warning: ")


def terminal_text(text: str) -> str:
    """What a terminal shows after `text` was written to it: each line's final state, no escapes."""
    text = ANSI.sub("", text.replace("\r\n", "\n"))
    lines = []
    for line in text.split("\n"):
        if "\r" in line:  # the line was redrawn: what follows the last carriage return is what is left
            redraws = [part for part in line.split("\r") if part]
            line = redraws[-1] if redraws else ""
        if "\b" in line:
            kept: list[str] = []
            for char in line:
                if char == "\b":
                    if kept:
                        kept.pop()
                else:
                    kept.append(char)
            line = "".join(kept)
        lines.append(CONTROL.sub("", line))
    return "\n".join(lines)


def without_noise(text: str) -> str:
    """Stream text for a page: as the terminal leaves it, log and progress-bar lines left out."""
    lines: list[str] = []
    warning = False
    for line in terminal_text(text).split("\n"):
        line = line.rstrip()
        if warning and line.startswith((" ", "\t")):
            continue  # the source line a warning quotes
        warning = bool(PYTHON_WARNING.match(line))
        if warning or NOISE_LINES.search(line) or (not line and (not lines or not lines[-1])):
            continue  # noise, or a second blank line in a row (what noise leaves behind)
        lines.append(line)
    return "\n".join(lines).strip("\n")


def plain(text: str) -> str:
    """Any other text from a notebook (tracebacks, reprs): escapes and control characters removed."""
    return printable(text)
