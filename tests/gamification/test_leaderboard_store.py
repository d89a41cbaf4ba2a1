"""The Redis board store through a rebuild, step by step: writes that arrive while the sources
are read are kept exactly once, the store stays cold (never half-filled) until the build is
complete, and one rebuild runs at a time. Called in-process against the tests' Redis."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from gamification.leaderboards.store import (
    LOCK_SECONDS,
    BoardPosting,
    RedisStore,
    Snapshot,
    StoreCold,
)
from tests.harness import REDIS_URL

pytestmark = pytest.mark.scaled_only


def posting(transaction: int, member: int, delta: int) -> BoardPosting:
    return BoardPosting(["all-time", "week:2026-W01"], member, delta, transaction)


def with_store(test: Callable[[RedisStore, aioredis.Redis, str], Awaitable[None]]) -> None:
    async def run() -> None:
        client = aioredis.from_url(REDIS_URL)
        prefix = f"lbtest{uuid.uuid4().hex[:10]}"
        try:
            await test(RedisStore(client, prefix), client, prefix)
        finally:
            keys = [k async for k in client.scan_iter(f"{prefix}:*", count=1000)]
            if keys:
                await client.delete(*keys)
            await client.aclose()

    asyncio.run(run())


async def board(store: RedisStore, name: str = "all-time") -> list[tuple[int, int, int]]:
    return [(s.member_id, s.score, s.rank) for s in await store.top(name, 100, 0)]


def test_writes_during_a_rebuild_are_kept_once_and_the_store_stays_cold_until_it_is_done() -> None:
    async def test(store: RedisStore, client: aioredis.Redis, prefix: str) -> None:
        with pytest.raises(StoreCold):
            await store.top("all-time", 10, 0)
        assert await store.ask_rebuild() is True
        assert await store.ask_rebuild() is False  # one reader of a burst asks
        seen: dict[str, Any] = {}

        async def snapshot() -> Snapshot:
            # Transaction 1 was read from the ledger; 2 commits just after the read. Both
            # events reach the store while the rebuild runs, and 1 is delivered twice.
            for p in (posting(1, 7, 10), posting(2, 7, 5), posting(3, 8, 4)):
                with pytest.raises(StoreCold):
                    await store.add([p])
            assert await store.add([posting(1, 7, 10)]) == set()
            with pytest.raises(StoreCold):
                await store.set_scores("challenge:1", {7: 2, 8: 3})
            with pytest.raises(StoreCold):  # nothing half-built is ever read
                await store.top("all-time", 10, 0)
            seen["second"] = await store.rebuild(snapshot)
            seen["asked"] = await store.ask_rebuild()
            return Snapshot({"all-time": {7: 10, 9: 8}, "week:2026-W01": {7: 10, 9: 8},
                             "challenge:1": {7: 1}}, {1})

        snap = await store.rebuild(snapshot)
        assert snap is not None and seen == {"second": None, "asked": False}
        assert await board(store) == [(7, 15, 1), (9, 8, 2), (8, 4, 3)]
        assert await board(store, "week:2026-W01") == [(7, 15, 1), (9, 8, 2), (8, 4, 3)]
        assert await board(store, "challenge:1") == [(8, 3, 1), (7, 2, 2)]
        # After it: new transactions count, those already counted do not.
        assert await store.add([posting(4, 9, 7), posting(2, 7, 5), posting(1, 7, 10)]) == {
            "all-time", "week:2026-W01"}
        assert await board(store) == [(9, 15, 1), (7, 15, 1), (8, 4, 3)]
        standing = await store.standing("all-time", 8)
        assert standing is not None and standing.rank == 3
        assert [s.member_id for s in await store.around("all-time", 8, 1)] == [7, 8]
        assert not [k async for k in client.scan_iter(f"{prefix}:lb:journal:*")]

    with_store(test)


def test_a_rebuild_of_a_warm_store_serves_the_old_boards_until_the_new_ones_are_complete() -> None:
    async def test(store: RedisStore, client: aioredis.Redis, prefix: str) -> None:
        await store.rebuild(lambda: _done(Snapshot({"all-time": {1: 5, 2: 3}}, {1, 2})))

        async def snapshot() -> Snapshot:
            await store.add([posting(3, 2, 4)])  # old boards move on meanwhile
            assert await board(store) == [(2, 7, 1), (1, 5, 2)]
            await store.set_member(1, {"all-time": 6}, {5})  # a recount of member 1 that counted 5
            await store.add([posting(5, 1, 9)])  # counted in that recount: skipped
            return Snapshot({"all-time": {1: 5, 2: 3}}, {1, 2})

        await store.rebuild(snapshot)
        assert await board(store) == [(2, 7, 1), (1, 6, 2)]
        await store.remove_member(2)
        assert await board(store) == [(1, 6, 1)]
        keys = {k async for k in client.scan_iter(f"{prefix}:lbz:*")}
        generation = (await client.get(f"{prefix}:lb:generation")).decode()
        assert keys == {f"{prefix}:lbz:{generation}:all-time".encode()}

    with_store(test)


def test_a_transaction_committing_after_a_later_one_a_rebuild_counted_still_counts() -> None:
    async def test(store: RedisStore, client: aioredis.Redis, prefix: str) -> None:
        # PostgreSQL gave 100 and 101 out in that order, but 101 committed first: the
        # rebuild's read of the ledger saw 101 only, and 100's event arrives after the swap.
        await store.rebuild(lambda: _done(Snapshot({"all-time": {7: 5}}, {101})))
        assert await store.add([posting(100, 7, 10)]) == {"all-time", "week:2026-W01"}
        assert await store.add([posting(101, 7, 5), posting(100, 7, 10)]) == set()
        assert await board(store) == [(7, 15, 1)]
        # The same for one member's recount.
        await store.set_member(8, {"all-time": 4}, {103})
        assert await store.add([posting(102, 8, 3)]) == {"all-time", "week:2026-W01"}
        assert await store.add([posting(103, 8, 4)]) == set()
        assert await board(store) == [(7, 15, 1), (8, 7, 2)]

    with_store(test)


def test_a_killed_rebuilds_journal_expires_with_it_and_heals_leave_a_warm_store_alone() -> None:
    async def test(store: RedisStore, client: aioredis.Redis, prefix: str) -> None:
        journals: list[int] = []

        async def snapshot() -> Snapshot:
            for write in (store.add([posting(1, 7, 3)]), store.set_scores("challenge:1", {7: 1}),
                          store.remove_member(8)):
                with pytest.raises(StoreCold):
                    await write
            [journal] = [k async for k in client.scan_iter(f"{prefix}:lb:journal:*")]
            journals.append(await client.ttl(journal))
            return Snapshot({"all-time": {7: 3}}, {1})

        await store.rebuild(snapshot)
        # A rebuild killed mid-way (no finally ran) leaves its journal for LOCK_SECONDS only.
        [ttl] = journals
        assert 0 < ttl <= LOCK_SECONDS
        # Asked while that rebuild ran, a heal finds the store warm and leaves it be.
        assert await store.rebuild(lambda: _done(Snapshot({}, set())), cold_only=True) is None
        assert await board(store) == [(7, 3, 1)]

    with_store(test)


async def _done(snapshot: Snapshot) -> Snapshot:
    return snapshot
