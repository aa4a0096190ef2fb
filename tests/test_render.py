"""Rendering: student files are never touched, dataset strings render as text, pages build strictly."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.render.pages import GENERATED_MARKER, md_text

from conftest import write_run


def _report(project: Path) -> int:
    return main(["--project", str(project), "report", "--quiet"])


def test_reflection_edit_and_handwritten_pages_survive_regeneration(project):
    write_run(project, "demo")
    assert _report(project) == 0
    reflection = project / "docs" / "runs" / "demo" / "reflexion.md"
    assert "¿Cómo afectó el data augmentation" in reflection.read_text()  # seeded with the guiding questions
    mine = "## Mi reflexión\n\nEl modelo miró el fondo en **3 de 5** errores.\n"
    reflection.write_text(mine, encoding="utf-8")
    handwritten = project / "docs" / "notas.md"
    handwritten.write_bytes("# Mis notas\n\nTexto propio, sin marcador.\n".encode())
    config_before = (project / "mkdocs.yml").read_bytes() + b"\n# mi comentario\n"
    (project / "mkdocs.yml").write_bytes(config_before)

    assert main(["--project", str(project), "report", "--force", "--quiet"]) == 0

    assert reflection.read_text(encoding="utf-8") == mine
    assert handwritten.read_bytes() == "# Mis notas\n\nTexto propio, sin marcador.\n".encode()
    assert (project / "mkdocs.yml").read_bytes() == config_before
    page = (project / "site" / "runs" / "demo" / "index.html").read_text()
    assert "El modelo miró el fondo en" in page and "<strong>3 de 5</strong>" in page


def test_a_page_without_the_marker_is_the_students(project):
    write_run(project, "demo")
    assert _report(project) == 0
    page = project / "docs" / "runs" / "demo" / "index.md"
    taken_over = page.read_text().replace(GENERATED_MARKER, "")
    page.write_text(taken_over)
    assert _report(project) == 0
    assert page.read_text() == taken_over


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


def test_removed_run_loses_generated_pages_but_keeps_reflection(project):
    write_run(project, "demo")
    assert _report(project) == 0
    (project / "experiments" / "runs" / "demo.yaml").unlink()
    write_run(project, "other")
    assert _report(project) == 0
    folder = project / "docs" / "runs" / "demo"
    assert not (folder / "index.md").exists()
    assert (folder / "reflexion.md").exists()


def test_render_without_results_shows_the_run_as_not_executed(project):
    write_run(project, "pending")
    assert main(["--project", str(project), "report", "--no-execute", "--quiet"]) == 0
    index = (project / "site" / "index.html").read_text()
    assert "sin ejecutar" in index
    assert not (project / "experiments" / "results" / "pending").exists()
