import time
import uuid
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.harness import Client, Server, Stack, build_stack, drop_stack, eventually


def test_new_posts_edits_reactions_and_deletions_arrive_live(member: Client, other: Client,
                                                             thread: dict) -> None:
    thread_id = thread["thread"]["id"]
    channel = f"thread:{thread_id}"
    socket = other.websocket()
    try:
        assert socket.subscribe(channel)["type"] == "subscribed"
        reply = member.post(f"/api/threads/{thread_id}/posts", {"body": "live **hello**"}).json()
        created = socket.wait_for(lambda f: f.get("event") == "post.created"
                                  and f["data"]["id"] == reply["id"])
        assert created["data"]["html"] == "<p>live <strong>hello</strong></p>\n"
        member.patch(f"/api/posts/{reply['id']}", {"body": "edited live"})
        edited = socket.wait_for(lambda f: f.get("event") == "post.edited"
                                 and f["data"]["id"] == reply["id"])
        assert edited["data"]["raw"] == "edited live"
        other.post(f"/api/posts/{reply['id']}/reactions", {"kind": "thanks"})
        socket.wait_for(lambda f: f.get("event") == "reaction.added"
                        and f["data"]["post_id"] == reply["id"]
                        and f["data"]["reactions"] == {"thanks": 1})
        member.patch(f"/api/threads/{thread_id}", {"title": "Renamed while you watch"})
        socket.wait_for(lambda f: f.get("event") == "thread.updated"
                        and f["data"]["title"] == "Renamed while you watch")
        member.delete(f"/api/posts/{reply['id']}")
        socket.wait_for(lambda f: f.get("event") == "post.deleted"
                        and f["data"] == {"post_id": reply["id"]})
        seqs = [f["seq"] for f in socket.messages(channel)]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    finally:
        socket.close()


def test_subscription_to_unreadable_channels_is_refused(admin: Client, member: Client, other: Client,
                                                         anon: Client) -> None:
    lounge = admin.post("/api/categories", {"name": "Secret", "slug": "s-" + uuid.uuid4().hex[:6],
                                            "visibility": "members"}).json()
    secret = member.post(f"/api/categories/{lounge['id']}/threads",
                         {"title": "Members only", "body": "psst"}).json()["thread"]["id"]
    socket = anon.websocket()
    try:
        refused = socket.subscribe(f"thread:{secret}")
        assert refused["type"] == "error" and refused["code"] == "forbidden"
        assert socket.subscribe(f"user:{member.member['id']}")["type"] == "error"
        assert socket.subscribe("thread:999999")["type"] == "error"
        assert socket.subscribe("nonsense")["type"] == "error"
        assert socket.subscribe("admin:everything")["type"] == "error"
    finally:
        socket.close()
    socket = other.websocket()
    try:
        assert socket.subscribe(f"thread:{secret}")["type"] == "subscribed"
        assert socket.subscribe(f"user:{member.member['id']}")["type"] == "error"
        assert socket.subscribe(f"user:{other.member['id']}")["type"] == "subscribed"
    finally:
        socket.close()


def test_bad_messages_get_an_error_not_a_disconnect(member: Client, thread: dict) -> None:
    socket = member.websocket()
    try:
        socket.connection.send("{not json")
        assert socket.wait_for(lambda f: f["type"] == "error")["code"] == "bad_message"
        socket.send(op="dance")
        assert len([f for f in socket.frames if f["type"] == "error"]) >= 1
        socket.send(op="ping")
        assert socket.wait_for(lambda f: f["type"] == "pong")
    finally:
        socket.close()


