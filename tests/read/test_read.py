"""Reading an executed notebook (reportgen.read): sections from the site's Markdown, outputs by MIME
type as Jupyter Book shows them, terminal text, tags, glue, fresh prose, failures, long outputs.

The notebooks are written here with nbformat, as papermill leaves them (outputs, durations); no
kernel starts. The helpers that write them are shared with tests/test_notebook_pages.py.
"""

from __future__ import annotations

import base64
import json
import re

import nbformat
import pytest
from bs4 import BeautifulSoup

from reportgen.read import expected_errors_only, prose_changed, read_notebook, until_failure
from reportgen.read.markdown import site_markdown
from reportgen.read.page import notebook_page, section_html
from reportgen.read.terminal import terminal_text, without_noise
from reportgen.render.fragments import Fragments, inline, swap
from reportgen.render.pages import md_text, page_strings

from conftest import REPO

MKDOCS_YML = REPO / "mkdocs.yml"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake png").decode()
JPEG = base64.b64encode(b"\xff\xd8\xff fake jpeg").decode()
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\x1b\[")


# ----------------------------------------------------------------- notebooks as papermill leaves them

def md(text, tags=()):
    cell = nbformat.v4.new_markdown_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def code(source, *outputs, tags=(), seconds=0.5):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    if tags:
        cell.metadata["tags"] = list(tags)
    if seconds is not None:
        cell.metadata["papermill"] = {"duration": seconds}
    return cell


def stdout(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def stderr(text):
    return {"output_type": "stream", "name": "stderr", "text": text}


def display(data, metadata=None, result=False):
    output = {"output_type": "execute_result" if result else "display_data", "data": data, "metadata": metadata or {}}
    if result:
        output["execution_count"] = 1
    return output


def error(ename="ValueError", evalue="falló a propósito"):
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": ["\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
                          f"\x1b[0;31m{ename}\x1b[0m: {evalue}"]}


def write(path, cells, kernel=True):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    if kernel:
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def read(tmp_path, cells, source=None):
    executed = write(tmp_path / "executed.ipynb", cells)
    fresh = write(tmp_path / "source.ipynb", source) if source is not None else None
    return read_notebook(executed, fresh, MKDOCS_YML)


def body_html(harvest, with_input=True):
    """Every section of a reading as the notebook page's HTML, in one string."""
    engine = site_markdown(MKDOCS_YML)
    parts = [section_html(s, engine, page_strings("es"), "nb_files", "datos/notebook.ipynb", with_input=with_input)
             for s in harvest.sections]
    return "\n".join(parts)


# Keras 3 `fit(verbose=1)` in a kernel: each step redraws the line with backspaces and a carriage return.
KERAS_EPOCH = ("Epoch 1/2\n"
               "\x1b[1m1/4\x1b[0m \x1b[32m━━━━━\x1b[0m\x1b[37m━━━━━━━━━━━━━━━\x1b[0m \x1b[1m0s\x1b[0m 5ms/step - loss: 0.9"
               + "\b" * 60 + "\r"
               "\x1b[1m4/4\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m1s\x1b[0m 2ms/step - "
               "accuracy: 0.6250 - loss: 0.6812\n")


# ------------------------------------------------------------------------ sections

def test_every_heading_the_site_renders_is_a_section_nested_under_desarrollo(tmp_path):
    harvest = read(tmp_path, [
        md("# Título del notebook\n\nDe qué se trata."),
        code("x = 1", tags=["parameters"], seconds=0.1),
        md("Datos\n-----\n\nCómo se cargan."),  # setext
        code("a", stdout("cargados\n"), seconds=1.5),
        md("Un párrafo antes.\n\n##Resultados"),  # no space, below the first line
        code("b", stdout("r\n"), seconds=2.0),
        md("### Detalle\n\ntexto\n\n#### Más hondo"),
        code("c", seconds=3.0),
        md("<div markdown=\"1\">\n\n## dentro de un bloque\n\n</div>"),  # not at the top level: not a section
    ])
    assert harvest.title == "Título del notebook"
    assert [(s.title, s.level, s.seconds) for s in harvest.sections if s.title] == [
        ("Datos", 0, 1.5), ("Resultados", 0, 2.0), ("Detalle", 1, None), ("Más hondo", 2, 3.0)]
    assert not harvest.sections[0].title and not harvest.sections[0].has_code  # the parameters cell alone
    assert "Un párrafo antes." in harvest.sections[1].prose  # prose stays where it was written
    assert harvest.intro == "<p>De qué se trata.</p>"
    nested = harvest.sections[-1].prose
    heading = BeautifulSoup(nested, "html.parser").select_one("h6")  # below its section (an h5), never beside
    assert heading.get_text() == "dentro de un bloque"                 # the page's own


