"""The shipped practice notebook's own functions (make_pipeline, make_model, fit, explain), for tests.

The practice's package keeps the bookkeeping; the central code a student is graded on lives in the
notebook. Tests of the bookkeeping call that very code: the notebook's imports and function
definitions are executed here (nothing else of it), with the globals the functions read.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "experiments" / "augmentation_xai.ipynb"


def notebook_functions(**globals_) -> dict:
    """{name: function} of every function the notebook defines, bound to `globals_` (e.g. params, dataset)."""
    namespace = dict(globals_)
    for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        kept = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
        exec(compile(ast.Module(body=kept, type_ignores=[]), str(NOTEBOOK), "exec"), namespace)  # noqa: S102
    return {name: value for name, value in namespace.items()
            if callable(value) and getattr(value, "__module__", None) is None and name not in globals_}


def practice_functions(params, class_names: list[str]) -> dict:
    """The notebook's functions for a run of `params` on data with `class_names`."""
    from types import SimpleNamespace

    return notebook_functions(params=params, dataset=SimpleNamespace(class_names=list(class_names)))
