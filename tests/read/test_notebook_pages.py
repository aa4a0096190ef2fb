"""Built pages of notebooks of one's own, from results folders written here (no kernel starts):
every output kind Jupyter Book shows, sections under Desarrollo, terminal text, hostile content,
long outputs, failed attempts, fresh prose.

Each notebook below is our own, written after one of MyST-NB's test notebooks (tests/notebooks/ of
executablebooks/MyST-NB: basic_run, basic_stderr, complex_outputs, hide_cell_content, merge_streams,
metadata_image, with_glue, basic_failing) or after a jupytext-converted sphinx-gallery script.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml
from bs4 import BeautifulSoup

from reportgen.cli import main

from conftest import REPO
from html_checks import control_character_problems, live_script_problems
from test_read import (JPEG, KERAS_EPOCH, PNG, SVG, code, display, error, md, sphinx_gallery_cells, stderr,
                       stdout, write)

def with_options(cell, **options):
    """A cell with MyST-NB display options in its metadata (`myst`, as MyST-NB's test notebooks)."""
    cell.metadata["myst" if "mystnb" not in options else "mystnb"] = options.pop("mystnb", options)
    return cell


NOTEBOOKS = {
    "basico": [md("# Un notebook básico\n\nImprime algo."), code("print('hola mundo')", stdout("hola mundo\n"))],
    "errores": [md("# Stderr"), code("import sys; print('hallo', file=sys.stderr)", stderr("hallo\n")),
                code("print('oculto', file=sys.stderr)", stderr("STDERR_QUITADO\n"), tags=["remove-stderr"])],
    "complejo": [
        md("# Salidas complejas"), md("## Texto"),
        code("print(...)", stdout("\nThis is some printed text,\nwith a nicely formatted output.\n\n")),
        md("## Imágenes"),
        code('Image("example.jpg", height=400)', display({"image/jpeg": JPEG, "text/plain": "<IPython.core.display.Image object>"},
                                                         {"image/jpeg": {"height": 400}}, result=True)),
        code("plt.scatter(...)", display({"image/png": PNG, "text/plain": "<Figure size 432x288 with 1 Axes>"},
                                         {"image/png": {"width": 432, "height": 288}})),
        code("svg", display({"image/svg+xml": SVG, "text/plain": "<Figure>"})),
        md("## Tablas"),
        code("df.round(3)", display({"text/html": "<div><style scoped>.dataframe{}</style><table border='1' class='dataframe'>"
                                                  "<thead><tr><th>a</th></tr></thead><tbody><tr><td>0.391</td></tr></tbody>"
                                                  "</table></div>", "text/plain": "df"}, result=True)),
        md("## Ecuaciones"),
        code('Latex("$$ a = b+c $$")', display({"text/latex": "$$ a = b+c $$", "text/plain": "<IPython.core.display.Latex object>"},
                                               result=True)),
        code("sym.rsolve(...)", display({"image/png": PNG, "text/latex": "$\\displaystyle \\alpha$", "text/plain": "α"},
                                        result=True)),
        code('display(Markdown("**_some_ markdown** con $x^2$"))',
             display({"text/markdown": "**_some_ markdown** con $x^2$", "text/plain": "<IPython.core.display.Markdown object>"})),
    ],
    "ocultar": [md("# Ocultar contenido"), code('print("hide-input")', stdout("hide-input\n"), tags=["hide-input"]),
                code('print("hide-output")', stdout("hide-output\n"), tags=["hide-output"]),
                code('print("hide-cell")', stdout("hide-cell\n"), tags=["hide-cell"])],
    "mezcla": [code("prints", stdout("stdout1\nstdout2\n"), stderr("stderr1\nstderr2\n"), stdout("stdout3\n"),
                    stderr("stderr3\n"), display({"text/plain": "1"}, result=True))],
    "glue": [md("# Glue"), md("## Resultados"),
             code('glue("exactitud", 0.875)', display({"text/plain": "0.875"}, {"scrapbook": {"name": "exactitud", "mime_prefix": ""}})),
             code('glue("curva", plt.gcf(), display=False)',
                  display({"application/papermill.record/image/png": PNG, "application/papermill.record/text/plain": "<Figure>"},
                          {"scrapbook": {"name": "curva", "mime_prefix": "application/papermill.record/"}}))],
    "pegado": [  # with_glue: glued values pasted into the prose with roles and directives
        md("# Pegar valores"),
        code('glue("exactitud", 0.875)', display({"text/plain": "0.875"}, {"scrapbook": {"name": "exactitud", "mime_prefix": ""}})),
        code('glue("nombre", "árbol", display=False)',
             display({"application/papermill.record/text/plain": "'árbol'"},
                     {"scrapbook": {"name": "nombre", "mime_prefix": "application/papermill.record/"}})),
        code('glue("curva", plt.gcf(), display=False)',
             display({"application/papermill.record/image/png": PNG, "application/papermill.record/text/plain": "<Figure>"},
                     {"scrapbook": {"name": "curva", "mime_prefix": "application/papermill.record/"}})),
        code('glue("ecuacion", sym_eq)', display({"text/latex": "$\\displaystyle \\alpha^2$", "text/plain": "alpha**2"},
                                                {"scrapbook": {"name": "ecuacion", "mime_prefix": ""}})),
        md("## Pegado\n\nExactitud {glue:text}`exactitud:.1f`, tal cual {glue}`exactitud`, el {glue:text}`nombre`.\n\n"
           "```{glue:figure} curva\n:name: fig-curva\n\nLa **curva** de {glue:text}`nombre`.\n```\n\n"
           ":::{glue:math} ecuacion\n:label: eq\n:::\n\nDe otro notebook: {glue}`otro.ipynb::clave`."),
    ],
    "esperado": [md("# Un error esperado"), code("raise ValueError", error(), tags=["raises-exception"]),
                 code("print('siguió')", stdout("siguió\n"))],
    "galeria": sphinx_gallery_cells(),
    "galeria2": [  # `jupytext --from py:sphinx` of a script whose title has no overline, a ^^^ line, a heading mid-cell
        code("%matplotlib inline", seconds=0.2),
        md("Dos nubes, un árbol\n===================\n\nUn árbol separa dos nubes. Ver :ref:`tree`."),
        code("import numpy as np", seconds=0.3),
        md("Cargar los datos\n----------------\n\nDos nubes de puntos."),
        code("print(x.shape)", stdout("(200, 2)\n"), seconds=1.0),
        md("Ajustar el modelo\n-----------------"),
        code("clf = DecisionTreeClassifier().fit(x, y)", seconds=2.0),
        md("Profundidad\n^^^^^^^^^^^\nNo es un encabezado en Markdown."),
        code("print(clf.get_depth())", stdout("3\n"), seconds=1.0),
        md("Un párrafo primero.\n\nEvaluar\n-------\n\nLa exactitud, $a = n/N$."),
        code("print('accuracy', 0.92)", stdout("accuracy 0.92\n"), seconds=4.0),
    ],
    "metadatos": [  # metadata_image, metadata_figure, metadata_multiple_image, hide_cell_content
        md("# Formatear salidas"),
        with_options(code('Image("pez.png")', display({"image/png": PNG, "text/plain": "<IPython.core.display.Image object>"},
                                                      result=True)),
                     image={"alt": "un pez", "classes": "shadow", "width": "300px"}),
        with_options(code('Image("pez.png")', display({"image/png": PNG, "text/plain": "<IPython.core.display.Image object>"},
                                                      {"image/png": {"width": 120}}, result=True)),
                     image={"alt": "otro pez", "width": "200px", "height": 90},
                     figure={"caption": "Un pez de **fiesta**\n", "name": "pez"}),
        with_options(code('print("oculta")', stdout("oculta\n"), tags=["hide-cell"]),
                     mystnb={"code_prompt_show": "Mostrar la {type}", "code_prompt_hide": "Ocultar"}),
    ],
    "terminal": [md("# Entrenar"), code("model.fit(verbose=1)", stdout(KERAS_EPOCH + KERAS_EPOCH.replace("1/2", "2/2")),
                                        stderr("\x1b[33mW0000 00:00:1732 1 cpu.cc:1] aviso\x1b[0m\n\x1b[31mrojo\x1b[0m\x07\n"))],
}

# Notebook x output kind: what Jupyter Book shows for it, and where it must be on the run page.
SHOWN = [
    ("basico", "stdout", "pre.rg-stdout", "hola mundo"),
    ("errores", "stderr", "pre.rg-stderr", "hallo"),
    ("complejo", "stdout", "pre.rg-stdout", "nicely formatted output"),
    ("complejo", "image/jpeg height", "img[src$='.jpg'][height='400']", ""),
    ("complejo", "image/png width height", "img[src$='.png'][width='432'][height='288']", ""),
    ("complejo", "image/svg+xml", "img[src$='.svg']", ""),
    ("complejo", "text/html", "div.rg-output-html table.dataframe td", "0.391"),
    ("complejo", "text/latex", "div.arithmatex", "a = b+c"),
    ("complejo", "text/markdown", "div.rg-output-markdown strong em", "some"),
    ("complejo", "latex in text/markdown", "div.rg-output-markdown span.arithmatex", "x^2"),
    ("ocultar", "hide-input", "pre.rg-stdout", "hide-input"),
    ("ocultar", "hide-output", "details.note pre.rg-stdout", "hide-output"),
    ("ocultar", "hide-cell", "details.note pre.rg-stdout", "hide-cell"),
    ("mezcla", "stdout", "pre.rg-stdout", "stdout3"),
    ("mezcla", "stderr", "pre.rg-stderr", "stderr3"),
    ("mezcla", "execute_result", "pre.rg-result", "1"),
    ("glue", "glued value shown", "pre.rg-result", "0.875"),
    ("glue", "glued figure (the run page's recorded figures)", "figure img", ""),
    ("pegado", "{glue:text} with a format spec", "span.rg-pasted", "0.9"),
    ("pegado", "{glue} as its text/plain", "span.rg-pasted", "0.875"),
    ("pegado", "{glue:text} of a string, unquoted", "span.rg-pasted", "árbol"),
    ("pegado", "{glue:figure} with its caption", "figure:has(img[src$='-glue.png']) figcaption strong", "curva"),
    ("pegado", "{glue:math}", "div.arithmatex", "\\alpha^2"),
    ("pegado", "another notebook's key, as written", "code", "otro.ipynb::clave"),
    ("esperado", "error with traceback", "div.admonition.failure pre", "ValueError: falló a propósito"),
    ("esperado", "stdout after an expected error", "pre.rg-stdout", "siguió"),
    ("metadatos", "cell image options (alt, width)", "img[alt='un pez'][width='300']", ""),
    ("metadatos", "output metadata over cell options", "img[alt='otro pez'][width='120'][height='90']", ""),
    ("metadatos", "cell figure caption", "figure figcaption strong", "fiesta"),
    ("metadatos", "code_prompt_show", "details.note summary", "Mostrar la "),
    ("terminal", "keras final metrics line", "pre.rg-stdout", "4/4 ━━━━━━━━━━━━━━━━━━━━ 1s 2ms/step - accuracy: 0.6250"),
    ("terminal", "stderr without escapes", "pre.rg-stderr", "rojo"),
]

HOSTILE = [
    md("# Hostil\n\n**b**{: ONCLICK=\"alert(1)\"} y texto\n{: href=\"javascript:alert(2)\"}"),
    md("[x](javascript:alert(3)) [r][r]\n\n[r]: javascript:alert(4)\n\n<img src=x onerror=alert(5)>"
       "<svg><script>alert(6)</script></svg>\n\n--8<-- \"mkdocs.yml\"\n\n```\n--8<-- \"mkdocs.yml\"\n```"),
    md("## Sección <img src=x onerror=alert(7)> `--8<--`"),
    code("display(HTML(...))", display({"text/html": "<p>tabla</p>\n```\n--8<-- \"mkdocs.yml\"\n```\n<img src=x onerror=alert(8)>"
                                                     "<a href='JaVaScRiPt:alert(9)'>a</a><script>alert(10)</script>"
                                                     "<iframe src='https://evil'></iframe>", "text/plain": "HTML"})),
    code("display(Markdown(...))", display({"text/markdown": "**m**{: onmouseover=\"alert(11)\"} [y](vbscript:alert(12))\n\n"
                                                         "~~~\n--8<-- \"mkdocs.yml\"\n~~~\n\n<div onclick=alert(13)>d</div>",
                                            "text/plain": "md"})),
    code("print(...)", stdout("```\n--8<-- \"mkdocs.yml\"\n```\n<script>alert(14)</script>\n")),
    code("glue('h', HTML(...), display=False)",
         display({"application/papermill.record/text/html": "<b onclick=alert(15)>pegado</b><script>alert(16)</script>",
                   "application/papermill.record/text/plain": "'<img src=x onerror=alert(17)>'"},
                  {"scrapbook": {"name": "h", "mime_prefix": "application/papermill.record/"}})),
    md("Pegado: {glue}`h` y {glue:text}`h`\n\n```{glue:figure} h\n\n<img src=x onerror=alert(18)>\n```"),
]


# Control characters and ANSI escapes in every field a notebook or a run file brings to a page.
ESC = "\x1b[31m"
CONTROLS = [
    md(f"# Título{ESC}rojo\x1b[0m\x08\n\nProsa con \x07campana, \x0cform feed, \x00nul, \x7fdel y \x1e."),
    md(f"## Sección \x08con{ESC} control"),
    code(f"print('fuente {ESC} \x08')",
         stdout(f"a{ESC}b\x1b[0m\x07\x0c\n"),
         display({"text/html": f"<table><tr><td>cel\x08da{ESC}html\x07</td></tr></table>", "text/plain": "t"}),
         display({"text/markdown": f"**mark\x08down**{ESC} \x07", "text/plain": "m"}),
         display({"text/latex": f"$la\x08{ESC}tex$", "text/plain": "l"}),
         display({"text/plain": f"'re\x0bpr{ESC}'"}, result=True),
         error(f"Val{ESC}ueError\x08", f"mal\x07{ESC}o"), tags=["raises-exception"]),
    code("glue(...)", display({"text/plain": "0.5"}, {"scrapbook": {"name": f"pe\x08{ESC}so", "mime_prefix": ""}})),
]


def _write_run(root, run_id, cells, failed=False, good=None, **fields):
    write(root / "experiments" / f"{run_id}.ipynb", [c for c in cells if "injected-parameters" not in c.metadata.get("tags", [])])
    content = {"notebook": run_id, "title": f"Corrida {run_id}", "language": "es", **fields}
    (root / "experiments" / "runs" / f"{run_id}.yaml").write_text(yaml.safe_dump(content, allow_unicode=True))
    folders = ([(run_id, good if good is not None else cells, "ok")] if good is not None or not failed else [])
    if failed:
        folders.append((f"{run_id}.failed", cells, "failed"))
    for folder, notebook, status in folders:
        results = root / "experiments" / "results" / folder
        write(results / "notebook.ipynb", notebook)
        record = {"run_id": run_id, "status": status, "notebook": run_id, "finished": "2026-01-01T00:00:00+00:00",
                  "seconds": 12.0, "libraries": {}, "cache_key": "k"}
        if status == "failed":
            failing = next(i for i, c in enumerate(notebook) if any(o.output_type == "error" for o in c.get("outputs", [])))
            record.update(failed_cell=failing, failed_cell_number=failing + 1, error_summary="ValueError: falló a propósito",
                          finished="2026-02-01T00:00:00+00:00")
        (results / "run.json").write_text(json.dumps(record))


def new_project(root):
    (root / "experiments" / "runs").mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for folder in ("javascripts", "stylesheets", "assets"):
        shutil.copytree(REPO / "docs" / folder, root / "docs" / folder)
    return root


def build(root):
    assert main(["--project", str(root), "report", "--no-execute", "--quiet"]) == 0
    return root / "site"


FAILING = [md("# Falla a mitad"), md("## Datos"),
           code("plt.plot(...)", display({"image/png": PNG, "text/plain": "<Figure>"}), seconds=1.0),
           md("## Modelo"), code("raise ValueError('falló a propósito')", stdout("antes del error\n"), error(), seconds=0.5),
           code("print('nunca')", seconds=None), md("## Después del error")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = new_project(tmp_path_factory.mktemp("pages") / "portfolio")
    for run_id, cells in NOTEBOOKS.items():
        _write_run(root, run_id, cells)
    _write_run(root, "hostil", HOSTILE, description="")
    _write_run(root, "control", CONTROLS, title=f"Con{ESC} color\x08", description=f"Descripción\x07{ESC}.")
    lines = "".join(f"línea {n:09d} de una salida enorme\n" for n in range(1_600_000))  # ~51 MB
    _write_run(root, "grande", [md("# Grande"), code("for i in range(10**7): print(i)", stdout(lines))])
    _write_run(root, "fallida", FAILING, failed=True)
    _write_run(root, "recaida", FAILING, failed=True, good=[md("# Antes funcionaba"), code("print('bien')", stdout("bien\n"))])
    return build(root)


def _article(site, *parts):
    return BeautifulSoup((site / "/".join(parts)).read_text(encoding="utf-8"), "html.parser").select_one("article")


@pytest.mark.parametrize("notebook, kind, selector, text", SHOWN, ids=[f"{n}-{k}" for n, k, _, _ in SHOWN])
@pytest.mark.parametrize("page", ["index.html", "notebook.html"])
def test_pages_show_every_output_jupyter_book_shows(site, notebook, kind, selector, text, page):
    if "recorded figures" in kind and page == "notebook.html":
        pytest.skip("a figure glued with display=False shows nowhere in its cell (as in Jupyter Book)")
    article = _article(site, "runs", notebook, page)
    found = [element for element in article.select(selector) if text in element.get_text()]
    assert found, f"{notebook}/{page}: no {kind} ({selector} with {text!r})"
    for image in article.select("img[src]"):
        if not image["src"].startswith(("http", "data:", "../")) and "assets" not in image["src"]:
            assert (site / "runs" / notebook / image["src"]).is_file(), image["src"]


def test_what_jupyter_book_leaves_out_stays_out(site):
    assert "STDERR_QUITADO" not in (site / "runs" / "errores" / "index.html").read_text(encoding="utf-8")
    glue_page = _article(site, "runs", "glue", "index.html")
    assert len(glue_page.select("img")) == 1  # a display=False figure only under "recorded", by its name
    assert "curva" in glue_page.select_one("figure figcaption").get_text()
    notebook = _article(site, "runs", "ocultar", "notebook.html")
    details = {d.select_one("summary").get_text(): d.get_text() for d in notebook.select("details.note")}
    assert 'print("hide-input")' in details["Código"] and 'print("hide-cell")' in details["Celda"]


def test_glued_numbers_reach_the_cards_and_the_comparison(site):
    comparison = _article(site, "comparacion.html").get_text(" ")
    assert "exactitud" in comparison and "0,875" in comparison
    home = _article(site, "index.html")
    card = next(li for li in home.select(".grid.cards li") if "Corrida glue" in li.get_text())
    assert "exactitud" in card.get_text() and "0,875" in card.get_text()


SKELETON = ["Contexto", "Actividades (tiempos medidos)", "Desarrollo", "Evidencias", "Reflexión"]


def _headings(article, levels="h2, h3, h4, h5, h6"):
    return [(h.name, h.get_text(" ", strip=True).rstrip("¶").strip()) for h in article.select(levels)]


def test_a_sphinx_gallery_notebook_has_one_activity_row_per_section(site):
    article = _article(site, "runs", "galeria", "index.html")
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in article.select("table")[0].select("tbody tr")]
    assert rows == [["Notebook", "< 1 s"], ["Cargar los datos", "1 s"], ["Ajustar el modelo", "2 s"],
                    ["Evaluar", "1 s"], ["Total", "12 s"]]
    assert [t for n, t in _headings(article, "h2")] == SKELETON
    assert "Árbol de decisión mínimo" not in [t for _, t in _headings(article)]  # the title is the page's
    assert "Este ejemplo ajusta un árbol" in article.get_text()  # Contexto: the docstring's paragraph


def test_a_gallery_script_without_overline_has_one_activity_row_per_section(site):
    article = _article(site, "runs", "galeria2", "index.html")
    rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in article.select("table")[0].select("tbody tr")]
    assert rows == [["Notebook", "< 1 s"], ["Cargar los datos", "1 s"], ["Ajustar el modelo", "3 s"],
                    ["Evaluar", "4 s"], ["Total", "12 s"]]
    desarrollo = [t for n, t in _headings(article, "h3")]
    assert desarrollo[:4] == ["Notebook", "Cargar los datos", "Ajustar el modelo", "Evaluar"]
    assert "Dos nubes, un árbol" not in desarrollo and "Un árbol separa dos nubes." in article.get_text()