def test_replies_and_reactions_notify_the_author_privately(member: Client, other: Client,
                                                           thread: dict) -> None:
    socket = member.websocket()
    try:
        socket.subscribe(f"user:{member.member['id']}")
        first_post = thread["post"]["id"]
        other.post(f"/api/threads/{thread['thread']['id']}/posts",
                   {"body": "replying to you", "reply_to_post_id": first_post})
        note = socket.wait_for(lambda f: f.get("event") == "notification"
                               and f["data"]["kind"] == "reply")
        assert note["data"]["data"]["by_member_id"] == other.member["id"]
        assert note["data"]["data"]["by_handle"] == other.member["handle"]
        assert note["data"]["data"]["thread_title"] == thread["thread"]["title"]
        other.post(f"/api/posts/{first_post}/reactions", {"kind": "love"})
        socket.wait_for(lambda f: f.get("event") == "notification" and f["data"]["kind"] == "reaction")
        member.post(f"/api/posts/{first_post}/reactions", {"kind": "like"})
        socket.drain(0.5)
    finally:
        socket.close()
    kinds = [n["data"]["kind"] for n in socket.frames if n.get("event") == "notification"]
    assert kinds == ["reply", "reaction"], "reacting to your own post must not notify you"
    listing = member.get("/api/notifications").json()
    assert [n["kind"] for n in listing["items"]] == ["reaction", "reply"]
    assert listing["unread_count"] == 2
    assert member.post("/api/notifications/read").json()["unread_count"] == 0
    assert other.get("/api/notifications").json()["items"] == []


def test_reconnect_catches_up_from_last_seq(member: Client, other: Client, thread: dict) -> None:
    thread_id = thread["thread"]["id"]
    channel = f"thread:{thread_id}"
    socket = other.websocket()
    socket.subscribe(channel)
    member.post(f"/api/threads/{thread_id}/posts", {"body": "one"})
    last_seen = socket.wait_for(lambda f: f.get("event") == "post.created"
                                and f["data"]["raw"] == "one")["seq"]
    socket.close()
    bodies = ["two", "three"]
    for body in bodies:
        member.post(f"/api/threads/{thread_id}/posts", {"body": body})
    eventually(lambda: len(member.get(f"/api/threads/{thread_id}").json()["items"]) == 4)

    def caught_up() -> list[str]:
        again = other.websocket()
        try:
            again.subscribe(channel, since=last_seen)
            again.drain(0.3)
            created = [f["data"] for f in again.messages(channel) if f["event"] == "post.created"]
            # Scaled workers may publish two replies in either order; seq is publish order.
            got = [p["raw"] for p in sorted(created, key=lambda p: p["post_number"])]
            assert got == bodies, got
            return got
        finally:
            again.close()

    eventually(caught_up, timeout=10)


def test_reconnect_too_far_behind_is_told_to_refetch(tmp_path: Path) -> None:
    # A short history is a setting of whoever publishes (a Celery worker when scaled), so this
    # runs a small deployment of its own: database, Redis namespace, worker and server. (A
    # relay of the main deployment would otherwise take these events from a shared database
    # and publish them with the default history.)
    deployment = build_stack(tmp_path)
    deployment.env["HEARTH_REALTIME_HISTORY"] = "3"
    try:
        deployment.run("migrate")
        if deployment.mode == "scaled":
            deployment.start_worker(concurrency=1)
        small = deployment.start_server()
        deployment.run("create-admin", "--handle", "smalladmin", "--email",
                       "small@example.test", "--password", "small admin password")
        admin = small.client()
        assert admin.login("smalladmin", "small admin password").status_code == 200
        category = admin.post("/api/categories", {"name": "Small", "slug": "small"}).json()
        client = small.client().register()
        thread_id = client.post(f"/api/categories/{category['id']}/threads",
                                {"title": "Busy thread", "body": "start"}).json()["thread"]["id"]
        socket = client.websocket()
        socket.subscribe(f"thread:{thread_id}")
        client.post(f"/api/threads/{thread_id}/posts", {"body": "first"})
        seen = socket.wait_for(lambda f: f.get("event") == "post.created"
                               and f["data"]["raw"] == "first")["seq"]
        socket.close()
        for i in range(6):
            client.post(f"/api/threads/{thread_id}/posts", {"body": f"missed {i}"})

        def told_to_refetch() -> bool:
            again = client.websocket()
            try:
                again.subscribe(f"thread:{thread_id}", since=seen)
                frame = again.wait_for(lambda f: f["type"] in ("refetch", "message"), timeout=2)
                return frame["type"] == "refetch"
            finally:
                again.close()

        assert eventually(told_to_refetch, timeout=10)
    finally:
        drop_stack(deployment)


