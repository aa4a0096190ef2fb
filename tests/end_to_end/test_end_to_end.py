"""The spine: the real notebook through papermill, harvested, rendered and built with --strict."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

from reportgen.runs import execution as runs_module
from reportgen.cli import main

pytestmark = pytest.mark.slow

RUN_PAGE_SECTIONS = ["Contexto", "Objetivos", "Actividades (tiempos medidos)", "Desarrollo", "Dataset",
                     "Pipelines baseline y avanzado", "Modelo y protocolo de entrenamiento",
                     "Curvas de entrenamiento", "Resultados baseline vs avanzado", "Test-Time Augmentation",
                     "Robustez ante perturbaciones", "Calibración", "Matriz de confusión y top-5",
                     "Explicabilidad", "t-SNE de embeddings", "Sensibilidad al learning rate", "Evidencias",
                     "Reflexión", "Checklist", "Referencias"]
RUN_PAGE_FIGURES = ["samples", "class_distribution", "mosaic", "mixing", "curves", "robustness", "reliability",
                    "confusion_baseline", "confusion_advanced", "top5", "gradcam_hits", "methods_baseline", "methods_advanced",
                    "deletion_insertion", "tsne", "lr_sensitivity"]


def _soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_run_page_has_every_section_and_figure(demo_site):
    page = demo_site / "site" / "runs" / "tiny" / "index.html"
    soup = _soup(page)
    headings = [h.get_text(" ", strip=True).rstrip("¶").strip() for h in soup.select("article h2, article h3")]
    for section in RUN_PAGE_SECTIONS:
        assert section in headings, f"missing section {section!r}; page has {headings}"
    images = [img["src"] for img in soup.select("article img")]
    for name in RUN_PAGE_FIGURES:
        assert any(src.endswith(f"figures/{name}.png") for src in images), f"missing figure {name}"
    # Numbers behind the claims: the results table holds both pipelines' test accuracy.
    metrics = json.loads((demo_site / "experiments" / "results" / "tiny" / "metrics.json").read_text())
    accuracy = metrics["pipelines"]["advanced"]["aggregate"]["accuracy"]["mean"]
    assert f"{100 * accuracy:.1f} %".replace(".", ",") in soup.get_text()  # a Spanish page: decimal comma


def test_every_image_and_link_resolves(demo_site):
    site = demo_site / "site"
    checked = 0
    for page in site.rglob("*.html"):
        if page.name == "404.html":  # MkDocs' own error page uses root links until site_url is set
            continue
        soup = _soup(page)
        for tag, attribute in (("img", "src"), ("a", "href")):
            for element in soup.find_all(tag):
                target = element.get(attribute)
                if not target or target.startswith(("#", "mailto:")) or urlparse(target).scheme:
                    continue
                assert not target.startswith("/"), f"absolute link {target} in {page}: breaks under a sub-path"
                resolved = (page.parent / unquote(urlparse(target).path)).resolve()
                if resolved.is_dir():
                    resolved = resolved / "index.html"
                assert resolved.exists(), f"{page.relative_to(site)} -> {target} does not exist"
                checked += 1
    assert checked > 50


def test_results_are_small_and_the_notebook_is_published(demo_site):
    results = demo_site / "experiments" / "results" / "tiny"
    total = sum(p.stat().st_size for p in results.rglob("*") if p.is_file())
    assert total < 5 * 1024 * 1024
    assert not list(results.rglob("*.keras")) and not list(results.rglob("*.h5"))
    notebook_page = demo_site / "site" / "runs" / "tiny" / "notebook.html"
    assert "Data augmentation avanzado y explicabilidad" in notebook_page.read_text()


def test_second_report_executes_nothing(demo_site, monkeypatch):
    calls = []
    monkeypatch.setattr(runs_module, "execute", lambda *a, **k: calls.append(a))
    assert main(["--project", str(demo_site), "report", "--quiet"]) == 0
    assert calls == []


def test_the_practice_runs_on_the_jax_backend(tmp_path):
    """`backend: jax` in a run file: the same notebook, executed by a kernel where Keras runs on JAX."""
    pytest.importorskip("jax")
    from conftest import TINY_PARAMETERS, make_project, write_run

    root = make_project(tmp_path / "portfolio")
    parameters = {**TINY_PARAMETERS, "training": {**TINY_PARAMETERS["training"], "lr_sweep": None}}
    write_run(root, "on_jax", notebook="augmentation_xai", backend="jax", parameters=parameters)
    assert main(["--project", str(root), "run", "--quiet"]) == 0
    results = root / "experiments" / "results" / "on_jax"
    notebook = (results / "notebook.ipynb").read_text()
    assert "backend jax" in notebook
    metrics = json.loads((results / "metrics.json").read_text())
    assert set(metrics["pipelines"]) == {"baseline", "advanced"}
    assert json.loads((results / "explanations.json").read_text())["checks"]["advanced"]["gradcam"]
