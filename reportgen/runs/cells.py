"""A notebook's code cells read as Python (`ast`): what a run learns from its code before it runs.

- `reassigned`: papermill injects a run's parameters right after the first cell tagged `parameters`;
  a later cell that assigns one of them again makes the notebook go on with its own value, not the
  run file's, so the run warns before it executes.
- `imported_distributions`: the libraries a notebook imports, as the distributions that provide
  them (its provenance, and for a notebook of one's own the libraries of its cache key).

Cells are read as the kernel reads them (IPython's transformer turns `%pip` and `!ls` into Python);
a cell that is still not Python is skipped here: the kernel will say so when it runs.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"  # a cell papermill left in a saved output: replaced when it runs
# Statements whose names belong to a scope of their own: assigning there leaves the notebook's global alone.
OWN_SCOPE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass(frozen=True)
class CodeCell:
    number: int  # 1-based position among all the notebook's cells, as the student counts them
    tags: frozenset[str]
    first_line: str
    tree: ast.Module | None  # None: not Python, even as IPython reads it


@dataclass(frozen=True)
class Reassignment:
    """A parameter assigned again below the parameters cell."""

    name: str
    cell: CodeCell


def code_cells(notebook: Path) -> list[CodeCell]:
    """The notebook's code cells, parsed (read again only when the file changes)."""
    notebook = Path(notebook)
    return _code_cells(str(notebook), notebook.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _code_cells(path: str, _mtime: int) -> list[CodeCell]:
    import nbformat

    cells = []
    for number, cell in enumerate(nbformat.read(path, as_version=4).cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        lines = [line.strip() for line in source.splitlines() if line.strip()]
        cells.append(CodeCell(number, frozenset(cell.get("metadata", {}).get("tags", [])),
                              lines[0] if lines else "", _parse(source)))
    return cells


def _parse(source: str) -> ast.Module | None:
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# ------------------------------------------------------------------ assignments

def reassigned(notebook: Path, names) -> list[Reassignment]:
    """Each of `names` (the parameters cell's) that a code cell below the first parameters cell assigns
    at the notebook's top level, in the order of the cells: the value papermill injected is lost there."""
    cells = code_cells(notebook)
    first = next((i for i, cell in enumerate(cells) if PARAMETERS_TAG in cell.tags), None)
    if first is None:
        return []
    wanted = set(names)
    found = []
    for cell in cells[first + 1:]:
        if INJECTED_TAG in cell.tags or cell.tree is None:
            continue
        found += [Reassignment(name, cell) for name in sorted(assigned_names(cell.tree) & wanted)]
    return found


def assigned_names(tree: ast.AST) -> set[str]:
    """Global names a cell assigns: plain, annotated (with a value) and augmented assignments, tuple and
    starred targets, also under `if`/`for`/`with`/`try` at top level; not inside a function or class."""
    names: set[str] = set()
    for node in _top_level(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names |= _target_names(target)
        elif isinstance(node, ast.AugAssign) or (isinstance(node, ast.AnnAssign) and node.value is not None):
            names |= _target_names(node.target)
    return names


def _top_level(tree: ast.AST):
    """The statements that run in the notebook's global scope."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, OWN_SCOPE):
            continue
        yield child
        yield from _top_level(child)


def _target_names(target: ast.expr) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_target_names(element) for element in target.elts))
    return set()  # an attribute or an item (`config.size = 224`) assigns no name


# ------------------------------------------------------------------ imports

def imported_names(notebook: Path) -> set[str]:
    """Every module the notebook's code imports, in full (`from sklearn import datasets` gives sklearn
    and sklearn.datasets), wherever the import statement is; relative imports left out."""
    names = set()
    for cell in code_cells(notebook):
        for node in ast.walk(cell.tree) if cell.tree is not None else ():
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")}
    return names


def imported_modules(notebook: Path) -> set[str]:
    """The top-level modules the notebook imports (`import sklearn.datasets` -> sklearn)."""
    return {name.split(".")[0] for name in imported_names(notebook)}


def imported_distributions(notebook: Path) -> list[str]:
    """The installed distributions that provide the notebook's imports (`sklearn` -> scikit-learn), sorted;
    the standard library and modules nothing installed provides are left out."""
    providers = _providers()
    return sorted({dist for module in imported_modules(notebook) for dist in providers.get(module, [])})


@functools.lru_cache(maxsize=1)
def _providers() -> dict[str, list[str]]:
    """Module -> the distributions providing it, names normalised as pip writes them (read once)."""
    return {module: [_normalised(dist) for dist in dists]
            for module, dists in importlib.metadata.packages_distributions().items()}


def _normalised(name: str) -> str:
    """A distribution's name as PyPI normalises it (PEP 503): scikit_learn -> scikit-learn."""
    return re.sub(r"[-_.]+", "-", name).lower()
