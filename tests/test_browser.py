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


@pytest.fixture
def served_site(demo_site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(demo_site / "site"))
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
        images = page.locator("article img")
        assert images.count() >= 15
        for index in range(images.count()):  # lazy images: bring each into view, then check it decoded
            image = images.nth(index)
            image.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete", arg=image.element_handle(), timeout=10_000)
            width = image.evaluate("img => img.naturalWidth")
            assert width > 0, f"image {image.get_attribute('src')} did not load"
        page.locator("a.glightbox").first.click()
        page.wait_for_selector(".gslide-image img", state="visible", timeout=10_000)
        assert page.locator(".glightbox-container").is_visible()
        browser.close()
