"""Sessions with the key/value store unreachable: the database alone signs members in and
out, and a day's visit is still counted, once. A sign-out holds against a request that read
the session just before it, and against a store that skipped calls after a blip. Each
process's actor cache holds against a sign-out in the same way, and requests that miss it
together share one lookup."""

from __future__ import annotations

import asyncio
import time

import pytest

from server import auth, runtime, sessions
from server.errors import ServiceUnavailable
from server.kv import SKIP_AFTER_FAILURE_SECONDS, KeyValue
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


class SignOutBeforeFill:
    """The store as a request sees it when the member signs out in another request between
    this one's database read and its cache fill: the first write to the session's cache
    entry runs the sign-out first."""

    def __init__(self, inner: KeyValue, key: str) -> None:
        self.inner, self.key, self.raced = inner, key, False
        self.get, self.delete, self.close = inner.get, inner.delete, inner.close

    async def _race(self, key: str) -> None:
        if key == sessions.CACHE_PREFIX + self.key and not self.raced:
            self.raced = True
            await sessions.end(self.key)

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        await self._race(key)
        await self.inner.set(key, value, ttl_seconds)

    async def add(self, key: str, value: bytes, ttl_seconds: int) -> bool:
        await self._race(key)
        return await self.inner.add(key, value, ttl_seconds)


class SignOutDuringLookup:
    """The store as a request's actor lookup sees it when the member signs out, in this
    process, while the lookup is under way: the first read of the session runs the sign-out,
    then answers what it read before it."""

    def __init__(self, inner: KeyValue, key: str) -> None:
        self.inner, self.key, self.raced = inner, key, False
        self.set, self.add, self.delete, self.close = inner.set, inner.add, inner.delete, inner.close

    async def get(self, key: str) -> bytes | None:
        value = await self.inner.get(key)
        if key == sessions.CACHE_PREFIX + self.key and not self.raced:
            self.raced = True
            await auth.end_session(self.key)
        return value


class CountingReads:
    """The store, counting reads of one session's entry."""

    def __init__(self, inner: KeyValue, key: str) -> None:
        self.inner, self.key, self.reads = inner, key, 0
        self.set, self.add, self.delete, self.close = inner.set, inner.add, inner.delete, inner.close

    async def get(self, key: str) -> bytes | None:
        if key == sessions.CACHE_PREFIX + self.key:
            self.reads += 1
        return await self.inner.get(key)


class AfterABlip:
    """A store that has just failed once, as RedisKeyValue is for SKIP_AFTER_FAILURE_SECONDS
    after a transient Redis error: every call fails at once until then."""

    def __init__(self, inner: KeyValue) -> None:
        self.inner, self.close = inner, inner.close
        self.skip_until = time.monotonic() + SKIP_AFTER_FAILURE_SECONDS

    def _check(self) -> None:
        if time.monotonic() < self.skip_until:
            raise ServiceUnavailable("the key/value store is unreachable; try again shortly")

    async def get(self, key: str) -> bytes | None:
        self._check()
        return await self.inner.get(key)

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self._check()
        await self.inner.set(key, value, ttl_seconds)

    async def delete(self, key: str) -> None:
        self._check()
        await self.inner.delete(key)


async def _signed_in() -> str:
    """A new member's session key."""
    member = await register()
    assert member.member_id is not None
    secret, _ = await sessions.create(member.member_id)
    return sessions.key_of(secret)


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


@pytest.mark.anyio
async def test_a_sign_out_between_a_requests_read_and_its_cache_fill_holds(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    key = await _signed_in()
    racing = SignOutBeforeFill(runtime.current().kv, key)
    monkeypatch.setattr(runtime.current(), "kv", racing)

    # The request that read the row before the sign-out is answered as signed in...
    assert await sessions.find(key) is not None
    assert racing.raced
    # ...and every request after it is refused, though the cache was filled after the sign-out.
    assert await sessions.find(key) is None
    assert await auth.recheck(auth.Actor(via="session", session_key=key)) == auth.ANONYMOUS


@pytest.mark.anyio
async def test_a_sign_out_just_after_a_blip_still_refuses_the_cached_session(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    key = await _signed_in()
    kv = runtime.current().kv
    assert await sessions.find(key) is not None  # now cached

    monkeypatch.setattr(runtime.current(), "kv", AfterABlip(kv))
    await sessions.end(key)
    # The store answers again: what it holds must not sign the cookie in.
    monkeypatch.setattr(runtime.current(), "kv", kv)
    assert await sessions.find(key) is None


@pytest.mark.anyio
async def test_a_sign_out_during_an_actor_lookup_is_not_undone_by_its_answer(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    key = await _signed_in()
    assert await sessions.find(key) is not None  # in the store, as a busy session is
    racing = SignOutDuringLookup(runtime.current().kv, key)
    monkeypatch.setattr(runtime.current(), "kv", racing)
    session = auth.Actor(via="session", session_key=key)

    # The request whose lookup read the session before the sign-out is answered as signed in...
    assert (await auth.recheck(session)).signed_in
    assert racing.raced
    # ...and the next request in this process is refused: that answer was not kept.
    assert await auth.recheck(session) == auth.ANONYMOUS


@pytest.mark.anyio
async def test_requests_that_miss_the_actor_cache_together_share_one_lookup(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    key = await _signed_in()
    counting = CountingReads(runtime.current().kv, key)
    monkeypatch.setattr(runtime.current(), "kv", counting)
    session = auth.Actor(via="session", session_key=key)
    actors = await asyncio.gather(*(auth.recheck(session) for _ in range(10)))
    assert {actor.member_id for actor in actors} == {actors[0].member_id}
    assert actors[0].signed_in
    assert counting.reads == 1
