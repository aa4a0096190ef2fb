"""The layout of templates/: one base page template that every page extends, one figure macro, one
checklist macro, and pages that lay out data (reportgen/render/views.py decides). Read through Jinja's
own parser, not by pattern-matching the text."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import nodes

from reportgen.render.pages import PAGE_TEMPLATES, environment

from conftest import REPO

TEMPLATES = REPO / "templates"
BASE = "base.md.j2"
MACROS = "macros.md.j2"
FRAGMENTS = {"reflection.md.j2"}  # the reflection seed: a file of its own, included in the run page
ENV = environment(TEMPLATES)


def parsed(name: str) -> nodes.Template:
    return ENV.parse((TEMPLATES / name).read_text(encoding="utf-8"), name=name)


def template_names() -> list[str]:
    return sorted(path.name for path in TEMPLATES.glob("*.j2"))


def text_of(node: nodes.Node) -> str:
    """The literal text a node writes (the template's own markup, not what data fills in)."""
    return "".join(data.data for data in node.find_all(nodes.TemplateData))


def macros() -> dict[tuple[str, str], nodes.Macro]:
    """Every macro of every template, by (template, macro name)."""
    return {(name, macro.name): macro for name in template_names() for macro in parsed(name).find_all(nodes.Macro)}


def draws_figure(node: nodes.Node) -> bool:
    return "<figure" in text_of(node)


def draws_checkbox(node: nodes.Node) -> bool:
    """Writes a task-list item: "- [" then a ticked-or-not mark then "] " (Markdown's checkbox)."""
    for output in node.find_all(nodes.Output):
        parts = output.nodes
        for before, mark, after in zip(parts, parts[1:], parts[2:]):
            if (isinstance(before, nodes.TemplateData) and before.data.endswith("- [")
                    and not isinstance(mark, nodes.TemplateData)
                    and isinstance(after, nodes.TemplateData) and after.data.startswith("] ")):
                return True
    return False


def calls_to(tree: nodes.Template, macro: str) -> list[nodes.Call]:
    """Calls of `m.<macro>(...)` (macros.md.j2 imported as m) in a template."""
    return [call for call in tree.find_all(nodes.Call)
            if isinstance(call.node, nodes.Getattr) and call.node.attr == macro
            and isinstance(call.node.node, nodes.Name) and call.node.node.name == "m"]


def imports_macros_as_m(tree: nodes.Template) -> bool:
    return any(isinstance(node.template, nodes.Const) and node.template.value == MACROS and node.target == "m"
               for node in tree.find_all(nodes.Import))


# ------------------------------------------------------------------------- base

def is_macro_library(tree: nodes.Template) -> bool:
    """Only macros and imports at the top level (whitespace aside): a template pages import."""
    return all(isinstance(node, (nodes.Macro, nodes.Import))
               or (isinstance(node, nodes.Output) and not text_of(node).strip()) for node in tree.body)


def test_every_template_is_the_base_a_page_or_a_macro_library():
    assert set(PAGE_TEMPLATES) <= set(template_names())
    for name in set(template_names()) - set(PAGE_TEMPLATES) - FRAGMENTS - {BASE}:
        assert is_macro_library(parsed(name)), name
    assert not any(is_macro_library(parsed(name)) for name in PAGE_TEMPLATES)


@pytest.mark.parametrize("name", PAGE_TEMPLATES)
def test_every_page_template_extends_the_base(name):
    extends = list(parsed(name).find_all(nodes.Extends))
    assert len(extends) == 1 and isinstance(extends[0].template, nodes.Const)
    assert extends[0].template.value == BASE


def test_the_page_header_is_written_once_in_the_base():
    """The front matter, the generated-page marker and the H1 live in base.md.j2 only."""
    for name in template_names():
        tree = parsed(name)
        writes_marker = any(n.name == "marker" for n in tree.find_all(nodes.Name) if n.ctx == "load")
        writes_front_matter = text_of(tree).lstrip().startswith("---\ntitle:")
        assert (writes_marker, writes_front_matter) == ((True, True) if name == BASE else (False, False)), name
    blocks = {block.name for block in parsed(BASE).find_all(nodes.Block)}
    assert {"lead", "content", "footer"} <= blocks


# ---------------------------------------------------------------------- macros

def test_exactly_one_figure_macro_and_it_is_the_one_used():
    figure_macros = [key for key, macro in macros().items() if draws_figure(macro)]
    assert figure_macros == [(MACROS, "figure")]
    for name in template_names():  # nowhere else does a template write a <figure> itself
        outside = [node for node in parsed(name).find_all(nodes.Output)
                   if draws_figure(node) and (name, "figure") != (MACROS, "figure")]
        assert not outside, name
    users = [name for name in template_names() if calls_to(parsed(name), "figure")]
    assert {"run_page.md.j2", "evidence.md.j2"} <= set(users)
    assert all(imports_macros_as_m(parsed(name)) for name in users)


def test_exactly_one_checklist_macro_and_both_run_pages_use_it():
    checklist_macros = [key for key, macro in macros().items() if draws_checkbox(macro)]
    assert checklist_macros == [(MACROS, "checklist")]
    for name in template_names():
        if name != MACROS:
            assert not draws_checkbox(parsed(name)), name
    for name in ("run_page.md.j2", "notebook_run.md.j2"):
        tree = parsed(name)
        assert imports_macros_as_m(tree) and len(calls_to(tree, "checklist")) == 1, name


def test_the_checkbox_detector_sees_a_second_checklist(tmp_path):
    """The layout test above could fail: a second checklist renderer is found."""
    source = '{% macro ticks(items) %}{% for l, d in items %}- [{{ "x" if d else " " }}] {{ l }}\n{% endfor %}{% endmacro %}'
    assert draws_checkbox(ENV.parse(source))
    assert not draws_checkbox(ENV.parse("- [Keras](https://keras.io) {{ x }}"))


def test_page_templates_decide_nothing_the_views_decide():
    """What moved to Python stays there: no verdict-to-admonition table, no practice checklist, no
    metric-row list, no `practice_run` branching in the run pages' building blocks."""
    for name in template_names():
        tree = parsed(name)
        assert not list(tree.find_all(nodes.Dict)), f"{name}: a lookup table belongs in Python"
        called = {n.node.name for n in tree.find_all(nodes.Call) if isinstance(n.node, nodes.Name)}
        assert not called & {"checklist_items", "activities", "describe_pipeline"}, name
    for name in ("run_page.md.j2", "notebook_run.md.j2", "evidence.md.j2", MACROS):
        tests = {n.name for n in parsed(name).find_all(nodes.Test)}
        assert "practice_run" not in tests, name
