"""Screenshots of the web app for the README, one per role: `python -m tests.e2e.screenshots`
starts an embedded Hearth with the demo data, signs in as the demo member, brand staff and
admin in Debian's Chromium, and writes frontend/screenshots/*.png."""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.harness import build_stack, drop_stack

OUT = Path(__file__).resolve().parents[2] / "frontend" / "screenshots"
PASSWORD = "demo screenshots 1"


def _ready(page: Page, route: str, selector: str) -> None:
    page.goto("/#" + route)
    expect(page.locator(selector).first).to_be_visible(timeout=15_000)
    page.wait_for_timeout(300)  # let the fonts and the live badge settle for the picture


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        stack = build_stack(Path(workdir))
        try:
            stack.run("migrate")
            stack.run("seed-demo", env={"HEARTH_DEMO_PASSWORD": PASSWORD})
            server = stack.start_server()
            thread_id = stack.sql("SELECT min(id) FROM forum_thread")[0][0]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                     args=CHROMIUM_ARGS)
                shots = {
                    "alice": [("member-thread", f"/t/{thread_id}", "[data-testid=post]"),
                              ("member-profile", "/u/alice", "[data-testid=profile-name]")],
                    "staff": [("brand-console", "/brand/challenges", "h1")],
                    "admin": [("admin-console", "/admin/tiers", "h1")],
                }
                for handle, pages in shots.items():
                    context = browser.new_context(base_url=server.url,
                                                  viewport={"width": 1200, "height": 800})
                    page = context.new_page()
                    _ready(page, "/signin", "[data-testid=signin-login]")
                    page.get_by_test_id("signin-login").fill(handle)
                    page.get_by_test_id("signin-password").fill(PASSWORD)
                    page.get_by_test_id("signin-submit").click()
                    expect(page.get_by_test_id("current-user")).to_have_text(f"@{handle}")
                    for name, route, selector in pages:
                        _ready(page, route, selector)
                        page.screenshot(path=str(OUT / f"{name}.png"))
                        print(f"wrote {OUT / f'{name}.png'}")
                    context.close()
                browser.close()
        finally:
            drop_stack(stack)


if __name__ == "__main__":
    main()
