"""The package's layout: the generator half knows the practice only through the typed contract."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reportgen"
PRACTICE = "reportgen.practice"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports: import statements anywhere in it, and importlib.import_module("...")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import: from the file's own package upwards
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def generator_files() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if PRACTICE.split(".")[1] not in path.relative_to(PACKAGE).parts[:1]]


def test_the_walk_finds_imports_of_every_kind(tmp_path):
    sample = PACKAGE / "render" / "_layout_sample.py"
    sample.write_text("import os\nfrom reportgen.practice import xai\nfrom ..practice.config import RunParameters\n"
                      "def f():\n    import importlib\n    importlib.import_module('reportgen.practice.data')\n")
    try:
        found = imported_modules(sample)
    finally:
        sample.unlink()
    assert {"os", "reportgen.practice", "reportgen.practice.config", "reportgen.practice.data"} <= found


def test_the_generator_half_imports_nothing_of_the_practice():
    offending = {path.relative_to(PACKAGE.parent).as_posix(): sorted(m for m in imported_modules(path)
                                                                     if m == PRACTICE or m.startswith(PRACTICE + "."))
                 for path in generator_files()}
    assert {path: modules for path, modules in offending.items() if modules} == {}
    assert len(generator_files()) > 20  # the walk saw the generator (cli, runs, render, ...)
