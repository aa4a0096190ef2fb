"""Every string from data is shown literally, and a notebook's HTML is sanitised, on every page.

The hostile notebook is executed for real (papermill): its Markdown cells and its outputs
(`display(Markdown(...))`, `display(HTML(...))`, prints) carry the known ways to get script or a
file of the project into a page; every page built from it is parsed.
"""

from __future__ import annotations

import json
import shutil

import pytest
from bs4 import BeautifulSoup

from reportgen.cli import main
from reportgen.read.markdown import site_markdown
from reportgen.safe import sanitize_html

from conftest import REPO, make_project, write_run
from html_checks import live_script_problems
from conftest import write_cells

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
HOSTILE = f"{IMG}{SCRIPT}"

HOSTILE_NOTEBOOK = [
    ("markdown", [], f"# Título\n\nIntro {IMG} {SCRIPT} con `<code>` literal."),
    ("code", ["parameters"], "etiqueta = 'x'"),
    ("markdown", [], f"## Sección {IMG}\n\nTexto <a href=\"javascript:alert(3)\" onclick=\"alert(4)\">enlace</a>."),
    ("markdown", [], '**b**{: ONCLICK="alert(21)"} y un párrafo\n{: href="javascript:alert(22)"}\n\n'
                     '[x](javascript:alert(23)) y [r][r]\n\n[r]: javascript:alert(24)\n\n'
                     '<svg><script>alert(25)</script></svg>\n\n--8<-- "mkdocs.yml"\n'),
    ("code", [], """
        from IPython.display import HTML, Markdown, display
        display(HTML('<table><tr><td onclick="alert(5)">celda</td></tr></table>'
                     '<img src=x onerror="alert(6)"><script>alert(7)</script><style>body{display:none}</style>'))
        display(HTML('<p>antes</p>\\n```\\n--8<-- "mkdocs.yml"\\n```\\n<p>después</p>'))
        display(Markdown('**m**{: OnMouseOver="alert(26)"} [y](vbscript:alert(27)) <img src=x onerror=alert(28)>'))
        print(etiqueta)
    """),
    ("code", [], """
        import pandas as pd
        from reportgen.record import Recorder
        rec = Recorder()
        import matplotlib.pyplot as plt
        with rec.stage(etiqueta):
            rec.table("tabla <img src=x onerror=alert(1)>", pd.DataFrame({etiqueta: [etiqueta]}), caption=etiqueta)
            rec.metric(etiqueta, 0.5, group=etiqueta)
            fig, ax = plt.subplots()
            ax.plot([0, 1])
            rec.figure(fig, "figura <img src=x onerror=alert(1)>", caption=etiqueta)
    """),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("hostile") / "portfolio")
    write_cells(root / "experiments" / "hostil.ipynb", HOSTILE_NOTEBOOK)
    write_run(root, "hostil", notebook="hostil", title=f"Dígitos {HOSTILE}", description=f"Descripción {HOSTILE}",
              parameters={"etiqueta": f"etiqueta {HOSTILE}"}, objectives=[f"Objetivo {HOSTILE}"],
              checklist=[f"Item {HOSTILE}"], references=[{"title": f"Ref {HOSTILE}", "url": "https://example.org"}])
    assert main(["--project", str(root), "run", "--quiet"]) == 0
    # The practice's page, from committed results whose dataset names carry the same strings.
    demo = root / "experiments" / "results" / "demo"
    shutil.copytree(REPO / "experiments" / "results" / "demo", demo)
    dataset = json.loads((demo / "dataset.json").read_text())
    dataset["name"], dataset["class_names"][0] = f"flores {HOSTILE}", f"clase {HOSTILE}"
    (demo / "dataset.json").write_text(json.dumps(dataset))
    write_run(root, "demo", notebook="augmentation_xai", title=f"Práctica {HOSTILE}")
    (root / "experiments" / "runs" / "demo.yaml").write_text(
        (root / "experiments" / "runs" / "demo.yaml").read_text()
        + (REPO / "experiments" / "runs" / "demo.yaml").read_text().split("parameters:", 1)[1].join(["parameters:", ""]))
    assert main(["--project", str(root), "report", "--no-execute", "--quiet"]) == 0
    return root


PAGES = ["index.html", "comparacion.html", "runs/hostil/index.html", "runs/hostil/notebook.html",
         "runs/demo/index.html"]


@pytest.mark.parametrize("page", PAGES)
def test_no_page_runs_anything_from_data(site, page):
    soup = BeautifulSoup((site / "site" / page).read_text(encoding="utf-8"), "html.parser")
    handlers = [(tag.name, name) for tag in soup.find_all(True) for name in tag.attrs if name.lower().startswith("on")]
    assert handlers == []
    assert [s for s in soup.find_all("script") if "alert" in s.get_text()] == []
    assert not soup.select("a[href^='javascript']")


def test_the_whole_built_site_runs_only_its_own_scripts(site):
    assert live_script_problems(site / "site") == []


@pytest.mark.parametrize("page,fragment", [
    ("index.html", f"Dígitos {HOSTILE}"),
    ("comparacion.html", f"Dígitos {HOSTILE}"),
    ("runs/hostil/index.html", f"Descripción {HOSTILE}"),
    ("runs/hostil/index.html", f"Objetivo {HOSTILE}"),
    ("runs/hostil/index.html", f"Item {HOSTILE}"),
    ("runs/hostil/index.html", f"Ref {HOSTILE}"),
    ("runs/hostil/index.html", f"etiqueta {HOSTILE}"),  # printed text, stage, table and metric names
    ("runs/hostil/notebook.html", f"etiqueta {HOSTILE}"),
    ("runs/hostil/index.html", f"tabla {IMG}.csv"),  # a file name
    ("runs/demo/index.html", f"clase {HOSTILE}"),
    ("runs/demo/index.html", f"flores {HOSTILE}"),
    ("index.html", f"flores {HOSTILE}"),
])
def test_strings_from_data_are_shown_literally(site, page, fragment):
    article = BeautifulSoup((site / "site" / page).read_text(encoding="utf-8"), "html.parser").select_one("article")
    assert fragment in article.get_text()