def test_no_title_when_the_first_heading_is_not_above_the_others(tmp_path):
    harvest = read(tmp_path, [md("## Uno\n\nprimer párrafo"), code("a", seconds=1), md("## Dos"), code("b")])
    assert harvest.title is None
    assert [s.title for s in harvest.sections] == ["Uno", "Dos"]
    assert harvest.intro == "<p>primer párrafo</p>"  # Contexto: the first prose paragraph


def test_a_heading_nested_in_the_intro_reads_as_bold_text(tmp_path):
    harvest = read(tmp_path, [md('<div markdown="1">\n\n## Dentro de la intro\n\n</div>\n\nIntro.'), md("## Uno"),
                              code("a", seconds=1), md("## Dos"), code("b", seconds=1)])
    assert "<strong>Dentro de la intro</strong>" in harvest.intro and "<h" not in harvest.intro
    assert [s.title for s in harvest.sections] == ["Uno", "Dos"]


def test_a_notebook_with_no_prose_has_no_intro(tmp_path):
    harvest = read(tmp_path, [code("print(1)", stdout("1\n"), seconds=1.0)])
    assert harvest.intro == "" and [(s.title, s.seconds) for s in harvest.sections] == [("", 1.0)]


def sphinx_gallery_cells():
    """A sphinx-gallery example as `jupytext --from py:sphinx` converts it: the docstring's RST title
    (overlined), one setext section per `####` block, code after each."""
    return [
        code("%matplotlib inline", seconds=0.2),
        md("=========================\nÁrbol de decisión mínimo\n=========================\n\n"
           "Este ejemplo ajusta un árbol a dos nubes."),
        code("import numpy as np", seconds=0.3),
        md("Cargar los datos\n----------------\n\nDos nubes de puntos."),
        code("x = np.zeros(3)\nprint(x)", stdout("[0. 0. 0.]\n"), seconds=1.25),
        md("Ajustar el modelo\n-----------------"),
        code("y = x + 1", seconds=2.5),
        md("Evaluar\n-------\n\nLa exactitud en test."),
        code("print('acc', 0.9)", stdout("acc 0.9\n"), seconds=0.75),
    ]


def test_a_sphinx_gallery_notebook_has_one_section_per_heading_with_its_time(tmp_path):
    harvest = read(tmp_path, sphinx_gallery_cells())
    assert harvest.title == "Árbol de decisión mínimo"
    assert [(s.title, s.seconds) for s in harvest.sections if s.has_code] == [
        ("", 0.5), ("Cargar los datos", 1.25), ("Ajustar el modelo", 2.5), ("Evaluar", 0.75)]
    assert harvest.intro.startswith("<p>Este ejemplo ajusta")


# ------------------------------------------------------------------ terminal text

def test_a_keras_epoch_ends_as_its_final_metrics_line():
    shown = without_noise(KERAS_EPOCH)
    assert shown == "Epoch 1/2\n4/4 ━━━━━━━━━━━━━━━━━━━━ 1s 2ms/step - accuracy: 0.6250 - loss: 0.6812"
    assert not CONTROL.search(shown)


def test_terminal_text_applies_carriage_returns_backspaces_and_drops_escapes():
    assert terminal_text("10%\r50%\r100%\n") == "100%\n"
    assert terminal_text("abc\b\bX\n") == "aX\n"
    assert terminal_text("\x1b]0;título\x07ok \x1b[1;31mrojo\x1b[0m\x07\x00\n") == "ok rojo\n"
    assert terminal_text("línea\r\n") == "línea\n"


