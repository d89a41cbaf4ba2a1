"""The in-memory key/value store (embedded mode) under many live keys."""

import asyncio
import time

from server.kv import MemoryKeyValue


def test_writes_stay_cheap_when_most_keys_are_live() -> None:
    # Anyone signed in can mint websocket tickets (30 s each): once the store held more live
    # keys than its purge threshold, every write rescanned them all, 2000 writes taking
    # about 20 seconds of event loop.
    store = MemoryKeyValue()

    async def fill() -> float:
        for n in range(100_001):  # just above the purge threshold
            await store.set(f"ticket:{n}", b"x", 60)
        started = time.perf_counter()
        for n in range(2000):
            await store.set(f"more:{n}", b"x", 60)
        return time.perf_counter() - started

    assert asyncio.run(fill()) < 2.0
    assert asyncio.run(store.get("ticket:0")) == b"x"


def test_rate_limit_counters_of_many_keys_do_not_pile_up() -> None:
    # Counting per process (embedded, or while Redis is down), every distinct login name an
    # attacker tries is a counter: expired ones must go, or memory grows without bound.
    store = MemoryKeyValue()

    async def flood() -> None:
        for n in range(MemoryKeyValue.PURGE_AT + 1):
            await store.hit(f"login:{n}", 1)
        time.sleep(1.1)  # every window above has ended
        for n in range(10):
            await store.hit(f"login:later-{n}", 60)

    asyncio.run(flood())
    assert len(store._counters) <= 10


def test_a_hit_can_count_several_attempts() -> None:
    # A batch of inbound events counts each of its events against the token's limit.
    store = MemoryKeyValue()

    async def hits() -> list[int]:
        return [(await store.hit("events", 60, weight))[0] for weight in (1, 100, 1)]

    assert asyncio.run(hits()) == [1, 101, 102]
