"""Any student's notebook becomes a page: no reportgen code in it, executed for real by papermill."""

from __future__ import annotations

import json
import shutil

import pytest
from bs4 import BeautifulSoup

from reportgen.cli import main

from conftest import REPO, write_cells, write_run

pytestmark = pytest.mark.slow

# (cell type, tags, source): a student's own notebook, knowing nothing of reportgen.
PLAIN_NOTEBOOK = [
    ("markdown", [], "# Puntos en dos nubes\n\nClasifico puntos 2D con una red pequeña de Keras."),
    ("code", ["parameters"], "epochs = 2\nn_points = 120\nseed = 0"),
    ("markdown", [], "## Datos\n\nDos nubes gaussianas, una por clase."),
    ("code", [], """
        import os, sys, warnings
        import numpy as np
        rng = np.random.default_rng(seed)
        x = np.concatenate([rng.normal(-1, 0.5, (n_points, 2)), rng.normal(1, 0.5, (n_points, 2))]).astype("float32")
        y = np.repeat([0, 1], n_points)
        print("puntos por clase:", n_points)
        print("carpeta:", os.getcwd())
        print("notas:", open("puntos_notas.txt", encoding="utf-8").read().strip())  # a file beside the notebook
        print("I" + "0000 00:00:1795431183.277403   11663 port.cc:153] oneDNN custom operations are on.")
        print("una " + "advertencia", file=sys.stderr)  # the pages' code shows the parts, never the whole
        warnings.warn("RUIDO_" + "EN_STDERR")
    """),
    ("code", ["hide-input"], """
        import matplotlib.pyplot as plt
        plt.scatter(x[:, 0], x[:, 1], c=y, s=4)
        plt.title("Los datos")
        plt.show()
    """),
    ("markdown", [], "## Modelo"),
    ("code", [], """
        import keras
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=1)
        print(f"accuracy final: {history.history['accuracy'][-1]:.3f}")
    """),
    ("code", ["remove-cell"], "print('CELDA_QUITADA')"),
    ("code", ["remove-input"], "CODIGO_QUITADO = 1\nprint('solo la salida')"),
    ("code", ["hide-output"], "print('SALIDA_' + 'COLAPSADA')"),
    ("markdown", [], "## Resultados"),
    ("code", [], """
        import pandas as pd
        plt.plot(history.history["loss"], label="loss")
        plt.legend()
        plt.show()
        pd.DataFrame({"época": range(1, epochs + 1), "loss": history.history["loss"]})
    """),
]


