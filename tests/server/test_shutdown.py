"""SIGTERM to an app process (a deploy, a scale-down): requests in flight finish, websockets
are told to reconnect elsewhere (close code 1012, "service restart"), the process exits 0."""

from __future__ import annotations

import json
import signal
import socket
import time
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import ConnectionClosed

from tests.harness import Client, Stack

# The bound for a stop with nothing stuck, measured with slack for a loaded machine.
EXIT_WITHIN_SECONDS = 20


def _start_slow_request(client: Client, path: str, body: bytes) -> socket.socket:
    """Send a request's headers and ask, with `Expect: 100-continue`, before the body: the
    server's "100 Continue" means the application is handling the request and reading its
    body, as from a phone on a slow link."""
    url = urlsplit(client.server.url)
    conn = socket.create_connection((url.hostname, url.port), timeout=30)
    cookies = "; ".join(f"{k}={v}" for k, v in client.http.cookies.items())
    conn.sendall((f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                  f"Expect: 100-continue\r\nCookie: {cookies}\r\n"
                  f"X-CSRF-Token: {client.http.cookies['hearth_csrf']}\r\n\r\n").encode())
    interim = conn.recv(1024)
    assert interim.startswith(b"HTTP/1.1 100 "), interim
    return conn


def _finish_slow_request(conn: socket.socket, body: bytes) -> tuple[int, dict]:
    """Send the rest; the status and JSON body of the answer (the server closes after it)."""
    conn.sendall(body)
    received = b""
    while chunk := conn.recv(65536):
        received += chunk
    conn.close()
    head, _, payload = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


def test_sigterm_finishes_requests_in_flight_and_closes_websockets_with_1012(
        stack: Stack, member: Client, thread: dict) -> None:
    doomed = stack.start_server()
    # Its own accounts: embedded sessions live in one process's memory.
    writer = doomed.client().register()
    thread_id = thread["thread"]["id"]
    watcher = writer.websocket()
    assert watcher.subscribe(f"thread:{thread_id}")["type"] == "subscribed"
    body = json.dumps({"body": "finished after SIGTERM"}).encode()
    slow = _start_slow_request(writer, f"/api/threads/{thread_id}/posts", body)

    signalled = time.monotonic()
    doomed.process.popen.send_signal(signal.SIGTERM)
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            watcher.connection.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012

    # The server is shutting down (it closed the socket) and still takes in the body.
    status, reply = _finish_slow_request(slow, body)
    assert status == 201, reply
    exit_code = doomed.process.popen.wait(timeout=60)
    took = time.monotonic() - signalled
    assert exit_code == 0, doomed.process.log()
    assert took < EXIT_WITHIN_SECONDS, f"exit took {took:.1f}s"
    assert "Traceback" not in doomed.process.log()

    # Written once: the reply is there, exactly one of it, under the number it was answered.
    posts = member.get(f"/api/threads/{thread_id}?limit=100").json()["items"]
    assert [p["post_number"] for p in posts if p["raw"] == "finished after SIGTERM"] == [
        reply["post_number"]]


def test_a_request_stalled_past_the_grace_period_does_not_hold_the_stop_up(
        stack: Stack, member: Client, thread: dict) -> None:
    grace = 2
    doomed = stack.start_server(env={"HEARTH_SHUTDOWN_GRACE_SECONDS": str(grace)})
    writer = doomed.client().register()
    thread_id = thread["thread"]["id"]
    body = json.dumps({"body": "never finished"}).encode()
    # Half the body, and then nothing: a client gone quiet mid-upload.
    stalled = _start_slow_request(writer, f"/api/threads/{thread_id}/posts", body)
    stalled.sendall(body[:5])

    signalled = time.monotonic()
    doomed.process.popen.send_signal(signal.SIGTERM)
    exit_code = doomed.process.popen.wait(timeout=60)
    took = time.monotonic() - signalled
    assert exit_code == 0, doomed.process.log()
    assert grace <= took < grace + EXIT_WITHIN_SECONDS, f"exit took {took:.1f}s"
    # Cancelled: uvicorn answers 500 if it can, and nothing was written.
    assert not stalled.recv(65536).startswith(b"HTTP/1.1 2")
    stalled.close()
    posts = member.get(f"/api/threads/{thread_id}?limit=100").json()["items"]
    assert [p for p in posts if p["raw"] == "never finished"] == []


def test_read_marks_buffered_at_sigterm_are_written_before_exit(
        stack: Stack, member: Client, thread: dict) -> None:
    doomed = stack.start_server()
    reader = doomed.client().register()
    thread_id = thread["thread"]["id"]
    highest = reader.get(f"/api/threads/{thread_id}").json()["thread"]["highest_post_number"]
    # Straight after the read: the mark is still in the process's buffer (written each second).
    doomed.process.popen.send_signal(signal.SIGTERM)
    assert doomed.process.popen.wait(timeout=60) == 0, doomed.process.log()
    marks = stack.sql(f"SELECT last_read_post_number FROM forum_read_mark "
                      f"WHERE member = {reader.member['id']} AND thread = {thread_id}")
    assert [int(m[0]) for m in marks] == [highest]
