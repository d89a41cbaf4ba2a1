"""What the brand staff console reads beyond the plain CRUD: the events conditions can name,
a rule tried on a sample event, a challenge's entries and a badge's grants; each for the
brand's own staff (and admins) only."""

import datetime as dt
import uuid

import pytest

from tests.harness import Client, Server, Stack, eventually


def make_brand(admin: Client, server: Server) -> dict:
    made = admin.post("/api/brands", {"name": "Console", "slug": "k-" + uuid.uuid4().hex[:6]}).json()
    staff = server.client().register()
    changed = admin.put(f"/api/members/{staff.member['id']}/role",
                        {"role": "brand_staff", "brand_id": made["id"]})
    assert changed.status_code == 200, changed.text
    return {"brand": made, "staff": staff}


@pytest.fixture
def ours(admin: Client, server: Server) -> dict:
    return make_brand(admin, server)


@pytest.fixture
def theirs(admin: Client, server: Server) -> dict:
    return make_brand(admin, server)


def rule(brand_id: int | None, **fields) -> dict:
    return {"name": "Replies pay", "event_types": ["post.created"],
            "condition": "post_number > 1", "points": "5 if post_number > 2 else 3",
            "brand_id": brand_id, **fields}


def test_staff_see_the_events_conditions_can_name_with_their_fields(
        ours: dict, member: Client) -> None:
    listed = ours["staff"].get("/api/gamification/event-types")
    assert listed.status_code == 200, listed.text
    by_type = {e["type"]: e for e in listed.json()}
    post = by_type["post.created"]
    fields = {f["name"]: f for f in post["fields"]}
    assert fields["post_number"] == {"name": "post_number", "type": "integer", "required": True}
    assert fields["brand_id"]["type"] == "integer or null" and not fields["brand_id"]["required"]
    assert post["brand_rules"] is True and by_type["member.visited"]["brand_rules"] is False
    assert post["sample"]["event"] == "post.created" and "post_number" in post["sample"]
    assert member.get("/api/gamification/event-types").status_code == 403


def test_trying_a_rule_shows_the_points_and_why_and_writes_nothing(ours: dict,
                                                                   theirs: dict) -> None:
    staff, brand_id = ours["staff"], ours["brand"]["id"]
    before = staff.get("/api/gamification/rules").json()
    event = {"event": "post.created", "post_id": 9, "thread_id": 1, "category_id": 4,
             "author_id": 7, "post_number": 3, "reply_to_author_id": 8, "brand_id": brand_id}
    tried = staff.post("/api/gamification/rules/try", {"rule": rule(brand_id), "event": event})
    assert tried.status_code == 200, tried.text
    out = tried.json()
    assert out["points"] == 5
    checks = {c["check"]: c for c in out["checks"]}
    assert checks["condition `post_number > 1`"] == {
        "check": "condition `post_number > 1`", "passed": True, "detail": "comes to True"}
    assert checks["points `5 if post_number > 2 else 3`"]["detail"] == "comes to 5"
    assert checks["brand"]["passed"] is True

    first_post = {**event, "post_number": 1}
    out = staff.post("/api/gamification/rules/try", {"rule": rule(brand_id), "event": first_post}).json()
    assert out["points"] == 0
    assert [c["check"] for c in out["checks"] if not c["passed"]] == ["condition `post_number > 1`"]

    elsewhere = {**event, "brand_id": theirs["brand"]["id"]}
    out = staff.post("/api/gamification/rules/try", {"rule": rule(brand_id), "event": elsewhere}).json()
    assert out["points"] == 0 and not {c["check"]: c for c in out["checks"]}["brand"]["passed"]

    own_reply = {**event, "reply_to_author_id": 7}
    out = staff.post("/api/gamification/rules/try", {"rule": rule(brand_id), "event": own_reply}).json()
    assert out["points"] == 0 and "own content" in {c["check"]: c for c in out["checks"]}["earner"]["detail"]

    failing = staff.post("/api/gamification/rules/try", {
        "rule": rule(brand_id, points="kind"), "event": event})
    assert failing.status_code == 422 and "points formula" in failing.json()["error"]["message"]
    wrong = staff.post("/api/gamification/rules/try", {
        "rule": rule(brand_id), "event": {**event, "post_number": "three"}})
    assert wrong.status_code == 422 and "sample event" in wrong.json()["error"]["message"]
    unknown = staff.post("/api/gamification/rules/try", {
        "rule": rule(brand_id), "event": {"event": "badge.granted"}})
    assert unknown.status_code == 422
    assert staff.get("/api/gamification/rules").json() == before

    foreign = theirs["staff"].post("/api/gamification/rules/try",
                                   {"rule": rule(brand_id), "event": event})
    assert foreign.status_code == 403


