"""Fixed-window rate limits on what can be abused (sign-in, sign-up, writes)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from server import runtime
from server.errors import RateLimited
from server.settings import RateLimit


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    if runtime.current().settings.trust_proxy_headers:
        forwarded = connection.headers.get("x-forwarded-for", "")
        if forwarded:
            # The proxy appends the address it saw; anything left of it the client could forge.
            return forwarded.split(",")[-1].strip()
    client = connection.client
    return client.host if client else "unknown"


async def check(bucket: str, key: str, limit: RateLimit) -> None:
    count, reset = await runtime.current().kv.hit(f"rl:{bucket}:{key}", limit.window_seconds)
    if count > limit.limit:
        raise RateLimited(f"too many {bucket} attempts; try again in {reset} seconds", reset)
