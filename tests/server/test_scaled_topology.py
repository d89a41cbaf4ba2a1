"""Several app processes sharing PostgreSQL and Redis behave as one server."""

import uuid

import pytest

from tests.harness import Client, Stack, eventually

pytestmark = pytest.mark.scaled_only


def test_post_through_one_process_reaches_a_websocket_on_another(
        stack: Stack, server, member: Client, thread: dict) -> None:
    second = stack.start_server()
    try:
        watcher = second.client().register()
        socket = watcher.websocket()
        socket.subscribe(f"thread:{thread['thread']['id']}")
        posted = member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "cross-process"})
        assert posted.status_code == 201
        socket.wait_for(lambda f: f.get("event") == "post.created"
                        and f["data"]["id"] == posted.json()["id"])
        socket.close()
        # Sessions live in Redis, so a cookie from one process is honoured by the other.
        shared = second.client()
        shared.http.cookies = member.http.cookies
        assert shared.get("/api/me").json()["member"]["id"] == member.member["id"]
    finally:
        second.process.stop()


def test_login_rate_limit_holds_across_processes(stack: Stack) -> None:
    env = {"HEARTH_LOGIN_RATE_LIMIT": "4/60", "HEARTH_REDIS_PREFIX": "t" + uuid.uuid4().hex[:10]}
    one, two = stack.start_server(env=env), stack.start_server(env=env)
    try:
        statuses = [
            (one if i % 2 else two).client().login("nobody_here", "wrong password").status_code
            for i in range(6)
        ]
        assert statuses == [401, 401, 401, 401, 429, 429]
    finally:
        one.process.stop()
        two.process.stop()


def test_a_write_through_one_process_refreshes_anonymous_pages_on_another(
        stack: Stack, member: Client, thread: dict) -> None:
    second = stack.start_server()
    try:
        reader = second.client()
        url = f"/api/threads/{thread['thread']['id']}"
        assert len(reader.get(url).json()["items"]) == 1
        member.post(f"{url}/posts", {"body": "fresh"})
        # The page stays cached for 30 seconds (PAGE_CACHE_SECONDS) from the read above: seen
        # within 15, it was the write that renewed it, however slow the machine.
        eventually(lambda: [p["raw"] for p in reader.get(url).json()["items"]][-1] == "fresh",
                   timeout=15)
    finally:
        second.process.stop()
