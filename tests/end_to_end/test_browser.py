"""The site in a real browser: opened from the file system and under a GitHub Pages sub-path."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ALL_IMAGES = "() => [...document.querySelectorAll('article img')]"


def _require_browser():
    if CHROMIUM is None:
        if os.environ.get("REPORTGEN_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here (REPORTGEN_REQUIRE_BROWSER) but is not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def _serve(folder) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(params=["file", "sub-path"])
def home(request, committed_site, tmp_path):
    """The built site's home page, opened from the file system or served under /portfolio/."""
    if request.param == "file":
        yield (committed_site / "index.html").as_uri()
        return
    shutil.copytree(committed_site, tmp_path / "portfolio")
    server, url = _serve(tmp_path)
    yield f"{url}/portfolio/index.html"
    server.shutdown()


def _assert_images_load(page, at_least: int) -> None:
    assert page.locator("article img").count() >= at_least
    # Lazy images (and those in hidden tabs) load only when shown: ask for all of them now.
    page.evaluate(f"() => ({ALL_IMAGES})().forEach(img => img.loading = 'eager')")
    page.wait_for_function(f"() => ({ALL_IMAGES})().every(img => img.complete)", timeout=20_000)
    broken = page.evaluate(f"() => ({ALL_IMAGES})().filter(img => !img.naturalWidth).map(img => img.src)")
    assert broken == []


def test_links_images_formulas_and_search_work(browser, home):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(home, wait_until="load")
    page.locator("article a[href$='runs/demo/index.html']").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("runs/demo/index.html")
    assert page.locator("article h1").inner_text().strip()
    _assert_images_load(page, at_least=15)
    page.wait_for_selector("article mjx-container", state="attached", timeout=20_000)  # MathJax typeset
    assert _search(page, "augmentation") > 0


def _search(page, query: str) -> int:
    """The number of results Material's search lists for a query typed into the search box."""
    page.locator("input.md-search__input").click()
    page.keyboard.type(query)
    page.wait_for_selector(".md-search-result__item", timeout=20_000)
    return page.locator(".md-search-result__item").count()


def test_figures_show_at_the_width_their_text_sizes_assume(browser, committed_site):
    """The legibility checks of the figures (tests/test_drawn_figures.py) assume the content column
    that Chromium measures here: at a 1280 px window a figure shows at most DISPLAY_WIDTH_PX wide."""
    from reportgen.render.figures import DISPLAY_WIDTH_PX

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((committed_site / "runs" / "demo" / "index.html").as_uri(), wait_until="load")
    _assert_images_load(page, at_least=15)
    widths = page.evaluate("() => [...document.querySelectorAll('article figure img')]"
                           ".filter(img => img.offsetParent).map(img => img.getBoundingClientRect().width)")
    assert len(widths) >= 15
    assert max(widths) == pytest.approx(DISPLAY_WIDTH_PX, abs=1)
