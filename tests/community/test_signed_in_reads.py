"""Signed-in thread pages come from the shared page cache plus a per-member overlay, and reads
write nothing: none of that may change what a member sees. Their own reactions, edits and
deletions show on their next read in any server process; unread counts follow their reads;
permissions follow role changes; signing out leaves them an anonymous reader."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness import MODE, Client, Server, Stack, eventually


@pytest.fixture(scope="module")
def elsewhere(stack: Stack, server: Server) -> Iterator[Server]:
    """Another server process of the stack (scaled mode); embedded mode has one process."""
    if MODE != "scaled":
        yield server
        return
    second = stack.start_server()
    yield second
    second.process.stop()


def _thread(client: Client, category: dict, replies: int) -> tuple[int, list[dict]]:
    created = client.post(f"/api/categories/{category['id']}/threads",
                          {"title": "Overlay test", "body": "first"})
    assert created.status_code == 201, created.text
    thread_id = created.json()["thread"]["id"]
    posts = [created.json()["post"]]
    for i in range(replies):
        reply = client.post(f"/api/threads/{thread_id}/posts", {"body": f"reply {i}"})
        assert reply.status_code == 201, reply.text
        posts.append(reply.json())
    return thread_id, posts


def _page(client: Client, thread_id: int, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/threads/{thread_id}{query}")
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _post(page: dict[str, Any], post_id: int) -> dict[str, Any] | None:
    return next((p for p in page["items"] if p["id"] == post_id), None)


def _unread(client: Client, category: dict, thread_id: int) -> int:
    items = client.get(f"/api/categories/{category['id']}/threads?limit=100").json()["items"]
    count: int = next(t["unread_count"] for t in items if t["id"] == thread_id)
    return count


def test_own_reactions_edits_and_deletions_show_on_the_next_read_in_any_process(
        member: Client, other: Client, category: dict, elsewhere: Server) -> None:
    thread_id, posts = _thread(other, category, 3)
    there = member.on(elsewhere)
    # Both processes cache the page first.
    assert _post(_page(member, thread_id), posts[1]["id"])["my_reactions"] == []  # type: ignore[index]
    assert _post(_page(there, thread_id), posts[1]["id"])["my_reactions"] == []  # type: ignore[index]

    assert member.post(f"/api/posts/{posts[1]['id']}/reactions", {"kind": "like"}).status_code == 201
    seen = _post(_page(there, thread_id), posts[1]["id"])
    assert seen is not None
    assert seen["my_reactions"] == ["like"] and seen["reactions"] == {"like": 1}
    # Another member's page shows the count, not the reaction as theirs.
    theirs = _post(_page(other.on(elsewhere), thread_id), posts[1]["id"])
    assert theirs is not None and theirs["reactions"] == {"like": 1} and theirs["my_reactions"] == []

    mine = member.post(f"/api/threads/{thread_id}/posts", {"body": "my first words"}).json()
    assert _post(_page(there, thread_id), mine["id"])["raw"] == "my first words"  # type: ignore[index]
    edited = member.patch(f"/api/posts/{mine['id']}", {"body": "my second thoughts"})
    assert edited.status_code == 200, edited.text
    page = _page(there, thread_id)
    assert _post(page, mine["id"])["raw"] == "my second thoughts"  # type: ignore[index]
    assert page["viewer"]["editable_post_ids"] == [mine["id"]]

    assert member.delete(f"/api/posts/{posts[1]['id']}/reactions/like").status_code == 200
    assert member.delete(f"/api/posts/{mine['id']}").status_code == 204
    page = _page(there, thread_id)
    assert _post(page, mine["id"]) is None
    assert _post(page, posts[1]["id"])["my_reactions"] == []  # type: ignore[index]
    assert _post(page, posts[1]["id"])["reactions"] == {}  # type: ignore[index]
    assert page["thread"]["post_count"] == 4


def test_unread_counts_follow_reads_and_deletions_in_every_process(
        member: Client, other: Client, category: dict, elsewhere: Server) -> None:
    thread_id, posts = _thread(other, category, 4)
    there = member.on(elsewhere)
    assert _unread(member, category, thread_id) == 5
    first_page = _page(member, thread_id, "?limit=2")
    assert first_page["thread"]["unread_count"] == 3
    assert first_page["viewer"]["last_read_post_number"] == 2
    # This process knows at once; another once the mark is written (about a second).
    assert _unread(member, category, thread_id) == 3
    eventually(lambda: _unread(there, category, thread_id) == 3 or None, timeout=10)

    assert other.delete(f"/api/posts/{posts[3]['id']}").status_code == 204
    assert _unread(member, category, thread_id) == 2
    assert _unread(there, category, thread_id) == 2
    # Reading on is marked where it happened; rereading the start moves nothing back.
    assert _page(there, thread_id, "?after=2")["thread"]["unread_count"] == 0
    assert _page(there, thread_id, "?limit=1")["thread"]["unread_count"] == 0
    assert _unread(there, category, thread_id) == 0
    eventually(lambda: _unread(member, category, thread_id) == 0 or None, timeout=10)

    other.post(f"/api/threads/{thread_id}/posts", {"body": "news"})
    assert _unread(member, category, thread_id) == 1
    assert _unread(there, category, thread_id) == 1
    assert _unread(other, category, thread_id) == 0


def test_what_a_member_may_do_follows_role_changes_and_locks(
        admin: Client, member: Client, other: Client, category: dict, elsewhere: Server) -> None:
    thread_id, posts = _thread(other, category, 1)
    there = member.on(elsewhere)
    viewer = _page(there, thread_id)["viewer"]
    assert viewer["member_id"] == member.member["id"]
    assert viewer["can_reply"] is True and viewer["can_moderate"] is False
    assert viewer["editable_post_ids"] == [] and viewer["deletable_post_ids"] == []

    promoted = admin.put(f"/api/members/{member.member['id']}/role", {"role": "moderator"})
    assert promoted.status_code == 200, promoted.text
    every = [p["id"] for p in posts]
    eventually(lambda: _page(there, thread_id)["viewer"]["editable_post_ids"] == every or None,
               timeout=10)
    assert _page(there, thread_id)["viewer"]["can_moderate"] is True

    assert member.patch(f"/api/threads/{thread_id}", {"locked": True}).status_code == 200
    assert _page(other.on(elsewhere), thread_id)["viewer"]["can_reply"] is False
    assert _page(other.on(elsewhere), thread_id)["viewer"]["editable_post_ids"] == []
    assert _page(there, thread_id)["viewer"]["can_reply"] is True

    demoted = admin.put(f"/api/members/{member.member['id']}/role", {"role": "member"})
    assert demoted.status_code == 200, demoted.text
    eventually(lambda: _page(there, thread_id)["viewer"]["can_moderate"] is False or None,
               timeout=10)
    assert _page(there, thread_id)["viewer"]["can_reply"] is False


def test_a_member_who_signs_out_reads_as_anonymous(
        server: Server, category: dict, elsewhere: Server) -> None:
    reader = server.client().register()
    thread_id, _ = _thread(reader, category, 1)
    there = reader.on(elsewhere)
    assert _page(there, thread_id)["viewer"]["member_id"] == reader.member["id"]
    assert reader.post("/api/session/logout").status_code == 204
    page = _page(reader, thread_id)
    assert page["viewer"] is None and page["thread"]["unread_count"] is None
    eventually(lambda: _page(there, thread_id)["viewer"] is None or None, timeout=10)


def _sequences(stack: Stack) -> list[tuple[Any, ...]]:
    """Every id sequence's position: PostgreSQL's sequences, or SQLite's rowids per table."""
    if MODE == "scaled":
        return stack.sql("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")
    tables = [r[0] for r in stack.sql("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE '%WITHOUT ROWID%'")]
    return [(t, stack.sql(f"SELECT MAX(rowid) FROM {t}")[0][0]) for t in sorted(tables)]