@pytest.mark.parametrize("notebook", list(NOTEBOOKS) + ["hostil", "fallida", "control"])
def test_no_notebook_heading_lands_outside_desarrollo(site, notebook):
    headings = _headings(_article(site, "runs", notebook, "index.html"))
    h2 = [i for i, (name, _) in enumerate(headings) if name == "h2"]
    start = next(i for i, (name, text) in enumerate(headings) if (name, text) == ("h2", "Desarrollo"))
    end = next(i for i, (name, text) in enumerate(headings) if (name, text) == ("h2", "Evidencias"))
    assert [headings[i][1] for i in h2] == [t for t in SKELETON if t != "Contexto" or headings[h2[0]][1] == "Contexto"]
    inside = headings[start + 1:end]
    assert all(name != "h2" for name, _ in inside)
    outside = [h for h in headings[:start] + headings[end:] if h[0] != "h2"]
    assert outside == []


def test_contexto_is_never_an_empty_heading(site):
    for notebook in ("mezcla", "hostil"):  # no prose before the code / an empty description
        article = _article(site, "runs", notebook, "index.html")
        contexto = next((h for h in article.select("h2") if h.get_text(strip=True).startswith("Contexto")), None)
        if contexto is not None:
            following = contexto.find_next_sibling()
            assert following is not None and following.name != "h2" and following.get_text(strip=True)
    assert not any(h.get_text(strip=True).startswith("Contexto") for h in _article(site, "runs", "mezcla", "index.html").select("h2"))


