"""Badges: declarative criteria, grants with notifications, backfill, auto-revoke, manual."""

import uuid
from typing import Any

import pytest

from tests.harness import Client, Server, Stack, eventually


@pytest.fixture
def scoped(admin: Client) -> dict:
    slug = "b-" + uuid.uuid4().hex[:8]
    return admin.post("/api/categories", {"name": "Badges " + slug, "slug": slug}).json()


def badge(admin: Client, criteria: dict, **fields) -> dict:
    body = {"slug": "badge-" + uuid.uuid4().hex[:8], "name": "Badge " + uuid.uuid4().hex[:4],
            "criteria": criteria, **fields}
    response = admin.post("/api/gamification/badges", body)
    assert response.status_code == 201, response.text
    return response.json()


def earned(client: Client, badge_id: int) -> int:
    mine = client.get("/api/me/badges").json()["earned"]
    return next((e["times"] for e in mine if e["badge"]["id"] == badge_id), 0)


def new_thread(client: Client, category: dict) -> dict:
    response = client.post(f"/api/categories/{category['id']}/threads",
                           {"title": "Badge hunting", "body": "hello"})
    assert response.status_code == 201, response.text
    return response.json()


def test_count_badge_is_granted_notified_and_shown_on_the_profile(admin, member, other, scoped) -> None:
    chatty = badge(admin, {"type": "count", "event_types": ["post.created"], "count": 3,
                           "condition": f"category_id == {scoped['id']} and post_number > 1"},
                   name="Conversationalist", level="silver")
    thread = new_thread(other, scoped)["thread"]
    socket = member.websocket()
    try:
        socket.subscribe(f"user:{member.member['id']}")
        for i in range(2):
            member.post(f"/api/threads/{thread['id']}/posts", {"body": f"reply {i}"})
        progress = eventually(lambda: next(
            (u["progress"] for u in member.get("/api/me/badges").json()["unearned"]
             if u["badge"]["id"] == chatty["id"] and u["progress"]["current"] == 2), None))
        assert progress == {"current": 2, "needed": 3}
        member.post(f"/api/threads/{thread['id']}/posts", {"body": "third"})
        note = socket.wait_for(lambda f: f.get("event") == "notification"
                               and f["data"]["kind"] == "badge"
                               and f["data"]["data"]["name"] == "Conversationalist")
        assert note["data"]["text"] == "You earned Conversationalist"
    finally:
        socket.close()
    assert earned(member, chatty["id"]) == 1
    profile = other.get(f"/api/members/{member.member['id']}/badges").json()
    assert [(b["badge"]["name"], b["badge"]["level"]) for b in profile] == [("Conversationalist", "silver")]
    # The text keeps the name it was earned under.
    assert admin.patch(f"/api/gamification/badges/{chatty['id']}",
                       {"name": "Chatterbox"}).status_code == 200
    assert [n["text"] for n in member.get("/api/notifications").json()["items"]
            if n["kind"] == "badge"] == ["You earned Conversationalist"]


def test_repeatable_badges_count_up(admin, member, other, scoped) -> None:
    regular = badge(admin, {"type": "count", "event_types": ["post.created"], "count": 2,
                            "condition": f"category_id == {scoped['id']} and post_number > 1"},
                    repeatable=True)
    thread = new_thread(other, scoped)["thread"]
    for i in range(5):
        member.post(f"/api/threads/{thread['id']}/posts", {"body": f"r{i}"})
    eventually(lambda: earned(member, regular["id"]) == 2)


