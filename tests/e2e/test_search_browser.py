"""A member searches from the top bar, sees the matched words marked (and a post's markup as
text), narrows by category, and opens the thread of a result."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

import pytest

from tests.e2e import test_browser as browser_tests
from tests.e2e.test_browser import Tab, goto, new_thread, sign_in
from tests.harness import Client

from playwright.sync_api import expect  # isort: skip  (imported after test_browser skips without a browser)

browser = browser_tests.browser
open_tab = browser_tests.open_tab

pytestmark = pytest.mark.e2e


def test_searching_from_the_top_bar_finds_and_opens_a_post(
        open_tab: Callable[..., Tab], admin: Client, member: Client, category: dict) -> None:
    word = "".join(random.choices(string.ascii_lowercase, k=10))
    other = admin.post("/api/categories", {"name": "Elsewhere " + word,
                                           "slug": "e-" + word}).json()
    thread = new_thread(member, category, f"Descaling a {word}",
                        f"My {word} is <img src=x onerror=alert(1)> crusty")
    new_thread(member, other, "Another", f"a {word} elsewhere")
    tab = open_tab()
    goto(tab, "/")
    tab.page.get_by_test_id("topbar-search-q").fill(word)
    tab.page.get_by_test_id("topbar-search-q").press("Enter")
    hits = tab.page.get_by_test_id("search-hit")
    expect(hits).to_have_count(2)
    first = hits.filter(has_text="Descaling")
    expect(first.locator("[data-testid=search-snippet] mark").first).to_have_text(word)
    expect(first.get_by_test_id("search-snippet")).to_contain_text("<img src=x onerror=alert(1)>")
    tab.page.get_by_test_id("search-category").select_option(str(category["id"]))
    tab.page.get_by_test_id("search-submit").click()
    expect(hits).to_have_count(1)
    assert f"category_id={category['id']}" in tab.page.evaluate("location.hash")
    first.get_by_test_id("search-hit-link").click()
    expect(tab.page.get_by_test_id("thread-view")).to_be_visible()
    assert tab.page.evaluate("location.hash") == f"#/t/{thread['id']}"


def test_a_moderator_finds_hidden_posts_in_the_console(
        open_tab: Callable[..., Tab], member: Client, moderator: Client, category: dict) -> None:
    word = "".join(random.choices(string.ascii_lowercase, k=10))
    thread = new_thread(member, category, "Shop talk", f"Buy {word} cheap")
    reply = member.post(f"/api/threads/{thread['id']}/posts", {"body": f"more {word} here"}).json()
    assert moderator.post(f"/api/posts/{reply['id']}/hide", {"reason": "spam"}).status_code == 200
    tab = open_tab()
    sign_in(tab, moderator.member["handle"], moderator.member["handle"])
    goto(tab, f"/mod/search?q={word}")
    hits = tab.page.get_by_test_id("search-hit")
    expect(hits).to_have_count(2)
    tab.page.get_by_test_id("search-status").select_option("hidden")
    tab.page.get_by_test_id("search-submit").click()
    expect(hits).to_have_count(1)
    expect(hits.get_by_test_id("search-hit-hidden")).to_have_text("Hidden by a moderator")
    assert "status=hidden" in tab.page.evaluate("location.hash")
