"""Flags, the review queue and its explained scores, claims, actions, auto-hide, the staff
channel, and what flaggers and authors are told: through the API, as members and moderators
use it."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.harness import Client, Server, Stack, eventually

# HEARTH_FLAG_HIDE_THRESHOLD's default; a new member's flag weighs 2, a moderator's 10.
THRESHOLD = 10


def parallel(fns: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(fns)) as pool:
        return list(pool.map(lambda fn: fn(), fns))


def flag(client: Client, post_id: int, reason: str = "spam", kind: str = "post",
         text: str = "") -> Any:
    return client.post("/api/flags", {"target_type": kind, "target_id": post_id,
                                      "reason": reason, "text": text})


def item_of(moderator: Client, kind: str, target_id: int, status: str = "open") -> dict[str, Any]:
    items = moderator.get(f"/api/moderation/items?kind={kind}&status={status}&sort=age"
                          "&limit=100").json()["items"]
    found = [i for i in items if i["target_id"] == target_id]
    assert len(found) == 1, items
    return found[0]  # type: ignore[no-any-return]


def act(client: Client, item_id: int, action: str, reason: str = "") -> Any:
    return client.post(f"/api/moderation/items/{item_id}/actions",
                       {"action": action, "reason": reason})


def hidden_reason(stack: Stack, post_id: int) -> str | None:
    rows = stack.sql(f"SELECT hidden_reason FROM forum_post WHERE id = {int(post_id)}")
    # psql prints NULL as an empty string.
    return (rows[0][0] or None) if rows else None


def events_about(stack: Stack, event_type: str, post_id: int) -> list[dict[str, Any]]:
    rows = stack.sql(f"SELECT payload FROM outbox_event WHERE type = '{event_type}'")
    payloads = [json.loads(r[0]) for r in rows]
    return [p for p in payloads if p.get("target_id") == post_id]


def notifications(client: Client, kind: str) -> list[dict[str, Any]]:
    items = client.get("/api/notifications?limit=100").json()["items"]
    return [n for n in items if n["kind"] == kind]


@pytest.fixture
def reply(other: Client, thread: dict) -> dict[str, Any]:
    response = other.post(f"/api/threads/{thread['thread']['id']}/posts",
                          {"body": "buy cheap watches at example.test"})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_flag_joins_the_queue_with_its_score_explained(
        member: Client, moderator: Client, reply: dict) -> None:
    response = flag(member, reply["id"], "spam")
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["weight"] == 2
    assert made["breakdown"] == [{"label": "flagged by a member", "points": 2}]

    item = item_of(moderator, "post", reply["id"])
    assert item["score"] == 2 and item["threshold"] == THRESHOLD
    assert item["reasons"] == {"spam": 1} and item["flag_count"] == 1
    assert item["label"].startswith("post #2 in 'A thread to talk in'")
    assert "cheap watches" in item["excerpt"]
    assert item["actions"] == ["agree_hide", "agree_delete", "disagree", "ignore", "silence"]

    detail = moderator.get(f"/api/moderation/items/{item['id']}").json()
    handle = member.member["handle"]
    assert detail["score_lines"] == [{"label": f"@{handle}: flagged by a member", "points": 2}]
    assert detail["flags"][0]["flagger"]["handle"] == handle
    assert detail["target_hidden"] is False and detail["target_deleted"] is False


def test_flagging_refuses_what_it_must(member: Client, other: Client, admin: Client,
                                       reply: dict, thread: dict) -> None:
    assert flag(member, reply["id"]).status_code == 201
    second = flag(member, reply["id"], "harassment")
    assert second.status_code == 409 and "already" in second.json()["error"]["message"]
    own = flag(other, reply["id"])
    assert own.status_code == 403 and "your own" in own.json()["error"]["message"]
    assert flag(member, 10**15).status_code == 404
    other_text = flag(other, thread["post"]["id"], "other")
    assert other_text.status_code == 422 and "needs a text" in other_text.json()["error"]["message"]
    assert flag(other, thread["post"]["id"], "other", text="rude").status_code == 201
    unknown = flag(member, reply["id"], kind="badge")
    assert unknown.status_code == 422 and "post" in unknown.json()["error"]["message"]
    assert flag(member, reply["id"], reason="boring").status_code == 400 or \
        flag(member, reply["id"], reason="boring").status_code == 422
    deleted = other.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "gone"}).json()
    assert other.delete(f"/api/posts/{deleted['id']}").status_code == 204
    assert flag(member, deleted["id"]).status_code == 404
    # The queue is for staff, in person.
    assert member.get("/api/moderation/items").status_code == 403
    assert admin.get("/api/moderation/items").status_code == 200


def test_many_flags_crossing_the_threshold_together_hide_once(
        server: Server, stack: Stack, admin: Client, other: Client, reply: dict) -> None:
    flaggers = [server.client().register() for _ in range(8)]
    statuses = parallel([lambda c=c: flag(c, reply["id"]).status_code for c in flaggers])
    assert statuses == [201] * 8
    assert hidden_reason(stack, reply["id"]) == "flags"
    assert len(events_about(stack, "content.hidden", reply["id"])) == 1
    assert len(events_about(stack, "flag.created", reply["id"])) == 8
    item = item_of(admin, "post", reply["id"])
    assert item["score"] == 16 and item["hidden_by_flags"] is True
    # One staff log entry, by the system.
    log = stack.sql("SELECT actor_label, action FROM staff_log WHERE target_type = 'post' "
                    f"AND target_id = '{reply['id']}'")
    assert log == [("system", "post.hide")]
    # The author is told at once, before any moderator decides.
    told = eventually(lambda: notifications(other, "content_hidden") or None)
    assert "hidden after members flagged it" in told[0]["text"]


def test_two_moderators_acting_at_once_one_wins(
        server: Server, admin: Client, member: Client, reply: dict) -> None:
    assert flag(member, reply["id"]).status_code == 201
    item = item_of(admin, "post", reply["id"])
    mods = []
    for _ in range(2):
        mod = server.client().register()
        assert admin.put(f"/api/members/{mod.member['id']}/role",
                         {"role": "moderator"}).status_code == 200
        mods.append(mod)
    responses = parallel([lambda m=m, a=a: act(m, item["id"], a) for m, a in
                          zip(mods, ["agree_hide", "disagree"], strict=True)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert "decided already" in loser.json()["error"]["message"]
    # And acting again on the decided item changes nothing.
    again = act(mods[0], item["id"], "ignore")
    assert again.status_code == 409


def test_a_claim_keeps_other_moderators_off(
        server: Server, admin: Client, moderator: Client, member: Client, reply: dict) -> None:
    assert flag(member, reply["id"]).status_code == 201
    item = item_of(moderator, "post", reply["id"])
    claimed = moderator.post(f"/api/moderation/items/{item['id']}/claim")
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["claimed_by"]["handle"] == moderator.member["handle"]
    blocked = act(admin, item["id"], "ignore")
    assert blocked.status_code == 409
    assert f"@{moderator.member['handle']} has claimed" in blocked.json()["error"]["message"]
    assert admin.post(f"/api/moderation/items/{item['id']}/claim").status_code == 409
    done = act(moderator, item["id"], "ignore", "fine as it is")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "ignored" and done.json()["claimed_by"] is None
    assert done.json()["actions"] == []


def test_disagreeing_restores_and_lowers_accuracy(
        server: Server, stack: Stack, moderator: Client, other: Client, reply: dict) -> None:
    flaggers = []
    # Each flags as soon as registered: a connection left idle past the server's keep-alive
    # (5 s) while others register could be closed just as it is reused.
    for _ in range(5):
        flaggers.append(server.client().register())
        assert flag(flaggers[-1], reply["id"], "inappropriate").status_code == 201
    assert hidden_reason(stack, reply["id"]) == "flags"
    item = item_of(moderator, "post", reply["id"])
    response = act(moderator, item["id"], "disagree", "a fair product question")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disagreed"
    assert hidden_reason(stack, reply["id"]) is None
    ids = ", ".join(str(c.member["id"]) for c in flaggers)
    records = stack.sql(f"SELECT disagreed FROM moderation_flagger_record WHERE member IN ({ids})")
    assert sorted(int(r[0]) for r in records) == [1] * 5
    assert len(events_about(stack, "flag.disagreed", reply["id"])) == 5
    told = eventually(lambda: notifications(flaggers[0], "flag_outcome") or None)
    assert told[0]["text"].startswith("Moderators disagreed with your flag on post #2")
    assert told[0]["text"].endswith(": a fair product question")
    author = eventually(lambda: notifications(other, "moderation_outcome") or None)
    assert "shown again" in author[0]["text"]


def test_accuracy_weighs_in_once_flags_are_decided(
        server: Server, stack: Stack, admin: Client, category: dict) -> None:
    flagger = server.client().register()
    writer = server.client().register()
    for _ in range(5):
        thread = writer.post(f"/api/categories/{category['id']}/threads",
                             {"title": "Spam thread", "body": "spam"}).json()
        assert flag(flagger, thread["post"]["id"]).status_code == 201
        item = item_of(admin, "post", thread["post"]["id"])
        assert act(admin, item["id"], "agree_delete").status_code == 200
    thread = writer.post(f"/api/categories/{category['id']}/threads",
                         {"title": "More spam", "body": "spam"}).json()
    made = flag(flagger, thread["post"]["id"]).json()
    assert made["breakdown"][-1] == {
        "label": "accuracy: 100% of 5 decided flags agreed with", "points": 3}
    assert made["weight"] == 5
    assert len(events_about(stack, "flag.agreed", thread["post"]["id"])) == 0


def test_agree_and_delete_removes_the_post_and_tells_everyone(
        stack: Stack, moderator: Client, member: Client, other: Client, anon: Client,
        reply: dict) -> None:
    assert flag(member, reply["id"], "spam").status_code == 201
    item = item_of(moderator, "post", reply["id"])
    response = act(moderator, item["id"], "agree_delete", "advertising")
    assert response.status_code == 200, response.text
    assert anon.get(f"/api/posts/{reply['id']}").status_code == 404
    agreed = events_about(stack, "flag.agreed", reply["id"])
    assert [e["flagger_id"] for e in agreed] == [member.member["id"]]
    told = eventually(lambda: notifications(member, "flag_outcome") or None)
    assert told[0]["text"].startswith("Moderators agreed with your flag")
    author = eventually(lambda: notifications(other, "moderation_outcome") or None)
    assert "was deleted by a moderator: advertising" in author[0]["text"]
    log = stack.sql("SELECT action, reason FROM staff_log WHERE target_type = 'post' AND "
                    f"target_id = '{reply['id']}'")
    assert log == [("review.agree_delete", "advertising")]


def test_bulk_actions_report_each_item(
        server: Server, moderator: Client, member: Client, category: dict) -> None:
    writer = server.client().register()
    posts = [writer.post(f"/api/categories/{category['id']}/threads",
                         {"title": f"Thread {n}", "body": "meh"}).json()["post"]["id"]
             for n in range(3)]
    for post_id in posts:
        assert flag(member, post_id).status_code == 201
    items = [item_of(moderator, "post", post_id)["id"] for post_id in posts]
    assert act(moderator, items[2], "ignore").status_code == 200
    response = moderator.post("/api/moderation/items/bulk",
                              {"item_ids": items, "action": "ignore", "reason": "noise"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [200, 200, 409]
    assert [r["item"]["status"] for r in results[:2]] == ["ignored", "ignored"]


def test_brand_staff_review_only_their_brand(
        server: Server, admin: Client, member: Client, moderator: Client) -> None:
    slug = "b-" + uuid.uuid4().hex[:8]
    brand = admin.post("/api/brands", {"name": "Brand " + slug, "slug": slug}).json()
    ours = admin.post("/api/categories", {"name": "Ours " + slug, "slug": "o" + slug,
                                          "brand_id": brand["id"]}).json()
    theirs = admin.post("/api/categories", {"name": "Theirs " + slug,
                                            "slug": "t" + slug}).json()
    staff = server.client().register()
    assert admin.put(f"/api/members/{staff.member['id']}/role",
                     {"role": "brand_staff", "brand_id": brand["id"]}).status_code == 200
    writer = server.client().register()
    in_ours = writer.post(f"/api/categories/{ours['id']}/threads",
                          {"title": "In our brand", "body": "x"}).json()["post"]["id"]
    in_theirs = writer.post(f"/api/categories/{theirs['id']}/threads",
                            {"title": "Elsewhere", "body": "x"}).json()["post"]["id"]
    for post_id in (in_ours, in_theirs):
        assert flag(member, post_id).status_code == 201
    listed = staff.get("/api/moderation/items?limit=100").json()["items"]
    assert {i["target_id"] for i in listed} == {in_ours}
    assert staff.get("/api/moderation/items?brand_id=999999").status_code == 403
    foreign = item_of(moderator, "post", in_theirs)
    assert staff.get(f"/api/moderation/items/{foreign['id']}").status_code == 403
    assert act(staff, foreign["id"], "ignore").status_code == 403
    own = item_of(moderator, "post", in_ours)
    assert act(staff, own["id"], "agree_hide").status_code == 200


def test_the_staff_channel_shows_new_items_live(
        member: Client, moderator: Client, reply: dict) -> None:
    refused = member.websocket()
    try:
        assert refused.subscribe("moderation:all")["type"] == "error"
    finally:
        refused.close()
    socket = moderator.websocket()
    try:
        assert socket.subscribe("moderation:all")["type"] == "subscribed"
        assert flag(member, reply["id"]).status_code == 201
        frame = socket.wait_for(lambda f: f.get("type") == "message"
                                and f.get("event") == "review.item"
                                and f["data"]["target_id"] == reply["id"])
        assert frame["data"]["score"] == 2 and frame["data"]["status"] == "open"
    finally:
        socket.close()


def test_a_hidden_profile_shows_no_name_or_bio(
        server: Server, moderator: Client, member: Client) -> None:
    flagged = server.client().register()
    assert flagged.patch("/api/me", {"display_name": "Rude Name", "bio": "rude bio"}
                         ).status_code == 200
    assert flag(member, flagged.member["id"], "inappropriate", kind="profile").status_code == 201
    assert flag(flagged, flagged.member["id"], kind="profile").status_code == 403
    item = item_of(moderator, "profile", flagged.member["id"])
    assert act(moderator, item["id"], "agree_hide").status_code == 200
    profile = member.get(f"/api/profiles/{flagged.member['handle']}").json()
    assert profile["hidden"] is True and profile["bio"] == ""
    assert profile["display_name"] == flagged.member["handle"]


def test_held_posts_wait_for_approval(
        stack: Stack, moderator: Client, other: Client, reply: dict) -> None:
    """A gate holds a post (content.held): its item offers approve and reject."""
    stack.sql(f"UPDATE forum_post SET hidden_at = CURRENT_TIMESTAMP, hidden_reason = 'held' "
              f"WHERE id = {int(reply['id'])}")
    payload = json.dumps({"type": "content.held", "target_type": "post",
                          "target_id": reply["id"], "author_id": other.member["id"],
                          "reason": "first post of a new account"})
    stack.sql("INSERT INTO outbox_event (type, payload, created_at, attempts) VALUES "
              f"('content.held', '{payload}', CURRENT_TIMESTAMP, 0)")
    item = eventually(lambda: next((i for i in moderator.get(
        "/api/moderation/items?kind=post&sort=age&limit=100").json()["items"]
        if i["target_id"] == reply["id"]), None))
    assert item["source"] == "held" and item["actions"] == ["approve", "reject"]
    assert item["held_reason"] == "first post of a new account"
    assert act(moderator, item["id"], "ignore").status_code == 422
    approved = act(moderator, item["id"], "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert hidden_reason(stack, reply["id"]) is None


def test_a_system_flag_joins_the_queue_with_its_reason(
        stack: Stack, moderator: Client, other: Client, reply: dict) -> None:
    """A watched word set to "flag" (content.auto_flagged) adds the system's flag."""
    payload = json.dumps({"type": "content.auto_flagged", "target_type": "post",
                          "target_id": reply["id"], "author_id": other.member["id"],
                          "reason": "watched word cheap"})
    stack.sql("INSERT INTO outbox_event (type, payload, created_at, attempts) VALUES "
              f"('content.auto_flagged', '{payload}', CURRENT_TIMESTAMP, 0)")
    item = eventually(lambda: next((i for i in moderator.get(
        "/api/moderation/items?kind=post&sort=age&limit=100").json()["items"]
        if i["target_id"] == reply["id"]), None))
    assert item["score"] == 5 and item["reasons"] == {"system": 1}
    detail = moderator.get(f"/api/moderation/items/{item['id']}").json()
    assert detail["flags"][0]["flagger"] is None
    assert detail["score_lines"] == [
        {"label": "system: flagged by the system: watched word cheap", "points": 5}]


