"""Inbound events from a brand's systems: orders, refunds, reviews, referrals and declared
custom types, posted with a brand's API token and an Idempotency-Key, earning through the
brand's rules from its budget."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.harness import Client, Server, eventually


class Brand:
    def __init__(self, admin: Client, server: Server, scopes: tuple[str, ...] = ("events",)) -> None:
        self.server = server
        self.brand = admin.post("/api/brands", {"name": "Shop", "slug": "in-" + uuid.uuid4().hex[:8]}).json()
        self.id = int(self.brand["id"])
        self.staff = server.client().register()
        changed = admin.put(f"/api/members/{self.staff.member['id']}/role",
                            {"role": "brand_staff", "brand_id": self.id})
        assert changed.status_code == 200, changed.text
        self.token = self.staff.post(f"/api/brands/{self.id}/tokens",
                                     {"name": "shop", "scopes": list(scopes)}).json()["secret"]
        funded = admin.post(f"/api/gamification/brands/{self.id}/budget",
                            {"amount": 100_000, "reason": "launch",
                             "idempotency_key": "fund-" + uuid.uuid4().hex})
        assert funded.status_code == 201, funded.text

    def send(self, type_: str, member: Any, data: dict[str, Any], key: str | None = None,
             token: str | None = None) -> httpx.Response:
        ref = member if isinstance(member, dict) else {"id": member.member["id"]}
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return httpx.post(f"{self.server.url}/api/integrations/events",
                          json={"type": type_, "member": ref, "data": data},
                          headers=headers, timeout=30)

    def order(self, member: Any, order_id: str, amount: str = "42.50", currency: str = "EUR",
              key: str | None = None, token: str | None = None) -> httpx.Response:
        return self.send("order.completed", member,
                         {"order_id": order_id, "amount": amount, "currency": currency},
                         key or "k-" + uuid.uuid4().hex, token)

    def rule(self, name: str, event_types: list[str], points: str, condition: str = "") -> None:
        made = self.staff.post("/api/gamification/rules", {
            "name": name, "event_types": event_types, "points": points, "condition": condition,
            "brand_id": self.id})
        assert made.status_code == 201, made.text

    def events(self) -> list[dict[str, Any]]:
        listed = self.staff.get(f"/api/brands/{self.id}/inbound-events")
        assert listed.status_code == 200, listed.text
        return listed.json()["items"]  # type: ignore[no-any-return]


@pytest.fixture
def shop(admin: Client, server: Server) -> Brand:
    return Brand(admin, server)


def balance(admin: Client, member: Client) -> int:
    return int(admin.get(f"/api/members/{member.member['id']}/points").json()["balance"])


def settles(admin: Client, member: Client, expected: int) -> None:
    eventually(lambda: balance(admin, member) == expected)


def test_an_order_earns_a_point_per_euro_double_for_vip_and_a_first_order_bonus(
        admin: Client, shop: Brand, member: Client, other: Client) -> None:
    shop.rule("A point per euro", ["order.completed"], "amount", 'currency == "EUR"')
    shop.rule("Double for VIP", ["order.completed"], "amount", 'tier == "VIP"')
    shop.rule("First order bonus", ["order.completed"], "50", "order_number == 1")

    first = shop.order(member, "A-1", "42.50")
    assert first.status_code == 201, first.text
    assert first.json()["member_id"] == member.member["id"] and first.json()["outcome"] == "accepted"
    settles(admin, member, 42 + 50)
    # By email, as a shop knows its customer; a second order earns no bonus.
    email = member.member["handle"] + "@Example.TEST"
    assert shop.order({"email": email}, "A-2", "10.99").status_code == 201
    settles(admin, member, 92 + 10)

    # The other member climbs to VIP (the default ladder's 2,000 points) before ordering.
    credited = admin.post("/api/gamification/adjustments", {
        "member_id": other.member["id"], "amount": 2000, "reason": "VIP test",
        "idempotency_key": "vip-" + uuid.uuid4().hex})
    assert credited.status_code == 201, credited.text
    eventually(lambda: (other.get("/api/me/tier").json()["tier"] or {}).get("name") == "VIP")
    assert shop.order(other, "B-1", "20.00").status_code == 201
    settles(admin, other, 2000 + 20 * 2 + 50)

    listed = {e["reference"]: e for e in shop.events()}
    assert listed["A-1"]["points_awarded"] == 92 and listed["A-1"]["summary"] == "order A-1: 42.50 EUR"
    assert listed["B-1"]["points_awarded"] == 90


def test_a_refund_takes_back_what_its_order_earned(admin: Client, shop: Brand,
                                                   member: Client) -> None:
    shop.rule("A point per euro", ["order.completed"], "amount")
    assert shop.order(member, "R-1", "30").status_code == 201
    assert shop.order(member, "R-2", "5").status_code == 201
    settles(admin, member, 35)
    refund = shop.send("order.refunded", member, {"order_id": "R-1"}, "refund-R-1")
    assert refund.status_code == 201, refund.text
    settles(admin, member, 5)
    listed = {(e["type"], e["reference"]): e for e in shop.events()}
    assert listed[("order.completed", "R-1")]["points_reversed"] == 30
    assert listed[("order.refunded", "R-1")]["summary"] == "refund of order R-1"
    # Refunded once; a refund of an order the brand never reported is refused.
    again = shop.send("order.refunded", member, {"order_id": "R-1"}, "refund-R-1-again")
    assert again.status_code == 409, again.text
    unknown = shop.send("order.refunded", member, {"order_id": "R-9"}, "refund-R-9")
    assert unknown.status_code == 422 and "data.order_id" in unknown.json()["error"]["message"]


def test_reviews_referrals_and_declared_custom_types_earn(admin: Client, shop: Brand,
                                                          member: Client) -> None:
    shop.rule("Reviews", ["review.posted"], "rating * 2")
    shop.rule("Referrals", ["referral.converted"], "100")
    declared = shop.staff.post(f"/api/brands/{shop.id}/inbound-types", {
        "name": "store_visit",
        "fields": [{"name": "minutes", "type": "integer", "required": True},
                   {"name": "store", "type": "text", "max_length": 20}]})
    assert declared.status_code == 201, declared.text
    shop.rule("Store visits", ["custom.received"], "minutes // 10",
              'name == "store_visit" and store == "Paris"')
    assert shop.send("review.posted", member, {"review_id": "V-1", "rating": 4}, "v1").status_code == 201
    settles(admin, member, 8)
    assert shop.send("referral.converted", member, {"referral_id": "F-1"}, "f1").status_code == 201
    settles(admin, member, 108)
    # A badge for Paris visits: its condition names a declared field, which no sample has.
    badge = admin.post("/api/gamification/badges", {
        "slug": "paris-" + uuid.uuid4().hex[:6], "name": "Paris regular " + uuid.uuid4().hex[:4],
        "criteria": {"type": "count", "event_types": ["custom.received"], "count": 1,
                     "condition": 'name == "store_visit" and store == "Paris"'}})
    assert badge.status_code == 201, badge.text
    visit = shop.send("store_visit", member, {"minutes": 45, "store": "Paris"}, "s1")
    assert visit.status_code == 201, visit.text
    settles(admin, member, 112)
    eventually(lambda: any(b["badge"]["id"] == badge.json()["id"] for b in
                           member.get(f"/api/members/{member.member['id']}/badges").json()))

    bad = [({"store": "Paris"}, "data.minutes is required"),
           ({"minutes": "45"}, "data.minutes must be a whole number"),
           ({"minutes": 1, "store": "x" * 21}, "data.store is longer than 20"),
           ({"minutes": 1, "colour": "red"}, "data.colour is not a field")]
    for data, message in bad:
        refused = shop.send("store_visit", member, data, "bad-" + uuid.uuid4().hex)
        assert refused.status_code == 422 and message in refused.json()["error"]["message"], refused.text
    assert shop.staff.post(f"/api/brands/{shop.id}/inbound-types",
                           {"name": "store_visit", "fields": []}).status_code == 409
    clash = shop.staff.post(f"/api/brands/{shop.id}/inbound-types",
                            {"name": "other", "fields": [{"name": "tier", "type": "text"}]})
    assert clash.status_code == 422, clash.text
    types = shop.staff.get(f"/api/brands/{shop.id}/inbound-types").json()
    assert [t["name"] for t in types] == ["store_visit"]
    log = admin.get("/api/staff-log", params={"action": "inbound_type.declare"})
    assert log.status_code == 200 and any(e["target_id"] == str(declared.json()["id"])
                                          for e in log.json()["items"]), log.text


def test_one_key_is_one_event_however_often_and_at_once_it_is_sent(
        admin: Client, shop: Brand, member: Client) -> None:
    shop.rule("A point per euro", ["order.completed"], "amount")
    first = shop.order(member, "I-1", "7", key="same")
    replay = shop.order(member, "I-1", "7", key="same")
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    other_body = shop.order(member, "I-1", "8", key="same")
    assert other_body.status_code == 409 and "different body" in other_body.json()["error"]["message"]
    # The same order under another key is refused too: an order earns once.
    assert shop.order(member, "I-1", "7", key="another").status_code == 409

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: shop.order(member, "I-2", "3", key="burst"), range(20)))
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    settles(admin, member, 10)
    assert [e["reference"] for e in shop.events()] == ["I-2", "I-1"]


def test_bad_input_is_a_clear_422_and_records_nothing(admin: Client, shop: Brand,
                                                      member: Client) -> None:
    cases = [
        ("order.completed", {"order_id": "X", "amount": "12,50", "currency": "EUR"}, "data.amount"),
        ("order.completed", {"order_id": "X", "amount": "-3", "currency": "EUR"}, "data.amount"),
        ("order.completed", {"order_id": "X", "amount": "1e3", "currency": "EUR"}, "data.amount"),
        ("order.completed", {"order_id": "X", "amount": 12.5, "currency": "EUR"}, "data.amount"),
        ("order.completed", {"order_id": "X", "amount": "12.50", "currency": "EUX"}, "data.currency"),
        ("order.completed", {"order_id": "X", "amount": "12.5", "currency": "JPY"}, "data.amount"),
        ("order.completed", {"order_id": "a:b", "amount": "1", "currency": "EUR"}, "data.order_id"),
        ("order.completed", {"amount": "1", "currency": "EUR"}, "order_id"),
        ("order.shipped", {"order_id": "X"}, "unknown event type"),
    ]
    for type_, data, named in cases:
        refused = shop.send(type_, member, data, "bad-" + uuid.uuid4().hex)
        assert refused.status_code == 422, (type_, data, refused.text)
        assert named in refused.json()["error"]["message"], (data, refused.text)
    ok = {"order_id": "X", "amount": "1", "currency": "EUR"}
    no_key = shop.send("order.completed", member, ok)
    assert no_key.status_code == 422 and "Idempotency-Key" in no_key.json()["error"]["message"]
    for ref, named in (({"id": 999_999_999}, "member.id"), ({"email": "nobody@example.test"},
                                                            "member.email"),
                       ({}, "exactly one")):
        refused = shop.send("order.completed", ref, ok, "bad-" + uuid.uuid4().hex)
        assert refused.status_code == 422 and named in refused.json()["error"]["message"], refused.text
    assert shop.events() == []
    # Inbound events pay only through a brand's own rules.
    global_rule = admin.post("/api/gamification/rules", {"name": "Any order", "event_types":
                                                         ["order.completed"], "points": 1})
    assert global_rule.status_code == 422 and "brand_id" in global_rule.json()["error"]["message"]


def test_only_a_brand_token_with_the_events_scope_posts_and_only_in_its_brand(
        admin: Client, server: Server, shop: Brand, member: Client) -> None:
    body = {"type": "order.completed", "member": {"id": member.member["id"]},
            "data": {"order_id": "Z-1", "amount": "9", "currency": "EUR"}}
    # A person's session, even the brand's staff: integration only.
    by_person = shop.staff.post("/api/integrations/events", body, headers={"Idempotency-Key": "p"})
    assert by_person.status_code == 403 and "API token" in by_person.json()["error"]["message"]
    writer = shop.staff.post(f"/api/brands/{shop.id}/tokens",
                             {"name": "w", "scopes": ["read", "write"]}).json()["secret"]
    assert shop.order(member, "Z-1", token=writer).status_code == 403

    theirs = Brand(admin, server)
    theirs.rule("Theirs per euro", ["order.completed"], "amount")
    shop.rule("Ours per euro", ["order.completed"], "amount")
    assert shop.order(member, "Z-1", "9").status_code == 201
    settles(admin, member, 9)
    # Their token sees none of our orders: it cannot refund ours, and its keys are its own.
    refund = theirs.send("order.refunded", member, {"order_id": "Z-1"}, "refund-Z-1")
    assert refund.status_code == 422, refund.text
    assert theirs.staff.get(f"/api/brands/{shop.id}/inbound-events").status_code == 403
    assert theirs.order(member, "Z-1", "4").status_code == 201
    settles(admin, member, 13)
    assert [e["points_awarded"] for e in theirs.events()] == [4]


def test_a_batch_is_recorded_whole_or_not_at_all_and_replays_per_key(
        admin: Client, shop: Brand, member: Client) -> None:
    shop.rule("A point per euro", ["order.completed"], "amount")
    shop.rule("Reviews", ["review.posted"], "5")

    def batch(events: list[dict[str, Any]]) -> httpx.Response:
        return httpx.post(f"{shop.server.url}/api/integrations/events/batch",
                          json={"events": events}, timeout=30,
                          headers={"Authorization": f"Bearer {shop.token}"})

    ref = {"id": member.member["id"]}
    order = {"type": "order.completed", "member": ref,
             "data": {"order_id": "M-1", "amount": "20", "currency": "EUR"}}
    events = [{"idempotency_key": "m1", **order},
              {"idempotency_key": "m1", **order},
              {"idempotency_key": "v1", "type": "review.posted", "member": ref,
               "data": {"review_id": "V-9"}},
              {"idempotency_key": "m1-refund", "type": "order.refunded", "member": ref,
               "data": {"order_id": "M-1"}},
              {"idempotency_key": "m2", **order, "data": {**order["data"], "order_id": "M-2"},
               "member": {"email": member.member["handle"] + "@EXAMPLE.test"}},
              {"idempotency_key": "m3", **order, "data": {**order["data"], "order_id": "M-3"},
               "member": {"email": member.member["handle"] + "@example.test"}}]
    bad = [events[0], {**events[4], "data": {**events[4]["data"], "currency": "XYZ"}}]
    refused = batch(bad)
    assert refused.status_code == 422, refused.text
    assert "events[1].data.currency" in refused.json()["error"]["message"]
    clash = batch([events[0], {**events[4], "idempotency_key": "m1"}])
    assert clash.status_code == 409, clash.text
    assert shop.events() == []

    done = batch(events)
    assert done.status_code == 200, done.text
    results = done.json()["results"]
    assert [r["replayed"] for r in results] == [False, True, False, False, False, False]
    assert results[0]["event"] == results[1]["event"]
    # M-1 earned 20 and its refund, later in the batch, took them back.
    settles(admin, member, 5 + 20 + 20)
    again = batch(events).json()["results"]
    assert [r["replayed"] for r in again] == [True] * 6
    assert [r["event"]["id"] for r in again] == [r["event"]["id"] for r in results]
    assert len(shop.events()) == 5


def test_each_event_counts_against_its_tokens_rate_limit(admin: Client, server: Server,
                                                         member: Client) -> None:
    # HEARTH_INBOUND_RATE_LIMIT is 6000 a minute per token; these batches are refused (422)
    # after the limit counted them, so they write nothing.
    shop, other = Brand(admin, server), Brand(admin, server)
    wrong = [{"idempotency_key": f"x{n}", "type": "order.shipped", "member": {"id": 1},
              "data": {}} for n in range(500)]

    def batch(brand: Brand) -> int:
        return httpx.post(f"{server.url}/api/integrations/events/batch", json={"events": wrong},
                          headers={"Authorization": f"Bearer {brand.token}"},
                          timeout=30).status_code

    assert [batch(shop) for _ in range(12)] == [422] * 12
    limited = shop.order(member, "L-1")
    assert limited.status_code == 429, limited.text
    assert other.order(member, "L-1").status_code == 201, "another token counts apart"