def test_noise_is_left_out_and_results_kept():
    text = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "E0000 00:00:1732 1234 cuda_dnn.cc:8] use_unbounded_threadpool\n"
            "100%|██████████| 10/10 [00:01<00:00]\n"
            "WARNING:tensorflow:5 out of the last 5 calls triggered tf.function retracing\n"
            "/tmp/ipykernel_1/123.py:3: UserWarning: RUIDO\n  warnings.warn('RUIDO')\n"
            "<tmp> FutureWarning: RUIDO\n  warnings.warn('RUIDO')\n"
            "accuracy: 0.91\n")
    assert without_noise(text) == "accuracy: 0.91"


# ---------------------------------------------------------------- outputs by kind

# One MyST-NB-like notebook per row: each output kind Jupyter Book shows, and how it reads on a page.
OUTPUT_KINDS = {
    "stdout": (code("print('hola')", stdout("hola\n")), "pre.rg-stdout", "hola"),
    "stderr": (code("warn", stderr("una advertencia\n")), "pre.rg-stderr", "una advertencia"),
    "execute_result": (code("1 + 1", display({"text/plain": "2"}, result=True)), "pre.rg-result", "2"),
    "text/latex": (code("Latex", display({"text/latex": "$$ a = b+c $$", "text/plain": "<IPython.core.display.Latex object>"},
                                         result=True)), "div.arithmatex", "\\[a = b+c\\]"),
    "latex in text/markdown": (code("Markdown", display({"text/markdown": "Sea $x^2$ **grande**", "text/plain": "md"})),
                               "div.rg-output-markdown span.arithmatex", "\\(x^2\\)"),
    "text/markdown": (code("Markdown", display({"text/markdown": "**_algo_ de markdown**", "text/plain": "md"})),
                      "div.rg-output-markdown strong em", "algo"),
    "text/html": (code("df", display({"text/html": "<table class='dataframe'><tr><td>7</td></tr></table>",
                                      "text/plain": "df"}, result=True)), "div.rg-output-html table td", "7"),
    "image/png": (code("plt", display({"image/png": PNG, "text/plain": "<Figure size 432x288 with 1 Axes>"},
                                      {"image/png": {"width": 432, "height": 288}})), "img[width='432'][height='288']", ""),
    "image/jpeg": (code("Image", display({"image/jpeg": JPEG, "text/plain": "<IPython.core.display.Image object>"},
                                         {"image/jpeg": {"height": 400}}, result=True)), "img[height='400']", ""),
    "image/svg+xml": (code("svg", display({"image/svg+xml": SVG, "text/plain": "<Figure>"})), "img[src$='.svg']", ""),
    "error": (code("raise", error(), tags=["raises-exception"]), "div.admonition.failure pre", "ValueError: falló a propósito"),
}


@pytest.mark.parametrize("kind", list(OUTPUT_KINDS))
def test_each_output_kind_shows_as_jupyter_book_shows_it(tmp_path, kind):
    cell, selector, text = OUTPUT_KINDS[kind]
    soup = BeautifulSoup(body_html(read(tmp_path, [md("# Salidas"), cell])), "html.parser")
    found = soup.select(selector)
    assert found, f"{kind}: nothing matches {selector}"
    assert text in found[0].get_text()


def test_stdout_stderr_and_a_result_are_separate_blocks_in_order(tmp_path):
    harvest = read(tmp_path, [code("x", stdout("out1\n"), stderr("err1\n"), stdout("out2\n"),
                                   display({"text/plain": "1"}, result=True))])
    assert [(o.kind, o.text) for o in harvest.sections[0].outputs] == [
        ("stdout", "out1"), ("stderr", "err1"), ("stdout", "out2"), ("result", "1")]