def test_a_challenges_entries_show_each_members_progress_to_its_own_staff_only(
        stack: Stack, admin: Client, ours: dict, theirs: dict, member: Client,
        other: Client) -> None:
    staff = ours["staff"]
    slug = "kc-" + uuid.uuid4().hex[:6]
    category = admin.post("/api/categories", {"name": "Console " + slug, "slug": slug}).json()
    now = stack.now()
    made = staff.post("/api/challenges", {
        "brand_id": ours["brand"]["id"], "title": "Console check",
        "starts_at": (now - dt.timedelta(days=1)).isoformat(),
        "ends_at": (now + dt.timedelta(days=30)).isoformat(),
        "tasks": [
            {"name": "Start a thread", "event_types": ["thread.created"], "target": 1,
             "condition": f"category_id == {category['id']}"},
            {"name": "Reply", "event_types": ["post.created"], "target": 1,
             "condition": f"category_id == {category['id']} and post_number > 1"},
        ]})
    assert made.status_code == 201, made.text
    challenge_id = made.json()["id"]
    path = f"/api/challenges/{challenge_id}/entries"
    assert staff.get(path).json() == {"entered": 0, "completed": 0, "items": [], "next_cursor": None}
    assert staff.post(f"/api/challenges/{challenge_id}/publish").json()["status"] == "active"
    member.post(f"/api/challenges/{challenge_id}/join")
    other.post(f"/api/challenges/{challenge_id}/join")
    member.post(f"/api/categories/{category['id']}/threads", {"title": "Mine here", "body": "x"})

    def counts() -> dict[str, list[int]]:
        return {e["handle"]: [t["count"] for t in e["tasks"]] for e in staff.get(path).json()["items"]}

    eventually(lambda: counts() == {member.member["handle"]: [1, 0], other.member["handle"]: [0, 0]})
    page = staff.get(path, params={"limit": 1}).json()
    assert page["entered"] == 2 and page["completed"] == 0 and len(page["items"]) == 1
    assert page["items"][0]["handle"] == other.member["handle"]
    rest = staff.get(path, params={"limit": 1, "before": page["next_cursor"]}).json()
    assert [e["handle"] for e in rest["items"]] == [member.member["handle"]]
    assert rest["items"][0]["tasks"][0] == {"task_id": made.json()["tasks"][0]["id"],
                                            "name": "Start a thread", "count": 1, "target": 1,
                                            "done": True}
    assert admin.get(path).status_code == 200
    assert theirs["staff"].get(path).status_code == 403
    assert member.get(path).status_code == 403


def test_brand_staff_grant_list_and_revoke_their_brands_badge_grants(
        admin: Client, ours: dict, theirs: dict, member: Client, other: Client) -> None:
    badge = admin.post("/api/gamification/badges", {
        "slug": "thanks-" + uuid.uuid4().hex[:6], "name": "Brand thanks",
        "criteria": {"type": "manual"}}).json()
    grants = f"/api/gamification/badges/{badge['id']}/grants"
    ours_grant = ours["staff"].post(grants, {"member_id": member.member["id"], "reason": "great help"})
    assert ours_grant.status_code == 201, ours_grant.text
    theirs_grant = theirs["staff"].post(grants, {"member_id": other.member["id"], "reason": "kind words"})
    assert theirs_grant.status_code == 201, theirs_grant.text

    listed = ours["staff"].get(grants).json()
    assert [(g["handle"], g["reason"]) for g in listed["items"]] == [(member.member["handle"], "great help")]
    assert {g["handle"] for g in admin.get(grants).json()["items"]} == {
        member.member["handle"], other.member["handle"]}
    assert member.get(grants).status_code == 403

    foreign = ours["staff"].post(f"{grants}/{theirs_grant.json()['id']}/revoke", {"reason": "not ours"})
    assert foreign.status_code == 403
    revoked = ours["staff"].post(f"{grants}/{ours_grant.json()['id']}/revoke", {"reason": "wrong person"})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_reason"] == "wrong person"
    assert revoked.json()["revoked_by"] == ours["staff"].member["id"]
    assert ours["staff"].get(grants).json()["items"][0]["revoked_at"] is not None
    eventually(lambda: badge["id"] not in [b["badge"]["id"] for b in
                                           member.get("/api/me/badges").json()["earned"]])
