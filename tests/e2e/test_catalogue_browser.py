"""The rewards catalogue in a real browser: staff publish a reward and fill its code pool (a
bad CSV's lines listed), a member redeems it and copies the code, finds it again under their
redemptions, and staff refund it from the console."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.test_brand_console import confirm, sign_in_as
from tests.e2e.test_browser import Tab, brand_with_staff, browser, goto, open_tab
from tests.harness import Client, Server

pytestmark = pytest.mark.e2e
__all__ = ["browser", "open_tab"]  # the fixtures this module uses, from the browser tests


def csv_file(text: str) -> dict:
    return {"name": "codes.csv", "mimeType": "text/csv", "buffer": text.encode()}


def test_staff_publish_a_reward_a_member_redeems_it_and_staff_refund_it(
    open_tab: Callable[..., Tab], admin: Client, server: Server, member: Client,
) -> None:
    staff, _, _ = brand_with_staff(admin, server)
    gift = admin.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": 100, "reason": "welcome gift",
        "idempotency_key": "e2e-" + uuid.uuid4().hex})
    assert gift.status_code == 201, gift.text
    title = "Bag of beans " + uuid.uuid4().hex[:4]

    console = open_tab()
    page = console.page
    sign_in_as(console, staff, server)
    goto(console, "/brand/catalogue")
    page.get_by_test_id("reward-title").fill(title)
    page.get_by_test_id("reward-price").fill("30")
    page.get_by_test_id("reward-published").check()
    page.get_by_test_id("reward-save").click()
    row = page.get_by_test_id("reward-row").filter(has_text=title)
    expect(row).to_contain_text("published")
    row.get_by_test_id("reward-codes").click()
    page.get_by_test_id("code-file").set_input_files(csv_file("code\nBEANS-0001\nnot a code\nBEANS-0001\n"))
    expect(page.get_by_test_id("code-line-errors")).to_contain_text("Line 3:")
    expect(page.get_by_test_id("code-line-errors")).to_contain_text("Line 4: duplicate of line 2")
    page.get_by_test_id("code-file").set_input_files(csv_file("BEANS-0001\nBEANS-0002\n"))
    expect(row.locator("td").nth(3)).to_have_text("2")
    assert_accessible(page)

    shop = open_tab()
    sign_in_as(shop, member, server)
    goto(shop, "/rewards")
    item = shop.page.get_by_test_id("catalogue-item").filter(has_text=title)
    item.get_by_test_id("redeem").click()
    confirm(shop, f"Redeem “{title}”?")
    expect(shop.page.get_by_test_id("redeemed-code")).to_have_text("BEANS-0001")
    expect(shop.page.get_by_test_id("redemption-code").first).to_have_text("BEANS-0001")
    assert member.get("/api/me/points").json()["balance"] == 70
    assert_accessible(shop.page)

    page.reload()
    redeemed = page.get_by_test_id("redemptions").get_by_test_id("table-row").filter(has_text=title)
    expect(redeemed).to_contain_text(f"@{member.member['handle']}")
    expect(redeemed).to_contain_text("0001")
    redeemed.get_by_test_id("refund").click()
    page.get_by_test_id("refund-reason").fill("Out of this roast")
    page.get_by_test_id("refund-submit").click()
    confirm(console, "Refund this redemption?")
    expect(redeemed).to_contain_text("refunded: Out of this roast")
    assert member.get("/api/me/points").json()["balance"] == 100