def test_no_page_holds_a_control_character_or_an_ansi_escape(site):
    assert control_character_problems(site) == []
    shown = _article(site, "runs", "control", "notebook.html").get_text(" ") + _article(
        site, "runs", "control", "index.html").get_text(" ")
    for text in ("Títulorojo", "Prosa con campana", "Sección con control", "fuente", "ab", "celdahtml", "markdown",
                 "latex", "repr", "ValueError", "peso", "Con color", "Descripción."):
        assert text in shown, text  # the text stays, without what a terminal would have done with it


def test_no_live_script_in_any_page(site):
    assert live_script_problems(site) == []


def test_hostile_notebook_text_is_inert(site):
    for page in ("index.html", "notebook.html"):
        html = (site / "runs" / "hostil" / page).read_text(encoding="utf-8")
        soup = BeautifulSoup(html, "html.parser")
        article = soup.select_one("article")
        assert not [(t.name, a) for t in article.find_all(True) for a in t.attrs if a.lower().startswith("on")]
        assert not [a for a in article.select("a[href]") if a["href"].strip().lower().startswith(("javascript", "vbscript"))]
        assert "site_name" not in html and "reportgen never edits it" not in html  # mkdocs.yml was never included
        assert not article.select("iframe") and "alert(10)" not in html
        assert "Sección" in article.get_text() and "--8<--" in article.get_text()  # shown, as text