def test_api_token_websocket_needs_realtime_scope(admin: Client, server: Server, thread: dict) -> None:
    brand = admin.post("/api/brands", {"name": "RT", "slug": "rt-" + uuid.uuid4().hex[:6]}).json()["id"]
    reader = admin.post(f"/api/brands/{brand}/tokens", {"name": "r", "scopes": ["read"]}).json()["secret"]
    live = admin.post(f"/api/brands/{brand}/tokens", {"name": "l", "scopes": ["realtime"]}).json()["secret"]
    refused = server.client().ticket(token=reader)
    assert refused.status_code == 403 and "realtime" in refused.json()["error"]["message"]
    socket = server.client().websocket(token=live)
    try:
        assert socket.subscribe(f"thread:{thread['thread']['id']}")["type"] == "subscribed"
    finally:
        socket.close()


def test_cross_site_websocket_with_cookies_is_refused(member: Client) -> None:
    with pytest.raises(InvalidStatus):
        member.websocket(origin="https://evil.example")
    socket = member.websocket(origin=member.server.url)
    socket.close()


def test_catch_up_never_replays_deleted_posts(member: Client, other: Client, thread: dict) -> None:
    thread_id = thread["thread"]["id"]
    kept = member.post(f"/api/threads/{thread_id}/posts", {"body": "kept"}).json()
    gone = member.post(f"/api/threads/{thread_id}/posts", {"body": "regrettable"}).json()
    member.delete(f"/api/posts/{gone['id']}")
    eventually(lambda: member.get(f"/api/threads/{thread_id}").json()["thread"]["post_count"] == 2)

    def replayed() -> list:
        socket = other.websocket()
        try:
            socket.subscribe(f"thread:{thread_id}", since=0)
            socket.drain(0.3)
            events = [(f["event"], f["data"].get("id") or f["data"].get("post_id"))
                      for f in socket.messages(f"thread:{thread_id}")]
            assert ("post.deleted", gone["id"]) in events, events
            return events
        finally:
            socket.close()

    events = eventually(replayed)
    assert ("post.created", kept["id"]) in events
    assert ("post.created", gone["id"]) not in events
    assert "regrettable" not in str(events)


def test_open_sockets_lose_access_when_it_ends(stack: Stack, admin: Client) -> None:
    env = {"HEARTH_REALTIME_REAUTH_SECONDS": "0.3"}
    quick = stack.start_server(env=env)
    try:
        boss = quick.client()
        boss.login("root_admin", "admin password 123")
        cat = boss.post("/api/categories", {"name": "Closing", "slug": "cl-" + uuid.uuid4().hex[:6]}).json()
        writer = quick.client().register()
        thread_id = writer.post(f"/api/categories/{cat['id']}/threads",
                                {"title": "Soon private", "body": "x"}).json()["thread"]["id"]
        watcher = quick.client().websocket()
        assert watcher.subscribe(f"thread:{thread_id}")["type"] == "subscribed"
        boss.patch(f"/api/categories/{cat['id']}", {"visibility": "members"})
        revoked = watcher.wait_for(lambda f: f["type"] == "error", timeout=10)
        assert revoked["code"] == "forbidden" and revoked["channel"] == f"thread:{thread_id}"
        watcher.close()

        member_socket = writer.websocket()
        member_socket.subscribe(f"user:{writer.member['id']}")
        writer.post("/api/session/logout")
        with pytest.raises(ConnectionClosed):
            member_socket.wait_for(lambda f: False, timeout=10)
    finally:
        quick.process.stop()