def test_new_badges_are_backfilled_for_people_who_already_qualify(admin, member, scoped) -> None:
    # A point per thread, paid in the same dispatch after the activity log is written: once the
    # points show, the history the backfill reads is there.
    admin.post("/api/gamification/rules", {"name": "Marker", "event_types": ["thread.created"],
                                           "points": 1, "category_id": scoped["id"]})
    new_thread(member, scoped)
    new_thread(member, scoped)
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 2)

    first = badge(admin, {"type": "first", "event_types": ["thread.created"],
                          "condition": f"category_id == {scoped['id']}"}, points=15)
    eventually(lambda: admin.get(f"/api/gamification/badges/{first['id']}/backfill").json()["finished"])
    progress = admin.get(f"/api/gamification/badges/{first['id']}/backfill").json()
    assert progress["granted"] >= 1 and progress["done"] == progress["total"]
    assert earned(member, first["id"]) == 1
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 17)
    assert member.get(f"/api/gamification/badges/{first['id']}/backfill").status_code == 403

    # A change starts another run, told apart from the finished one by its number.
    assert admin.patch(f"/api/gamification/badges/{first['id']}", {"points": 20}).status_code == 200

    def later_run_finished() -> bool:
        later = admin.get(f"/api/gamification/badges/{first['id']}/backfill").json()
        return bool(later["run"] > progress["run"] and later["finished"])

    eventually(later_run_finished)


def test_auto_revoke_when_moderation_removes_the_posts(admin, member, other, moderator, scoped) -> None:
    auto = badge(admin, {"type": "count", "event_types": ["post.created"], "count": 2,
                         "condition": f"category_id == {scoped['id']} and post_number > 1"},
                 auto_revoke=True, points=10)
    thread = new_thread(other, scoped)["thread"]
    replies = [member.post(f"/api/threads/{thread['id']}/posts", {"body": f"p{i}"}).json()
               for i in range(2)]
    eventually(lambda: earned(member, auto["id"]) == 1)
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 10)
    assert moderator.delete(f"/api/posts/{replies[0]['id']}").status_code == 204
    eventually(lambda: earned(member, auto["id"]) == 0)
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 0)


def test_points_badge_and_secret_badges(admin, member, scoped) -> None:
    secret = badge(admin, {"type": "points", "threshold": 25}, secret=True, name="Hidden gem")
    try:
        unearned = [u["badge"]["id"] for u in member.get("/api/me/badges").json()["unearned"]]
        assert secret["id"] not in unearned
        assert secret["id"] not in [b["id"] for b in member.get("/api/gamification/badges").json()]
        admin.post("/api/gamification/adjustments", {
            "member_id": member.member["id"], "amount": 25, "reason": "goodwill credit",
            "idempotency_key": "badge-" + uuid.uuid4().hex})
        eventually(lambda: earned(member, secret["id"]) == 1)
    finally:
        admin.patch(f"/api/gamification/badges/{secret['id']}", {"enabled": False})


def test_manual_grants_need_staff_and_a_reason(admin, member, other, moderator, server: Server) -> None:
    helper = badge(admin, {"type": "manual"}, name="Community helper")
    assert other.post(f"/api/gamification/badges/{helper['id']}/grants",
                      {"member_id": member.member["id"], "reason": "I like them"}).status_code == 403
    assert moderator.post(f"/api/gamification/badges/{helper['id']}/grants",
                          {"member_id": member.member["id"], "reason": "x"}).status_code == 400
    granted = moderator.post(f"/api/gamification/badges/{helper['id']}/grants",
                             {"member_id": member.member["id"], "reason": "answered 20 questions"})
    assert granted.status_code == 201
    assert granted.json()["granted_by"] == moderator.member["id"]
    assert granted.json()["reason"] == "answered 20 questions"
    again = moderator.post(f"/api/gamification/badges/{helper['id']}/grants",
                           {"member_id": member.member["id"], "reason": "again please"})
    assert again.status_code == 409
    assert earned(member, helper["id"]) == 1
    revoked = admin.post(f"/api/gamification/badges/{helper['id']}/grants/{granted.json()['id']}/revoke",
                         {"reason": "granted by mistake"})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert revoked.json()["revoked_reason"] == "granted by mistake"
    assert revoked.json()["revoked_by"] == admin.member["id"]
    assert earned(member, helper["id"]) == 0


