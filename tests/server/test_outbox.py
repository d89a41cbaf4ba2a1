"""The spine survives a crash between commit and dispatch, and handles each event once."""

import uuid

import httpx
import pytest

from tests.harness import Client, Stack, eventually


def test_event_committed_before_a_crash_is_still_handled_once(
        stack: Stack, admin: Client, member: Client, thread: dict) -> None:
    brand = admin.post("/api/brands", {"name": "Crash", "slug": "crash-" + uuid.uuid4().hex[:6]}).json()
    secret = admin.post(f"/api/brands/{brand['id']}/tokens",
                        {"name": "w", "scopes": ["read", "write"]}).json()["secret"]
    socket = member.websocket()
    socket.subscribe(f"user:{member.member['id']}")

    doomed = stack.start_server(env={"HEARTH_FAILPOINT": "after-commit"})
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{doomed.url}/api/threads/{thread['thread']['id']}/posts",
                   json={"body": "written, then the process died",
                         "reply_to_post_id": thread["post"]["id"]},
                   headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert doomed.process.popen.wait(timeout=30) == 86, "the process must die at the failpoint"

    page = member.get(f"/api/threads/{thread['thread']['id']}").json()
    assert [p["raw"] for p in page["items"]][-1] == "written, then the process died"

    # Nothing dispatched it; the periodic sweep of the surviving processes must.
    note = socket.wait_for(lambda f: f.get("event") == "notification", timeout=30)
    socket.close()
    assert note["data"]["kind"] == "reply"

    def replies() -> list:
        return [n for n in member.get("/api/notifications").json()["items"] if n["kind"] == "reply"]

    assert len(eventually(replies)) == 1

    # Replay everything, as a confused relay might: effects must not repeat.
    stack.sql("UPDATE outbox_event SET dispatched_at = NULL")
    assert "dispatched" in stack.run("relay-sweep").stdout
    stack.sql("DELETE FROM handler_receipt")
    stack.sql("UPDATE outbox_event SET dispatched_at = NULL")
    stack.run("relay-sweep")
    assert len(replies()) == 1
