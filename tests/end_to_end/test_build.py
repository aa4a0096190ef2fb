"""Rendering: pages are made inside the MkDocs build; docs/ holds only the student's files."""

from __future__ import annotations

import pytest

import filecmp
import gzip
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.render.pages import md_text
from reportgen.runs import execution as runs_module

from conftest import committed_project, write_run

pytestmark = pytest.mark.slow  # most tests here execute a notebook

STUDENT_FILES = {"javascripts", "stylesheets", "assets"}


def _report(project: Path, *extra: str) -> int:
    return main(["--project", str(project), "report", "--quiet", *extra])


def _article_text(path: Path) -> str:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select_one("article").get_text(" ")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reflection_edit_and_handwritten_pages_survive_regeneration(project):
    write_run(project, "demo")
    assert _report(project) == 0
    reflection = project / "docs" / "runs" / "demo" / "reflexion.md"
    assert "¿Qué pregunta intentaba responder este notebook?" in reflection.read_text()  # seeded with the guiding questions
    mine = "## Mi reflexión\n\nEl modelo miró el fondo en **3 de 5** errores.\n"
    reflection.write_text(mine, encoding="utf-8")
    handwritten = project / "docs" / "notas.md"
    handwritten.write_bytes("# Mis notas\n\nTexto propio.\n".encode())
    config_before = (project / "mkdocs.yml").read_bytes() + b"\n# mi comentario\n"
    (project / "mkdocs.yml").write_bytes(config_before)

    assert _report(project, "--force") == 0

    assert reflection.read_text(encoding="utf-8") == mine
    assert handwritten.read_bytes() == "# Mis notas\n\nTexto propio.\n".encode()
    assert (project / "mkdocs.yml").read_bytes() == config_before
    page = (project / "site" / "runs" / "demo" / "index.html").read_text()
    assert "El modelo miró el fondo en" in page and "<strong>3 de 5</strong>" in page
    assert not (project / "site" / "runs" / "demo" / "reflexion.html").exists()  # part of the run page only


def test_docs_holds_only_student_files(project):
    write_run(project, "demo")
    assert _report(project) == 0
    docs = {p.relative_to(project / "docs").as_posix() for p in (project / "docs").rglob("*") if p.is_file()}
    generated = {path for path in docs if path.split("/")[0] not in STUDENT_FILES}
    assert generated == {"runs/demo/reflexion.md"}
    site = project / "site" / "runs" / "demo"
    assert (site / "index.html").exists() and (site / "notebook.html").exists()
    recorded = project / "experiments" / "results" / "demo" / "figures" / "curves.png"
    assert (site / "figures" / "curves.png").read_bytes() == recorded.read_bytes()  # served from the results


def test_a_student_file_at_a_generated_path_wins(project):
    write_run(project, "demo")
    mine = project / "docs" / "runs" / "demo" / "index.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("# Mi página\n\nLa escribí yo.\n", encoding="utf-8")
    assert _report(project) == 0
    assert "La escribí yo." in _article_text(project / "site" / "runs" / "demo" / "index.html")
    assert mine.read_text(encoding="utf-8") == "# Mi página\n\nLa escribí yo.\n"


def test_render_out_writes_the_generated_pages_to_take_over(project, tmp_path):
    write_run(project, "demo")
    assert _report(project) == 0
    out = tmp_path / "pages"
    assert main(["--project", str(project), "render", "--out", str(out)]) == 0
    page = (out / "runs" / "demo" / "index.md").read_text(encoding="utf-8")
    assert "docs/runs/demo/index.md replaces this page" in page and "# Corrida demo" in page
    assert (out / "runs" / "demo" / "figures" / "curves.png").exists()


def test_markdown_and_html_in_names_render_as_text(project):
    title = "Flores <script>alert('x')</script> **negrita** [link](http://evil) $x^2$"
    write_run(project, "demo", title=title, description="<img src=x onerror=alert(1)> _cursiva_")
    assert _report(project) == 0
    html = (project / "site" / "runs" / "demo" / "index.html").read_text()
    soup = BeautifulSoup(html, "html.parser")
    article = soup.select_one("article")
    assert not article.find("script")
    assert not article.find("img", attrs={"onerror": True})
    assert not article.find("a", href="http://evil")
    assert not article.find("strong", string="negrita")
    assert not article.find("h1").find(class_="arithmatex")  # "$x^2$" in a title is text, not a formula
    assert "<script>alert('x')</script> **negrita** [link](http://evil) $x^2$" in article.get_text()


def test_md_text_escapes_every_markup_character():
    assert md_text("a*b_c`d[e](f)<g>#h|i $x$") == r"a\*b\_c\`d\[e\](f)&lt;g&gt;\#h\|i &#36;x&#36;"


def test_removed_run_leaves_the_site_but_keeps_reflection(project):
    write_run(project, "demo")
    assert _report(project) == 0
    (project / "experiments" / "runs" / "demo.yaml").unlink()
    write_run(project, "other")
    assert _report(project) == 0
    assert not (project / "site" / "runs" / "demo").exists()
    assert (project / "docs" / "runs" / "demo" / "reflexion.md").exists()


def test_render_without_results_shows_the_run_as_not_executed(project):
    write_run(project, "pending")
    assert main(["--project", str(project), "report", "--no-execute", "--quiet"]) == 0
    index = (project / "site" / "index.html").read_text()
    assert "sin ejecutar" in index
    assert not (project / "experiments" / "results" / "pending").exists()
    assert not (project / "docs" / "runs" / "pending").exists()  # seeded once results exist


