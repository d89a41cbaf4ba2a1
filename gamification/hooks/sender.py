"""One HTTP attempt at a webhook delivery: to the checked address (gamification.hooks.
addresses), with short timeouts, no redirects and a cap on how much of the answer is read."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass

import httpx

from gamification.hooks.addresses import Address, Refused, Target
from server.settings import get_settings

# Read at most this much of a response; keep this much of it in the log.
RESPONSE_CAP_BYTES = 64 * 1024
EXCERPT_CHARS = 1000
USER_AGENT = "Hearth-Webhooks/1"

_clients: dict[int, httpx.AsyncClient] = {}


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _client() -> httpx.AsyncClient:
    """One pooled client per event loop (a Celery worker process keeps one loop)."""
    loop = id(asyncio.get_running_loop())
    client = _clients.get(loop)
    if client is None:
        seconds = get_settings().webhooks_timeout_seconds
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(seconds), follow_redirects=False, trust_env=False,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=200))
        _clients[loop] = client
    return client


async def close() -> None:
    client = _clients.pop(id(asyncio.get_running_loop()), None)
    if client is not None:
        await client.aclose()


def _netloc(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    return target.host if target.port == default else f"{target.host}:{target.port}"


async def _post(target: Target, address: Address, headers: dict[str, str],
                body: bytes) -> tuple[int, str]:
    host = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    url = f"{target.scheme}://{host}:{target.port}{target.target}"
    request = _client().build_request(
        "POST", url, content=body,
        headers={**headers, "host": _netloc(target), "content-type": "application/json",
                 "user-agent": USER_AGENT},
        # TLS is checked against the URL's host name, not the address connected to.
        extensions={"sni_hostname": target.host} if target.scheme == "https" else {})
    response = await _client().send(request, stream=True)
    try:
        read = bytearray()
        async for chunk in response.aiter_raw():
            read.extend(chunk)
            if len(read) >= RESPONSE_CAP_BYTES:
                break
    finally:
        await response.aclose()
    return response.status_code, bytes(read[:RESPONSE_CAP_BYTES]).decode(
        "utf-8", "replace")[:EXCERPT_CHARS]


async def attempt(target: Target, address: Address, headers: dict[str, str],
                  body: bytes) -> Outcome:
    started = time.monotonic()
    timeout = get_settings().webhooks_timeout_seconds

    def took() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        # The whole attempt, however slowly an answer trickles in.
        status, excerpt = await asyncio.wait_for(_post(target, address, headers, body),
                                                 timeout=2 * timeout)
    except (TimeoutError, httpx.TimeoutException):
        return Outcome(None, took(), "", f"timed out after {took()} ms")
    except (httpx.HTTPError, OSError, Refused) as exc:
        return Outcome(None, took(), "", f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(status, took(), excerpt, "")
