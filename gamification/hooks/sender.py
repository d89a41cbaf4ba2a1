"""One HTTP attempt at a webhook delivery: a POST to the checked address (gamification.hooks.
addresses), with short timeouts, no redirects and a cap on how much of the answer is read.

A small HTTP/1.1 client on asyncio streams, not httpx: measured on the bench machine, httpx
(and httpcore under it) spent about 1.6 ms of CPU per POST, the stream client 0.03 ms, and a
worker must send hundreds a second. It speaks only what a delivery needs: one POST with a
Content-Length, a status line, headers, and a body by length, chunks or to the end, read up
to the cap. Connections are kept alive per address and reused.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import defaultdict
from dataclasses import dataclass

from gamification.hooks.addresses import Address, Target
from server.settings import get_settings

# Read at most this much of a response; keep this much of it in the log.
RESPONSE_CAP_BYTES = 64 * 1024
EXCERPT_CHARS = 1000
HEAD_LIMIT = 16 * 1024
USER_AGENT = "Hearth-Webhooks/1"
IDLE_PER_ADDRESS = 64

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Key = tuple[str, str, int, str]


class ProtocolError(Exception):
    """The answer was not HTTP/1.x as a receiver must send it."""


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# Idle keep-alive connections per (scheme, address, port, host name), per event loop.
_idle: dict[int, dict[Key, list[Stream]]] = {}
_tls: ssl.SSLContext | None = None


def _pool() -> dict[Key, list[Stream]]:
    return _idle.setdefault(id(asyncio.get_running_loop()), defaultdict(list))


def _tls_context() -> ssl.SSLContext:
    global _tls
    if _tls is None:
        _tls = ssl.create_default_context()
    return _tls


async def close() -> None:
    for streams in _idle.pop(id(asyncio.get_running_loop()), {}).values():
        for _, writer in streams:
            writer.close()


def _netloc(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


async def _connect(target: Target, address: Address, timeout: float) -> Stream:
    tls = target.scheme == "https"
    host = str(address)
    # TLS is checked against the URL's host name, not the address connected to.
    return await asyncio.wait_for(asyncio.open_connection(
        host, target.port, ssl=_tls_context() if tls else None,
        server_hostname=target.host if tls else None, limit=HEAD_LIMIT), timeout)


def _request(target: Target, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {target.target} HTTP/1.1", f"Host: {_netloc(target)}",
             f"User-Agent: {USER_AGENT}", "Content-Type: application/json",
             f"Content-Length: {len(body)}",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _head(reader: asyncio.StreamReader) -> tuple[str, int, dict[str, str]]:
    while True:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise ProtocolError(f"response headers over {HEAD_LIMIT} bytes") from None
        lines = raw.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if int(code) >= 200:
            return version, int(code), headers


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> tuple[bytes, bool]:
    """Up to the cap; and whether the response was read to its end (the connection can be
    reused)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        read = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers expected; the final CRLF
                return bytes(read), True
            if len(read) + size > RESPONSE_CAP_BYTES:
                read.extend(await reader.read(RESPONSE_CAP_BYTES - len(read)))
                return bytes(read), False
            read.extend(await reader.readexactly(size))
            await reader.readexactly(2)
    if "content-length" in headers:
        length = int(headers["content-length"])
        if length > RESPONSE_CAP_BYTES:
            return await reader.readexactly(RESPONSE_CAP_BYTES), False
        return await reader.readexactly(length), True
    read = bytearray()
    while len(read) < RESPONSE_CAP_BYTES:
        chunk = await reader.read(RESPONSE_CAP_BYTES - len(read))
        if not chunk:
            break
        read.extend(chunk)
    return bytes(read), False


async def _exchange(stream: Stream, request: bytes) -> tuple[int, bytes, bool]:
    reader, writer = stream
    writer.write(request)
    await writer.drain()
    version, code, headers = await _head(reader)
    body, complete = await _body(reader, headers)
    keep = (complete and version == "HTTP/1.1"
            and headers.get("connection", "").lower() != "close")
    return code, body, keep


async def _post(target: Target, address: Address, headers: dict[str, str],
                body: bytes) -> tuple[int, str]:
    key: Key = (target.scheme, str(address), target.port, target.host)
    idle = _pool()[key]
    timeout = get_settings().webhooks_timeout_seconds
    request = _request(target, headers, body)
    while True:
        reused = bool(idle)
        stream = idle.pop() if reused else await _connect(target, address, timeout)
        try:
            code, answer, keep = await _exchange(stream, request)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            stream[1].close()
            # A kept-alive connection the receiver closed meanwhile: once more on a new one.
            if reused and (not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial):
                continue
            raise
        except BaseException:
            stream[1].close()
            raise
        if keep and len(idle) < IDLE_PER_ADDRESS:
            idle.append(stream)
        else:
            stream[1].close()
        # PostgreSQL text holds no NUL: a receiver's binary answer must not fail the log.
        return code, answer.decode("utf-8", "replace").replace("\x00", "")[:EXCERPT_CHARS]


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
    except TimeoutError:
        return Outcome(None, took(), "", f"timed out after {took()} ms")
    except asyncio.IncompleteReadError:
        return Outcome(None, took(), "", "the connection closed before a whole answer")
    except Exception as exc:
        # Whatever a receiver sends (an over-long chunk line, garbage), it is its failure,
        # logged; it must never escape and abort the other brands' deliveries in the batch.
        return Outcome(None, took(), "", f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(status, took(), excerpt, "")
