"""The MkDocs plugin: the generated pages exist only inside the build, a student's file wins, a
reflection is part of its run page, and template errors stop the build naming the template."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import PluginError

from reportgen.plugin import ReportgenPlugin
from reportgen.project import Project
from reportgen.runs.imported import import_notebook

from conftest import REPO, committed_project
from results_fixtures import executed_notebook


@pytest.fixture
def portfolio(tmp_path):
    return committed_project(tmp_path / "portfolio")


def built(root):
    config = load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(root / "site"))
    build(config)
    return root / "site"


def test_generated_pages_stay_out_of_docs_a_students_page_wins_and_a_reflection_joins_its_run_page(portfolio):
    (portfolio / "docs" / "runs" / "shortcut").mkdir(parents=True, exist_ok=True)
    (portfolio / "docs" / "runs" / "shortcut" / "index.md").write_text("# Mi propia página\n", encoding="utf-8")
    (portfolio / "docs" / "runs" / "demo").mkdir(parents=True, exist_ok=True)
    (portfolio / "docs" / "runs" / "demo" / "reflexion.md").write_text("Una frase que escribí yo.\n", encoding="utf-8")
    docs_before = sorted(p.relative_to(portfolio) for p in (portfolio / "docs").rglob("*"))
    site = built(portfolio)  # one build for the three: it is the slow part
    for page in ("index.html", "runs/demo/index.html", "runs/shortcut/index.html", "comparacion.html"):
        assert (site / page).is_file(), page
    assert sorted(p.relative_to(portfolio) for p in (portfolio / "docs").rglob("*")) == docs_before
    assert "Mi propia página" in (site / "runs" / "shortcut" / "index.html").read_text(encoding="utf-8")
    assert "Una frase que escribí yo." in (site / "runs" / "demo" / "index.html").read_text(encoding="utf-8")
    assert not (site / "runs" / "demo" / "reflexion" / "index.html").exists()


def test_a_broken_template_stops_the_build_naming_the_template_and_line(project):
    index = project / "templates" / "index.md.j2"  # a portfolio without results: the home page is still made
    index.write_text(index.read_text(encoding="utf-8") + "\n{% if %}\n", encoding="utf-8")
    with pytest.raises(PluginError, match=r"template error: .*index\.md\.j2:\d+"):
        ReportgenPlugin.generated_files(Project.at(project), language="es")


def test_a_site_of_notebooks_of_ones_own_imports_neither_scipy_nor_matplotlib(tmp_path):
    """Their pages have no comparison to compute and no figure to draw: the build does not pay for
    the libraries those need (about a second and a half of every build on two cores)."""
    root = tmp_path / "portfolio"
    for folder in ("templates", "docs"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("runs"))
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    import_notebook(Project.at(root), executed_notebook(tmp_path / "mio.ipynb", "print('hecho')"), "mio")
    script = textwrap.dedent("""
        import sys
        from mkdocs.commands.build import build
        from mkdocs.config import load_config
        build(load_config(config_file="mkdocs.yml", site_dir="site"))
        print(" ".join(name for name in ("scipy", "matplotlib", "pandas") if name in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert (root / "site" / "runs" / "mio" / "index.html").is_file()
    assert result.stdout.strip() == ""