def test_a_flagged_thread_is_hidden_through_its_first_post(
        stack: Stack, admin: Client, member: Client, anon: Client, thread: dict,
        category: dict) -> None:
    flagger = admin  # a staff flag weighs the threshold by itself
    response = flag(flagger, thread["thread"]["id"], "off_topic", kind="thread")
    assert response.status_code == 201, response.text
    assert response.json()["weight"] == THRESHOLD
    assert hidden_reason(stack, thread["post"]["id"]) == "flags"
    assert anon.get(f"/api/threads/{thread['thread']['id']}").status_code == 404
    listed = anon.get(f"/api/categories/{category['id']}/threads").json()["items"]
    assert thread["thread"]["id"] not in [t["id"] for t in listed]
    # Its author still reads it, and is told why.
    assert member.get(f"/api/threads/{thread['thread']['id']}").status_code == 200
    item = item_of(admin, "thread", thread["thread"]["id"])
    assert act(admin, item["id"], "disagree").status_code == 200
    assert anon.get(f"/api/threads/{thread['thread']['id']}").status_code == 200


def test_silencing_the_author_from_an_item(
        server: Server, admin: Client, moderator: Client, member: Client, other: Client,
        reply: dict, thread: dict) -> None:
    assert flag(member, reply["id"], "harassment").status_code == 201
    item = item_of(moderator, "post", reply["id"])
    # Brand staff may not sanction: the whole act is refused, and the item stays open.
    slug = "b-" + uuid.uuid4().hex[:8]
    brand = admin.post("/api/brands", {"name": "Brand " + slug, "slug": slug}).json()
    staff = server.client().register()
    assert admin.put(f"/api/members/{staff.member['id']}/role",
                     {"role": "brand_staff", "brand_id": brand["id"]}).status_code == 200
    assert act(staff, item["id"], "silence", "rude").status_code == 403
    response = act(moderator, item["id"], "silence", "rude to other members")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "agreed"
    refused = other.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "still here"})
    assert refused.status_code == 403, refused.text
    author = eventually(lambda: notifications(other, "moderation_outcome") or None)
    assert "you were silenced by a moderator: rude to other members" in author[0]["text"]