def _add_to_page_template(template, sentence: str) -> None:
    """A sentence added to a page template, in its footer block: a page extends base.md.j2, so only
    what its blocks hold is on the page."""
    text = template.read_text(encoding="utf-8")
    assert "{% block footer %}\n" in text
    template.write_text(text.replace("{% block footer %}\n", "{% block footer %}\n" + sentence + "\n", 1),
                        encoding="utf-8")


def test_language_title_description_and_template_changes_rerender_without_executing(project, monkeypatch):
    write_run(project, "demo", title="Corrida en castellano")
    assert _report(project) == 0
    results = project / "experiments" / "results" / "demo"
    before = _snapshot(results)
    calls = []
    monkeypatch.setattr(runs_module, "execute", lambda *a, **k: calls.append(a))

    write_run(project, "demo", title="An English run", language="en", description="Described in English.")
    _add_to_page_template(project / "templates" / "notebook_run.md.j2",  # the tiny notebook is not the practice
                          "A sentence added to the template.")
    assert _report(project) == 0

    assert calls == [] and _snapshot(results) == before
    page = _article_text(project / "site" / "runs" / "demo" / "index.html")
    assert "An English run" in page and "Described in English." in page
    assert "A sentence added to the template." in page
    assert "Activities" in page and "Actividades" not in page


def test_mkdocs_build_alone_makes_the_same_site_as_report(project, tmp_path):
    write_run(project, "demo")
    write_run(project, "pending")
    assert _report(project) == 0
    clean = tmp_path / "clone"
    shutil.copytree(project, clean, ignore=shutil.ignore_patterns("site", ".cache"))
    shutil.rmtree(clean / "docs" / "runs")  # a fresh clone before any report: no reflection seeds yet
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=clean,
                           capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert build.returncode == 0, build.stderr[-3000:]
    ours, theirs = project / "site", clean / "site"
    names = sorted(p.relative_to(ours).as_posix() for p in ours.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(theirs).as_posix() for p in theirs.rglob("*") if p.is_file())
    for name in names:
        if name == "sitemap.xml.gz":  # gzip stamps its own time
            assert gzip.decompress((ours / name).read_bytes()) == gzip.decompress((theirs / name).read_bytes())
        else:
            assert filecmp.cmp(ours / name, theirs / name, shallow=False), name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fetch_until(url: str, wanted: str, timeout: float) -> str:
    deadline, text = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            text = urllib.request.urlopen(url, timeout=5).read().decode()
            if wanted in text:
                return text
        except OSError:
            pass
        time.sleep(0.5)
    return text


def test_mkdocs_serve_shows_a_reflection_edit_without_running_anything(project):
    write_run(project, "demo")
    assert _report(project) == 0
    results_before = _snapshot(project / "experiments" / "results")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
                              cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    try:
        url = f"http://127.0.0.1:{port}/runs/demo/index.html"
        assert "¿Qué pregunta intentaba" in _fetch_until(url, "¿Qué pregunta intentaba", timeout=60)
        (project / "docs" / "runs" / "demo" / "reflexion.md").write_text("Mi reflexión editada en vivo.\n")
        assert "Mi reflexión editada en vivo." in _fetch_until(url, "editada en vivo", timeout=60)
        _add_to_page_template(project / "templates" / "notebook_run.md.j2", "Plantilla cambiada en vivo.")
        assert "Plantilla cambiada en vivo." in _fetch_until(url, "cambiada en vivo", timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert _snapshot(project / "experiments" / "results") == results_before


def test_rendering_and_building_import_no_ml_library(tmp_path):
    """The light install (`pip install -e .`, no practice extra) builds the site from committed results."""
    root = committed_project(tmp_path / "portfolio")
    script = (
        "import sys\n"
        "from reportgen.cli import main\n"
        f"code = main(['--project', {str(root)!r}, 'report', '--no-execute', '--quiet'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'keras', 'tensorflow', 'tensorflow_datasets', 'jax', 'papermill', 'sklearn'})\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "HEAVY []" in result.stdout, result.stdout
    for run_id in ("demo", "shortcut"):
        assert (root / "site" / "runs" / run_id / "index.html").exists()
        assert (root / "site" / "runs" / run_id / "notebook.html").exists()


def test_drawn_figures_are_cached_by_content_and_redrawn_in_a_new_language(project, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reportgen.render import figures

    calls = []

    def drawn_curve(run, language):
        calls.append(language)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        ax.set_title({"es": "Pérdida", "en": "Loss"}[language])
        return fig

    monkeypatch.setitem(figures.DRAWERS, "drawn_curve", drawn_curve)
    write_run(project, "demo")
    assert _report(project) == 0
    assert _report(project) == 0
    assert calls == ["es"]  # drawn once, then served from .cache/
    spanish = (project / "site" / "runs" / "demo" / "figures" / "drawn_curve.png").read_bytes()
    write_run(project, "demo", language="en")
    assert _report(project) == 0
    assert calls == ["es", "en"]
    assert (project / "site" / "runs" / "demo" / "figures" / "drawn_curve.png").read_bytes() != spanish


def test_executing_without_the_practice_extra_says_what_to_install(project, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "keras" else real(name, *a))
    write_run(project, "demo")
    assert main(["--project", str(project), "report", "--quiet"]) == 1
    assert "practice extra (keras not installed)" in capsys.readouterr().err
    assert not (project / "experiments" / "results" / "demo").exists() and not (project / "site").exists()
