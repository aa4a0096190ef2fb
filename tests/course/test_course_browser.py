"""The course site in a real browser: opened from the file system and under a sub-path."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from course_fixtures import commit, own_notebook_portfolio, practice_portfolio
from end_to_end.test_browser import _serve, browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def course_site(tmp_path_factory):
    from reportgen.course import build_course

    root = tmp_path_factory.mktemp("course-browser")
    ana = practice_portfolio(root / "ana", runs=("demo",), answers=2)
    carla = own_notebook_portfolio(root / "carla")
    beto = practice_portfolio(root / "beto", runs=("shortcut",), accuracy={"advanced": 0.95})
    for folder in (ana, carla, beto):
        commit(folder)
    roster = root / "roster.yaml"
    roster.write_text(yaml.safe_dump({"course": "Curso de prueba", "students": [
        {"name": "Zoe Última", "repo": "ana", "site": "https://ana.github.io/p/"},
        {"name": "Carla Propia", "repo": "carla", "site": "https://carla.github.io/p/"},
        {"name": "Ana Primera", "repo": "beto"},  # no site: a copy of the run pages
    ]}, allow_unicode=True), encoding="utf-8")
    site = root / "site"
    build_course(roster, site, jobs=1)
    return site


@pytest.fixture(params=["file", "sub-path"])
def course_home(request, course_site, tmp_path):
    if request.param == "file":
        yield (course_site / "index.html").as_uri()
        return
    shutil.copytree(course_site, tmp_path / "curso")
    server, url = _serve(tmp_path)
    yield f"{url}/curso/index.html"
    server.shutdown()


def _first_column(page) -> list[str]:
    return page.eval_on_selector_all("article table tbody tr td:first-child", "cells => cells.map(c => c.innerText.trim())")


def _images_load(page) -> int:
    page.evaluate("() => document.querySelectorAll('article img').forEach(img => img.loading = 'eager')")
    page.wait_for_function("() => [...document.querySelectorAll('article img')].every(img => img.complete)",
                           timeout=20_000)
    assert page.evaluate("() => [...document.querySelectorAll('article img')].filter(i => !i.naturalWidth).length") == 0
    return page.locator("article img").count()


def test_roster_sorts_links_work_and_pages_show(browser, course_home):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(course_home, wait_until="load")
    assert _first_column(page) == ["Zoe Última", "Carla Propia", "Ana Primera"]  # roster order
    page.locator("article table thead th").first.click()  # tablesort: by student
    assert _first_column(page) == ["Ana Primera", "Carla Propia", "Zoe Última"]
    page.locator("article a", has_text="Ana Primera").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("estudiantes/ana-primera.html")
    page.locator("article a[href$='runs/shortcut/index.html']").first.click()  # the copy of the run page
    page.wait_for_load_state("load")
    assert page.url.endswith("estudiantes/ana-primera/runs/shortcut/index.html")
    assert _images_load(page) >= 5
    page.goto(course_home.replace("index.html", "comparacion/augmentation_xai.html"), wait_until="load")
    assert _images_load(page) == 1  # the plot, one point per student
    page.goto(course_home, wait_until="load")
    page.locator("input.md-search__input").click()
    page.keyboard.type("Carla")
    page.wait_for_selector(".md-search-result__item", timeout=20_000)
    assert errors == []
