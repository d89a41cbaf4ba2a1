"""Seasonal challenges: brand staff run them, the scheduler moves them, events advance
ordered tasks, completion pays once from the brand's budget and grants a badge."""

import datetime as dt
import uuid

import pytest

from tests.gamification.boards import stored_board, wipe_boards
from tests.harness import Client, Server, Stack, eventually

# The replay test hands every event to the challenges again, and the scheduler's test moves
# the clock: a stack of their own keeps both away from the other modules.
pytestmark = pytest.mark.own_stack


def at(brand: dict, delta_seconds: float) -> str:
    """The stack's now plus delta_seconds, as the API takes times."""
    return (brand["stack"].now() + dt.timedelta(seconds=delta_seconds)).isoformat()


@pytest.fixture
def brand(stack: Stack, admin: Client, server: Server) -> dict:
    made = admin.post("/api/brands", {"name": "Seasonal", "slug": "s-" + uuid.uuid4().hex[:6]}).json()
    staff = server.client().register()
    admin.put(f"/api/members/{staff.member['id']}/role", {"role": "brand_staff", "brand_id": made["id"]})
    admin.post(f"/api/gamification/brands/{made['id']}/budget",
               {"amount": 1000, "reason": "season budget", "idempotency_key": "s-" + uuid.uuid4().hex})
    slug = "ch-" + uuid.uuid4().hex[:6]
    category = admin.post("/api/categories", {"name": "Season " + slug, "slug": slug}).json()
    return {"brand": made, "staff": staff, "category": category, "stack": stack}


def challenge(staff: Client, brand: dict, **fields) -> dict:
    category_id = brand["category"]["id"]
    body = {
        "brand_id": brand["brand"]["id"], "title": "Winter warm-up", "time_zone": "Europe/Paris",
        "starts_at": at(brand, -60), "ends_at": at(brand, 3600), "ordered": True, "reward_points": 25,
        "tasks": [
            {"name": "Start a thread", "event_types": ["thread.created"], "target": 1,
             "condition": f"category_id == {category_id}"},
            {"name": "Reply twice", "event_types": ["post.created"], "target": 2,
             "condition": f"category_id == {category_id} and post_number > 1"},
        ],
        **fields,
    }
    response = staff.post("/api/challenges", body)
    assert response.status_code == 201, response.text
    return response.json()


def progress(client: Client, challenge_id: int) -> list[int]:
    return [t["count"] for t in client.get(f"/api/challenges/{challenge_id}/me").json()["tasks"]]


def test_a_member_completes_ordered_tasks_once_and_is_rewarded(
        stack: Stack, admin: Client, member: Client, other: Client, brand: dict) -> None:
    prize = admin.post("/api/gamification/badges", {
        "slug": "winter-" + uuid.uuid4().hex[:6], "name": "Winter champion",
        "criteria": {"type": "manual"}}).json()
    made = challenge(brand["staff"], brand, reward_badge_id=prize["id"])
    assert made["status"] == "draft"
    assert member.get(f"/api/challenges/{made['id']}").status_code == 404
    finisher = admin.post("/api/gamification/badges", {
        "slug": "finisher-" + uuid.uuid4().hex[:6], "name": "Winter finisher",
        "criteria": {"type": "challenge", "challenge_id": made["id"]}}).json()
    published = brand["staff"].post(f"/api/challenges/{made['id']}/publish")
    assert published.status_code == 200 and published.json()["status"] == "active"
    assert member.post(f"/api/challenges/{made['id']}/join").json()["joined"] is True

    category = brand["category"]
    other_thread = other.post(f"/api/categories/{category['id']}/threads",
                              {"title": "Someone else's", "body": "x"}).json()["thread"]
    member.post(f"/api/threads/{other_thread['id']}/posts", {"body": "too early"})
    socket = member.websocket()
    try:
        socket.subscribe(f"challenge:{made['id']}")
        member.post(f"/api/categories/{category['id']}/threads", {"title": "My first", "body": "x"})
        eventually(lambda: progress(member, made["id"]) == [1, 0])
        socket.wait_for(lambda f: f.get("event") == "challenge.progress"
                        and f["data"]["member_id"] == member.member["id"]
                        and [t["count"] for t in f["data"]["tasks"]] == [1, 0])
    finally:
        socket.close()
    for i in range(3):
        member.post(f"/api/threads/{other_thread['id']}/posts", {"body": f"reply {i}"})
    eventually(lambda: member.get(f"/api/challenges/{made['id']}/me").json()["completed_at"] is not None)
    assert progress(member, made["id"]) == [1, 2]
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 25)
    assert brand["staff"].get(f"/api/gamification/brands/{brand['brand']['id']}/budget"
                              ).json()["balance"] == 975
    eventually(lambda: finisher["id"] in [b["badge"]["id"] for b in
                                          member.get("/api/me/badges").json()["earned"]])
    mine = member.get("/api/me/badges").json()["earned"]
    assert "Winter champion" in [b["badge"]["name"] for b in mine]
    board = other.get(f"/api/challenges/{made['id']}/leaderboard").json()
    assert board[0] == {"rank": 1, "member_id": member.member["id"], "handle": member.member["handle"],
                        "score": 3, "completed": True}
    # The board lives in the leaderboard store (Redis when scaled) and survives losing it:
    # read from the entries until the store is rebuilt.
    wipe_boards(stack)
    assert other.get(f"/api/challenges/{made['id']}/leaderboard").json() == board
    eventually(lambda: stored_board(stack, f"challenge:{made['id']}") == [
        (row["member_id"], row["score"]) for row in board])
    assert "rebuilt" in stack.run("leaderboards-rebuild").stdout
    assert other.get(f"/api/challenges/{made['id']}/leaderboard").json() == board


