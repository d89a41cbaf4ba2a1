"""Badges: declarative criteria, grants with notifications, backfill, auto-revoke, manual."""

import uuid

import pytest

from tests.harness import Client, Server, eventually


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
        note = socket.wait_for(lambda f: f.get("event") == "notification" and f["data"]["kind"] == "badge")
        assert note["data"]["data"]["name"] == "Conversationalist"
    finally:
        socket.close()
    assert earned(member, chatty["id"]) == 1
    profile = other.get(f"/api/members/{member.member['id']}/badges").json()
    assert [(b["badge"]["name"], b["badge"]["level"]) for b in profile] == [("Conversationalist", "silver")]


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