def test_what_cannot_show_on_a_static_page_is_left_out(tmp_path):
    harvest = read(tmp_path, [code("w", display({"application/vnd.jupyter.widget-view+json": {"model_id": "1"},
                                                  "text/plain": "HBox()"}),
                                   display({"application/javascript": "alert(1)", "text/plain": "<IPython.core.display.Javascript object>"}),
                                   display({"unknown": "x"}),
                                   display({"text/plain": "<Figure size 640x480 with 1 Axes>"}))])
    assert harvest.sections[0].outputs == []


# ------------------------------------------------------------------------- tags

def test_tags_as_myst_nb_honours_them(tmp_path):
    harvest = read(tmp_path, [
        md("# Etiquetas"),
        code("QUITAR_CELDA", stdout("quitada\n"), tags=["remove-cell"]),
        code("QUITAR_CODIGO", stdout("visible\n"), tags=["remove-input"]),
        code("SIN_SALIDA", stdout("SALIDA_QUITADA\n"), tags=["remove-output"]),
        code("SIN_STDOUT", stdout("STDOUT_QUITADO\n"), stderr("stderr queda\n"), tags=["remove-stdout"]),
        code("SIN_STDERR", stdout("stdout queda\n"), stderr("STDERR_QUITADO\n"), tags=["remove_stderr"]),
        code("CODIGO_PLEGADO", stdout("salida a la vista\n"), tags=["hide-input"]),
        code("z", stdout("PLEGADA\n"), tags=["hide-output"]),
        code("CELDA_PLEGADA", stdout("SALIDA_DE_CELDA_PLEGADA\n"), tags=["hide-cell"]),
        md("TEXTO_QUITADO", tags=["remove-cell"]),
    ])
    soup = BeautifulSoup(body_html(harvest), "html.parser")
    text = soup.get_text(" ")
    for gone in ("QUITAR_CELDA", "quitada", "QUITAR_CODIGO", "SALIDA_QUITADA", "STDOUT_QUITADO", "STDERR_QUITADO",
                 "TEXTO_QUITADO"):
        assert gone not in text, gone
    for kept in ("visible", "SIN_SALIDA", "stderr queda", "stdout queda", "salida a la vista"):
        assert kept in text, kept
    details = {d.select_one("summary").get_text(): d.get_text(" ") for d in soup.select("details.note")}
    assert "CODIGO_PLEGADO" in details["Código"] and "salida a la vista" not in details["Código"]
    assert "PLEGADA" in details["Salida"]
    assert "CELDA_PLEGADA" in details["Celda"] and "SALIDA_DE_CELDA_PLEGADA" in details["Celda"]
    outside = " ".join(t for t in soup.find_all(string=True) if not any(p.name == "details" for p in t.parents))
    assert "CODIGO_PLEGADO" not in outside and "PLEGADA" not in outside


def test_the_run_page_shows_outputs_but_no_code_and_no_parameters(tmp_path):
    harvest = read(tmp_path, [md("# T"), code("p = 1", stdout("P\n"), tags=["parameters"]),
                              code("print('x')", stdout("x\n"))])
    html = body_html(harvest, with_input=False)
    assert "print" not in html and "P\n" not in html and ">x<" in html


def test_a_run_whose_only_errors_are_expected_succeeds(tmp_path):
    fine = write(tmp_path / "fine.ipynb", [code("raise", error(), tags=["raises-exception"]), code("ok", stdout("sigue\n"))])
    broken = write(tmp_path / "broken.ipynb", [code("raise", error(), tags=["raises-exception"]), code("no", error("KeyError"))])
    clean = write(tmp_path / "clean.ipynb", [code("ok", stdout("bien\n"))])
    assert expected_errors_only(fine) and not expected_errors_only(broken) and not expected_errors_only(clean)
    harvest = read_notebook(fine, None, MKDOCS_YML)
    assert harvest.failed_cell is None and harvest.has("error")


# -------------------------------------------------------------------------- glue

