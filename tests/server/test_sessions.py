"""Sessions live in the database: a restart, or a Redis that lost its keys, signs nobody out;
expired sessions are refused and pruned. Each process trusts who a cookie or token stands for
for a second: a sign-out, a demotion or a revoked token holds at once in the process that made
it and within that second in every other; a token's use is recorded once a minute, not per
request. The module moves its stack's clock by weeks: it has a stack of its own."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis

from server.auth import ACTOR_CACHE_SECONDS, TOKEN_USE_GRANULARITY_SECONDS
from tests.harness import MODE, REDIS_URL, Client, Server, Stack, eventually

pytestmark = pytest.mark.own_stack

# Another process trusts what it resolved for ACTOR_CACHE_SECONDS; half a second more covers
# a loaded machine's round trips.
ELSEWHERE_WITHIN = ACTOR_CACHE_SECONDS + 0.5


@pytest.fixture(scope="module")
def elsewhere(stack: Stack, server: Server) -> Iterator[Server]:
    """Another server process of the stack; embedded mode has one process, which is enough."""
    if MODE != "scaled":
        yield server
        return
    other = stack.start_server()
    try:
        yield other
    finally:
        other.process.stop()


def _signed_in_and_csrf_works(client: Client) -> None:
    me = client.get("/api/me")
    assert me.status_code == 200, me.text
    assert me.json()["member"]["id"] == client.member["id"]
    assert me.json()["csrf_token"] == client.http.cookies.get("hearth_csrf")
    bio = "still here " + str(client.member["id"])
    written = client.patch("/api/me", {"bio": bio})
    assert written.status_code == 200, written.text
    assert written.json()["bio"] == bio


def _answers_within(request: Callable[[], httpx.Response], status: int,
                    seconds: float = ELSEWHERE_WITHIN) -> None:
    eventually(lambda: request().status_code == status, timeout=seconds, interval=0.02)


def _brand_token(admin: Client, scopes: list[str]) -> tuple[int, int, str]:
    """A new brand and an API token of it: (brand id, token id, secret)."""
    brand = admin.post("/api/brands", {"name": "B", "slug": "b-" + uuid.uuid4().hex[:8]})
    assert brand.status_code == 201, brand.text
    brand_id = int(brand.json()["id"])
    created = admin.post(f"/api/brands/{brand_id}/tokens", {"name": "crm", "scopes": scopes})
    assert created.status_code == 201, created.text
    return brand_id, int(created.json()["token"]["id"]), created.json()["secret"]


def _bot(server: Server, secret: str) -> Client:
    bot = server.client()
    bot.token = secret
    return bot


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
        again = member.on(second)
        _signed_in_and_csrf_works(again)
        if MODE == "scaled":
            # Redis lost everything (a restart without persistence): still signed in.
            assert _forget_redis(stack) > 0
            _signed_in_and_csrf_works(again)
    finally:
        second.process.stop()


def test_a_sign_out_holds_at_once_here_and_within_a_second_in_every_other_process(
        stack: Stack, server: Server, elsewhere: Server) -> None:
    member = server.client().register()
    # The same cookie kept aside: signing out clears the client's own.
    here, there = member.on(server), member.on(elsewhere)
    # Both processes have the actor in hand (and cached) before the sign-out.
    assert here.get("/api/me").status_code == 200
    assert there.get("/api/me").status_code == 200
    assert member.post("/api/session/logout").status_code == 204
    refused = here.get("/api/me")
    assert refused.status_code == 401, refused.text
    _answers_within(lambda: there.get("/api/me"), 401)
    assert there.get("/api/notifications").status_code == 401
    assert _session_rows(stack, int(member.member["id"])) == 0


def test_a_demoted_moderator_loses_the_powers_at_once_here_and_within_a_second_elsewhere(
        admin: Client, moderator: Client, thread: dict, elsewhere: Server) -> None:
    path = f"/api/threads/{thread['thread']['id']}"
    there = moderator.on(elsewhere)
    assert moderator.patch(path, {"locked": True}).status_code == 200
    assert there.patch(path, {"locked": True}).status_code == 200
    demoted = admin.put(f"/api/members/{moderator.member['id']}/role", {"role": "member"})
    assert demoted.status_code == 200, demoted.text
    refused = moderator.patch(path, {"locked": False})
    assert refused.status_code == 403, refused.text
    # Until the other process notices, it re-locks a locked thread: nothing changes.
    _answers_within(lambda: there.patch(path, {"locked": True}), 403)
    assert admin.get(path).json()["thread"]["locked"] is True


def test_a_revoked_token_is_refused_at_once_here_and_within_a_second_elsewhere(
        admin: Client, server: Server, elsewhere: Server) -> None:
    brand_id, token_id, secret = _brand_token(admin, ["read"])
    path = f"/api/brands/{brand_id}/tokens"
    here, there = _bot(server, secret), _bot(elsewhere, secret)
    assert here.get(path).status_code == 200
    assert there.get(path).status_code == 200
    revoked = admin.post(f"{path}/{token_id}/revoke")
    assert revoked.status_code == 200, revoked.text
    refused = here.get(path)
    assert refused.status_code == 401, refused.text
    assert "revoked" in refused.json()["error"]["message"]
    _answers_within(lambda: there.get(path), 401)


def test_a_tokens_use_is_recorded_on_first_use_then_once_a_minute(
        stack: Stack, admin: Client, server: Server) -> None:
    brand_id, token_id, secret = _brand_token(admin, ["read"])
    path = f"/api/brands/{brand_id}/tokens"

    def last_used() -> dt.datetime | None:
        listed = admin.get(path)
        assert listed.status_code == 200, listed.text
        value = next(t for t in listed.json() if t["id"] == token_id)["last_used_at"]
        return dt.datetime.fromisoformat(value) if value else None

    assert last_used() is None
    bot = _bot(server, secret)
    assert bot.get(path).status_code == 200
    # Recorded after the response, not in it.
    first = eventually(last_used)
    for _ in range(20):
        assert bot.get(path).status_code == 200
    assert last_used() == first
    stack.advance(seconds=TOKEN_USE_GRANULARITY_SECONDS + 1)
    assert bot.get(path).status_code == 200
    later = eventually(lambda: (value := last_used()) is not None and value > first and value)
    assert later - first >= dt.timedelta(seconds=TOKEN_USE_GRANULARITY_SECONDS + 1)


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
