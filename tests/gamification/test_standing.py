"""A member's public standing (tier and all-time points) for their profile."""

import uuid

from tests.harness import Client, Stack, eventually


def credit(admin: Client, member: Client, amount: int) -> None:
    response = admin.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": amount, "reason": "standing test",
        "idempotency_key": "s-" + uuid.uuid4().hex})
    assert response.status_code == 201, response.text


def standing(viewer: Client, member: Client) -> dict:
    response = viewer.get(f"/api/members/{member.member['id']}/standing")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_anyone_sees_a_members_tier_and_points(admin: Client, member: Client,
                                               anon: Client) -> None:
    regular = next(t for t in admin.get("/api/gamification/tiers").json()["tiers"]
                   if t["threshold"] > 0)
    credit(admin, member, regular["threshold"])
    eventually(lambda: standing(anon, member) == {
        "member_id": member.member["id"], "tier": regular["name"],
        "points": regular["threshold"]})
    # Spending lowers the balance, not what was earned.
    spent = admin.post("/api/gamification/redemptions", {
        "member_id": member.member["id"], "amount": 10, "reason": "a mug",
        "idempotency_key": "r-" + uuid.uuid4().hex})
    assert spent.status_code == 201, spent.text
    assert standing(anon, member)["points"] == regular["threshold"]


def test_members_off_the_leaderboards_keep_their_points_private(
        admin: Client, member: Client, moderator: Client, anon: Client) -> None:
    credit(admin, member, 30)
    assert standing(anon, member)["points"] == 30
    assert admin.put(f"/api/leaderboards/exclusions/{member.member['id']}").status_code == 204
    try:
        assert standing(anon, member)["points"] is None
        # They still see their own points where they always did.
        assert member.get("/api/me/points").json()["lifetime_earned"] == 30
    finally:
        admin.delete(f"/api/leaderboards/exclusions/{member.member['id']}")
    assert standing(anon, member)["points"] == 30
    credit(admin, moderator, 30)
    assert standing(anon, moderator)["points"] is None


def test_unknown_and_suspended_members_have_no_standing(admin: Client, member: Client,
                                                        anon: Client, stack: Stack) -> None:
    assert anon.get("/api/members/987654321/standing").status_code == 404
    stack.sql(f"UPDATE member SET is_active = false WHERE id = {int(member.member['id'])}")
    assert anon.get(f"/api/members/{member.member['id']}/standing").status_code == 404