RECORDING_NOTEBOOK = [
    ("markdown", [], "# Con el Recorder"),
    ("code", ["parameters"], "language = 'es'"),
    ("code", [], """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import pandas as pd
        from reportgen.record import Recorder
        rec = Recorder()
        with rec.stage("Etapa propia"):
            fig, ax = plt.subplots()
            ax.bar(["a", "b"], [1, 2])
            rec.figure(fig, "histograma_raro", caption="Un nombre que la plantilla no conoce")
            rec.table("tabla_rara", pd.DataFrame({"clase": ["a", "b"], "n": [3, 4]}), caption="Conteos")
        rec.metric("exactitud_rara", 0.75, group="modelo A")
        rec.metric("accuracy", 0.5, group="baseline")
    """),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A plain notebook and a Recorder notebook executed by papermill, beside the practice's committed
    demo results, rendered and built into one site."""
    from conftest import make_project

    root = make_project(tmp_path_factory.mktemp("any") / "portfolio")
    write_cells(root / "experiments" / "puntos.ipynb", PLAIN_NOTEBOOK)
    (root / "experiments" / "puntos_notas.txt").write_text("leídas junto al notebook\n", encoding="utf-8")
    write_cells(root / "experiments" / "grabado.ipynb", RECORDING_NOTEBOOK)
    write_run(root, "puntos", notebook="puntos", title="Puntos", parameters={"epochs": 3},
              objectives=["Separar dos nubes"], checklist=["Datos", {"label": "Curvas", "evidence": "curvas"}],
              references=[{"title": "Keras", "url": "https://keras.io"}])
    write_run(root, "grabado", notebook="grabado", title="Grabado")
    assert main(["--project", str(root), "run", "--quiet"]) == 0
    shutil.copytree(REPO / "experiments" / "results" / "demo", root / "experiments" / "results" / "demo")
    shutil.copy(REPO / "experiments" / "runs" / "demo.yaml", root / "experiments" / "runs")
    assert main(["--project", str(root), "report", "--no-execute", "--quiet"]) == 0
    return root


def _soup(root, *parts):
    return BeautifulSoup((root / "site" / "/".join(parts)).read_text(encoding="utf-8"), "html.parser")


def test_a_plain_notebook_gets_its_headings_figures_printed_results_and_timings(site):
    article = _soup(site, "runs", "puntos", "index.html").select_one("article")
    text = article.get_text(" ")
    headings = [h.get_text(strip=True).rstrip("¶") for h in article.select("h2, h3")]
    for heading in ("Contexto", "Objetivos", "Actividades (tiempos medidos)", "Desarrollo", "Datos", "Modelo",
                    "Resultados", "Evidencias", "Reflexión", "Checklist", "Referencias"):
        assert heading in headings
    assert "Clasifico puntos 2D" in text  # Contexto: the notebook's first Markdown
    assert "accuracy final:" in text and "puntos por clase: 120" in text
    assert "notas: leídas junto al notebook" in text  # the kernel runs in the notebook's folder, as in Jupyter
    images = [img["src"] for img in article.select("img")]
    assert len(images) == 2
    for src in images:
        assert (site / "site" / "runs" / "puntos" / src).is_file()
    assert article.select_one("table.dataframe") is not None  # the DataFrame output
    rows = {tr.select("td")[0].get_text(strip=True): tr.select("td")[1].get_text(strip=True)
            for tr in article.select("table") [0].select("tbody tr")}
    executed = json.loads((site / "experiments" / "results" / "puntos" / "notebook.ipynb").read_text())
    seconds = sum(c["metadata"]["papermill"]["duration"] for c in executed["cells"] if c["cell_type"] == "code"
                  and "parameters" not in c["metadata"].get("tags", []) and "injected-parameters" not in c["metadata"].get("tags", []))
    assert set(rows) >= {"Datos", "Modelo", "Resultados"} and all(rows[k] != "—" for k in ("Datos", "Modelo"))
    assert seconds > 0
    ticked = {li.get_text(strip=True): li.select_one("input").has_attr("checked")
              for li in article.select("li.task-list-item")}
    assert ticked == {"Datos": True, "Curvas": False}  # a heading "Datos" exists; nothing named "curvas"
    assert article.select_one("a[href='https://keras.io']") is not None
    assert article.select_one("a[href='datos/notebook.ipynb']") is not None  # the executed notebook, to download
    assert (site / "site" / "runs" / "puntos" / "datos" / "notebook.ipynb").is_file()


def test_noise_and_local_paths_stay_off_the_pages_but_in_the_notebook(site):
    executed = (site / "experiments" / "results" / "puntos" / "notebook.ipynb").read_text()
    assert "I0000 00:00" in executed and "RUIDO_EN_STDERR" in executed
    for page in ("index.html", "notebook.html"):
        html = (site / "site" / "runs" / "puntos" / page).read_text()
        for noise in ("I0000 00:00", "RUIDO_EN_STDERR", "\x08"):
            assert noise not in html, f"{noise!r} on {page}"
        article = _soup(site, "runs", "puntos", page).select_one("article")
        assert "una advertencia" in article.select_one("pre.rg-stderr").get_text()  # stderr, a block of its own
        epochs = [line for pre in article.select("pre.rg-stdout") for line in pre.get_text().splitlines()
                  if "/step - accuracy:" in line]
        assert len(epochs) == 3  # each Keras epoch ends as its final metrics line
        for local in (str(site), str(site.parent), "/tmp/"):
            assert local not in html, f"{local!r} on {page}"


def test_cell_tags_remove_and_collapse_on_both_pages(site):
    run_page = _soup(site, "runs", "puntos", "index.html").select_one("article")
    notebook = _soup(site, "runs", "puntos", "notebook.html").select_one("article")
    for article in (run_page, notebook):
        assert "CELDA_QUITADA" not in article.get_text()
        collapsed = [d for d in article.select("details") if "SALIDA_COLAPSADA" in d.get_text()]
        assert collapsed and "SALIDA_COLAPSADA" not in " ".join(
            t for t in article.find_all(string=True) if not any(p.name == "details" for p in t.parents))
    assert "CODIGO_QUITADO" not in notebook.get_text() and "solo la salida" in notebook.get_text()
    hidden_code = [d for d in notebook.select("details") if "plt.scatter" in d.get_text()]
    assert hidden_code, "hide-input: the code is collapsed"


def test_a_recorder_notebook_shows_every_recorded_figure_table_and_metric(site):
    article = _soup(site, "runs", "grabado", "index.html").select_one("article")
    text = article.get_text(" ")
    assert "Etapa propia" in text
    assert any(img["src"].endswith("figures/histograma_raro.png") for img in article.select("img"))
    assert "Un nombre que la plantilla no conoce" in text
    assert "Conteos" in text and "clase" in text
    assert "exactitud_rara · modelo A" in text and "0,750" in text


def test_the_practice_page_keeps_its_sections_and_figures(site):
    from test_end_to_end import RUN_PAGE_FIGURES, RUN_PAGE_SECTIONS

    article = _soup(site, "runs", "demo", "index.html").select_one("article")
    headings = [h.get_text(" ", strip=True).rstrip("¶").strip() for h in article.select("h2, h3")]
    assert [s for s in RUN_PAGE_SECTIONS if s not in headings] == []
    images = [img["src"] for img in article.select("img")]
    assert [n for n in RUN_PAGE_FIGURES if not any(s.endswith(f"figures/{n}.png") for s in images)] == []


def test_comparison_and_home_cards_include_runs_of_different_notebooks(site):
    comparison = _soup(site, "comparacion.html").select_one("article")
    table = comparison.select_one("table")
    titles = [a.get_text(strip=True) for a in table.select("tbody tr td:first-child a")]
    assert sorted(titles) == sorted(["Puntos", "Grabado", "Aumentar para generalizar: data augmentation avanzado "
                                     "y explicabilidad en flores sintéticas"])
    header = [th.get_text(" ", strip=True) for th in table.select("th")]
    assert any("accuracy" in h.lower() and "baseline" in h for h in header)  # shared by the practice and "grabado"
    assert "exactitud_rara · modelo A" in comparison.get_text(" ")  # the rest, per run
    home = _soup(site, "index.html").select_one("article")
    cards = home.select(".grid.cards li")
    assert {"Puntos", "Grabado"} <= {card.select_one("a").get_text(strip=True) for card in cards}


@pytest.mark.browser
def test_the_comparison_table_reads_at_1280_px(site):
    """Every column visible without scrolling, and no run title wrapped over more than three lines."""
    from test_browser import CHROMIUM, _require_browser

    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((site / "site" / "comparacion.html").as_uri(), wait_until="load")
        layout = page.evaluate("""() => {
            const table = document.querySelector('article .rg-compare table');
            const box = table.closest('.md-typeset__table') || table.parentElement;
            const lines = [...table.querySelectorAll('tbody td:first-child')].map(td =>
                td.getBoundingClientRect().height / parseFloat(getComputedStyle(td).lineHeight));
            return {overflow: box.scrollWidth - box.clientWidth, right: table.getBoundingClientRect().right,
                    width: window.innerWidth, lines: Math.max(...lines)};
        }""")
        browser.close()
    assert layout["overflow"] <= 1 and layout["right"] <= layout["width"]
    assert layout["lines"] <= 4  # a cell's padding counts for about one line


def test_a_notebook_of_ones_own_is_seeded_with_questions_about_its_own_experiment(site):
    own = (site / "docs" / "runs" / "puntos" / "reflexion.md").read_text(encoding="utf-8")
    practice = (site / "docs" / "runs" / "demo" / "reflexion.md").read_text(encoding="utf-8")
    assert "GradCAM" not in own and "augmentation" not in own
    assert "¿Qué pregunta intentaba responder este notebook?" in own
    assert "GradCAM" in practice and "¿Cómo afectó el data augmentation" in practice