def test_glued_values_are_named_metrics_and_figures(tmp_path):
    harvest = read(tmp_path, [
        md("# Glue"), md("## Resultados"),
        code("glue('exactitud', 0.91)", display({"text/plain": "0.91"}, {"scrapbook": {"name": "exactitud", "mime_prefix": ""}})),
        code("glue('oculto', np.float64(0.5), display=False)",
             display({"application/papermill.record/text/plain": "np.float64(0.5)"},
                     {"scrapbook": {"name": "oculto", "mime_prefix": "application/papermill.record/"}})),
        code("glue('curva', fig, display=False)",
             display({"application/papermill.record/image/png": PNG, "application/papermill.record/text/plain": "<Figure>"},
                     {"scrapbook": {"name": "curva", "mime_prefix": "application/papermill.record/"}})),
        code("sb.glue('perdida', 0.25)",
             display({"application/scrapbook.scrap.json+json": {"name": "perdida", "data": 0.25, "encoder": "json", "version": 1}},
                     {"scrapbook": {"name": "perdida", "data": True, "display": False}})),
        code("sb.glue('nombre', 'texto')",
             display({"application/scrapbook.scrap.text+json": {"name": "nombre", "data": "texto", "encoder": "text", "version": 1}},
                     {"scrapbook": {"name": "nombre", "data": True, "display": False}})),
    ])
    glued = {g.name: g for g in harvest.glued}
    assert {name: g.value for name, g in glued.items()} == {
        "exactitud": 0.91, "oculto": 0.5, "curva": None, "perdida": 0.25, "nombre": None}
    assert glued["curva"].output.kind == "figure" and glued["exactitud"].stage == "Resultados"
    shown = [(o.kind, o.text, o.glue) for o in harvest.sections[-1].outputs]
    assert shown == [("result", "0.91", "exactitud")]  # display=False values are not shown in their cell

    from reportgen.read import glued_records

    assert [(r.kind, r.metric.key, r.metric.value) for r in glued_records(harvest)] == [
        ("metric", "exactitud", 0.91), ("metric", "oculto", 0.5), ("metric", "perdida", 0.25)]


# ------------------------------------------------------------------- fresh prose

def test_prose_comes_from_the_notebook_as_it_is_now_when_the_code_is_the_same(tmp_path):
    executed = [md("# Viejo título\n\nTexto viejo."), code("x = 1", tags=["parameters"]),
                code("x = 2", tags=["injected-parameters"]), md("## Datos"), code("print(x)", stdout("2\n"))]
    edited = [md("# Nuevo título\n\nTexto nuevo."), code("x = 1", tags=["parameters"]),
              md("## Datos reescritos\n\nCon más detalle."), code("print(x)", tags=["hide-output"])]
    harvest = read(tmp_path, executed, source=edited)
    assert harvest.fresh_prose and harvest.title == "Nuevo título" and harvest.intro == "<p>Texto nuevo.</p>"
    section = harvest.sections[-1]
    assert section.title == "Datos reescritos" and "Con más detalle." in section.prose
    assert [(o.text, o.hidden) for o in section.outputs] == [("2", True)]  # outputs as executed, tags as now
    numbers = [(c.number, c.source) for s in harvest.sections for c in s.cells]
    assert numbers == [(2, "x = 1"), (None, "x = 2"), (4, "print(x)")]  # the injected cell kept, uncounted
    assert prose_changed(tmp_path / "source.ipynb", tmp_path / "executed.ipynb")


def test_changed_code_means_the_executed_copy_is_read_as_it_ran(tmp_path):
    harvest = read(tmp_path, [md("# Como corrió"), code("print(1)", stdout("1\n"))],
                   source=[md("# Editado"), code("print(2)")])
    assert not harvest.fresh_prose and harvest.title == "Como corrió"


# ------------------------------------------------------------------------ failure

def test_a_failed_attempt_shows_its_sections_up_to_the_failing_cell(tmp_path):
    harvest = read(tmp_path, [
        md("# Fallido"), md("## Datos"), code("fig", display({"image/png": PNG, "text/plain": "<Figure>"}), seconds=1),
        md("## Modelo"), code("raise ValueError", error(), seconds=0.5), code("print('nunca')", seconds=None),
        md("## Después"), code("print('tampoco')", seconds=None)])
    attempt = until_failure(harvest)
    assert [s.title for s in attempt.sections] == ["Datos", "Modelo"]
    assert attempt.sections[-1].cells[-1] is harvest.failed_cell and harvest.failed_cell.number == 5
    html = body_html(attempt, with_input=False)
    soup = BeautifulSoup(html, "html.parser")
    failing = soup.select_one("#nb-celda-fallida")
    assert "raise ValueError" in failing.get_text() and "ValueError: falló a propósito" in failing.get_text()
    assert soup.select("img") and "nunca" not in html