def test_a_50_mb_print_gives_pages_under_1_mb(site):
    for page in ("index.html", "notebook.html"):
        path = site / "runs" / "grande" / page
        assert path.stat().st_size < 1_000_000, f"{page}: {path.stat().st_size} bytes"
        article = _article(site, "runs", "grande", page)
        assert "línea 000000000" in article.get_text() and "línea 001599999" in article.get_text()
        assert article.select_one("p.rg-cut a[href='datos/notebook.ipynb']") is not None
    assert (site / "runs" / "grande" / "datos" / "notebook.ipynb").stat().st_size > 50_000_000


def test_a_failed_run_page_shows_its_figures_before_the_error_and_the_error(site):
    article = _article(site, "runs", "fallida", "index.html")
    text = article.get_text(" ")
    assert [t for _, t in _headings(article, "h3")] == ["Datos", "Modelo"]  # up to the failing cell
    images = article.select("img[src^='figures/intento-fallido/']")
    assert images and (site / "runs" / "fallida" / images[0]["src"]).is_file()
    failing = article.select_one("#nb-celda-fallida")
    assert "raise ValueError" in failing.get_text() and "ValueError: falló a propósito" in failing.get_text()
    assert "antes del error" in text and "nunca" not in text and "Después del error" not in text
    assert article.select_one("a[href='notebook-fallido.html#nb-celda-fallida']") is not None
    notebook = _article(site, "runs", "fallida", "notebook-fallido.html")
    assert notebook.select_one("#nb-celda-fallida") is not None and "Después del error" in notebook.get_text()


