"""The webhook sender's HTTP/1.1 client against real local sockets: bodies by length and by
chunks, capped; no redirects followed; kept-alive connections reused, and a stale one
replaced; TLS checked against the URL's host name while connecting to the checked address."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from gamification.hooks import sender
from gamification.hooks.addresses import Target

LOCAL = ipaddress.ip_address("127.0.0.1")
Answer = Callable[[int], bytes]


async def serve(answer: Answer, tls: ssl.SSLContext | None = None,
                close_after: bool = False) -> tuple[asyncio.Server, list[int]]:
    """A server answering each request with answer(n) (n counts requests); returns it and
    the connections it accepted, one list entry per request."""
    seen: list[int] = []
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        mine = connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length"))
                await reader.readexactly(length)
                seen.append(mine)
                writer.write(answer(len(seen)))
                await writer.drain()
                if close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls), seen


def target(server: asyncio.Server, scheme: str = "http", host: str = "127.0.0.1") -> Target:
    return Target(scheme, host, server.sockets[0].getsockname()[1], "/hook?x=1")


def run(test: Callable[[], Awaitable[None]]) -> None:
    async def whole() -> None:
        try:
            await test()
        finally:
            await sender.close()
    asyncio.run(whole())


def send(to: Target) -> Awaitable[sender.Outcome]:
    return sender.attempt(to, LOCAL, {"webhook-id": "msg_1"}, b'{"a": 1}')


def test_bodies_by_length_and_by_chunks_keep_the_connection() -> None:
    async def test() -> None:
        answers = [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                   b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"]
        server, seen = await serve(lambda n: answers[n - 1])
        async with server:
            first, second = await send(target(server)), await send(target(server))
            assert (first.status_code, first.excerpt, first.ok) == (200, "hello", True)
            assert (second.status_code, second.excerpt) == (202, "abcde")
            assert seen == [1, 1]  # one connection, kept alive
    run(test)


def test_a_redirect_is_not_followed_and_a_big_answer_is_capped() -> None:
    async def test() -> None:
        big = b"x" * (sender.RESPONSE_CAP_BYTES * 3)
        answers = [b"HTTP/1.1 302 Found\r\nLocation: http://10.0.0.1/\r\nContent-Length: 0\r\n\r\n",
                   b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big]
        server, seen = await serve(lambda n: answers[n - 1])
        async with server:
            moved = await send(target(server))
            assert moved.status_code == 302 and not moved.ok and len(seen) == 1
            capped = await send(target(server))
            assert capped.ok and len(capped.excerpt) == sender.EXCERPT_CHARS
    run(test)


def test_a_connection_the_receiver_closed_is_replaced() -> None:
    async def test() -> None:
        # It says nothing of closing, then closes: the kept connection is stale next time.
        server, seen = await serve(lambda n: b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
                                   close_after=True)
        async with server:
            assert (await send(target(server))).status_code == 204
            assert (await send(target(server))).status_code == 204
            assert seen == [1, 2]
    run(test)


def test_a_dead_port_is_a_logged_failure_not_an_exception() -> None:
    async def test() -> None:
        server, _ = await serve(lambda n: b"")
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        failed = await send(Target("http", "127.0.0.1", port, "/"))
        assert failed.status_code is None and "refused" in failed.error.lower()
    run(test)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=hooks.test", "-addext", "subjectAltName=DNS:hooks.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return key, cert


def test_tls_is_checked_against_the_urls_host_name(certificate: tuple[Path, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    key, cert = certificate
    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(sender, "_tls", trusting)
    serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serving.load_cert_chain(str(cert), str(key))

    async def test() -> None:
        server, seen = await serve(lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                                   tls=serving)
        async with server:
            # Connected to 127.0.0.1, the certificate checked for the URL's name.
            good = await send(target(server, "https", "hooks.test"))
            assert good.ok and good.excerpt == "ok"
            wrong = await send(target(server, "https", "elsewhere.test"))
            assert wrong.status_code is None and "certificate" in wrong.error.lower()
            assert len(seen) == 1
    run(test)


def test_a_malformed_or_binary_answer_is_a_logged_failure_not_an_exception() -> None:
    async def test() -> None:
        # A chunk-size line longer than the stream limit, then an answer with NUL bytes
        # (PostgreSQL text refuses them, so they must not reach the log).
        answers = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   + b"0" * (sender.HEAD_LIMIT * 2) + b"\r\n",
                   b"HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\na\x00b\x00c"]
        server, _ = await serve(lambda n: answers[n - 1], close_after=True)
        async with server:
            overlong = await send(target(server))
            assert overlong.status_code is None and not overlong.ok
            assert "LimitOverrun" in overlong.error or "ValueError" in overlong.error
            binary = await send(target(server))
            assert binary.status_code == 500 and binary.excerpt == "abc"
    run(test)
