"""Account settings end to end, by reading the mail that arrives: password resets, password
and email changes, signing out everywhere, notification preferences, and the admins' mail
page. Embedded, mail is read where admins read it (.eml files, through GET /api/admin/mail);
scaled, it goes over SMTP to a real server this module starts (aiosmtpd).

The module moves its stack's clock (links expire) and its stack needs HEARTH_SMTP_URL when
scaled: it has a stack of its own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from websockets.exceptions import ConnectionClosed

from tests import mailbox
from tests.harness import MODE, Client, Server, Stack, eventually
from tests.mailbox import Mail, Sink

pytestmark = pytest.mark.own_stack

PUBLIC_URL = "http://hearth.test:8080"
PASSWORD = "correct horse battery"


sink = mailbox.sink


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, sink: Sink) -> Iterator[Stack]:
    yield from mailbox.mail_stack(tmp_path_factory, sink, {
        "HEARTH_PUBLIC_URL": PUBLIC_URL, "HEARTH_PASSWORD_RESET_RATE_LIMIT": "100000/60"})


def _mail(admin: Client, sink: Sink, address: str, subject: str, count: int = 1) -> Mail:
    return mailbox.wait_for(admin, sink, address, subject, count)


def _link(mail: Mail, route: str) -> str:
    return mailbox.link(mail, PUBLIC_URL, route)


def _inbox(admin: Client, sink: Sink, address: str) -> list[Mail]:
    return mailbox.inbox(admin, sink, address)


def _email(client: Client) -> str:
    return f"{client.member['handle']}@example.test"


def _signed_in(server: Server, handle: str, password: str = PASSWORD) -> Client:
    client = server.client()
    response = client.login(handle, password)
    assert response.status_code == 200, response.text
    return client


def test_a_reset_link_sets_a_new_password_once_and_signs_out_everywhere(
        server: Server, admin: Client, sink: Sink) -> None:
    member = server.client().register()
    elsewhere = _signed_in(server, member.member["handle"])
    anon = server.client()
    ghost = f"nobody-{uuid.uuid4().hex[:8]}@example.test"

    # The same answer whether or not an account has the address.
    unknown = anon.post("/api/account/password-reset", {"email": ghost})
    known = anon.post("/api/account/password-reset", {"email": _email(member).upper()})
    assert unknown.status_code == known.status_code == 202, (unknown.text, known.text)
    assert unknown.json() == known.json()

    mail = _mail(admin, sink, _email(member), "Reset your Hearth password")
    token = _link(mail, "reset")
    assert member.member["handle"] in mail.body
    assert _inbox(admin, sink, ghost) == []

    weak = anon.post("/api/account/password-reset/confirm", {"token": token, "password": "password123"})
    assert weak.status_code == 422, weak.text
    done = anon.post("/api/account/password-reset/confirm",
                     {"token": token, "password": "a brand new secret"})
    assert done.status_code == 204, done.text

    # Every session of the member ended, and the new password is the one that works.
    assert member.get("/api/me").status_code == 401
    assert elsewhere.get("/api/me").status_code == 401
    assert server.client().login(member.member["handle"], PASSWORD).status_code == 401
    assert server.client().login(member.member["handle"], "a brand new secret").status_code == 200
    _mail(admin, sink, _email(member), "Your Hearth password was reset")

    again = anon.post("/api/account/password-reset/confirm",
                      {"token": token, "password": "yet another secret"})
    assert again.status_code == 422
    assert "already been used" in again.json()["error"]["message"]
    made_up = anon.post("/api/account/password-reset/confirm",
                        {"token": "x" * 43, "password": "yet another secret"})
    assert made_up.status_code == 422
    assert "not valid" in made_up.json()["error"]["message"]
    assert server.client().login(member.member["handle"], "yet another secret").status_code == 401


def test_a_reset_link_expires_and_only_the_newest_matters_after_a_reset(
        stack: Stack, server: Server, admin: Client, sink: Sink) -> None:
    member = server.client().register()
    anon = server.client()
    subject = "Reset your Hearth password"
    assert anon.post("/api/account/password-reset", {"email": _email(member)}).status_code == 202
    first = _link(_mail(admin, sink, _email(member), subject), "reset")
    stack.advance(minutes=61)
    late = anon.post("/api/account/password-reset/confirm",
                     {"token": first, "password": "a brand new secret"})
    assert late.status_code == 422
    assert "expired" in late.json()["error"]["message"]
    assert server.client().login(member.member["handle"], PASSWORD).status_code == 200

    # Two fresh links: using one retires the other.
    assert anon.post("/api/account/password-reset", {"email": _email(member)}).status_code == 202
    second = _link(_mail(admin, sink, _email(member), subject, count=2), "reset")
    assert anon.post("/api/account/password-reset", {"email": _email(member)}).status_code == 202
    third = _link(_mail(admin, sink, _email(member), subject, count=3), "reset")
    assert anon.post("/api/account/password-reset/confirm",
                     {"token": third, "password": "a brand new secret"}).status_code == 204
    assert anon.post("/api/account/password-reset/confirm",
                     {"token": second, "password": "another new secret"}).status_code == 422


def test_mail_queued_before_a_crash_is_sent_once_whatever_is_replayed(
        stack: Stack, server: Server, admin: Client, sink: Sink) -> None:
    member = server.client().register()
    doomed = stack.start_server(env={"HEARTH_FAILPOINT": "after-commit"})
    # The answer comes before the link is made (as fast whether or not the account
    # exists): it may be out before the process dies, or not.
    with contextlib.suppress(httpx.HTTPError):
        answer = httpx.post(f"{doomed.url}/api/account/password-reset",
                            json={"email": _email(member)}, timeout=30)
        assert answer.status_code == 202, answer.text
    assert doomed.process.popen.wait(timeout=30) == 86, "the process must die at the failpoint"

    # Committed, never dispatched by the process that died: the sweep sends it.
    token = _link(_mail(admin, sink, _email(member), "Reset your Hearth password"), "reset")

    # Replay every event and handler, as a confused relay might: no mail goes twice.
    stack.sql("DELETE FROM handler_receipt")
    stack.sql("UPDATE outbox_event SET dispatched_at = NULL")
    assert "dispatched" in stack.run("relay-sweep").stdout
    assert len([m for m in _inbox(admin, sink, _email(member))
                if m.subject == "Reset your Hearth password"]) == 1
    assert server.client().post("/api/account/password-reset/confirm", {
        "token": token, "password": "a brand new secret"}).status_code == 204


def test_reset_requests_are_limited_per_address_and_per_email(stack: Stack) -> None:
    limited = stack.start_server(env={
        "HEARTH_PASSWORD_RESET_RATE_LIMIT": "2/3600", "HEARTH_TRUST_PROXY_HEADERS": "true",
        "HEARTH_REDIS_PREFIX": "t" + uuid.uuid4().hex[:10]})
    try:
        client = limited.client()

        def ask(email: str, ip: str) -> int:
            return client.post("/api/account/password-reset", {"email": email},
                               headers={"X-Forwarded-For": ip}).status_code

        first, second = f"a{uuid.uuid4().hex[:6]}@x.test", f"b{uuid.uuid4().hex[:6]}@x.test"
        assert [ask(first, "10.0.0.1"), ask(first, "10.0.0.1")] == [202, 202]
        # The same email from elsewhere, and another email from the same address.
        assert ask(first, "10.0.0.2") == 429
        blocked = client.post("/api/account/password-reset", {"email": second},
                              headers={"X-Forwarded-For": "10.0.0.1"})
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert ask(second, "10.0.0.3") == 202
    finally:
        limited.process.stop()


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(
        server: Server, admin: Client, sink: Sink) -> None:
    member = server.client().register()
    other_device = _signed_in(server, member.member["handle"])
    here, there = member.websocket(), other_device.websocket()
    for socket in (here, there):
        assert socket.subscribe(f"user:{member.member['id']}")["type"] == "subscribed"

    wrong = member.post("/api/me/password", {"current_password": "not my password",
                                             "new_password": "a brand new secret"})
    assert wrong.status_code == 403, wrong.text
    assert wrong.json()["error"]["details"][0]["key"] == "current_password"
    common = member.post("/api/me/password", {"current_password": PASSWORD,
                                              "new_password": "password123"})
    assert common.status_code == 422
    short = member.post("/api/me/password", {"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 400

    changed = member.post("/api/me/password", {"current_password": PASSWORD,
                                                "new_password": "a brand new secret"})
    assert changed.status_code == 204, changed.text
    assert member.get("/api/me").status_code == 200
    assert other_device.get("/api/me").status_code == 401
    with pytest.raises(ConnectionClosed):
        there.wait_for(lambda f: False, timeout=5)
    here.drain(1.0)  # the announcement reached it too, and it stays open
    here.send(op="ping")
    assert here.wait_for(lambda f: f["type"] == "pong")
    here.close()
    assert server.client().login(member.member["handle"], PASSWORD).status_code == 401
    assert server.client().login(member.member["handle"], "a brand new secret").status_code == 200
    _mail(admin, sink, _email(member), "Your Hearth password was changed")


def test_a_new_email_applies_only_once_its_link_is_used_and_the_old_one_is_told(
        stack: Stack, server: Server, admin: Client, sink: Sink) -> None:
    member = server.client().register()
    taken = server.client().register()
    old, new = _email(member), f"new-{uuid.uuid4().hex[:8]}@example.test"

    wrong = member.post("/api/me/email", {"password": "not my password", "email": new})
    assert wrong.status_code == 403
    clash = member.post("/api/me/email", {"password": PASSWORD, "email": _email(taken).upper()})
    assert clash.status_code == 409, clash.text
    same = member.post("/api/me/email", {"password": PASSWORD, "email": old})
    assert same.status_code == 422
    sneaky = member.post("/api/me/email", {"password": PASSWORD, "email": "a,b@example.test"})
    assert sneaky.status_code == 422

    asked = member.post("/api/me/email", {"password": PASSWORD, "email": new.upper()})
    assert asked.status_code == 202, asked.text
    assert asked.json() == {"email": new}
    token = _link(_mail(admin, sink, new, "Confirm your new Hearth email address"), "verify-email")
    assert member.get("/api/me").json()["email"] == old

    # Anyone holding the link confirms it: the password was checked when it was asked for.
    confirmed = server.client().post("/api/account/email/confirm", {"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"email": new}
    assert member.get("/api/me").json()["email"] == new
    notice = _mail(admin, sink, old, "Your Hearth email address was changed")
    assert new in notice.body
    assert server.client().login(new, PASSWORD).status_code == 200
    reused = server.client().post("/api/account/email/confirm", {"token": token})
    assert reused.status_code == 422
    assert "already been used" in reused.json()["error"]["message"]

    # A link not used in time changes nothing.
    newer = f"newer-{uuid.uuid4().hex[:8]}@example.test"
    assert member.post("/api/me/email", {"password": PASSWORD, "email": newer}).status_code == 202
    late = _link(_mail(admin, sink, newer, "Confirm your new Hearth email address"), "verify-email")
    stack.advance(hours=25)
    expired = server.client().post("/api/account/email/confirm", {"token": late})
    assert expired.status_code == 422
    assert "expired" in expired.json()["error"]["message"]
    assert member.get("/api/me").json()["email"] == new


def test_changing_the_password_or_signing_out_everywhere_voids_a_pending_email_change(
        server: Server, admin: Client, sink: Sink) -> None:
    for shut_out in ("password", "everywhere"):
        member = server.client().register()
        wanted = f"new-{uuid.uuid4().hex[:8]}@example.test"
        asked = member.post("/api/me/email", {"password": PASSWORD, "email": wanted})
        assert asked.status_code == 202, asked.text
        token = _link(_mail(admin, sink, wanted, "Confirm your new Hearth email address"),
                      "verify-email")
        if shut_out == "password":
            changed = member.post("/api/me/password", {"current_password": PASSWORD,
                                                       "new_password": "another long password"})
            assert changed.status_code == 204, changed.text
        else:
            assert member.post("/api/session/logout-all").status_code == 204
        late = server.client().post("/api/account/email/confirm", {"token": token})
        assert late.status_code == 422, late.text
        assert server.client().login(wanted, "another long password").status_code == 401


def test_an_address_taken_before_the_link_is_used_is_a_conflict(
        server: Server, admin: Client, sink: Sink) -> None:
    member = server.client().register()
    wanted = f"wanted-{uuid.uuid4().hex[:8]}@example.test"
    assert member.post("/api/me/email", {"password": PASSWORD, "email": wanted}).status_code == 202
    token = _link(_mail(admin, sink, wanted, "Confirm your new Hearth email address"), "verify-email")
    handle = "w" + uuid.uuid4().hex[:10]
    assert server.client().post("/api/register", {"handle": handle, "email": wanted,
                                                  "password": PASSWORD}).status_code == 201
    clash = server.client().post("/api/account/email/confirm", {"token": token})
    assert clash.status_code == 409, clash.text
    assert member.get("/api/me").json()["email"] == _email(member)


def test_signing_out_everywhere_ends_every_session_and_closes_live_sockets_at_once(
        server: Server) -> None:
    member = server.client().register()
    phone = _signed_in(server, member.member["handle"])
    socket = phone.websocket()
    assert socket.subscribe(f"user:{member.member['id']}")["type"] == "subscribed"

    no_csrf = member.http.post("/api/session/logout-all")
    assert no_csrf.status_code == 403
    done = member.post("/api/session/logout-all")
    assert done.status_code == 204, done.text
    assert member.get("/api/me").status_code == 401
    assert phone.get("/api/me").status_code == 401
    # Well before the periodic re-check (HEARTH_REALTIME_REAUTH_SECONDS, 30 s here).
    with pytest.raises(ConnectionClosed):
        socket.wait_for(lambda f: False, timeout=5)
    assert server.client().login(member.member["handle"], PASSWORD).status_code == 200


def test_api_tokens_never_reach_a_persons_account_routes(server: Server, admin: Client) -> None:
    brand = admin.post("/api/brands", {"name": "T", "slug": "t-" + uuid.uuid4().hex[:8]})
    assert brand.status_code == 201, brand.text
    created = admin.post(f"/api/brands/{brand.json()['id']}/tokens",
                         {"name": "crm", "scopes": ["read", "write"]})
    bot = server.client()
    bot.token = created.json()["secret"]
    calls = [
        ("POST", "/api/account/password-reset", {"email": "root@example.test"}),
        ("POST", "/api/account/password-reset/confirm", {"token": "x" * 43, "password": "x" * 12}),
        ("POST", "/api/me/password", {"current_password": "x", "new_password": "x" * 12}),
        ("POST", "/api/me/email", {"password": "x", "email": "bot@example.test"}),
        ("POST", "/api/account/email/confirm", {"token": "x" * 43}),
        ("POST", "/api/session/logout-all", None),
        ("GET", "/api/me/notification-preferences", None),
        ("PUT", "/api/me/notification-preferences", {"items": []}),
        ("GET", "/api/admin/mail", None),
    ]
    for method, path, body in calls:
        response = bot.request(method, path, json=body)
        assert response.status_code == 403, (path, response.text)
        assert "not a person" in response.json()["error"]["message"], path
    assert admin.get("/api/me").status_code == 200


def test_notification_preferences_choose_in_app_and_email_per_kind(
        server: Server, admin: Client, sink: Sink, category: dict) -> None:
    author = server.client().register()
    replier = server.client().register()
    defaults = author.get("/api/me/notification-preferences")
    assert defaults.status_code == 200, defaults.text
    by_kind = {i["kind"]: i for i in defaults.json()["items"]}
    assert by_kind["reply"]["in_app"] is True and by_kind["reply"]["email"] is False
    assert all(i["in_app"] and not i["email"] for i in by_kind.values())

    chosen = author.put("/api/me/notification-preferences", {"items": [
        {"kind": "reply", "in_app": False, "email": True},
        {"kind": "watched_thread", "in_app": True, "email": True},
    ]})
    assert chosen.status_code == 200, chosen.text
    now = {i["kind"]: (i["in_app"], i["email"]) for i in chosen.json()["items"]}
    assert now["reply"] == (False, True) and now["watched_thread"] == (True, True)
    assert now["reaction"] == (True, False)
    assert author.get("/api/me/notification-preferences").json() == chosen.json()
    bad = author.put("/api/me/notification-preferences", {"items": [{"kind": "../x"}]})
    assert bad.status_code == 400

    thread = author.post(f"/api/categories/{category['id']}/threads",
                         {"title": "Tell me by mail", "body": "hello"}).json()
    first_post = thread["post"]["id"]
    reply = replier.post(f"/api/threads/{thread['thread']['id']}/posts",
                         {"body": "a reply", "reply_to_post_id": first_post})
    assert reply.status_code == 201, reply.text
    reaction = replier.post(f"/api/posts/{first_post}/reactions", {"kind": "like"})
    assert reaction.status_code in (200, 201), reaction.text

    # The mail says what the notification says.
    mail = _mail(admin, sink, _email(author),
                 f"Hearth: @{replier.member['handle']} replied to your post in 'Tell me by mail'")
    assert "notification settings" in mail.body
    kinds = eventually(lambda: [n["kind"] for n in author.get("/api/notifications").json()["items"]]
                       or None)
    assert kinds == ["reaction"]
    assert [m.subject for m in _inbox(admin, sink, _email(author))] == [mail.subject]


def test_the_mail_page_is_for_admins_and_says_where_mail_goes(
        server: Server, admin: Client, member: Client, sink: Sink) -> None:
    assert member.get("/api/admin/mail").status_code == 403
    for _ in range(2):
        assert member.post("/api/account/password-reset",
                           {"email": _email(member)}).status_code == 202
    _mail(admin, sink, _email(member), "Reset your Hearth password", count=2)
    page = admin.get("/api/admin/mail", params={"limit": 1})
    assert page.status_code == 200, page.text
    body = page.json()
    if MODE == "scaled":
        assert body["backend"] == "smtp" and body["stored"] is False and body["items"] == []
        assert "SMTP" in body["detail"]
        assert admin.get("/api/admin/mail/20260101000000000000-abc").status_code == 404
        return
    assert body["backend"] == "eml" and body["stored"] is True
    # Pages follow each other, newest first.
    assert len(body["items"]) == 1 and body["next_cursor"] == body["items"][0]["id"]
    older = admin.get("/api/admin/mail", params={"limit": 1, "before": body["next_cursor"]})
    assert older.status_code == 200
    assert older.json()["items"][0]["id"] < body["items"][0]["id"]
    assert admin.get("/api/admin/mail/20260101000000000000-abc").status_code == 404
    assert admin.get("/api/admin/mail/..%2Fhearth.db").status_code in (400, 404)
    assert admin.get("/api/admin/mail", params={"before": "../x"}).status_code == 400


@pytest.mark.scaled_only
def test_mail_waits_out_an_smtp_server_that_is_down(
        stack: Stack, server: Server, admin: Client, sink: Sink) -> None:
    member = server.client().register()

    def waiting() -> list[tuple[Any, ...]]:
        return stack.sql("SELECT last_error FROM outbox_event "
                         "WHERE type = 'mail.queued' AND dispatched_at IS NULL")

    assert sink.controller is not None
    sink.controller.stop()
    try:
        asked = server.client().post("/api/account/password-reset", {"email": _email(member)})
        assert asked.status_code == 202
        stuck = eventually(lambda: [r for r in waiting() if r[0]])
        assert "mail.send" in stuck[0][0] and "Connection" in stuck[0][0], stuck
        assert _inbox(admin, sink, _email(member)) == []
    finally:
        sink.controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
        sink.controller.start()
    # Unreachable is no fault of the mail's: it is tried again every 2 seconds.
    _mail(admin, sink, _email(member), "Reset your Hearth password")
    eventually(lambda: waiting() == [])