def test_a_failed_run_keeps_its_last_good_results_linked(site):
    article = _article(site, "runs", "recaida", "index.html")
    assert "antes del error" in article.get_text()  # the attempt's own outputs
    links = {a["href"] for a in article.select("a[href]")}
    assert {"notebook.html", "notebook-fallido.html"} <= links
    assert "bien" in _article(site, "runs", "recaida", "notebook.html").get_text()


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_markdown_edit_shows_at_the_next_build_and_the_results_stay_as_they_were(tmp_path):
    root = new_project(tmp_path / "portfolio")
    cells = [md("# Título viejo\n\nTexto viejo."), code("print('resultado 42')", stdout("resultado 42\n")),
             md("## Sección vieja")]
    _write_run(root, "prosa", cells)
    build(root)
    before = _digests(root / "experiments" / "results")
    edited = [md("# Título nuevo\n\nTexto nuevo del notebook."), code("print('resultado 42')"), md("## Sección nueva")]
    write(root / "experiments" / "prosa.ipynb", edited)
    site = build(root)
    for page in ("index.html", "notebook.html"):
        text = _article(site, "runs", "prosa", page).get_text(" ")
        assert "Texto nuevo del notebook." in text and "Sección nueva" in text and "resultado 42" in text
        assert "Texto viejo." not in text and "Sección vieja" not in text
    assert _digests(root / "experiments" / "results") == before


