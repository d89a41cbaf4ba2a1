"""Sessions with the key/value store unreachable: the database alone signs members in and
out, and a day's visit is still counted, once."""

from __future__ import annotations

import pytest

from server import auth, runtime, sessions
from server.errors import ServiceUnavailable
from server.tables import OutboxEvent
from tests.service.support import Hearth, register


class UnreachableKeyValue:
    """A key/value store whose every call fails, as RedisKeyValue does with Redis down."""

    def __init__(self) -> None:
        self.calls = 0

    async def _fail(self, *args: object, **kwargs: object) -> None:
        self.calls += 1
        raise ServiceUnavailable("the key/value store is unreachable; try again shortly")

    get = set = delete = take = add = hit = _fail

    async def close(self) -> None:
        return None


@pytest.fixture
def unreachable(hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> UnreachableKeyValue:
    kv = UnreachableKeyValue()
    monkeypatch.setattr(runtime.current(), "kv", kv)
    # A memo of this process's earlier tests (same day, same ids) must not count here.
    monkeypatch.setattr(auth, "_seen_today", auth._SeenToday())
    return kv


async def _visits(member_id: int) -> int:
    return await OutboxEvent.count().where(
        (OutboxEvent.type == "member.visited")
        & OutboxEvent.payload.like(f'%"member_id":{member_id},%'))


@pytest.mark.anyio
async def test_sessions_work_from_the_database_while_the_kv_is_unreachable(
        hearth: Hearth, unreachable: UnreachableKeyValue) -> None:
    member = await register()
    assert member.member_id is not None
    secret, csrf = await sessions.create(member.member_id, "Firefox", "192.0.2.7")
    key = sessions.key_of(secret)
    found = await sessions.find(key)
    assert found is not None and (found.member_id, found.csrf) == (member.member_id, csrf)
    assert unreachable.calls >= 2  # it did try the cache, and to fill it

    await sessions.end(key)
    assert await sessions.find(key) is None
    assert await auth.recheck(auth.Actor(via="session", session_key=key)) == auth.ANONYMOUS


@pytest.mark.anyio
async def test_a_signed_out_or_expired_session_is_refused_even_when_cached(
        hearth: Hearth) -> None:
    member = await register()
    assert member.member_id is not None
    ended, _ = await sessions.create(member.member_id)
    expiring, _ = await sessions.create(member.member_id)
    for secret in (ended, expiring):
        assert await sessions.find(sessions.key_of(secret)) is not None  # now cached
    await sessions.end(sessions.key_of(ended))
    assert await sessions.find(sessions.key_of(ended)) is None

    hearth.clock.advance(seconds=runtime.current().settings.session_ttl_seconds - 1)
    assert await sessions.find(sessions.key_of(expiring)) is not None
    hearth.clock.advance(seconds=1)
    assert await sessions.find(sessions.key_of(expiring)) is None
    assert await sessions.prune() == 1


@pytest.mark.anyio
async def test_visits_are_counted_once_a_day_while_the_kv_is_unreachable(
        hearth: Hearth, unreachable: UnreachableKeyValue) -> None:
    member = await register()
    assert member.member_id is not None
    for _ in range(5):
        await auth.record_visit(member.member_id)
    assert await _visits(member.member_id) == 1
    hearth.clock.advance(days=1)
    for _ in range(5):
        await auth.record_visit(member.member_id)
    assert await _visits(member.member_id) == 2
