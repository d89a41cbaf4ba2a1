"""Short-lived key/value state (sessions, rate-limit counters): in memory or in Redis.

Redis makes the state shared by every app process, which is what keeps a rate limit
holding across replicas in scaled mode.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import redis.asyncio as aioredis

from server.errors import UNAVAILABLE_RETRY_SECONDS, ServiceUnavailable, unavailable

# After Redis failed to answer, calls fail at once for this long instead of each paying the
# connect-and-retry time again: during an outage a request's fallbacks (rate limits, sessions)
# cost nothing, and one call a second finds out when Redis is back.
SKIP_AFTER_FAILURE_SECONDS = 1.0


@contextmanager
def reachable(what: str) -> Iterator[None]:
    """Turn "Redis is down" into ServiceUnavailable (a 503 with Retry-After unless the caller
    can do without it), so that callers need not know the backend."""
    try:
        yield
    except Exception as exc:
        if unavailable(exc) is None:
            raise
        raise ServiceUnavailable(f"{what} is unreachable; try again shortly",
                                 UNAVAILABLE_RETRY_SECONDS) from exc


class KeyValue(Protocol):
    """Every method raises ServiceUnavailable when the store cannot be reached."""

    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def take(self, key: str) -> bytes | None:
        """Get and delete in one step: of concurrent takers, one gets the value."""
        ...

    async def add(self, key: str, value: bytes, ttl_seconds: int) -> bool:
        """Set only if absent; True when this call set it."""
        ...

    async def hit(self, key: str, window_seconds: int, weight: int = 1) -> tuple[int, int]:
        """Count `weight` hits in the current fixed window; return (hits, seconds until it
        resets)."""
        ...

    async def close(self) -> None: ...


class MemoryKeyValue:
    PURGE_AT = 100_000

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float]] = {}
        self._counters: dict[str, tuple[int, float]] = {}
        self._purge_at = self.PURGE_AT

    async def get(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires < time.monotonic():
            del self._data[key]
            return None
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        if len(self._data) > self._purge_at:
            self._purge()
        self._data[key] = (value, time.monotonic() + ttl_seconds)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def take(self, key: str) -> bytes | None:
        value = await self.get(key)
        self._data.pop(key, None)
        return value

    async def add(self, key: str, value: bytes, ttl_seconds: int) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl_seconds)
        return True

    async def hit(self, key: str, window_seconds: int, weight: int = 1) -> tuple[int, int]:
        now = time.monotonic()
        if len(self._counters) > self._purge_at:
            self._purge()
        count, resets = self._counters.get(key, (0, 0.0))
        if resets <= now:
            count, resets = 0, now + window_seconds
        count += weight
        self._counters[key] = (count, resets)
        return count, max(1, int(resets - now))

    def _purge(self) -> None:
        now = time.monotonic()
        self._data = {k: v for k, v in self._data.items() if v[1] >= now}
        self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        # When most keys are live (a flood of websocket tickets, say), purging again on the
        # next set would scan them all on every write: wait until the store has doubled.
        self._purge_at = max(self.PURGE_AT, 2 * len(self._data), 2 * len(self._counters))

    async def close(self) -> None:
        return None


class RedisKeyValue:
    def __init__(self, client: aioredis.Redis, prefix: str = "hearth:kv:") -> None:
        self._redis = client
        self._prefix = prefix
        self._skip_until = 0.0

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        what = "the key/value store"
        if time.monotonic() < self._skip_until:
            raise ServiceUnavailable(f"{what} is unreachable; try again shortly",
                                     UNAVAILABLE_RETRY_SECONDS)
        try:
            with reachable(what):
                yield
        except ServiceUnavailable:
            self._skip_until = time.monotonic() + SKIP_AFTER_FAILURE_SECONDS
            raise

    async def get(self, key: str) -> bytes | None:
        with self._reachable():
            value = await self._redis.get(self._prefix + key)
            return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        with self._reachable():
            await self._redis.set(self._prefix + key, value, ex=ttl_seconds)

    async def delete(self, key: str) -> None:
        with self._reachable():
            await self._redis.delete(self._prefix + key)

    async def take(self, key: str) -> bytes | None:
        with self._reachable():
            value = await self._redis.getdel(self._prefix + key)
            return value.encode() if isinstance(value, str) else value

    async def add(self, key: str, value: bytes, ttl_seconds: int) -> bool:
        with self._reachable():
            return bool(await self._redis.set(self._prefix + key, value, ex=ttl_seconds, nx=True))

    async def hit(self, key: str, window_seconds: int, weight: int = 1) -> tuple[int, int]:
        with self._reachable():
            name = self._prefix + "hit:" + key
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(name, weight)
                pipe.expire(name, window_seconds, nx=True)
                pipe.ttl(name)
                count, _, ttl = await pipe.execute()
            return int(count), max(1, int(ttl))

    async def close(self) -> None:
        return None
