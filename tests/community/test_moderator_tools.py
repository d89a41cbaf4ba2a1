"""Moderator tools on forum content and who may use them where: moderators and admins in
every category, brand staff in their own brand's categories only, members nowhere. Edits of
someone else's post need a reason, which the revision history shows and the author is told;
each moderator's act is in the staff log."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.community.support import new_thread, reply, told
from tests.harness import Client, Server, Stack


def _brand(admin: Client) -> int:
    made = admin.post("/api/brands", {"name": "Scope", "slug": "s-" + uuid.uuid4().hex[:6]})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _category(admin: Client, brand_id: int | None) -> dict[str, Any]:
    slug = "m-" + uuid.uuid4().hex[:8]
    made = admin.post("/api/categories", {"name": "Mod " + slug, "slug": slug, "brand_id": brand_id})
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def _as(server: Server, admin: Client, role: str, brand_id: int | None = None) -> Client:
    client = server.client().register()
    body: dict[str, Any] = {"role": role}
    if brand_id is not None:
        body["brand_id"] = brand_id
    changed = admin.put(f"/api/members/{client.member['id']}/role", body)
    assert changed.status_code == 200, changed.text
    return client


@pytest.fixture(scope="module")
def world(server: Server, admin: Client) -> dict[str, Any]:
    ours, theirs = _brand(admin), _brand(admin)
    return {
        "ours": _category(admin, ours), "ours_too": _category(admin, ours),
        "theirs": _category(admin, theirs), "brandless": _category(admin, None),
        "author": server.client().register(),
        "actors": {
            "moderator": _as(server, admin, "moderator"), "admin": admin,
            "brand_staff": _as(server, admin, "brand_staff", ours),
            "other_brand_staff": _as(server, admin, "brand_staff", theirs),
            "member": server.client().register(),
        },
    }


# Who moderates a category of brand "ours".
SCOPE = [("moderator", True), ("admin", True), ("brand_staff", True),
         ("other_brand_staff", False), ("member", False)]


def _id(value: Any) -> int | None:
    """An id column as read by stack.sql (text on PostgreSQL, "" for NULL)."""
    return None if value in (None, "") else int(value)


def _log(stack: Stack, target_type: str, target_id: int) -> list[dict[str, Any]]:
    # No test text holds "|", which separates PostgreSQL's columns in stack.sql.
    rows = stack.sql(
        "SELECT action, actor_id, reason, brand_id, before, after, target_label FROM staff_log "
        f"WHERE target_type = '{target_type}' AND target_id = '{int(target_id)}' ORDER BY id")
    return [{"action": r[0], "actor_id": _id(r[1]), "reason": r[2], "brand_id": _id(r[3]),
             "before": json.loads(r[4]) if r[4] else None,
             "after": json.loads(r[5]) if r[5] else None, "label": r[6]} for r in rows]


@pytest.mark.parametrize(("role", "allowed"), SCOPE)
def test_each_tool_is_for_whoever_moderates_the_categorys_brand(
        world: dict[str, Any], stack: Stack, role: str, allowed: bool) -> None:
    author: Client = world["author"]
    actor: Client = world["actors"][role]
    created = new_thread(author, world["ours"]["id"], title=f"Scope for {role}")
    thread_id = created["thread"]["id"]
    answer = reply(author, thread_id, "an answer")
    path = f"/api/threads/{thread_id}"
    ok = {200, 201, 204} if allowed else {403}

    page = actor.get(path).json()
    assert page["viewer"]["can_moderate"] is allowed
    everything = [p["id"] for p in page["items"]]
    assert page["viewer"]["editable_post_ids"] == (everything if allowed else [])
    assert page["viewer"]["deletable_post_ids"] == (everything if allowed else [])

    assert actor.patch(path, {"pinned": True}).status_code in ok
    assert actor.put(f"/api/posts/{answer['id']}/helpful").status_code in ok
    assert actor.patch(path, {"title": "Retitled by staff", "reason": "clearer"}).status_code in ok
    edited = actor.patch(f"/api/posts/{answer['id']}", {"body": "tidied", "reason": "formatting"})
    assert edited.status_code in ok
    # The author locks nothing; whoever moderates replies through a lock.
    assert author.patch(path, {"locked": True}).status_code == 403
    assert world["actors"]["moderator"].patch(path, {"locked": True}).status_code == 200
    assert actor.post(f"{path}/posts", {"body": "through the lock"}).status_code in ok
    assert author.post(f"{path}/posts", {"body": "locked out"}).status_code == 403
    assert actor.patch(path, {"locked": False}).status_code in ok
    assert actor.patch(path, {"category_id": world["ours_too"]["id"]}).status_code in ok
    assert actor.delete(f"/api/posts/{answer['id']}?reason=off+topic").status_code in ok

    thread = author.get(path).json()["thread"]
    assert thread["pinned"] is allowed
    assert thread["helpful_post_id"] == (answer["id"] if allowed else None)
    assert thread["category_id"] == world["ours_too" if allowed else "ours"]["id"]
    actions = [e["action"] for e in _log(stack, "thread", thread_id)]
    if not allowed:
        assert actions == ["thread.lock"]  # the moderator's, above
        return
    assert actions == ["thread.pin", "thread.retitle", "thread.lock", "thread.unlock",
                       "thread.move"]
    assert [e["action"] for e in _log(stack, "post", answer["id"])] == ["post.edit", "post.delete"]


def test_brand_staff_moderate_neither_other_brands_nor_brandless_categories(
        world: dict[str, Any]) -> None:
    staff: Client = world["actors"]["brand_staff"]
    moderator: Client = world["actors"]["moderator"]
    author: Client = world["author"]
    ours = new_thread(author, world["ours"]["id"])["thread"]["id"]
    for elsewhere in ("theirs", "brandless"):
        # Moving out of their brand, into a category they do not moderate: 403, nothing moved.
        moved = staff.patch(f"/api/threads/{ours}", {"category_id": world[elsewhere]["id"]})
        assert moved.status_code == 403
        assert "categories you moderate" in moved.json()["error"]["message"]
        assert author.get(f"/api/threads/{ours}").json()["thread"]["category_id"] == world["ours"]["id"]
        there = new_thread(author, world[elsewhere]["id"])
        assert staff.get(f"/api/threads/{there['thread']['id']}").json()["viewer"]["can_moderate"] is False
        assert staff.patch(f"/api/threads/{there['thread']['id']}", {"locked": True}).status_code == 403
        assert staff.delete(f"/api/posts/{there['post']['id']}").status_code == 403
        # Nor into their own brand: moving needs moderating the source too.
        assert staff.patch(f"/api/threads/{there['thread']['id']}",
                           {"category_id": world["ours"]["id"]}).status_code == 403
    # A moderator moves across brands.
    assert moderator.patch(f"/api/threads/{ours}",
                           {"category_id": world["theirs"]["id"]}).status_code == 200


def test_editing_someone_elses_post_needs_a_reason_that_the_history_and_author_see(
        world: dict[str, Any], stack: Stack) -> None:
    author: Client = world["author"]
    staff: Client = world["actors"]["brand_staff"]
    created = new_thread(author, world["ours"]["id"], body="buy cheap watches here")
    post_id = created["post"]["id"]
    for body in ({"body": "[removed link]"}, {"body": "[removed link]", "reason": "   "}):
        refused = staff.patch(f"/api/posts/{post_id}", body)
        assert refused.status_code == 422
        assert "reason is required" in refused.json()["error"]["message"]
    assert author.get(f"/api/posts/{post_id}").json()["revision"] == 1
    # The author's own edits need none.
    assert author.patch(f"/api/posts/{post_id}", {"body": "buy watches here"}).status_code == 200
    edited = staff.patch(f"/api/posts/{post_id}", {"body": "[removed link]", "reason": "spam link"})
    assert edited.status_code == 200, edited.text
    history = author.get(f"/api/posts/{post_id}/revisions").json()
    assert [(r["revision"], r["editor"]["handle"], r["reason"]) for r in history] == [
        (1, author.member["handle"], ""), (2, author.member["handle"], ""),
        (3, staff.member["handle"], "spam link")]
    notice = told(author, post_id, "moderator_edit")
    assert notice["data"]["reason"] == "spam link"
    assert "spam link" in notice["text"] and staff.member["handle"] in notice["text"]
    [entry] = _log(stack, "post", post_id)
    assert entry["action"] == "post.edit" and entry["reason"] == "spam link"
    assert entry["actor_id"] == staff.member["id"]
    assert entry["brand_id"] == world["ours"]["brand_id"]
    assert entry["before"]["raw"] == "buy watches here" and entry["after"]["raw"] == "[removed link]"
    # A reason with control characters is refused like any other text.
    assert staff.patch(f"/api/posts/{post_id}",
                       {"body": "again", "reason": "bad\u0007"}).status_code == 422


def test_a_moderators_deletion_of_a_first_post_logs_the_thread_with_a_readable_label(
        world: dict[str, Any], stack: Stack) -> None:
    author: Client = world["author"]
    moderator: Client = world["actors"]["moderator"]
    created = new_thread(author, world["brandless"]["id"], title="Doomed thread")
    own = reply(author, created["thread"]["id"], "mine to delete")
    assert author.delete(f"/api/posts/{own['id']}").status_code == 204
    assert _log(stack, "post", own["id"]) == []  # an author's own deletion is no staff act
    assert moderator.delete(f"/api/posts/{created['post']['id']}?reason=duplicate").status_code == 204
    [entry] = _log(stack, "thread", created["thread"]["id"])
    assert entry["action"] == "thread.delete" and entry["reason"] == "duplicate"
    assert entry["label"].endswith("Doomed thread") and entry["brand_id"] is None
    assert moderator.delete(f"/api/posts/{created['post']['id']}").status_code == 404
    too_long = moderator.delete(f"/api/posts/{own['id']}?reason=" + "x" * 501)
    assert too_long.status_code == 400
