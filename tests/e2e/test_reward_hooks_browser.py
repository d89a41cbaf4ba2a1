"""The issue's whole path in a real browser: brand staff subscribe an endpoint to
`reward.redeemed`, a member redeems one of the brand's rewards in the web app, the brand's
receiver gets it signed (verified with the `standardwebhooks` package), and staff replay that
delivery from the console: it arrives again under the same webhook-id."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from tests.e2e.axe import assert_accessible
from tests.e2e.test_brand_console import confirm, sign_in_as
from tests.e2e.test_browser import Tab, brand_with_staff, browser, goto, open_tab
from tests.harness import Client, Server, eventually
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e
__all__ = ["browser", "open_tab"]  # the fixtures this module uses, from the browser tests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    made.up()
    yield made
    made.down()


def test_a_redemption_reaches_the_brands_receiver_signed_and_staff_replay_it(
        open_tab: Callable[..., Tab], admin: Client, server: Server, member: Client,
        receiver: Receiver) -> None:
    staff, brand, _ = brand_with_staff(admin, server)
    title = "Tasting flight " + uuid.uuid4().hex[:4]
    code = "FLIGHT-" + uuid.uuid4().hex[:8].upper()
    made = staff.post(f"/api/brands/{brand['id']}/rewards",
                      {"title": title, "price": 25, "published": True})
    assert made.status_code == 201, made.text
    pooled = staff.post(f"/api/brands/{brand['id']}/rewards/{made.json()['id']}/codes",
                        {"csv": code + "\n"})
    assert pooled.status_code == 201, pooled.text
    gift = admin.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": 40, "reason": "welcome gift",
        "idempotency_key": "e2e-" + uuid.uuid4().hex})
    assert gift.status_code == 201, gift.text

    console = open_tab()
    page = console.page
    sign_in_as(console, staff, server)
    goto(console, "/brand/webhooks")
    page.get_by_test_id("hook-url").fill(receiver.url("/rewards"))
    page.get_by_test_id("hook-type-reward.redeemed").check()
    page.get_by_test_id("hook-create").click()
    secret = page.get_by_test_id("hook-secret").inner_text()
    assert secret.startswith("whsec_")

    shop = open_tab()
    sign_in_as(shop, member, server)
    goto(shop, "/rewards")
    item = shop.page.get_by_test_id("catalogue-item").filter(has_text=title)
    item.get_by_test_id("redeem").click()
    confirm(shop, f"Redeem “{title}”?")
    expect(shop.page.get_by_test_id("redeemed-code")).to_have_text(code)

    first = eventually(lambda: receiver.at("/rewards"), timeout=20)[0]
    body = Webhook(secret).verify(first.body, first.headers)
    assert body["type"] == "reward.redeemed" and body["brand_id"] == brand["id"]
    assert body["data"]["reward_id"] == made.json()["id"]
    assert body["data"]["member_id"] == member.member["id"] and body["data"]["points"] == 25
    # The code is the member's alone: the brand's systems never get it by webhook.
    assert code.encode() not in first.body

    page.get_by_test_id("hook-deliveries").click()
    log = page.get_by_test_id("hook-log")
    expect(log.get_by_test_id("delivery-row")).to_have_count(1)
    expect(log.get_by_test_id("delivery-row")).to_contain_text("reward.redeemed")
    expect(log.get_by_test_id("delivery-status-cell")).to_have_text("delivered")
    assert_accessible(page)
    log.get_by_test_id("delivery-replay").click()
    eventually(lambda: len(receiver.at("/rewards")) == 2, timeout=20)
    again = receiver.at("/rewards")[1]
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    assert Webhook(secret).verify(again.body, again.headers)["data"] == body["data"]
    assert console.errors == [] and shop.errors == []
