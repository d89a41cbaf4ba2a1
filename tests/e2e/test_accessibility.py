"""Every page of the web app passes axe-core's serious and critical checks, signed out and
signed in, and keyboard users land where they expect: the skip link reaches the content, and
after a navigation the new page's heading has the focus and names the document."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest

from tests.e2e import test_browser as browser_tests
from tests.e2e.axe import assert_accessible
from tests.e2e.test_browser import Tab, adjust, brand_with_staff, goto, new_thread, publish_challenge, sign_in
from tests.harness import Client, Server, Stack

from playwright.sync_api import expect  # isort: skip  (imported after test_browser skips without a browser)

# The browser tests' fixtures: one Chromium per module, tabs that fail on page errors and CSP
# violations.
browser = browser_tests.browser
open_tab = browser_tests.open_tab

pytestmark = pytest.mark.e2e


def visit(tab: Tab, route: str, shown: str) -> None:
    """Opens route, waits until `shown` (a selector) says the page has drawn what it loads,
    then checks the page."""
    goto(tab, route)
    expect(tab.page.locator(shown).first).to_be_visible()
    assert_accessible(tab.page)


@pytest.fixture
def season(admin: Client, stack: Stack) -> dict:
    now = stack.now()
    made = admin.post("/api/leaderboards/seasons", {
        "name": "Spring " + uuid.uuid4().hex[:4], "starts_at": (now - dt.timedelta(days=1)).isoformat(),
        "ends_at": (now + dt.timedelta(days=30)).isoformat()})
    assert made.status_code == 201, made.text
    return made.json()


def test_every_page_passes_axe_signed_out_and_signed_in(
    open_tab: Callable[..., Tab], admin: Client, server: Server, stack: Stack, member: Client,
    other: Client, category: dict, season: dict,
) -> None:
    staff, brand, _ = brand_with_staff(admin, server)
    challenge = publish_challenge(staff, brand, stack.now(), title="Latte art week",
                                  description="Pour, photograph, share.",
                                  tasks=[{"name": "Share a pour", "event_types": ["post.created"],
                                          "target": 3}])
    thread = new_thread(other, category, "Grinders", "Burr or blade?")
    adjust(admin, member, 1200, "Welcome gift")
    handle = member.member["handle"]

    tab = open_tab()
    pages = [
        ("/", "[data-testid=category-list]"),
        (f"/c/{category['id']}", "[data-testid=thread-list]"),
        (f"/t/{thread['id']}", "[data-testid=thread-view][data-live=subscribed] [data-testid=post]"),
        ("/signin", "[data-testid=signin-form]"),
        ("/register", "[data-testid=register-form]"),
        ("/rewards", "[data-testid=rewards-view] .signin-prompt"),
        ("/leaderboards", "[data-testid=leaderboard-view][data-live=subscribed] [data-testid=board-row]"),
        (f"/leaderboards/category/{category['id']}", "[data-testid=leaderboard-view][data-live=subscribed]"),
        (f"/leaderboards/season/{season['id']}", "[data-testid=board-season-dates]"),
        ("/challenges", "[data-testid=challenge-item]"),
        (f"/challenges/{challenge['id']}",
         "[data-testid=challenge-view][data-live=subscribed] [data-testid=challenge-task]"),
        ("/search?q=burr", "[data-testid=search-hit] mark"),
        ("/no/such/page", "h1:text('Not found')"),
    ]
    for route, shown in pages:
        visit(tab, route, shown)

    sign_in(tab, handle, handle)
    visit(tab, f"/t/{thread['id']}",
          "[data-testid=thread-view][data-live=subscribed] [data-testid=reply-form]")
    visit(tab, "/rewards", "[data-testid=history-item]")
    visit(tab, "/leaderboards", "[data-testid=board-me]")
    visit(tab, f"/challenges/{challenge['id']}", "[data-testid=challenge-join]")
    tab.page.get_by_test_id("challenge-join").click()
    expect(tab.page.get_by_test_id("challenge-joined")).to_be_focused()
    assert_accessible(tab.page)


def test_the_skip_link_and_navigation_move_the_focus_and_name_the_page(
    open_tab: Callable[..., Tab], admin: Client, server: Server, stack: Stack,
) -> None:
    staff, brand, _ = brand_with_staff(admin, server)
    challenge = publish_challenge(staff, brand, stack.now(), title="Cold brew month",
                                  tasks=[{"name": "Say hello", "event_types": ["post.created"], "target": 1}])
    tab = open_tab()
    page = tab.page
    goto(tab, "/challenges")
    expect(page).to_have_title("Challenges · Hearth")

    # The first Tab reaches the skip link; following it puts the focus on the page's content.
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("view")).to_be_focused()

    # Following a link: the new page's heading takes the focus and names the document.
    page.get_by_test_id("challenge-item").filter(has_text="Cold brew month") \
        .get_by_test_id("challenge-link").click()
    expect(page.get_by_test_id("challenge-title")).to_be_focused()
    expect(page).to_have_title("Cold brew month · Hearth")
    assert page.evaluate("location.hash") == f"#/challenges/{challenge['id']}"

    # And back: the list's heading again.
    page.go_back()
    expect(page.get_by_role("heading", level=1, name="Challenges")).to_be_focused()
    expect(page).to_have_title("Challenges · Hearth")
