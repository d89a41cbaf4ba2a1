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