def test_the_scheduler_starts_and_ends_challenges(stack: Stack, member: Client,
                                                  brand: dict) -> None:
    made = challenge(brand["staff"], brand, starts_at=at(brand, 3600), ends_at=at(brand, 7200))
    assert brand["staff"].post(f"/api/challenges/{made['id']}/publish").json()["status"] == "scheduled"
    assert member.post(f"/api/challenges/{made['id']}/join").status_code == 200
    stack.advance(hours=1)
    eventually(lambda: member.get(f"/api/challenges/{made['id']}").json()["status"] == "active")
    stack.advance(hours=1)
    eventually(lambda: member.get(f"/api/challenges/{made['id']}").json()["status"] == "ended")
    late = member.post(f"/api/challenges/{made['id']}/join")
    assert late.status_code == 409 and "ended" in late.json()["error"]["message"]


def definition(made: dict, brand: dict, **fields) -> dict:
    body = {k: made[k] for k in ("title", "description", "starts_at", "ends_at", "time_zone",
                                 "eligibility", "eligibility_value", "auto_enroll", "ordered",
                                 "reward_points", "reward_badge_id")}
    body["tasks"] = [{k: t[k] for k in ("name", "event_types", "target", "condition")}
                     for t in made["tasks"]]
    return {**body, "brand_id": brand["brand"]["id"], **fields}


def test_staff_edit_until_it_starts_then_cancel_it(admin: Client, member: Client, brand: dict,
                                                   server: Server) -> None:
    staff = brand["staff"]
    draft = challenge(staff, brand, starts_at=at(brand, 3600),
                      ends_at=at(brand, 7200))
    one_task = [{"name": "Say hello", "event_types": ["post.created"], "target": 1}]
    edited = staff.put(f"/api/challenges/{draft['id']}",
                       definition(draft, brand, title="Spring warm-up", tasks=one_task))
    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Spring warm-up"
    assert [t["name"] for t in edited.json()["tasks"]] == ["Say hello"]
    rival_brand = admin.post("/api/brands", {"name": "Other", "slug": "o-" + uuid.uuid4().hex[:6]}).json()
    rival = server.client().register()
    admin.put(f"/api/members/{rival.member['id']}/role",
              {"role": "brand_staff", "brand_id": rival_brand["id"]})
    assert rival.put(f"/api/challenges/{draft['id']}", definition(draft, brand)).status_code == 403
    moved = staff.put(f"/api/challenges/{draft['id']}",
                      definition(draft, brand, brand_id=rival_brand["id"]))
    assert moved.status_code == 422 and "brand_id" in moved.json()["error"]["message"]

    # Scheduled: still editable, and an edit that makes it due starts it.
    staff.post(f"/api/challenges/{draft['id']}/publish")
    started = staff.put(f"/api/challenges/{draft['id']}",
                        definition(edited.json(), brand, starts_at=at(brand, -5)))
    assert started.json()["status"] == "active"
    assert member.post(f"/api/challenges/{draft['id']}/join").status_code == 200
    late = staff.put(f"/api/challenges/{draft['id']}", definition(edited.json(), brand, title="Too late"))
    assert late.status_code == 409 and "active" in late.json()["error"]["message"]

    socket = member.websocket()
    try:
        socket.subscribe(f"challenge:{draft['id']}")
        cancelled = staff.post(f"/api/challenges/{draft['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        socket.wait_for(lambda f: f.get("event") == "challenge.status"
                        and f["data"]["status"] == "cancelled")
    finally:
        socket.close()
    # A cancelled challenge counts nothing more (a running one shows when the reply was
    # handled), and nobody joins it.
    witness = challenge(staff, brand, tasks=one_task)
    staff.post(f"/api/challenges/{witness['id']}/publish")
    member.post(f"/api/challenges/{witness['id']}/join")
    member.post(f"/api/categories/{brand['category']['id']}/threads", {"title": "After", "body": "x"})
    eventually(lambda: progress(member, witness["id"]) == [1])
    assert progress(member, draft["id"]) == [0]
    assert member.post(f"/api/challenges/{draft['id']}/join").status_code == 409
    assert staff.post(f"/api/challenges/{draft['id']}/cancel").status_code == 409
    assert staff.delete(f"/api/challenges/{draft['id']}").status_code == 409

    unwanted = challenge(staff, brand)
    assert staff.post(f"/api/challenges/{unwanted['id']}/cancel").status_code == 409
    assert staff.delete(f"/api/challenges/{unwanted['id']}").status_code == 204
    assert staff.get(f"/api/challenges/{unwanted['id']}").status_code == 404


