"""Watched words through the API: who may manage the list, what each change does (and logs),
what bad patterns are told, the "try a text" box, and profiles screened by the list.

The list is shared by every test of the stack: each test watches words of its own, made up
so that nothing else writes them, and takes them off the list when it ends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.harness import Client, Server, Stack

Watch = Callable[..., dict[str, Any]]


def made_up() -> str:
    """A word nobody else's test writes."""
    return "zq" + uuid.uuid4().hex[:8]


@pytest.fixture
def watch(moderator: Client) -> Iterator[Watch]:
    """Add an entry as the moderator; every entry added is removed after the test."""
    added: list[int] = []

    def add(pattern: str, action: str, replacement: str = "") -> dict[str, Any]:
        response = moderator.post("/api/watched-words", {"pattern": pattern, "action": action,
                                                         "replacement": replacement})
        assert response.status_code == 201, response.text
        added.append(response.json()["id"])
        return response.json()  # type: ignore[no-any-return]

    yield add
    for entry_id in added:
        assert moderator.delete(f"/api/watched-words/{entry_id}").status_code in (204, 404)


def _log(stack: Stack, entry_id: int, word: str) -> list[tuple[Any, ...]]:
    # By id and word: SQLite may hand a deleted entry's id to the next one.
    return stack.sql("SELECT action, actor_label, target_label FROM staff_log "
                     f"WHERE target_type = 'watched_word' AND target_id = '{entry_id}' "
                     f"AND target_label LIKE '%{word}%' ORDER BY id")