def test_render_out_writes_the_notebook_html_in_place_and_inert(site, tmp_path):
    root = site.parent
    out = tmp_path / "pages"
    assert main(["--project", str(root), "render", "--out", str(out)]) == 0
    page = (out / "runs" / "hostil" / "index.md").read_text(encoding="utf-8")
    assert "rgnb" not in page and '<div class="rg-notebook" markdown="0">' in page
    assert "```" not in page.split("rg-notebook", 1)[1]  # fences inside notebook HTML written as references
    # A student takes the page over as it was written: it still builds with nothing live and no file included.
    mine = root / "docs" / "runs" / "hostil" / "index.md"
    mine.write_text(page, encoding="utf-8")
    try:
        built = build(root)
        html = (built / "runs" / "hostil" / "index.html").read_text(encoding="utf-8")
        assert "site_name" not in html and "Sección" in html
        assert live_script_problems(built) == []
    finally:
        mine.unlink()
        build(root)


def test_the_shipped_runs_pages_have_no_control_character_and_nothing_live(committed_site):
    """The practice's own notebook (Keras progress, TensorFlow logs on stderr) through the same reader."""
    assert control_character_problems(committed_site) == []
    assert live_script_problems(committed_site) == []
    article = _article(committed_site, "runs", "demo", "notebook.html")
    assert article.select("div.highlight code") and article.select("img[src^='notebook_files/']")
    assert not [p for p in article.select("pre.rg-stderr") if "I0000" in p.get_text() or "E0000" in p.get_text()]