def test_auto_enrolment_and_tier_eligibility(member: Client, brand: dict) -> None:
    auto = challenge(brand["staff"], brand, auto_enroll=True, ordered=False)
    brand["staff"].post(f"/api/challenges/{auto['id']}/publish")
    member.post(f"/api/categories/{brand['category']['id']}/threads", {"title": "Auto in", "body": "x"})
    eventually(lambda: member.get(f"/api/challenges/{auto['id']}/me").json()["joined"])
    gated = challenge(brand["staff"], brand, eligibility="tier", eligibility_value="VIP")
    brand["staff"].post(f"/api/challenges/{gated['id']}/publish")
    refused = member.post(f"/api/challenges/{gated['id']}/join")
    assert refused.status_code == 403 and "VIP" in refused.json()["error"]["message"]


def test_brand_staff_only_touch_their_own_brand(admin: Client, member: Client, brand: dict,
                                                server: Server) -> None:
    rival_brand = admin.post("/api/brands", {"name": "Rival", "slug": "r-" + uuid.uuid4().hex[:6]}).json()
    rival = server.client().register()
    admin.put(f"/api/members/{rival.member['id']}/role",
              {"role": "brand_staff", "brand_id": rival_brand["id"]})
    draft = challenge(brand["staff"], brand)
    assert rival.get(f"/api/challenges/{draft['id']}").status_code == 404
    assert rival.post(f"/api/challenges/{draft['id']}/publish").status_code == 403
    assert member.post("/api/challenges", {**{k: draft[k] for k in ("title", "starts_at", "ends_at")},
                                           "brand_id": brand["brand"]["id"],
                                           "tasks": [{"name": "x", "event_types": ["post.created"],
                                                      "target": 1}]}).status_code == 403


def test_a_brands_staff_cannot_enter_its_challenges(admin: Client, member: Client, brand: dict) -> None:
    """Its budget never pays them: an entry would complete into a reward owed forever."""
    auto = challenge(brand["staff"], brand, auto_enroll=True, ordered=False)
    assert brand["staff"].post(f"/api/challenges/{auto['id']}/publish").status_code == 200
    refused = brand["staff"].post(f"/api/challenges/{auto['id']}/join")
    assert refused.status_code == 403 and "staff" in refused.json()["error"]["message"]
    for who in (brand["staff"], member):
        who.post(f"/api/categories/{brand['category']['id']}/threads", {"title": "Mine", "body": "x"})
    eventually(lambda: member.get(f"/api/challenges/{auto['id']}/me").json()["joined"])
    eventually(lambda: admin.get("/api/admin/outbox").json()["pending"] == 0)
    assert brand["staff"].get(f"/api/challenges/{auto['id']}/me").json()["joined"] is False


@pytest.mark.parametrize(("fields", "message"), [
    ({"starts_at": "2030-01-01T00:01:40+00:00", "ends_at": "2030-01-01T00:00:50+00:00"},
     "after starts_at"),
    ({"time_zone": "Mars/Olympus"}, "not a time zone"),
    ({"tasks": [{"name": "x", "event_types": ["post.teleported"], "target": 1}]}, "cannot count"),
    ({"eligibility": "tier", "eligibility_value": "Emperor"}, "must be a tier"),
])
def test_bad_challenges_are_refused(brand: dict, fields: dict, message: str) -> None:
    body = {"brand_id": brand["brand"]["id"], "title": "Broken", "starts_at": at(brand, 0),
            "ends_at": at(brand, 60), "tasks": [{"name": "x", "event_types": ["post.created"], "target": 1}],
            **fields}
    response = brand["staff"].post("/api/challenges", body)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]