def test_moderators_and_admins_manage_the_list_and_each_change_is_logged(
        moderator: Client, admin: Client, stack: Stack) -> None:
    word = made_up()
    created = moderator.post("/api/watched-words", {"pattern": f"  {word.upper()}* ",
                                                    "action": "flag"})
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["pattern"], entry["action"], entry["replacement"]) == (f"{word}*", "flag", "")
    assert entry["created_by_id"] == moderator.member["id"]
    assert entry in admin.get("/api/watched-words").json()

    changed = admin.patch(f"/api/watched-words/{entry['id']}",
                          {"action": "replace", "replacement": "[removed]"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["action"], changed.json()["replacement"]) == ("replace", "[removed]")
    assert moderator.delete(f"/api/watched-words/{entry['id']}").status_code == 204
    assert entry["id"] not in [e["id"] for e in admin.get("/api/watched-words").json()]
    assert admin.delete(f"/api/watched-words/{entry['id']}").status_code == 404

    handle, root = moderator.member["handle"], admin.member["handle"]
    label = f"watched word '{word}*'"
    assert [tuple(row) for row in _log(stack, entry["id"], word)] == [
        ("watched_word.create", f"@{handle}", label),
        ("watched_word.update", f"@{root}", label),
        ("watched_word.delete", f"@{handle}", label),
    ]


def test_members_brand_staff_anonymous_visitors_and_api_tokens_may_not(
        server: Server, admin: Client, member: Client, anon: Client) -> None:
    brand = admin.post("/api/brands", {"name": "W", "slug": "w-" + uuid.uuid4().hex[:8]}).json()
    staff = server.client().register()
    assert admin.put(f"/api/members/{staff.member['id']}/role",
                     {"role": "brand_staff", "brand_id": brand["id"]}).status_code == 200
    bot = server.client()
    bot.token = admin.post(f"/api/brands/{brand['id']}/tokens",
                           {"name": "sync", "scopes": ["read", "write"]}).json()["secret"]
    entry = admin.post("/api/watched-words", {"pattern": made_up(), "action": "block"}).json()
    try:
        calls: list[tuple[str, str, Any]] = [
            ("GET", "/api/watched-words", None),
            ("POST", "/api/watched-words", {"pattern": made_up(), "action": "block"}),
            ("PATCH", f"/api/watched-words/{entry['id']}", {"action": "flag"}),
            ("DELETE", f"/api/watched-words/{entry['id']}", None),
            ("POST", "/api/watched-words/test", {"text": "hello"}),
        ]
        for who, expected in ((member, 403), (staff, 403), (bot, 403), (anon, 401)):
            for method, path, body in calls:
                response = who.request(method, path, json=body)
                assert response.status_code == expected, (method, path, response.text)
        assert entry in admin.get("/api/watched-words").json()
    finally:
        admin.delete(f"/api/watched-words/{entry['id']}")


BAD_ENTRIES = [
    ({"pattern": "*", "action": "block"}, "too broad"),
    ({"pattern": "!!!", "action": "block"}, "no letters or digits"),
    ({"pattern": "a*", "action": "block"}, "too broad"),
    ({"pattern": "*ab*", "action": "flag"}, "too broad"),
    ({"pattern": "x", "action": "block"}, "too broad"),
    ({"pattern": "a" * 150, "action": "block"}, "characters long"),
    ({"pattern": "fine words", "action": "replace"}, "needs the replacement"),
    ({"pattern": "fine words", "action": "block", "replacement": "x"}, "only 'replace'"),
    ({"pattern": "fine words", "action": "shout"}, "action"),
]


def test_bad_entries_are_a_422_saying_why_and_change_nothing(moderator: Client) -> None:
    before = moderator.get("/api/watched-words").json()
    for body, says in BAD_ENTRIES:
        response = moderator.post("/api/watched-words", body)
        assert response.status_code in (400, 422), response.text
        error = response.json()["error"]
        assert says in error["message"] + str(error["details"]), (body, error)
    assert moderator.get("/api/watched-words").json() == before


def test_the_same_pattern_twice_is_a_409(moderator: Client, watch: Watch) -> None:
    word = made_up()
    first = watch(f"{word} now", "hold")
    again = moderator.post("/api/watched-words", {"pattern": f"{word.upper()}   NOW",
                                                  "action": "flag"})
    assert again.status_code == 409, again.text
    assert "on the list already" in again.json()["error"]["message"]
    other = watch(made_up(), "flag")
    clash = moderator.patch(f"/api/watched-words/{other['id']}", {"pattern": f"{word} now"})
    assert clash.status_code == 409, clash.text
    listed = {e["id"]: e for e in moderator.get("/api/watched-words").json()}
    assert (listed[first["id"]], listed[other["id"]]) == (first, other)


def test_trying_a_text_shows_the_action_the_matches_and_the_replaced_text(
        moderator: Client, watch: Watch) -> None:
    rude, bad = made_up(), made_up()
    watch(rude, "replace", "[nice]")
    watch(f"{bad}*", "hold")
    tried = moderator.post("/api/watched-words/test",
                           {"text": f"{rude.upper()}, and {bad}ly so. {rude}!"})
    assert tried.status_code == 200, tried.text
    assert tried.json() == {"action": "hold", "matches": [f"{bad}ly", rude.upper(), rude],
                            "text": f"[nice], and {bad}ly so. [nice]!"}
    clean = moderator.post("/api/watched-words/test", {"text": "all fine"}).json()
    assert clean == {"action": None, "matches": [], "text": "all fine"}


def test_profiles_are_screened_block_replace_and_flag(
        member: Client, watch: Watch, stack: Stack) -> None:
    blocked, rude, dodgy = made_up(), made_up(), made_up()
    watch(blocked, "block")
    watch(rude, "replace", "***")
    watch(dodgy, "hold")

    refused = member.patch("/api/me", {"display_name": f"Mr {blocked}", "bio": "hi"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"] == (
        f"your display name contains '{blocked}', which is not allowed here")
    me = member.get("/api/me").json()["member"]
    assert (me["display_name"], me["bio"]) == (member.member["display_name"], "")

    replaced = member.patch("/api/me", {"bio": f"I am {rude}."})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["bio"] == "I am ***."

    flagged = member.patch("/api/me", {"bio": f"ask me about {dodgy}"})
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["bio"] == f"ask me about {dodgy}"
    payloads = [row[0] for row in stack.sql(
        "SELECT payload FROM outbox_event WHERE type = 'content.auto_flagged' "
        f"AND payload LIKE '%{dodgy}%'")]
    assert len(payloads) == 1
    assert '"target_type":"profile"' in payloads[0]
    assert f'"target_id":{member.member["id"]}' in payloads[0]
    assert f"watched word '{dodgy}' in the bio" in payloads[0]


def test_a_new_accounts_display_name_is_screened_too(server: Server, watch: Watch) -> None:
    blocked, rude = made_up(), made_up()
    watch(blocked, "block")
    watch(rude, "replace", "friend")
    handle = "u" + uuid.uuid4().hex[:10]
    refused = server.client().post("/api/register", {
        "handle": handle, "email": f"{handle}@example.test", "password": "correct horse battery",
        "display_name": f"{blocked} fan"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"] == (
        f"your display name contains '{blocked}', which is not allowed here")
    assert server.client().get(f"/api/profiles/{handle}").status_code == 404
    made = server.client().post("/api/register", {
        "handle": handle, "email": f"{handle}@example.test", "password": "correct horse battery",
        "display_name": f"Hello {rude}"})
    assert made.status_code == 201, made.text
    assert made.json()["member"]["display_name"] == "Hello friend"
