"""Sanctions: who may silence and suspend whom, the escalation ladder, what a silence
blocks, what a suspension ends (sessions, sign-in, open sockets), appeals, lifting, earning,
and the races: concurrent appeals and concurrent impositions."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.harness import Client, Server, Stack, eventually

PASSWORD = "correct horse battery"
DAY = 86_400


def _moderator(server: Server, admin: Client) -> Client:
    client = server.client().register()
    response = admin.put(f"/api/members/{client.member['id']}/role", {"role": "moderator"})
    assert response.status_code == 200, response.text
    return client


def _impose(by: Client, target: Client, **body: Any) -> Any:
    return by.post(f"/api/members/{target.member['id']}/sanctions",
                   {"reason": "Spamming links in every thread.", **body})


def _imposed(by: Client, target: Client, **body: Any) -> dict[str, Any]:
    response = _impose(by, target, **body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _length(sanction: dict[str, Any]) -> float:
    ends = dt.datetime.fromisoformat(sanction["ends_at"])
    starts = dt.datetime.fromisoformat(sanction["starts_at"])
    return (ends - starts).total_seconds()


def _error(response: Any) -> str:
    return str(response.json()["error"]["message"])


def _sanction_notices(client: Client) -> list[dict[str, Any]]:
    items = client.get("/api/notifications?limit=100").json()["items"]
    return [n for n in items if n["kind"] == "sanction"]


def test_who_may_sanction_whom(stack: Stack, server: Server, admin: Client, member: Client,
                               other: Client) -> None:
    moderator = _moderator(server, admin)
    colleague = _moderator(server, admin)
    slug = "b-" + uuid.uuid4().hex[:8]
    brand = admin.post("/api/brands", {"name": "Brand " + slug, "slug": slug}).json()
    staff = server.client().register()
    assert admin.put(f"/api/members/{staff.member['id']}/role",
                     {"role": "brand_staff", "brand_id": brand["id"]}).status_code == 200

    # Members and brand staff sanction nobody; an API token is not a person.
    assert _impose(other, member).status_code == 403
    assert _impose(staff, member).status_code == 403
    secret = staff.post(f"/api/brands/{brand['id']}/tokens",
                        {"name": "crm", "scopes": ["read", "write"]}).json()["secret"]
    token = server.client()
    token.token = secret
    assert _impose(token, member).status_code == 403

    # Moderators cannot sanction staff; nobody sanctions an admin or themselves.
    for target in (colleague, staff):
        refused = _impose(moderator, target)
        assert refused.status_code == 403 and "staff" in _error(refused), refused.text
    assert _impose(moderator, moderator).status_code == 403
    admin_self = admin.post(f"/api/members/{admin.member['id']}/sanctions",
                            {"reason": "testing"})
    assert admin_self.status_code == 403
    on_admin = _impose(moderator, admin)
    assert on_admin.status_code == 403 and "admins cannot" in _error(on_admin), on_admin.text

    # Bad input changes nothing.
    assert admin.post("/api/members/999999999/sanctions", {"reason": "x"}).status_code == 404
    short = _impose(moderator, member, kind="silence", duration_seconds=30)
    assert short.status_code == 422 and "duration_seconds" in _error(short), short.text
    assert _impose(moderator, member, kind="ban").status_code == 400
    assert _impose(moderator, member, reason="").status_code == 400
    assert moderator.get(f"/api/members/{member.member['id']}/sanctions").json() == []

    # An admin may sanction a moderator and brand staff; a moderator a member.
    assert _impose(admin, colleague, kind="silence", duration_seconds=3600).status_code == 201
    assert _impose(admin, staff, kind="silence", duration_seconds=3600).status_code == 201
    assert _impose(moderator, member, kind="silence", duration_seconds=3600).status_code == 201
    # Only moderators and admins read the lists.
    assert member.get("/api/sanctions").status_code == 403
    assert staff.get("/api/appeals").status_code == 403
    assert moderator.get("/api/appeals?status=overturned").status_code == 200
    assert moderator.get("/api/appeals?status=lost").status_code == 400
    listed = moderator.get(f"/api/sanctions?member_id={member.member['id']}").json()["items"]
    assert [s["kind"] for s in listed] == ["silence"]
    # Every imposition is in the staff log, with who, on whom and why.
    logged = stack.sql("SELECT actor_label, action, target_label, reason FROM staff_log "
                       f"WHERE target_type = 'member' AND target_id = '{member.member['id']}'")
    assert logged == [(f"@{moderator.member['handle']}", "member.silence",
                       f"@{member.member['handle']}", "Spamming links in every thread.")]


def test_the_ladder_escalates_and_an_active_sanction_is_not_doubled(
        server: Server, admin: Client, member: Client) -> None:
    moderator = _moderator(server, admin)
    expected = [("silence", DAY), ("silence", 3 * DAY), ("silence", 7 * DAY),
                ("suspend", 30 * DAY), ("suspend", 365 * DAY), ("suspend", 365 * DAY)]
    for step, (kind, seconds) in enumerate(expected, start=1):
        sanction = _imposed(moderator, member)
        assert (sanction["kind"], sanction["step"], _length(sanction)) == (kind, step, seconds)
        again = _impose(moderator, member, kind=kind)
        assert again.status_code == 409 and "already" in _error(again), again.text
        lifted = moderator.post(f"/api/sanctions/{sanction['id']}/lift",
                                {"reason": "Lifting to test the next step."})
        assert lifted.status_code == 200 and lifted.json()["active"] is False, lifted.text
        assert lifted.json()["lift_reason"] == "Lifting to test the next step."
        twice = moderator.post(f"/api/sanctions/{sanction['id']}/lift", {"reason": "again"})
        assert twice.status_code == 409
    # A kind or a duration given overrides the ladder's.
    chosen = _imposed(moderator, member, kind="silence", duration_seconds=600)
    assert (chosen["kind"], _length(chosen)) == ("silence", 600)


def test_a_silence_blocks_every_write_until_it_is_lifted_and_the_member_is_told(
        server: Server, admin: Client, member: Client, other: Client, category: dict) -> None:
    moderator = _moderator(server, admin)
    started = member.post(f"/api/categories/{category['id']}/threads",
                          {"title": "Before the silence", "body": "mine"}).json()
    thread_id, first_post = started["thread"]["id"], started["post"]["id"]
    answer = other.post(f"/api/threads/{thread_id}/posts", {"body": "an answer"}).json()

    sanction = _imposed(moderator, member, kind="silence", duration_seconds=2 * DAY,
                        reason="Insults in three threads.")
    writes = {
        "thread": member.post(f"/api/categories/{category['id']}/threads",
                              {"title": "While silenced", "body": "no"}),
        "reply": member.post(f"/api/threads/{thread_id}/posts", {"body": "no"}),
        "edit": member.patch(f"/api/posts/{first_post}", {"body": "changed"}),
        "title": member.patch(f"/api/threads/{thread_id}", {"title": "A new title here"}),
        "reaction": member.post(f"/api/posts/{answer['id']}/reactions", {"kind": "like"}),
        "helpful": member.put(f"/api/posts/{answer['id']}/helpful"),
    }
    for path, response in writes.items():
        assert response.status_code == 403, (path, response.text)
        message = _error(response)
        assert "silenced until" in message and "Insults in three threads." in message, message
    # Reading goes on; nothing was written.
    page = member.get(f"/api/threads/{thread_id}")
    assert page.status_code == 200
    assert [p["id"] for p in page.json()["items"]] == [first_post, answer["id"]]
    mine = member.get("/api/me/sanctions").json()
    assert [(s["id"], s["active"]) for s in mine] == [(sanction["id"], True)]
    told = eventually(lambda: _sanction_notices(member) or None)
    assert "silenced until" in told[0]["text"] and "Insults" in told[0]["text"]

    assert moderator.post(f"/api/sanctions/{sanction['id']}/lift",
                          {"reason": "Apologised."}).status_code == 200
    assert member.post(f"/api/threads/{thread_id}/posts", {"body": "thanks"}).status_code == 201
    assert member.post(f"/api/posts/{answer['id']}/reactions", {"kind": "like"}).status_code == 201
    eventually(lambda: any("lifted" in n["text"] for n in _sanction_notices(member)) or None)
    active = moderator.get("/api/sanctions?status=active").json()["items"]
    assert sanction["id"] not in [s["id"] for s in active]


def test_a_silence_ends_by_itself(stack: Stack, server: Server, admin: Client,
                                  member: Client, thread: dict) -> None:
    moderator = _moderator(server, admin)
    _imposed(moderator, member, kind="silence", duration_seconds=60)
    reply = f"/api/threads/{thread['thread']['id']}/posts"
    assert member.post(reply, {"body": "no"}).status_code == 403
    stack.advance(seconds=61)
    assert member.post(reply, {"body": "yes"}).status_code == 201
    assert member.get("/api/me/sanctions").json()[0]["active"] is False


def test_a_suspension_ends_sessions_and_sockets_at_once_and_refuses_sign_in(
        server: Server, admin: Client) -> None:
    moderator = _moderator(server, admin)
    member = server.client().register()
    elsewhere = server.client()
    assert elsewhere.login(member.member["handle"], PASSWORD).status_code == 200
    socket = member.websocket()
    assert socket.subscribe(f"user:{member.member['id']}")["type"] == "subscribed"

    sanction = _imposed(moderator, member, kind="suspend", duration_seconds=3 * DAY,
                        reason="Threats against another member.")
    began = time.monotonic()
    with pytest.raises(ConnectionClosed) as closed:
        socket.wait_for(lambda f: False, timeout=5)
    assert time.monotonic() - began < 1.0
    # 4008: the server closed it because its session ended (server.realtime).
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008, closed.value
    assert member.get("/api/me").status_code == 401
    assert elsewhere.get("/api/me").status_code == 401

    refused = server.client().login(member.member["handle"], PASSWORD)
    assert refused.status_code == 403, refused.text
    message = _error(refused)
    assert "suspended until" in message and "Threats against another member." in message

    assert moderator.post(f"/api/sanctions/{sanction['id']}/lift",
                          {"reason": "Reviewed: it was a joke."}).status_code == 200
    back = server.client()
    assert back.login(member.member["handle"], PASSWORD).status_code == 200
    notices = eventually(lambda: len(_sanction_notices(back)) >= 2 and _sanction_notices(back))
    assert any("suspended until" in n["text"] for n in notices)


def test_a_suspended_staff_members_api_token_carries_on(server: Server, admin: Client) -> None:
    slug = "t-" + uuid.uuid4().hex[:8]
    brand = admin.post("/api/brands", {"name": "Brand " + slug, "slug": slug}).json()
    staff = server.client().register()
    assert admin.put(f"/api/members/{staff.member['id']}/role",
                     {"role": "brand_staff", "brand_id": brand["id"]}).status_code == 200
    secret = staff.post(f"/api/brands/{brand['id']}/tokens",
                        {"name": "crm", "scopes": ["read"]}).json()["secret"]
    _imposed(admin, staff, kind="suspend", duration_seconds=DAY)
    assert staff.get("/api/me").status_code == 401
    token = server.client()
    token.token = secret
    assert token.get(f"/api/brands/{brand['id']}/tokens").status_code == 200


def test_one_appeal_decided_by_another_moderator(server: Server, admin: Client,
                                                 member: Client, other: Client,
                                                 thread: dict) -> None:
    imposer = _moderator(server, admin)
    judge = _moderator(server, admin)
    sanction = _imposed(imposer, member, kind="silence", duration_seconds=DAY)

    assert other.post(f"/api/sanctions/{sanction['id']}/appeal",
                      {"text": "not mine"}).status_code == 404
    appealed = member.post(f"/api/sanctions/{sanction['id']}/appeal",
                           {"text": "I quoted the spam to report it."})
    assert appealed.status_code == 201, appealed.text
    appeal = appealed.json()
    assert appeal["status"] == "open" and appeal["imposed_by_handle"] == imposer.member["handle"]
    second = member.post(f"/api/sanctions/{sanction['id']}/appeal", {"text": "again"})
    assert second.status_code == 409

    listed = judge.get("/api/appeals").json()["items"]
    assert appeal["id"] in [a["id"] for a in listed]
    assert member.post(f"/api/appeals/{appeal['id']}/decide",
                       {"decision": "overturned", "reason": "me"}).status_code == 403
    own = imposer.post(f"/api/appeals/{appeal['id']}/decide",
                       {"decision": "upheld", "reason": "I stand by it."})
    assert own.status_code == 403 and "other than" in _error(own), own.text
    decided = judge.post(f"/api/appeals/{appeal['id']}/decide",
                         {"decision": "overturned", "reason": "The quote was a report."})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "overturned"
    assert decided.json()["decided_by_handle"] == judge.member["handle"]
    again = admin.post(f"/api/appeals/{appeal['id']}/decide",
                       {"decision": "upheld", "reason": "late"})
    assert again.status_code == 409

    # Overturned: lifted, and it does not count toward the ladder.
    assert member.post(f"/api/threads/{thread['thread']['id']}/posts",
                       {"body": "free again"}).status_code == 201
    mine = member.get("/api/me/sanctions").json()[0]
    assert mine["active"] is False and mine["appeal"]["status"] == "overturned"
    assert _imposed(imposer, member)["step"] == 1
    eventually(lambda: any("appeal succeeded" in n["text"]
                           for n in _sanction_notices(member)) or None)


def test_two_appeals_at_once_one_wins(server: Server, admin: Client, member: Client) -> None:
    moderator = _moderator(server, admin)
    sanction = _imposed(moderator, member, kind="silence", duration_seconds=DAY)
    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(
            lambda n: member.post(f"/api/sanctions/{sanction['id']}/appeal",
                                  {"text": f"appeal {n}"}).status_code, range(4)))
    assert statuses == [201, 409, 409, 409]


def test_concurrent_impositions_on_one_member_stay_consistent(
        server: Server, admin: Client, member: Client) -> None:
    moderators = [_moderator(server, admin) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda m: _impose(m, member, kind="silence"), moderators))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409], [r.text for r in responses]
    sanctions = moderators[0].get(f"/api/members/{member.member['id']}/sanctions").json()
    assert [(s["step"], s["active"]) for s in sanctions] == [(1, True)]


def _awarded(stack: Stack, post_id: int, kind: str) -> None:
    """Wait until the rules have handled the reaction of this kind to this post."""
    statement = ("SELECT COUNT(*) FROM handler_receipt h JOIN outbox_event e ON e.id = h.event_id "
                 "WHERE h.handler = 'rules.award' AND e.type = 'reaction.added' "
                 f"AND e.payload LIKE '%\"post_id\":{int(post_id)},%' "
                 f"AND e.payload LIKE '%\"kind\":\"{kind}\"%'")
    eventually(lambda: int(stack.sql(statement)[0][0]) == 1 or None)


def test_a_silenced_member_earns_nothing_while_silenced(
        stack: Stack, server: Server, admin: Client, member: Client, other: Client,
        category: dict) -> None:
    rule = admin.post("/api/gamification/rules", {
        "name": "Reactions in " + category["slug"], "event_types": ["reaction.added"],
        "points": 5, "category_id": category["id"]})
    assert rule.status_code == 201, rule.text
    moderator = _moderator(server, admin)
    post_id = member.post(f"/api/categories/{category['id']}/threads",
                          {"title": "Worth reacting to", "body": "hi"}).json()["post"]["id"]

    sanction = _imposed(moderator, member, kind="silence", duration_seconds=DAY)
    assert other.post(f"/api/posts/{post_id}/reactions", {"kind": "like"}).status_code == 201
    _awarded(stack, post_id, "like")
    assert member.get("/api/me/points").json()["balance"] == 0

    assert moderator.post(f"/api/sanctions/{sanction['id']}/lift",
                          {"reason": "Served."}).status_code == 200
    assert other.post(f"/api/posts/{post_id}/reactions", {"kind": "love"}).status_code == 201
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 5 or None)