def test_only_admins_grant_badges_that_pay_points_or_follow_criteria(
        admin, member, moderator, server: Server) -> None:
    brand = admin.post("/api/brands", {"name": "Mint", "slug": "m-" + uuid.uuid4().hex[:6]}).json()
    staff = server.client().register()
    admin.put(f"/api/members/{staff.member['id']}/role", {"role": "brand_staff", "brand_id": brand["id"]})
    paid = badge(admin, {"type": "manual"}, name="Golden handshake", points=500, repeatable=True)
    earnable = badge(admin, {"type": "count", "event_types": ["thread.created"], "count": 1_000_000},
                     name="A million threads")
    thanks = badge(admin, {"type": "manual"}, name="Thanks from the team")
    grant = {"member_id": member.member["id"], "reason": "for everything"}
    # New points come from issuance: staff below admin could otherwise mint them at will.
    for who in (staff, moderator):
        refused = who.post(f"/api/gamification/badges/{paid['id']}/grants", grant)
        assert refused.status_code == 403 and "pays points" in refused.json()["error"]["message"]
        assert who.post(f"/api/gamification/badges/{earnable['id']}/grants", grant).status_code == 403
    assert member.get("/api/me/points").json()["balance"] == 0
    assert staff.post(f"/api/gamification/badges/{thanks['id']}/grants", grant).status_code == 201
    assert admin.post(f"/api/gamification/badges/{paid['id']}/grants", grant).status_code == 201
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 500)
    # Nor can a challenge's reward be a way round it.
    reward = staff.post("/api/challenges", {
        "brand_id": brand["id"], "title": "Prize", "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "2030-02-01T00:00:00Z", "reward_badge_id": paid["id"],
        "tasks": [{"name": "x", "event_types": ["post.created"], "target": 1}]})
    assert reward.status_code == 403, reward.text
    disabled = badge(admin, {"type": "manual"}, name="Retired", enabled=False)
    off = admin.post(f"/api/gamification/badges/{disabled['id']}/grants", grant)
    assert off.status_code == 409 and "disabled" in off.json()["error"]["message"]
    offered = staff.post("/api/challenges", {
        "brand_id": brand["id"], "title": "Retired prize", "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "2030-02-01T00:00:00Z", "reward_badge_id": disabled["id"],
        "tasks": [{"name": "x", "event_types": ["post.created"], "target": 1}]})
    assert offered.status_code == 409 and "disabled" in offered.json()["error"]["message"]


@pytest.mark.parametrize(("criteria", "status", "message"), [
    ({"type": "count", "event_types": ["post.vanished"], "count": 1}, 422, "cannot count"),
    ({"type": "count", "event_types": ["post.created"], "count": 1, "condition": "nope =="}, 422,
     "not a valid expression"),
    ({"type": "streak", "event_types": ["member.visited"], "length": 1}, 400, "length"),
    ({"type": "telepathy"}, 400, "criteria"),
])
def test_bad_badges_are_refused(admin: Client, criteria: dict, status: int, message: str) -> None:
    response = admin.post("/api/gamification/badges", {"slug": "bad-" + uuid.uuid4().hex[:6],
                                                       "name": "Bad", "criteria": criteria})
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]


def test_only_admins_define_badges(member: Client) -> None:
    response = member.post("/api/gamification/badges", {"slug": "mine", "name": "Mine",
                                                        "criteria": {"type": "manual"}})
    assert response.status_code == 403


def reply(client: Client, thread: dict, body: str = "counting towards a badge") -> dict:
    response = client.post(f"/api/threads/{thread['id']}/posts", {"body": body})
    assert response.status_code == 201, response.text
    return response.json()


def replies_in(category: dict, **criteria: Any) -> dict:
    """Count criteria over replies in one category (threads opened elsewhere do not count)."""
    return {"type": "count", "event_types": ["post.created"],
            "condition": f"category_id == {category['id']} and post_number > 1", **criteria}


def progress(client: Client, badge_id: int) -> dict | None:
    """The member's progress toward a badge they have not earned (None once earned)."""
    mine = client.get("/api/me/badges").json()["unearned"]
    return next((u["progress"] for u in mine if u["badge"]["id"] == badge_id), None)


def logged(stack: Stack, post: dict) -> None:
    """Wait until the post's activity is in the log badge criteria read."""
    eventually(lambda: stack.sql(
        f"SELECT id FROM gamification_activity WHERE source = 'post:{int(post['id'])}'"))