def test_a_reward_the_budget_cannot_cover_is_paid_once_it_is_topped_up(
        stack: Stack, admin: Client, member: Client, server: Server) -> None:
    made = admin.post("/api/brands", {"name": "Thrifty", "slug": "t-" + uuid.uuid4().hex[:6]}).json()
    staff = server.client().register()
    admin.put(f"/api/members/{staff.member['id']}/role", {"role": "brand_staff", "brand_id": made["id"]})
    slug = "th-" + uuid.uuid4().hex[:6]
    category = admin.post("/api/categories", {"name": "Thrift " + slug, "slug": slug}).json()
    brand = {"brand": made, "staff": staff, "category": category, "stack": stack}
    quick = challenge(staff, brand, reward_points=25, tasks=[
        {"name": "Start a thread", "event_types": ["thread.created"], "target": 1,
         "condition": f"category_id == {category['id']}"}])
    staff.post(f"/api/challenges/{quick['id']}/publish")
    member.post(f"/api/challenges/{quick['id']}/join")
    member.post(f"/api/categories/{category['id']}/threads", {"title": "Done already", "body": "x"})

    mine = eventually(lambda: (m := member.get(f"/api/challenges/{quick['id']}/me").json())
                      ["completed_at"] and m)
    assert mine["reward_pending"] is True
    assert member.get("/api/me/points").json()["balance"] == 0
    eventually(lambda: [n["data"]["reward_pending"] for n in member.get(
        "/api/notifications").json()["items"] if n["kind"] == "challenge"] == [True])

    admin.post(f"/api/gamification/brands/{made['id']}/budget",
               {"amount": 100, "reason": "top-up", "idempotency_key": "top-" + uuid.uuid4().hex})
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 25)
    assert member.get(f"/api/challenges/{quick['id']}/me").json()["reward_pending"] is False
    assert staff.get(f"/api/gamification/brands/{made['id']}/budget").json()["balance"] == 75
    eventually(lambda: [n["data"]["reward_points"] for n in member.get(
        "/api/notifications").json()["items"] if n["kind"] == "challenge_reward"] == [25])


def test_removed_posts_stop_counting_and_replays_count_nothing_twice(
        stack: Stack, member: Client, brand: dict) -> None:
    category_id = brand["category"]["id"]
    chatty = challenge(brand["staff"], brand, ordered=False, tasks=[
        {"name": "Reply three times", "event_types": ["post.created"], "target": 3,
         "condition": f"category_id == {category_id} and post_number > 1"}])
    brand["staff"].post(f"/api/challenges/{chatty['id']}/publish")
    member.post(f"/api/challenges/{chatty['id']}/join")
    thread = member.post(f"/api/categories/{category_id}/threads",
                         {"title": "Chatter", "body": "x"}).json()["thread"]
    replies = [member.post(f"/api/threads/{thread['id']}/posts", {"body": f"reply {i}"}).json()
               for i in range(2)]
    eventually(lambda: progress(member, chatty["id"]) == [2])

    assert member.delete(f"/api/posts/{replies[1]['id']}").status_code in (200, 204)
    eventually(lambda: progress(member, chatty["id"]) == [1])
    board = member.get(f"/api/challenges/{chatty['id']}/leaderboard").json()
    assert [(s["member_id"], s["score"]) for s in board] == [(member.member["id"], 1)]

    # Every event handed to the challenges again, its receipts forgotten: the count stays.
    stack.sql("DELETE FROM handler_receipt WHERE handler = 'challenges.progress'")
    stack.sql("UPDATE outbox_event SET dispatched_at = NULL")
    stack.run("relay-sweep")
    assert progress(member, chatty["id"]) == [1]

    for i in range(2):
        member.post(f"/api/threads/{thread['id']}/posts", {"body": f"more {i}"})
    eventually(lambda: member.get(f"/api/challenges/{chatty['id']}/me").json()["completed_at"])
    # Complete is complete: a later deletion does not undo it.
    member.delete(f"/api/posts/{replies[0]['id']}")
    eventually(lambda: stack.sql("SELECT COUNT(*) FROM outbox_event WHERE dispatched_at IS NULL "
                                 "AND type = 'post.deleted'")[0][0] in (0, "0"))
    mine = member.get(f"/api/challenges/{chatty['id']}/me").json()
    assert mine["completed_at"] and [t["count"] for t in mine["tasks"]] == [3]
