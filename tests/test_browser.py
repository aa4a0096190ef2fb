"""The demo page in a real browser: every image loads and the lightbox opens."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _require_browser():
    if CHROMIUM is None:
        if os.environ.get("REPORTGEN_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here (REPORTGEN_REQUIRE_BROWSER) but is not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served_site(demo_site):
    handler = functools.partial(QuietHandler, directory=str(demo_site / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_images_load_and_lightbox_opens(served_site):
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{served_site}/runs/tiny/", wait_until="load")
        count = page.locator("article img").count()
        assert count >= 15
        # Lazy images (and those in hidden tabs) load only when shown: ask for all of them now.
        page.evaluate("() => document.querySelectorAll('article img').forEach(img => img.loading = 'eager')")
        page.wait_for_function("() => [...document.querySelectorAll('article img')].every(img => img.complete)",
                               timeout=20_000)
        broken = page.evaluate(
            "() => [...document.querySelectorAll('article img')].filter(img => !img.naturalWidth).map(img => img.src)")
        assert broken == []
        page.locator("a.glightbox").first.click()
        page.wait_for_selector(".gslide-image img", state="visible", timeout=10_000)
        assert page.locator(".glightbox-container").is_visible()
        browser.close()
