"""Sessions live in the database: a restart, or a Redis that lost its keys, signs nobody out;
signing out ends the session at once in every server process; expired sessions are refused
and pruned. The module moves its stack's clock by weeks: it has a stack of its own."""

from __future__ import annotations

import pytest
import redis

from tests.harness import MODE, REDIS_URL, Client, Server, Stack

pytestmark = pytest.mark.own_stack


def _as(client: Client, server: Server) -> Client:
    """The same browser (its cookies) talking to another server process of the stack."""
    moved = Client(server)
    moved.http.cookies.update(client.http.cookies)
    moved.member = client.member
    return moved


def _signed_in_and_csrf_works(client: Client) -> None:
    me = client.get("/api/me")
    assert me.status_code == 200, me.text
    assert me.json()["member"]["id"] == client.member["id"]
    assert me.json()["csrf_token"] == client.http.cookies.get("hearth_csrf")
    bio = "still here " + str(client.member["id"])
    written = client.patch("/api/me", {"bio": bio})
    assert written.status_code == 200, written.text
    assert written.json()["bio"] == bio


def _forget_redis(stack: Stack) -> int:
    """Delete every Redis key of the stack, as a Redis restarted without persistence would."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{stack.env['HEARTH_REDIS_PREFIX']}:*", count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)


def _session_rows(stack: Stack, member_id: int) -> int:
    return int(stack.sql(f"SELECT COUNT(*) FROM member_session WHERE member = {member_id}")[0][0])


def test_a_restarted_server_keeps_everyone_signed_in(stack: Stack) -> None:
    first = stack.start_server()
    member = first.client().register()
    _signed_in_and_csrf_works(member)
    first.process.stop()

    second = stack.start_server()
    try:
        again = _as(member, second)
        _signed_in_and_csrf_works(again)
        if MODE == "scaled":
            # Redis lost everything (a restart without persistence): still signed in.
            assert _forget_redis(stack) > 0
            _signed_in_and_csrf_works(again)
    finally:
        second.process.stop()


def test_signing_out_is_refused_at_once_by_every_server(stack: Stack) -> None:
    one = stack.start_server()
    # Scaled: another process on the same stack; embedded has one process, which is enough.
    other = stack.start_server() if MODE == "scaled" else one
    try:
        member = one.client().register()
        elsewhere = _as(member, other)
        # The other process has the session in hand (and in its cache) before the sign-out.
        assert elsewhere.get("/api/me").status_code == 200
        assert member.post("/api/session/logout").status_code == 204
        refused = elsewhere.get("/api/me")
        assert refused.status_code == 401, refused.text
        assert elsewhere.get("/api/notifications").status_code == 401
        assert _session_rows(stack, int(member.member["id"])) == 0
    finally:
        one.process.stop()
        other.process.stop()


def test_an_expired_session_is_refused_and_pruned(stack: Stack) -> None:
    ttl = 86400
    server = stack.start_server(env={"HEARTH_SESSION_TTL_SECONDS": str(ttl)})
    try:
        old = server.client().register()
        member_id = int(old.member["id"])
        assert old.get("/api/me").status_code == 200
        stack.advance(seconds=ttl + 60)
        refused = old.get("/api/me")
        assert refused.status_code == 401, refused.text

        fresh = server.client()
        assert fresh.login(old.member["handle"], "correct horse battery").status_code == 200
        assert _session_rows(stack, member_id) == 2
        pruned = stack.run("run-job", "sessions.prune")
        assert "sessions.prune done:" in pruned.stdout
        # The expired row is gone; the session made after the clock moved stays.
        assert _session_rows(stack, member_id) == 1
        _signed_in_and_csrf_works(fresh)
    finally:
        server.process.stop()
