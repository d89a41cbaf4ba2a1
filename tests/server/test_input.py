"""Input that used to crash the server (a 500, or a socket closed with 4500) gets a clear 4xx,
or an error frame on the websocket that stays open."""

import base64
import datetime as dt
import uuid

import pytest
from websockets.exceptions import ConnectionClosed

from tests.harness import Client


def assert_error(response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status and error["code"]
    assert words in error["message"], error


def test_a_thread_cursor_the_api_did_not_hand_out_is_422(member: Client, category: dict) -> None:
    path = f"/api/categories/{category['id']}/threads"
    for n in range(3):
        assert member.post(path, {"title": f"Thread number {n}", "body": "x"}).status_code == 201
    first = member.get(path, params={"limit": 2}).json()
    assert [t["title"] for t in first["items"]] == ["Thread number 2", "Thread number 1"]
    rest = member.get(path, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [t["title"] for t in rest["items"]] == ["Thread number 0"]
    forged = [base64.urlsafe_b64encode(text.encode()).decode()
              for text in ("1:9223372036854775808", "2:5", "0:-1", "0:²", "0:5:6")]
    for cursor in ["0", "null", "0.5", "²", "%%%", "MTo", *forged]:
        assert_error(member.get(path, params={"cursor": cursor}), 422, "cursor")


def test_json_nested_100000_deep_is_400_before_any_handler(member: Client, anon: Client,
                                                           thread: dict) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    headers = {"content-type": "application/json"}
    replies = f"/api/threads/{thread['thread']['id']}/posts"
    assert_error(member.post(replies, content=deep, headers=headers), 400, "deeper than 32")
    nested = b'{"body": "x", "a": ' + b"[" * 40 + b"]" * 40 + b"}"
    assert_error(member.post(replies, content=nested, headers=headers), 400, "deeper than 32")
    assert_error(anon.post("/api/session", content=deep, headers=headers), 400, "deeper than 32")
    # Brackets inside strings do not nest.
    bracketed = member.post(replies, {"body": "[" * 500 + "{" * 500})
    assert bracketed.status_code == 201, bracketed.text


def test_escaped_quotes_without_an_end_are_refused_at_once(anon: Client, member: Client) -> None:
    # Each escaped quote used to restart a failed string match: quadratic, minutes of event
    # loop for this 200 kB body (an hour for 1 MB), with every other request waiting.
    body = b"[" * 40 + b'"' + b'\\"' * 100_000
    headers = {"content-type": "application/json"}
    refused = anon.post("/api/session", content=body, headers=headers, timeout=10)
    assert_error(refused, 400, "deeper than 32")
    socket = member.websocket()
    try:
        # A frame just under the websocket's size limit: a minute of event loop, unfixed.
        socket.connection.send(body[:60_000].decode())
        frame = socket.wait_for(lambda f: f["type"] == "error", timeout=10)
        assert frame["code"] == "bad_message" and "deeper than 32" in frame["message"], frame
    finally:
        socket.close()


def test_invalid_utf8_in_a_body_is_400(member: Client, anon: Client, thread: dict) -> None:
    headers = {"content-type": "application/json"}
    replies = f"/api/threads/{thread['thread']['id']}/posts"
    assert_error(member.post(replies, content=b'{"body": "caf\xe9"}', headers=headers),
                 400, "not valid UTF-8")
    assert_error(anon.post("/api/session", content=b'{"login": "\xff", "password": "x"}',
                           headers=headers), 400, "not valid UTF-8")
    assert member.post(replies, {"body": "café"}).status_code == 201


@pytest.mark.parametrize("channel", [
    "thread:²", "thread:" + "9" * 30, "thread:9223372036854775808", "thread:0", "thread:007", "thread:-1",
    "thread:1 ", "challenge:٣", "challenge:" + "1" * 20, "user:²", "nonsense", "thread:",
    "leaderboard:" + "x" * 300,
])
def test_malformed_channel_names_get_an_error_frame_on_an_open_socket(
        member: Client, thread: dict, channel: str) -> None:
    socket = member.websocket()
    try:
        socket.send(op="subscribe", channel=channel)
        refused = socket.wait_for(lambda f: f["type"] in ("subscribed", "error"))
        assert refused["code"] == "bad_channel" and refused["channel"] == channel[:200], refused
        socket.send(op="ping")
        assert socket.wait_for(lambda f: f["type"] == "pong")
        good = f"thread:{thread['thread']['id']}"
        assert socket.subscribe(good)["type"] == "subscribed"
    finally:
        socket.close()


def test_websocket_frames_nested_too_deep_or_not_utf8_get_an_error_frame(member: Client) -> None:
    socket = member.websocket()
    try:
        socket.connection.send('{"op": "ping", "x": ' + "[" * 20_000 + "]" * 20_000 + "}")
        deep = socket.wait_for(lambda f: f["type"] == "error")
        assert deep["code"] == "bad_message" and "deeper than 32" in deep["message"], deep
        socket.connection.send(b'{"op": "\xff"}')
        garbled = socket.wait_for(lambda f: f["type"] == "error" and f is not deep)
        assert garbled["code"] == "bad_message", garbled
        socket.send(op="ping")
        assert socket.wait_for(lambda f: f["type"] == "pong")
    finally:
        socket.close()


def test_a_websocket_frame_over_64_kib_closes_the_socket_unread(anon: Client) -> None:
    # Client frames are tiny; megabytes were read, checked and decoded on the event loop,
    # by anyone (no sign-in needed to open the socket).
    socket = anon.websocket()
    try:
        socket.connection.send('{"op": "ping", "pad": "' + "x" * 1_000_000 + '"}')
        with pytest.raises(ConnectionClosed) as closed:
            socket.wait_for(lambda f: False, timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value
    finally:
        socket.close()
    fresh = anon.websocket()
    try:
        fresh.send(op="ping", pad="x" * 60_000)
        assert fresh.wait_for(lambda f: f["type"] == "pong")
    finally:
        fresh.close()


@pytest.mark.parametrize("board", [
    "category:%D9%A3", "all-time%0A", "season:%C2%B2", "week:\uff12\uff10\uff12\uff16-W01"])
def test_board_names_take_ascii_digits_only(anon: Client, board: str) -> None:
    assert_error(anon.get(f"/api/leaderboards/{board}"), 422, "is not a leaderboard")


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "007", "-1", "1.0"])
def test_a_badge_eligibility_that_is_not_an_id_is_422(admin: Client, value: str) -> None:
    brand = admin.post("/api/brands", {"name": "Eligible", "slug": "e-" + uuid.uuid4().hex[:6]})
    assert brand.status_code == 201, brand.text
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    response = admin.post("/api/challenges", {
        "brand_id": brand.json()["id"], "title": "Only for badge holders",
        "starts_at": soon.isoformat(), "ends_at": (soon + dt.timedelta(days=7)).isoformat(),
        "tasks": [{"name": "Post", "event_types": ["thread.created"], "target": 1}],
        "eligibility": "badge", "eligibility_value": value,
    })
    assert_error(response, 422, "eligibility_value must be a badge id")


@pytest.mark.parametrize("path", [
    "/api/notifications", "/api/admin/outbox", "/api/me/bookmarks",
])
def test_a_before_cursor_past_64_bits_is_refused_not_a_server_error(admin: Client, path: str) -> None:
    for before in ("0", "9223372036854775808"):
        response = admin.get(path, params={"before": before})
        assert response.status_code in (400, 422), (path, before, response.text)
