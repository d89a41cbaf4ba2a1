"""The console's Webhooks section in a real browser: staff add an endpoint (its secret shown
once), a member's points reach the brand's receiver signed, staff read the deliveries log,
replay a delivery and send a ping; the page passes axe."""

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


def test_staff_add_an_endpoint_see_signed_deliveries_replay_one_and_ping(
        open_tab: Callable[..., Tab], admin: Client, server: Server, member: Client,
        receiver: Receiver) -> None:
    staff, brand, _ = brand_with_staff(admin, server)
    tab = open_tab()
    page = tab.page
    sign_in_as(tab, staff, server)
    goto(tab, "/brand/webhooks")
    expect(page.get_by_test_id("brand-title")).to_have_text("Webhooks")
    page.get_by_test_id("hook-url").fill(receiver.url("/shop"))
    page.get_by_test_id("hook-type-points.posted").check()
    page.get_by_test_id("hook-create").click()
    secret = page.get_by_test_id("hook-secret").inner_text()
    assert secret.startswith("whsec_")
    assert_accessible(page)

    paid = staff.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": 7, "reason": "first order",
        "idempotency_key": uuid.uuid4().hex})
    assert paid.status_code == 201, paid.text
    first = eventually(lambda: receiver.at("/shop"), timeout=20)[0]
    body = Webhook(secret).verify(first.body, first.headers)
    assert body["type"] == "points.posted" and body["data"]["amount"] == 7
    assert body["brand_id"] == brand["id"]

    page.get_by_test_id("hook-deliveries").click()
    log = page.get_by_test_id("hook-log")
    expect(log.get_by_test_id("delivery-row")).to_have_count(1)
    expect(log.get_by_test_id("delivery-status-cell")).to_have_text("delivered")
    expect(log).to_contain_text("HTTP 200")
    assert_accessible(page)
    log.get_by_test_id("delivery-replay").click()
    eventually(lambda: len(receiver.at("/shop")) == 2, timeout=20)
    assert receiver.at("/shop")[1].headers["webhook-id"] == first.headers["webhook-id"]

    page.get_by_test_id("hook-ping").click()
    eventually(lambda: len(receiver.at("/shop")) == 3, timeout=20)
    assert Webhook(secret).verify(receiver.at("/shop")[2].body,
                                  receiver.at("/shop")[2].headers)["type"] == "webhook.ping"
    page.get_by_test_id("hook-rotate").click()
    confirm(tab, "Rotate the signing secret?")
    # The old secret stays on screen until the rotation answers.
    expect(page.get_by_test_id("hook-secret")).not_to_have_text(secret)
    assert page.get_by_test_id("hook-secret").inner_text().startswith("whsec_")
    assert tab.errors == []
