"""The tier ladder: promotion on earning, demotion only after the grace period, live."""

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from tests.harness import Client, Stack, eventually

LADDER = [{"name": "Newcomer", "threshold": 0}, {"name": "Regular", "threshold": 50},
          {"name": "Insider", "threshold": 100}]


@pytest.fixture
def ladder(admin: Client) -> Iterator[None]:
    original = admin.get("/api/gamification/tiers").json()
    assert admin.put("/api/gamification/tiers",
                     {"tiers": LADDER, "window_days": 30, "grace_days": 0}).status_code == 200
    yield
    admin.put("/api/gamification/tiers", original)


def credit(admin: Client, member: Client, amount: int) -> dict:
    response = admin.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": amount, "reason": "tier test",
        "idempotency_key": "t-" + uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return response.json()


def tier_of(member: Client) -> str | None:
    tier = member.get("/api/me/tier").json()["tier"]
    return tier["name"] if tier else None


def test_the_default_ladder_is_seeded(anon: Client) -> None:
    ladder = anon.get("/api/gamification/tiers").json()
    assert [t["name"] for t in ladder["tiers"]] == ["Member", "Regular", "Insider", "VIP"]
    assert ladder["window_days"] == 365 and ladder["grace_days"] == 30


def test_earning_promotes_at_once_and_is_pushed_live(admin: Client, member: Client, ladder) -> None:
    socket = member.websocket()
    try:
        socket.subscribe(f"user:{member.member['id']}")
        credit(admin, member, 60)
        eventually(lambda: tier_of(member) == "Regular")
        note = socket.wait_for(lambda f: f.get("event") == "notification"
                               and f["data"]["kind"] == "tier"
                               and f["data"]["data"]["to_tier"] == "Regular")
        assert note["data"]["data"]["promoted"] is True
        assert note["data"]["text"] == "You reached Regular"
    finally:
        socket.close()
    mine = member.get("/api/me/tier").json()
    assert mine["earned_in_window"] == 60 and mine["window_days"] == 30
    assert mine["next"] == {"name": "Insider", "threshold": 100, "points_needed": 40}
    credit(admin, member, 50)
    eventually(lambda: tier_of(member) == "Insider")
    assert member.get("/api/me/tier").json()["next"] is None
    eventually(lambda: [n["text"] for n in member.get("/api/notifications").json()["items"]
                        if n["kind"] == "tier"] == ["You reached Insider", "You reached Regular"])


def test_demotion_waits_for_the_grace_period(stack: Stack, admin: Client, member: Client,
                                            ladder) -> None:
    first = credit(admin, member, 60)
    top_up = credit(admin, member, 50)
    eventually(lambda: tier_of(member) == "Insider")
    admin.post(f"/api/gamification/transactions/{top_up['id']}/reverse", {"reason": "no grace"})
    eventually(lambda: tier_of(member) == "Regular")

    admin.put("/api/gamification/tiers", {"tiers": LADDER, "window_days": 30, "grace_days": 30})
    admin.post(f"/api/gamification/transactions/{first['id']}/reverse", {"reason": "in grace"})
    eventually(lambda: member.get("/api/me/tier").json()["demotes_at"] is not None)
    mine = member.get("/api/me/tier").json()
    assert mine["tier"]["name"] == "Regular" and mine["earned_in_window"] == 0
    demotes_at = dt.datetime.fromisoformat(mine["demotes_at"].replace("Z", "+00:00"))
    assert dt.timedelta(days=29) < demotes_at - stack.now() <= dt.timedelta(days=30)
    again = credit(admin, member, 55)
    eventually(lambda: member.get("/api/me/tier").json()["demotes_at"] is None)
    assert tier_of(member) == "Regular"

    # Below again: the hourly review keeps the tier while the grace period lasts...
    admin.post(f"/api/gamification/transactions/{again['id']}/reverse", {"reason": "in grace"})
    eventually(lambda: member.get("/api/me/tier").json()["demotes_at"] is not None)
    stack.run("run-job", "tiers.review")
    assert tier_of(member) == "Regular"
    # ...and steps the member down once it has passed, with no earning of theirs to prompt it.
    now = stack.advance(days=31)
    due = member.get("/api/me/tier").json()["demotes_at"]
    assert dt.datetime.fromisoformat(due.replace("Z", "+00:00")) < now
    socket = member.websocket()
    try:
        socket.subscribe(f"user:{member.member['id']}")
        stack.run("run-job", "tiers.review")
        mine = member.get("/api/me/tier").json()
        assert mine["tier"]["name"] == "Newcomer" and mine["demotes_at"] is None
        change = {"from_tier": "Regular", "to_tier": "Newcomer", "promoted": False}
        socket.wait_for(lambda f: f.get("event") == "notification"
                        and f["data"]["kind"] == "tier" and f["data"]["data"] == change)
    finally:
        socket.close()
    notes = member.get("/api/notifications").json()["items"]
    assert next(n["data"] for n in notes if n["kind"] == "tier") == change
    assert next(n["text"] for n in notes if n["kind"] == "tier") == "You moved down to Newcomer"


def test_points_older_than_the_window_stop_counting(stack: Stack, admin: Client, member: Client,
                                                    ladder) -> None:
    credit(admin, member, 60)
    eventually(lambda: tier_of(member) == "Regular")
    # Forty days pass (the window is thirty): the 60 points were earned long ago.
    stack.advance(days=40)
    credit(admin, member, 5)
    eventually(lambda: tier_of(member) == "Newcomer")
    mine = member.get("/api/me/tier").json()
    assert mine["earned_in_window"] == 5
    assert member.get("/api/me/points").json()["lifetime_earned"] == 65


@pytest.mark.parametrize(("tiers", "message"), [
    ([{"name": "A", "threshold": 10}, {"name": "B", "threshold": 10}], "strictly increase"),
    ([{"name": "A", "threshold": 20}, {"name": "B", "threshold": 10}], "strictly increase"),
    ([{"name": "A", "threshold": 0}, {"name": "A", "threshold": 10}], "unique"),
])
def test_bad_ladders_are_refused(admin: Client, tiers: list, message: str) -> None:
    response = admin.put("/api/gamification/tiers", {"tiers": tiers})
    assert response.status_code == 422 and message in response.json()["error"]["message"]


def test_only_admins_change_the_ladder(member: Client) -> None:
    assert member.put("/api/gamification/tiers", {"tiers": LADDER}).status_code == 403
    assert Client(member.server).get("/api/me/tier").status_code == 401