def test_the_failing_cell_shows_its_error_whatever_its_tags(tmp_path):
    for tags in (["remove-cell"], ["remove-output"], ["remove-input", "hide-cell"]):
        harvest = read(tmp_path, [md("# F"), code("plt", display({"image/png": PNG, "text/plain": "<Figure>"})),
                                  code("raise ValueError", stdout("antes\n"), error(), tags=tags)])
        attempt = until_failure(harvest)
        assert harvest.failed_cell is not None, tags
        assert [o.kind for o in attempt.sections[-1].outputs][-1] == "error", tags
        assert "falló a propósito" in body_html(attempt, with_input=False), tags


# -------------------------------------------------------------------- long outputs

def test_a_huge_print_is_cut_with_its_beginning_and_end(tmp_path):
    lines = "".join(f"línea {n}\n" for n in range(2_000_000))  # ~26 MB
    harvest = read(tmp_path, [code("for ...", stdout(lines), stdout(lines))])
    output = harvest.sections[0].outputs[0]
    assert output.cut is not None and output.cut.total > 25_000_000
    assert output.text.startswith("línea 0\n") and output.text.rstrip().endswith("línea 1999999")
    assert len(output.text) <= 21_000
    page = body_html(harvest)
    assert len(page.encode()) < 100_000 and "datos/notebook.ipynb" in page


def test_outputs_past_the_page_budget_become_notes(tmp_path):
    chunk = "x" * 15_000 + "\n"
    harvest = read(tmp_path, [code(f"c{n}", stdout(chunk)) for n in range(60)])
    shown = sum(len(o.text) for s in harvest.sections for o in s.outputs)
    assert shown <= 420_000 and harvest.cut


# ------------------------------------------------------------------- safety

HOSTILE_MARKDOWN = [
    '**b**{: ONCLICK="alert(1)"}',
    'texto\n{: href="javascript:alert(2)"}',
    "[x](javascript:alert(3))",
    "[r]: javascript:alert(4)\n\n[enlace][r]",
    "<img src=x onerror=alert(5)>",
    "<svg><script>alert(6)</script></svg>",
    '<a href="data:text/html,<script>alert(7)</script>">d</a>',
    "<style>body{display:none}</style><p style=\"position:fixed\">p</p>",
    "<form action='https://evil'><input name=q></form>",
]


@pytest.mark.parametrize("text", HOSTILE_MARKDOWN)
def test_hostile_markdown_renders_inert(text):
    html = site_markdown(MKDOCS_YML).html(text)
    soup = BeautifulSoup(html, "html.parser")
    assert not [(t.name, a) for t in soup.find_all(True) for a in t.attrs if a.lower().startswith("on") or a == "style"]
    assert not soup.find_all(["script", "style", "form"])
    assert not [t for t in soup.find_all(href=True) if re.match(r"\s*(javascript|vbscript|data):", t["href"], re.I)]
    assert "alert(" not in html or soup.get_text().count("alert(") == html.count("alert(")  # only as text


def test_an_svg_image_is_published_without_what_would_run_in_it(tmp_path):
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="alert(1)">'
           '<script>alert(2)</script><foreignObject><iframe src="javascript:alert(3)"/></foreignObject>'
           '<a xlink:href="javascript:alert(4)"><path d="M0 0" onclick="alert(5)"/></a>'
           '<set attributeName="href" to="javascript:alert(6)"/><use xlink:href="#p"/></svg>')
    harvest = read(tmp_path, [code("svg", display({"image/svg+xml": svg, "text/plain": "<Figure>"}))])
    image = harvest.figures[0].data.decode()
    assert "alert" not in image and "<path" in image and 'href="#p"' in image
    broken = read(tmp_path, [code("svg", display({"image/svg+xml": "<svg><unclosed>", "text/plain": "<Figure>"}))])
    assert broken.figures == []