@pytest.mark.parametrize(("unit", "days_per_step"), [("day", 1), ("week", 7)])
def test_streak_badges_need_unbroken_consecutive_days_or_weeks(
        stack: Stack, admin: Client, member: Client, other: Client, scoped: dict,
        unit: str, days_per_step: int) -> None:
    streak = badge(admin, {"type": "streak", "event_types": ["post.created"], "length": 3,
                           "unit": unit,
                           "condition": f"category_id == {scoped['id']} and post_number > 1"},
                   name="Regular")
    thread = new_thread(admin, scoped)["thread"]
    # Noon, clear of midnight, then a step at a time: the other replies three steps ago and
    # one (a gap), the member two and one.
    stack.advance_to_next(hour=12)
    for repliers in ((other,), (member,), (member, other)):
        for client in repliers:
            # Logged at this step's time before the clock moves on.
            logged(stack, reply(client, thread))
        stack.advance(days=days_per_step)
    # Replying now makes it three in a row for the member, two for the other.
    reply(member, thread)
    reply(other, thread)
    eventually(lambda: earned(member, streak["id"]) == 1)
    eventually(lambda: progress(other, streak["id"]) == {"current": 2, "needed": 3})
    assert earned(other, streak["id"]) == 0


def test_count_badges_with_a_window_ignore_older_activity(
        stack: Stack, admin: Client, member: Client, other: Client, scoped: dict) -> None:
    recent = badge(admin, replies_in(scoped, count=2, window_days=7))
    thread = new_thread(other, scoped)["thread"]
    logged(stack, reply(member, thread))
    stack.advance(days=8)
    # Logged, and so checked against the badge (in the same transaction).
    logged(stack, reply(member, thread))
    # Two replies, but one is from before the window: not yet.
    assert progress(member, recent["id"]) == {"current": 1, "needed": 2}
    assert earned(member, recent["id"]) == 0
    reply(member, thread)
    eventually(lambda: earned(member, recent["id"]) == 1)


def test_changing_a_badges_criteria_grants_and_auto_revokes_for_everyone(
        stack: Stack, admin: Client, member: Client, other: Client, scoped: dict,
        category: dict) -> None:
    auto = badge(admin, replies_in(scoped, count=1), auto_revoke=True)
    kept = badge(admin, replies_in(scoped, count=1))
    reply(member, new_thread(admin, scoped)["thread"])
    eventually(lambda: earned(member, auto["id"]) == 1 and earned(member, kept["id"]) == 1)
    # Logged before the change, so only the backfill can grant for it afterwards.
    logged(stack, reply(other, new_thread(admin, category)["thread"]))
    assert earned(other, auto["id"]) == 0

    for changed in (auto, kept):
        response = admin.patch(f"/api/gamification/badges/{changed['id']}",
                               {"criteria": replies_in(category, count=1)})
        assert response.status_code == 200, response.text
        assert str(category["id"]) in response.json()["criteria"]["condition"]
    # The other now qualifies for both; the member lost the auto-revoking one only.
    eventually(lambda: earned(other, auto["id"]) == 1 and earned(other, kept["id"]) == 1)
    eventually(lambda: earned(member, auto["id"]) == 0)
    # The run that granted the other has been through everyone: the member's grant stays.
    eventually(lambda: admin.get(f"/api/gamification/badges/{kept['id']}/backfill").json()
               ["finished"])
    assert earned(member, kept["id"]) == 1


def test_a_revoked_badges_points_are_taken_back_with_the_reason(admin: Client,
                                                              member: Client) -> None:
    paid = badge(admin, {"type": "manual"}, name="Launch helper", points=5)
    granted = admin.post(f"/api/gamification/badges/{paid['id']}/grants",
                         {"member_id": member.member["id"], "reason": "helped at launch"}).json()
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 5)
    revoked = admin.post(f"/api/gamification/badges/{paid['id']}/grants/{granted['id']}/revoke",
                         {"reason": "granted to the wrong member"})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert revoked.json()["reason"] == "helped at launch"
    assert earned(member, paid["id"]) == 0
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 0)
    history = member.get("/api/me/points/history").json()["items"]
    assert [(h["kind"], h["amount"], h["reason"]) for h in history] == [
        ("reversal", -5, "granted to the wrong member"), ("award", 5, "Badge: Launch helper")]
