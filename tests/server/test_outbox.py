"""The spine survives a crash between commit and dispatch, and handles each event once."""

import json
import uuid

import httpx
import pytest

from tests.harness import Client, Stack, eventually


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
    note = socket.wait_for(lambda f: f.get("event") == "notification", timeout=30)
    socket.close()
    assert note["data"]["kind"] == "badge"

    def badge_notes() -> list:
        return [n for n in member.get("/api/notifications").json()["items"] if n["kind"] == "badge"]

    assert len(eventually(badge_notes)) == 1

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

    shown = eventually(lambda: failing(admin, orphan))
    assert shown["attempts"] >= 1 and not shown["gave_up"]
    assert shown["retry_after"] is not None, "a failed event backs off before its next try"
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


def test_dispatched_events_past_the_retention_are_pruned_with_their_receipts(
        stack: Stack, member: Client, thread: dict) -> None:
    member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "old news"})
    member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "fresh news"})
    stack.run("relay-sweep")
    newest = [int(str(r[0])) for r in stack.sql(
        "SELECT id FROM outbox_event WHERE dispatched_at IS NOT NULL ORDER BY id DESC LIMIT 2")]
    old, fresh = min(newest), max(newest)
    assert stack.sql(f"SELECT COUNT(*) FROM handler_receipt WHERE event_id = {old}")[0][0] not in (0, "0")
    stack.sql(f"UPDATE outbox_event SET dispatched_at = '2020-01-01 00:00:00+00:00' WHERE id = {old}")
    # Never dispatched, however old: kept for the operator.
    stuck = stage_event(stack, "reaction.added", "{")
    stack.sql(f"UPDATE outbox_event SET created_at = '2020-01-01 00:00:00+00:00', "
              f"claimed_until = '2099-01-01 00:00:00+00:00' WHERE id = {stuck}")

    assert stack.run("outbox-prune").stdout.startswith("pruned ")
    left = {int(str(r[0])) for r in stack.sql(
        f"SELECT id FROM outbox_event WHERE id IN ({old}, {fresh}, {stuck})")}
    assert left == {fresh, stuck}
    assert stack.sql(f"SELECT COUNT(*) FROM handler_receipt WHERE event_id = {old}")[0][0] in (0, "0")
    assert stack.sql(f"SELECT COUNT(*) FROM handler_receipt WHERE event_id = {fresh}")[0][0] not in (0, "0")
    stack.sql(f"UPDATE outbox_event SET dispatched_at = created_at WHERE id = {stuck}")