def test_snippets_are_never_read_from_a_notebook():
    html = site_markdown(MKDOCS_YML).html('--8<-- "mkdocs.yml"\n\n--8<-- "../../etc/hostname"')
    assert "site_name" not in html and "--8&lt;--" in html


def test_the_engine_reads_only_markdown_settings_from_mkdocs_yml(tmp_path):
    """Rendering needs the site's Markdown settings, not its docs/ folder, theme or plugins."""
    from reportgen.errors import ConfigError

    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\ndocs_dir: missing\ntheme: {name: nonexistent}\nplugins: [nonexistent]\n"
                      "markdown_extensions:\n  - admonition\n  - toc:\n      permalink: true\n")
    html = site_markdown(config).html("!!! note\n    hola\n\n##Resultados")
    assert '<div class="admonition note">' in html and '<h2 id="nb-resultados">Resultados' in html
    config.write_text("site_name: x\nmarkdown_extensions:\n  - no_such_extension\n")
    with pytest.raises(ConfigError, match=r"mkdocs\.yml: markdown_extensions: .*no_such_extension"):
        site_markdown(config)


def test_relative_links_become_text_and_others_stay():
    html = site_markdown(MKDOCS_YML).html(
        "Ver ![el gráfico](figs/plot.png) y [los datos](data/x.csv), [Keras](https://keras.io), [arriba](#datos).")
    soup = BeautifulSoup(html, "html.parser")
    assert [a["href"] for a in soup.select("a")] == ["https://keras.io", "#datos"]
    assert "los datos" in soup.get_text() and soup.select_one("em").get_text() == "el gráfico"


def test_placeholders_are_swapped_after_markdown_and_inlined_inert():
    fragments = Fragments()
    hostile = '<pre><code>```\n--8&lt;-- "mkdocs.yml"\n~~~\n```</code></pre>'
    markdown = "# Página\n" + fragments.add(hostile) + "Fin.\n"
    assert "```" not in markdown  # the page's Markdown never holds the notebook's text
    page = "<h1>Página</h1>\n" + f"<p>{markdown.split()[2]}</p>" + "\n<p>Fin.</p>"
    assert swap(page, fragments) == f"<h1>Página</h1>\n{hostile}\n<p>Fin.</p>"
    inlined = inline(markdown, fragments)
    assert "`" not in inlined and "~" not in inlined and "&#96;&#96;&#96;" in inlined


def test_the_notebook_page_has_headings_in_markdown_and_bodies_as_placeholders(tmp_path):
    harvest = read(tmp_path, [md("# Mi **notebook**\n\nIntro."), code("print(1)", stdout("1\n")),
                              md("## Datos <img src=x onerror=alert(1)>"), code("print(2)", stdout("2\n"))])
    fragments = Fragments()
    body = notebook_page(harvest, site_markdown(MKDOCS_YML), page_strings("es"), "nb_files", "datos/notebook.ipynb",
                         fragments.add, md_text)
    assert body.splitlines()[0] == "## Mi notebook"
    assert "### Datos" in body and "onerror" not in body and "print(" not in body
    assert any("print" in html for html in fragments.values())
    assert not any("onerror" in html for html in fragments.values())


def test_nbformat_3_notebooks_are_read(tmp_path):
    old = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "heading", "level": 1, "source": "Antiguo", "metadata": {}},
        {"cell_type": "code", "input": "print(1)", "language": "python", "metadata": {},
         "outputs": [{"output_type": "stream", "stream": "stdout", "text": "1\n"}]}]}]}
    path = tmp_path / "v3.ipynb"
    path.write_text(json.dumps(old), encoding="utf-8")
    harvest = read_notebook(path, None, MKDOCS_YML)
    assert harvest.title == "Antiguo" and harvest.sections[0].outputs[0].text == "1"
