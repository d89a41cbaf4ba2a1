"""The leaderboards page beyond all time, week and month: a member picks a category's board or a
season's from the page and sees who earned what there."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest

from tests.e2e import test_browser as browser_tests
from tests.e2e.test_browser import Tab, adjust, goto, sign_in
from tests.harness import Client, Stack

from playwright.sync_api import expect  # isort: skip  (imported after test_browser skips without a browser)

browser = browser_tests.browser
open_tab = browser_tests.open_tab

pytestmark = pytest.mark.e2e


def test_a_member_picks_a_category_board_and_a_season_board(
    open_tab: Callable[..., Tab], admin: Client, member: Client, category: dict,
    stack: Stack,
) -> None:
    now = stack.now()
    season = admin.post("/api/leaderboards/seasons", {
        "name": "Harvest " + uuid.uuid4().hex[:4], "starts_at": (now - dt.timedelta(days=1)).isoformat(),
        "ends_at": (now + dt.timedelta(days=30)).isoformat()})
    assert season.status_code == 201, season.text
    season_name = season.json()["name"]
    adjust(admin, member, 300, "Ran the tasting")
    handle = member.member["handle"]

    tab = open_tab()
    page = tab.page
    sign_in(tab, handle, handle)
    goto(tab, "/leaderboards")
    expect(page.locator("[data-testid=leaderboard-view][data-live=subscribed]")).to_be_attached()

    expect(page.get_by_test_id("board-row").filter(has_text=f"@{handle}")).to_have_count(1)

    # A category's board: only what was earned in it (the goodwill points were not).
    page.get_by_label("By category").select_option(label=category["name"])
    page.get_by_test_id("board-category-show").click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#/leaderboards/category/{category['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Leaderboard: {category['name']}")
    expect(page.get_by_test_id("board-empty")).to_have_text("Nobody has points here yet.")
    expect(page.get_by_test_id("board-me")).to_have_text("You are not on this board yet.")
    expect(page.get_by_role("link", name="All time")).not_to_have_attribute("aria-current", "page")

    # A season's board: what was earned inside its dates, and it moves live.
    page.get_by_label("By season").select_option(label=season_name)
    page.get_by_test_id("board-season-show").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Leaderboard: {season_name}")
    expect(page.get_by_test_id("board-season-dates")).to_contain_text("Points earned from")
    mine = page.get_by_test_id("board-row").filter(has_text=f"@{handle}")
    expect(mine.get_by_test_id("board-score")).to_have_text("300")
    expect(page.locator("[data-testid=leaderboard-view][data-live=subscribed]")).to_be_attached()
    adjust(admin, member, 200, "Judged the latte art")
    expect(mine.get_by_test_id("board-score")).to_have_text("500")
    expect(page.get_by_test_id("board-me")).to_contain_text("with 500 points")
    expect(page.get_by_label("By season")).to_have_value(str(season.json()["id"]))

    # An address that names no board is not found.
    goto(tab, "/leaderboards/year")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
