"""Compiled templates kept between builds: Jinja's bytecode cache, for reportgen's and the theme's.

Compiling the templates is a fixed cost of every build (MkDocs Material's some forty templates and
reportgen's nine: about a third of a second on two cores), paid again by every `mkdocs build` and
by every rebuild of `mkdocs serve`, which makes a new theme environment each time. Jinja keeps the
compiled code in a bytecode cache, found again by the template's file and a checksum of its source,
so an edited template is compiled afresh.

The cache is Jinja's own per-user folder (`FileSystemBytecodeCache()`: in the system's temporary
folder, created private to the user and refused when someone else owns it), never the project's
`.cache/`: cached bytecode is code that runs, and a portfolio's folders may come from someone else
(the course view reads students' checkouts). Environments that compile differently (other options,
extensions, a sandbox) get files of their own, by a prefix made of what changes the compiled code.
"""

from __future__ import annotations

import hashlib

from jinja2 import Environment
from jinja2.bccache import FileSystemBytecodeCache

# Environment attributes that change the code Jinja compiles a template into.
COMPILE_OPTIONS = ("block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
                   "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
                   "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized",
                   "autoescape")


def compile_identity(env: Environment) -> str:
    """What the compiled code of a template depends on besides its source (and Jinja's and Python's
    versions, which Jinja checks itself)."""
    options = [type(env).__module__, type(env).__qualname__, type(env.undefined).__qualname__]
    options += [f"{name}={_stable(getattr(env, name, None))}" for name in COMPILE_OPTIONS]
    options += sorted(type(extension).__module__ + "." + type(extension).__qualname__
                      for extension in env.extensions.values())
    return hashlib.sha256("\0".join(options).encode("utf-8")).hexdigest()[:16]


def _stable(value) -> str:
    """A repr that is the same in every process (a function's address is not: its name and closure are)."""
    if callable(value):
        cells = [repr(cell.cell_contents) for cell in getattr(value, "__closure__", None) or ()]
        return getattr(value, "__qualname__", type(value).__qualname__) + repr(cells)
    return repr(value)


def keep_compiled(env: Environment) -> Environment:
    """`env` with a bytecode cache: its templates compiled once, not at every build."""
    if env.bytecode_cache is None:
        env.bytecode_cache = FileSystemBytecodeCache(pattern=f"reportgen-{compile_identity(env)}-%s.cache")
    return env