def test_files_with_hostile_names_are_linked_and_shown(site):
    soup = BeautifulSoup((site / "site" / "runs/hostil/index.html").read_text(encoding="utf-8"), "html.parser")
    images = [img["src"] for img in soup.select("article img") if img["src"].startswith("figures/")]
    assert any("figura" in src for src in images)
    for src in images:
        from urllib.parse import unquote

        assert (site / "site" / "runs" / "hostil" / unquote(src)).is_file()


def test_the_page_title_is_text_in_the_header_and_navigation(site):
    soup = BeautifulSoup((site / "site" / "runs/hostil/index.html").read_text(encoding="utf-8"), "html.parser")
    assert f"Dígitos {HOSTILE}" in soup.select_one("title").get_text()
    assert f"Dígitos {HOSTILE}" in soup.select_one("article h1").get_text()


def test_html_outputs_keep_tables_and_lose_scripts_and_handlers():
    clean = sanitize_html('<table><tr><td onclick="x()">1</td></tr></table><script>alert(1)</script>'
                          '<style>p{}</style><a href="javascript:alert(1)">a</a>')
    soup = BeautifulSoup(clean, "html.parser")
    assert soup.select_one("table td").get_text() == "1" and not soup.select_one("td").attrs
    assert "alert" not in clean and "p{}" not in clean
    assert not soup.select_one("a").get("href")


def test_markdown_keeps_code_spans_and_quotes_as_written():
    text = "Ver `experiments/runs/<corrida>.yaml`.\n\n> cita <img src=x onerror=alert(1)>\n{ onclick=alert(1) }"
    soup = BeautifulSoup(site_markdown(REPO / "mkdocs.yml").html(text), "html.parser")
    assert soup.select_one("code").get_text() == "experiments/runs/<corrida>.yaml"
    assert "cita" in soup.select_one("blockquote").get_text()
    assert not [a for tag in soup.find_all(True) for a in tag.attrs if a.lower().startswith("on")]


def test_no_file_of_the_project_is_included_from_a_notebook(site):
    for page in ("runs/hostil/index.html", "runs/hostil/notebook.html"):
        html = (site / "site" / page).read_text(encoding="utf-8")
        assert "site_name" not in html and "markdown_extensions" not in html, page
        assert "antes" in html and "después" in html  # the HTML output around the fence, shown


SVG_DOCUMENT = "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0iYWxlcnQoMSkiLz4="  # <svg onload=...>


@pytest.mark.parametrize("written", [f"![i](data:image/svg+xml;base64,{SVG_DOCUMENT})",
                                     '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
                                     f'<img src=" DATA:image/SVG+xml;base64,{SVG_DOCUMENT}">',
                                     '<img src="data:text/html,<script>alert(1)</script>">'])
def test_only_raster_images_keep_a_data_url(written):
    """An SVG data URL is a document (the lightbox and 'open image in new tab' show it as one)."""
    clean = site_markdown(REPO / "mkdocs.yml").html(written)
    assert "data:" not in clean.lower(), clean
    png = sanitize_html('<img src="data:image/png;base64,iVBORw0KGgo=">')
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in png


def test_an_svg_output_keeps_no_nested_document_nor_css_that_fetches():
    from reportgen.safe import sanitize_svg

    svg = (b'<svg xmlns="http://www.w3.org/2000/svg"><use href="data:image/svg+xml;base64,' + SVG_DOCUMENT.encode()
           + b'"/><image href="data:image/svg+xml,&lt;svg onload=alert(1)&gt;"/><image href="data:image/png;base64,AA=="/>'
           b'<style>@import url(javascript:alert(2));</style><style>*{stroke-linejoin: round}</style>'
           b'<rect style="background:url(javascript:alert(3))" clip-path="url(#p1)"/></svg>')
    clean = sanitize_svg(svg).decode()
    assert "svg+xml" not in clean and "javascript" not in clean and "@import" not in clean, clean
    assert "data:image/png" in clean and "stroke-linejoin" in clean and 'clip-path="url(#p1)"' in clean


@pytest.mark.parametrize("command", ["href", "class", "cssId", "style", "unicode", "require", "mmlToken"])
def test_mathjax_commands_that_link_style_or_load_show_as_text(command):
    r"""MathJax typesets every `arithmatex` element: `\href{javascript:...}` there would be a live link."""
    engine = site_markdown(REPO / "mkdocs.yml")
    for written in (f"$\\{command}{{javascript:alert(1)}}{{x}}$", f"$$\\{command}{{javascript:alert(1)}}{{x}}$$"):
        assert f"\\{command}" not in engine.html(written)
    claimed = sanitize_html(f'<div class="arithmatex">\\({"&#92;"}{command}{{javascript:alert(1)}}{{x}}\\)</div>')
    assert f"\\{command}" not in claimed and "alert(1)" in claimed  # shown, inert
    code = sanitize_html(f"<pre><code>print(r'\\{command}{{x}}')</code></pre>")
    assert f"\\{command}{{x}}" in code  # text outside formulas is left as written
