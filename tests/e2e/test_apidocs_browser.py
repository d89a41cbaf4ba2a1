"""The API reference pages in a real browser with every other origin unreachable, as on a
machine without internet access: both render the API's operations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import Server

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    _why = f"{CHROMIUM} is not installed (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(_why + "; CI is set, so a missing browser is a failure", pytrace=False)
    pytest.skip(_why, allow_module_level=True)

from playwright.sync_api import Browser, Page, Route, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


def _offline_page(browser: Browser, server: Server, elsewhere: list[str]) -> Page:
    page = browser.new_page()

    def route(route: Route) -> None:
        if route.request.url.startswith(server.url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", route)
    return page


def test_scalar_renders_offline(browser: Browser, server: Server) -> None:
    elsewhere: list[str] = []
    page = _offline_page(browser, server, elsewhere)
    page.goto(server.url + "/schema")
    expect(page.get_by_role("heading", name="Hearth API")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("/api/ping").first).to_be_attached()
    assert elsewhere == []
    page.close()


def test_swagger_renders_offline(browser: Browser, server: Server) -> None:
    elsewhere: list[str] = []
    page = _offline_page(browser, server, elsewhere)
    page.goto(server.url + "/schema/swagger")
    expect(page.locator(".opblock-summary-path", has_text="/api/ping")).to_be_visible(timeout=20_000)
    assert elsewhere == []
    page.close()
