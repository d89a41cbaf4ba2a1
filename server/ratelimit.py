"""Fixed-window rate limits on what can be abused (sign-in, sign-up, writes).

The counters live in the key/value store (Redis when scaled: one limit across every app
process). While it is unreachable each process counts on its own, in memory, so a limit still
holds (per process) and nothing fails; once Redis answers again the shared counters count.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar.connection import ASGIConnection

from server import runtime
from server.errors import RateLimited, ServiceUnavailable
from server.kv import MemoryKeyValue
from server.settings import RateLimit

log = logging.getLogger("hearth.ratelimit")

_local = MemoryKeyValue()
_local_in_use = False


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    if runtime.current().settings.trust_proxy_headers:
        forwarded = connection.headers.get("x-forwarded-for", "")
        if forwarded:
            # The proxy appends the address it saw; anything left of it the client could forge.
            return forwarded.split(",")[-1].strip()
    client = connection.client
    return client.host if client else "unknown"


async def check(bucket: str, key: str, limit: RateLimit, weight: int = 1) -> None:
    """Count `weight` attempts (a batch of events counts each one)."""
    global _local_in_use
    name = f"rl:{bucket}:{key}"
    try:
        count, reset = await runtime.current().kv.hit(name, limit.window_seconds, weight)
        if _local_in_use:
            log.info("rate limits are shared again")
            _local_in_use = False
    except ServiceUnavailable:
        if not _local_in_use:
            log.warning("the key/value store is unreachable: rate limits count per process")
            _local_in_use = True
        count, reset = await _local.hit(name, limit.window_seconds, weight)
    if count > limit.limit:
        raise RateLimited(f"too many {bucket} attempts; try again in {reset} seconds", reset)