def test_a_ticket_opens_one_socket_as_whoever_asked_for_it(member: Client, server: Server) -> None:
    response = member.ticket()
    assert response.status_code == 201, response.text
    assert response.json()["expires_in"] == 30
    ticket = response.json()["ticket"]
    # No cookies: the ticket alone says who this is.
    socket = Client(server).websocket(ticket=ticket)
    try:
        assert socket.subscribe(f"user:{member.member['id']}")["type"] == "subscribed"
    finally:
        socket.close()
    with pytest.raises(InvalidStatus):
        Client(server).websocket(ticket=ticket)
    with pytest.raises(InvalidStatus):
        Client(server).websocket(ticket="made-up")


def test_a_ticket_dies_with_the_session_it_was_issued_to(server: Server) -> None:
    member = server.client().register()
    ticket = member.ticket().json()["ticket"]
    assert member.post("/api/session/logout").status_code in (200, 204)
    with pytest.raises(InvalidStatus):
        Client(server).websocket(ticket=ticket)


def test_tickets_need_a_signed_in_session_with_csrf_or_a_token(member: Client, anon: Client) -> None:
    assert anon.ticket().status_code == 401
    no_csrf = member.http.post("/api/realtime/ticket")
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["error"]["message"]


def test_tokens_in_the_url_are_refused(admin: Client, server: Server) -> None:
    brand = admin.post("/api/brands", {"name": "U", "slug": "u-" + uuid.uuid4().hex[:6]}).json()["id"]
    live = admin.post(f"/api/brands/{brand}/tokens", {"name": "l", "scopes": ["realtime"]}).json()["secret"]
    with pytest.raises(InvalidStatus):
        connect(server.ws_url + f"?token={live}", open_timeout=10)


def test_a_token_ticket_acts_as_the_token(admin: Client, server: Server, thread: dict) -> None:
    brand = admin.post("/api/brands", {"name": "K", "slug": "k-" + uuid.uuid4().hex[:6]}).json()["id"]
    live = admin.post(f"/api/brands/{brand}/tokens", {"name": "l", "scopes": ["realtime"]}).json()["secret"]
    # Asked for by a client that is also signed in: the token, not the session, is who it is.
    socket = admin.websocket(token=live)
    try:
        assert socket.subscribe(f"user:{admin.member['id']}")["code"] == "forbidden"
        assert socket.subscribe(f"thread:{thread['thread']['id']}")["type"] == "subscribed"
    finally:
        socket.close()


def test_an_expired_ticket_is_refused(stack: Stack, member: Client) -> None:
    brief = stack.start_server(env={"HEARTH_REALTIME_TICKET_SECONDS": "1"})
    try:
        client = brief.client()
        assert client.login(member.member["handle"], "correct horse battery").status_code == 200
        response = client.ticket()
        assert response.json()["expires_in"] == 1
        time.sleep(1.5)
        with pytest.raises(InvalidStatus):
            Client(brief).websocket(ticket=response.json()["ticket"])
        fresh = client.ticket().json()["ticket"]
        Client(brief).websocket(ticket=fresh).close()
    finally:
        brief.process.stop()


def test_a_categorys_readers_hear_of_new_threads(admin: Client, member: Client, other: Client,
                                                 anon: Client, category: dict) -> None:
    socket = other.websocket()
    try:
        assert socket.subscribe(f"category:{category['id']}")["type"] == "subscribed"
        started = member.post(f"/api/categories/{category['id']}/threads",
                              {"title": "Fresh one", "body": "hi"}).json()["thread"]
        heard = socket.wait_for(lambda f: f.get("event") == "thread.created")
        assert heard["channel"] == f"category:{category['id']}"
        assert heard["data"] == {"thread_id": started["id"], "category_id": category["id"],
                                 "author_id": member.member["id"]}
    finally:
        socket.close()
    lounge = admin.post("/api/categories", {"name": "Lounge", "slug": "l-" + uuid.uuid4().hex[:6],
                                            "visibility": "members"}).json()
    socket = anon.websocket()
    try:
        assert socket.subscribe(f"category:{lounge['id']}")["code"] == "forbidden"
        assert socket.subscribe("category:999999")["type"] == "error"
    finally:
        socket.close()
