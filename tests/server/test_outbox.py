"""The spine survives a crash between commit and dispatch, and handles each event once."""

import json
import uuid

import httpx
import pytest

from tests.harness import Client, Stack, eventually

# These tests replay every event, stage broken ones and move the clock past the retention:
# a stack of their own, so no other module's events are replayed, listed or pruned.
pytestmark = pytest.mark.own_stack


def test_event_committed_before_a_crash_is_still_handled_once(
        stack: Stack, admin: Client, member: Client) -> None:
    brand = admin.post("/api/brands", {"name": "Crash", "slug": "crash-" + uuid.uuid4().hex[:6]}).json()
    secret = admin.post(f"/api/brands/{brand['id']}/tokens",
                        {"name": "w", "scopes": ["read", "write"]}).json()["secret"]
    # A brand's act, as its integration would make it (a token needs no session on that server).
    helper = admin.post("/api/gamification/badges", {
        "slug": "crash-" + uuid.uuid4().hex[:8], "name": "Crash survivor",
        "criteria": {"type": "manual"}}).json()
    socket = member.websocket()
    socket.subscribe(f"user:{member.member['id']}")

    doomed = stack.start_server(env={"HEARTH_FAILPOINT": "after-commit"})
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{doomed.url}/api/gamification/badges/{helper['id']}/grants",
                   json={"member_id": member.member["id"], "reason": "granted, then the process died"},
                   headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert doomed.process.popen.wait(timeout=30) == 86, "the process must die at the failpoint"

    earned = member.get("/api/me/badges").json()["earned"]
    assert [e["badge"]["id"] for e in earned] == [helper["id"]]

    # Nothing dispatched it; the periodic sweep of the surviving processes must.
    socket.wait_for(lambda f: f.get("event") == "notification" and f["data"]["kind"] == "badge",
                    timeout=30)
    socket.close()

    def badge_notes() -> list:
        return [n for n in member.get("/api/notifications").json()["items"] if n["kind"] == "badge"]

    eventually(lambda: len(badge_notes()) == 1)

    # Replay everything, as a confused relay might: effects must not repeat.
    stack.sql("UPDATE outbox_event SET dispatched_at = NULL")
    assert "dispatched" in stack.run("relay-sweep").stdout
    stack.sql("DELETE FROM handler_receipt")
    stack.sql("UPDATE outbox_event SET dispatched_at = NULL")
    stack.run("relay-sweep")
    assert len(badge_notes()) == 1


def stage_event(stack: Stack, event_type: str, payload: str) -> int:
    escaped = payload.replace("'", "''")
    rows = stack.sql("INSERT INTO outbox_event (type, payload, created_at, attempts) VALUES "
                     f"('{event_type}', '{escaped}', '2026-01-01 00:00:00+00:00', 0) RETURNING id")
    return int(rows[0][0])


def listed(admin: Client) -> dict[int, dict]:
    items = admin.get("/api/admin/outbox", params={"limit": 100}).json()["items"]
    return {item["id"]: item for item in items}


def failing(admin: Client, event_id: int) -> dict:
    item = listed(admin).get(event_id)
    assert item is not None, f"event {event_id} is not listed as failing"
    return item