def _mark(stack: Stack, member_id: int, thread_id: int) -> int | None:
    rows = stack.sql(f"SELECT last_read_post_number FROM forum_read_mark "
                     f"WHERE member = {member_id} AND thread = {thread_id}")
    return int(rows[0][0]) if rows else None


def test_repeated_reads_write_nothing_and_move_no_sequence(
        stack: Stack, member: Client, other: Client, category: dict) -> None:
    thread_id, _ = _thread(other, category, 2)
    barrier_id, _ = _thread(other, category, 4)
    # The first read moves the mark (written within about a second) and counts the visit.
    _page(member, thread_id)
    eventually(lambda: _mark(stack, member.member["id"], thread_id) == 3 or None, timeout=10)
    before = _sequences(stack)

    for _ in range(20):
        assert _page(member, thread_id)["thread"]["unread_count"] == 0
        _page(member, thread_id, "?limit=1")
        _unread(member, category, thread_id)
        assert member.get("/api/me").status_code == 200
    # A mark that does move is written with anything else buffered: once it is in the
    # database, so would any write the reads above had queued.
    _page(member, barrier_id)
    eventually(lambda: _mark(stack, member.member["id"], barrier_id) == 5 or None, timeout=10)
    assert _sequences(stack) == before
    assert _mark(stack, member.member["id"], thread_id) == 3


def test_an_authors_new_name_reaches_members_reading_a_cached_page(
        member: Client, other: Client, category: dict, elsewhere: Server) -> None:
    thread_id, _ = _thread(other, category, 1)
    there = member.on(elsewhere)
    assert _page(there, thread_id)["items"][0]["author"]["display_name"] == other.member["handle"]
    renamed = other.patch("/api/me", {"display_name": "Renamed Author"})
    assert renamed.status_code == 200, renamed.text
    # Names are not versioned with the thread: the page is renewed behind the reads after
    # SHARED_PAGE_SECONDS (10).
    eventually(lambda: _page(there, thread_id)["items"][0]["author"]["display_name"]
               == "Renamed Author" or None, timeout=20)


def test_an_api_token_reads_pages_with_nothing_of_a_persons(
        admin: Client, server: Server, member: Client, category: dict) -> None:
    """A token is a brand's integration, not its creator: no read mark, reactions or
    permissions of anyone's, and its reads mark nothing read for the admin who made it."""
    thread_id, posts = _thread(member, category, 1)
    assert admin.post(f"/api/posts/{posts[1]['id']}/reactions", {"kind": "like"}).status_code == 201
    brand = admin.post("/api/brands", {"name": "Pages", "slug": "pg-" + uuid.uuid4().hex[:6]})
    secret = admin.post(f"/api/brands/{brand.json()['id']}/tokens",
                        {"name": "crm", "scopes": ["read"]}).json()["secret"]
    integration = Client(server)
    integration.token = secret
    page = _page(integration, thread_id)
    assert page["viewer"] is None and page["thread"]["unread_count"] is None
    assert [p["my_reactions"] for p in page["items"]] == [[], []]
    assert page["items"][1]["reactions"] == {"like": 1}
    assert _unread(admin, category, thread_id) == 2