def test_brand_staff_flag_another_brands_content_as_members(
        server: Server, admin: Client, moderator: Client, stack: Stack, reply: dict) -> None:
    slug = "s-" + uuid.uuid4().hex[:8]
    brand = admin.post("/api/brands", {"name": "Brand " + slug, "slug": slug}).json()
    staff = server.client().register()
    assert admin.put(f"/api/members/{staff.member['id']}/role",
                     {"role": "brand_staff", "brand_id": brand["id"]}).status_code == 200
    made = flag(staff, reply["id"])
    assert made.status_code == 201, made.text
    # Not the staff weight of 10: that alone would hide a post of a category they don't run.
    assert made.json()["breakdown"][0] == {"label": "flagged by a member", "points": 2}
    assert hidden_reason(stack, reply["id"]) is None


def test_flags_alone_do_not_hide_again_what_a_moderator_restored(
        server: Server, moderator: Client, stack: Stack, reply: dict) -> None:
    flaggers = [server.client().register() for _ in range(THRESHOLD // 2)]
    for flagger in flaggers:
        assert flag(flagger, reply["id"]).status_code == 201
    assert hidden_reason(stack, reply["id"]) == "flags"
    item = item_of(moderator, "post", reply["id"])
    assert act(moderator, item["id"], "disagree", "fair criticism").status_code == 200
    assert hidden_reason(stack, reply["id"]) is None
    for flagger in flaggers:
        assert flag(flagger, reply["id"]).status_code == 201
    again = item_of(moderator, "post", reply["id"])
    assert again["score"] >= THRESHOLD and again["id"] != item["id"]
    assert hidden_reason(stack, reply["id"]) is None


def test_a_held_post_is_not_edited_before_approval_and_replies_to_a_hidden_thread_wait(
        stack: Stack, member: Client, other: Client, thread: dict, reply: dict) -> None:
    stack.sql(f"UPDATE forum_post SET hidden_at = CURRENT_TIMESTAMP, hidden_reason = 'held' "
              f"WHERE id = {int(reply['id'])}")
    edited = other.patch(f"/api/posts/{reply['id']}", {"body": "now with a spam link"})
    assert edited.status_code == 409 and "approval" in edited.json()["error"]["message"]
    first = thread["post"]["id"]
    stack.sql(f"UPDATE forum_post SET hidden_at = CURRENT_TIMESTAMP, hidden_reason = 'held' "
              f"WHERE id = {int(first)}")
    stack.sql(f"UPDATE forum_thread SET hidden_at = CURRENT_TIMESTAMP, version = version + 1 "
              f"WHERE id = {int(thread['thread']['id'])}")
    # Its title is out of view: a reply (and the mentions it would send) waits as well.
    held = member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "@anyone"})
    assert held.status_code == 201, held.text
    assert held.json()["hidden"] == "held"


def test_a_hidden_profile_shows_only_the_handle_on_posts(
        server: Server, moderator: Client, member: Client, category: dict) -> None:
    rude = server.client().register()
    assert rude.patch("/api/me", {"display_name": "Rude Name"}).status_code == 200
    thread_id = rude.post(f"/api/categories/{category['id']}/threads",
                          {"title": "Hello all", "body": "hi"}).json()["thread"]["id"]
    assert flag(member, rude.member["id"], "inappropriate", kind="profile").status_code == 201
    item = item_of(moderator, "profile", rude.member["id"])
    assert act(moderator, item["id"], "agree_hide").status_code == 200
    page = member.get(f"/api/threads/{thread_id}").json()
    assert page["items"][0]["author"]["display_name"] == rude.member["handle"]


def test_cursors_out_of_range_are_refused(moderator: Client) -> None:
    import base64
    for sort, cursor in (("score", f"{2**40}:1"), ("age", str(2**63))):
        encoded = base64.urlsafe_b64encode(cursor.encode()).decode()
        refused = moderator.get(f"/api/moderation/items?sort={sort}&cursor={encoded}")
        assert refused.status_code == 422, refused.text