def test_admins_see_failing_events_with_their_error_and_retry_or_discard_them(
        stack: Stack, admin: Client, member: Client, thread: dict) -> None:
    # A reaction to a post whose author does not exist: awarding its points fails every time.
    orphan = stage_event(stack, "reaction.added", json.dumps({
        "type": "reaction.added", "post_id": thread["post"]["id"],
        "thread_id": thread["thread"]["id"], "category_id": thread["thread"]["category_id"],
        "post_author_id": 2_000_000_000, "member_id": member.member["id"], "kind": "like"}))
    # A payload no handler can read, as a bad deploy might write.
    garbled = stage_event(stack, "reaction.added", '{"type": "reaction.added", "post_id": ')
    stack.run("relay-sweep")

    def backing_off(event_id: int) -> dict:
        # Failed at least once and held until its next try: a relay waits out the backoff
        # (or holds its claim on the retry). Between the two it shows no retry_after, so the
        # state is waited for, not read once.
        item = failing(admin, event_id)
        assert item["attempts"] >= 1 and item["retry_after"] is not None, item
        return item

    shown = eventually(lambda: backing_off(orphan))
    assert not shown["gave_up"]
    assert shown["payload"]["post_author_id"] == 2_000_000_000
    assert "Error" in shown["last_error"]
    unreadable = failing(admin, garbled)
    assert unreadable["last_error"].startswith("cannot be decoded")
    assert unreadable["payload"] == {"raw": '{"type": "reaction.added", "post_id": '}
    status = admin.get("/api/admin/outbox").json()
    assert status["failing"] >= 2 and status["pending"] >= 2 and status["oldest_pending_at"]

    # Out of attempts, the relay leaves it alone; an operator can still retry it.
    stack.sql(f"UPDATE outbox_event SET payload = '{{\"type\": \"reaction.added\", "
              f"\"post_id\": {thread['post']['id']}, \"thread_id\": {thread['thread']['id']}, "
              f"\"category_id\": {thread['thread']['category_id']}, "
              f"\"post_author_id\": {member.member['id']}, \"member_id\": {member.member['id']}, "
              f"\"kind\": \"like\"}}', attempts = 25 WHERE id = {garbled}")
    assert failing(admin, garbled)["gave_up"]
    stack.run("relay-sweep")
    assert failing(admin, garbled)["attempts"] == 25
    retried = admin.post(f"/api/admin/outbox/{garbled}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["attempts"] == 0
    eventually(lambda: admin.get(f"/api/admin/outbox/{garbled}").json()["dispatched"])
    assert garbled not in listed(admin)
    assert admin.post(f"/api/admin/outbox/{garbled}/retry").status_code == 409

    discarded = admin.post(f"/api/admin/outbox/{orphan}/discard")
    assert discarded.status_code == 200, discarded.text
    assert discarded.json()["dispatched"] and "discarded by @" in discarded.json()["last_error"]
    assert orphan not in listed(admin)

    assert member.get("/api/admin/outbox").status_code == 403
    assert member.post(f"/api/admin/outbox/{orphan}/retry").status_code == 403
    missing = admin.post("/api/admin/outbox/2000000000/discard")
    assert missing.status_code == 404 and "no outbox event" in missing.json()["error"]["message"]


def receipts(stack: Stack, event_id: int) -> int:
    return int(str(stack.sql(f"SELECT COUNT(*) FROM handler_receipt WHERE event_id = {event_id}")[0][0]))


def posted(stack: Stack, member: Client, thread: dict, body: str) -> int:
    """Reply, then wait for its event to be dispatched; returns the event's id."""
    response = member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": body})
    assert response.status_code == 201, response.text
    # The reply's event is committed with it, so it is the newest post.created by now.
    event_id = int(str(stack.sql("SELECT MAX(id) FROM outbox_event WHERE type = 'post.created'")[0][0]))
    eventually(lambda: stack.sql(f"SELECT dispatched_at FROM outbox_event WHERE id = {event_id}"
                                 )[0][0] not in (None, ""))
    return event_id


def test_dispatched_events_past_the_retention_are_pruned_with_their_receipts(
        stack: Stack, admin: Client, member: Client, thread: dict) -> None:
    old = posted(stack, member, thread, "old news")
    assert receipts(stack, old) > 0
    # Never dispatched, however old: kept for the operator.
    stuck = stage_event(stack, "reaction.added", "{")
    retention = 7  # HEARTH_OUTBOX_RETENTION_DAYS's default
    stack.advance(days=retention + 1)
    fresh = posted(stack, member, thread, "fresh news")

    assert stack.run("outbox-prune").stdout.startswith("pruned ")
    left = {int(str(r[0])) for r in stack.sql(
        f"SELECT id FROM outbox_event WHERE id IN ({old}, {fresh}, {stuck})")}
    assert left == {fresh, stuck}
    assert receipts(stack, old) == 0
    assert receipts(stack, fresh) > 0
    assert admin.post(f"/api/admin/outbox/{stuck}/discard").status_code == 200
