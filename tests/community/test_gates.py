"""What a post must pass: watched words on titles and posts (block, replace, hold, flag; new
and edited), and the new-member limits on a server whose HEARTH_NEW_MEMBER_* settings are
set (threads and replies a day, links and images a post, held first posts), concurrent
posts at the limit included. Staff are never gated.

The watched-words list is shared by the whole stack: each test watches made-up words of its
own and removes them when it ends."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.community.support import new_thread, reply
from tests.harness import Client, Server, Stack

Watch = Callable[..., dict[str, Any]]


def made_up() -> str:
    return "zq" + uuid.uuid4().hex[:8]


@pytest.fixture
def watch(moderator: Client) -> Iterator[Watch]:
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


def auto_flags(stack: Stack, target_type: str, target_id: int) -> list[str]:
    """The payloads of content.auto_flagged events about the target."""
    rows = stack.sql("SELECT payload FROM outbox_event WHERE type = 'content.auto_flagged' "
                     f"AND payload LIKE '%\"target_type\":\"{target_type}\",\"target_id\":"
                     f"{int(target_id)},%'")
    return [row[0] for row in rows]


def thread_count(stack: Stack, author_id: int) -> int:
    return int(stack.sql(f"SELECT COUNT(*) FROM forum_thread WHERE author = {author_id}")[0][0])


# --- watched words -------------------------------------------------------------------------


def test_a_blocked_word_refuses_the_thread_reply_and_edit_naming_the_word(
        member: Client, category: dict, watch: Watch, stack: Stack) -> None:
    word = made_up()
    watch(word, "block")
    titled = member.post(f"/api/categories/{category['id']}/threads",
                         {"title": f"All about {word.upper()}", "body": "fine"})
    assert titled.status_code == 422, titled.text
    assert titled.json()["error"]["message"] == (
        f"your title contains '{word.upper()}', which is not allowed here")
    bodied = member.post(f"/api/categories/{category['id']}/threads",
                         {"title": "A fine title", "body": f"see {word}!"})
    assert bodied.status_code == 422, bodied.text
    assert bodied.json()["error"]["message"] == (
        f"your post contains '{word}', which is not allowed here")
    assert thread_count(stack, member.member["id"]) == 0

    thread = new_thread(member, category["id"], title="Clean thread", body="clean")
    refused = member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": word})
    assert refused.status_code == 422, refused.text
    edited = member.patch(f"/api/posts/{thread['post']['id']}", {"body": f"now {word}"})
    assert edited.status_code == 422, edited.text
    retitled = member.patch(f"/api/threads/{thread['thread']['id']}", {"title": f"{word} here"})
    assert retitled.status_code == 422, retitled.text
    page = member.get(f"/api/threads/{thread['thread']['id']}").json()
    assert page["thread"]["title"] == "Clean thread"
    assert [(p["raw"], p["revision"]) for p in page["items"]] == [("clean", 1)]


def test_replaced_words_are_stored_replaced_in_titles_posts_and_edits(
        member: Client, category: dict, watch: Watch) -> None:
    rude = made_up()
    watch(f"{rude}*", "replace", "[oops]")
    created = new_thread(member, category["id"], title=f"Why {rude}s", body=f"{rude.upper()}!")
    assert created["thread"]["title"] == "Why [oops]"
    assert created["post"]["raw"] == "[oops]!"
    answer = reply(member, created["thread"]["id"], body=f"a {rude}ing reply")
    assert answer["raw"] == "a [oops] reply"
    edited = member.patch(f"/api/posts/{answer['id']}", {"body": f"edited {rude}"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["raw"] == "edited [oops]"
    assert "<p>edited [oops]</p>" in edited.json()["html"]


def test_a_flagged_word_lets_the_post_through_and_flags_it_for_review(
        member: Client, category: dict, watch: Watch, stack: Stack) -> None:
    word, held = made_up(), made_up()
    watch(word, "flag")
    watch(held, "hold")
    created = new_thread(member, category["id"], title=f"On {word}", body=f"more {word}")
    thread_id, post_id = created["thread"]["id"], created["post"]["id"]
    assert created["post"]["raw"] == f"more {word}"
    [title_flag] = auto_flags(stack, "thread", thread_id)
    [body_flag] = auto_flags(stack, "post", post_id)
    assert f"watched word '{word}'" in title_flag and f"watched word '{word}'" in body_flag
    assert f'"author_id":{member.member["id"]}' in body_flag

    # An edit is out already: a word set to hold flags it instead.
    answer = reply(member, thread_id, body="innocent")
    edited = member.patch(f"/api/posts/{answer['id']}", {"body": f"now {held}"})
    assert edited.status_code == 200, edited.text
    [edit_flag] = auto_flags(stack, "post", answer["id"])
    assert f"watched word '{held}'" in edit_flag
    assert any(p["id"] == answer["id"] for p in member.get(f"/api/threads/{thread_id}").json()["items"])


def test_staff_posts_are_screened_for_blocked_and_replaced_words_but_never_flagged(
        moderator: Client, category: dict, watch: Watch, stack: Stack) -> None:
    blocked, rude, flagged = made_up(), made_up(), made_up()
    watch(blocked, "block")
    watch(rude, "replace", "*")
    watch(flagged, "flag")
    refused = moderator.post(f"/api/categories/{category['id']}/threads",
                             {"title": "Staff notice", "body": blocked})
    assert refused.status_code == 422, refused.text
    created = new_thread(moderator, category["id"], title="Staff notice",
                         body=f"{rude} {flagged}")
    assert created["post"]["raw"] == f"* {flagged}"
    assert auto_flags(stack, "post", created["post"]["id"]) == []


# --- new-member limits ---------------------------------------------------------------------

LIMITS = {"HEARTH_NEW_MEMBER_HOURS": "1", "HEARTH_NEW_MEMBER_THREADS_PER_DAY": "1",
          "HEARTH_NEW_MEMBER_REPLIES_PER_DAY": "2", "HEARTH_NEW_MEMBER_LINKS_PER_POST": "1",
          "HEARTH_NEW_MEMBER_IMAGES_PER_POST": "0"}


@pytest.fixture(scope="module")
def gated(stack: Stack, server: Server) -> Iterator[Server]:
    """A server of the stack with new-member limits set."""
    limited = stack.start_server(env=LIMITS)
    yield limited
    limited.process.stop()


def test_a_new_member_gets_one_thread_a_day_and_then_a_429_saying_when(
        gated: Server, category: dict) -> None:
    newcomer = gated.client().register()
    new_thread(newcomer, category["id"], title="My first thread")
    second = newcomer.post(f"/api/categories/{category['id']}/threads",
                           {"title": "My second thread", "body": "again"})
    assert second.status_code == 429, second.text
    message = second.json()["error"]["message"]
    assert message.startswith("while your account is new you may write 1 thread a day; "
                              "you can write more after 00:00 UTC, in "), message
    assert 0 < int(second.headers["retry-after"]) <= 86400


def test_replies_a_day_hold_under_concurrent_requests(
        gated: Server, category: dict, member: Client) -> None:
    thread = new_thread(member, category["id"], title="Talk to me")["thread"]["id"]
    newcomer = gated.client().register()
    reply(newcomer, thread, body="the first")
    # Four at once with one left: exactly one gets through.
    tabs = [newcomer.on(gated) for _ in range(4)]
    statuses: list[int] = []
    start = threading.Barrier(len(tabs))

    def send(tab: Client) -> None:
        start.wait()
        statuses.append(tab.post(f"/api/threads/{thread}/posts", {"body": "racing"}).status_code)

    workers = [threading.Thread(target=send, args=(tab,)) for tab in tabs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(statuses) == [201, 429, 429, 429]
    posts = member.get(f"/api/threads/{thread}").json()["items"]
    assert [p["raw"] for p in posts if p["author"]["id"] == newcomer.member["id"]] == [
        "the first", "racing"]


def test_links_and_images_a_post_are_limited_for_new_members(
        gated: Server, category: dict, member: Client) -> None:
    thread = new_thread(member, category["id"], title="Share links")["thread"]["id"]
    newcomer = gated.client().register()
    two = newcomer.post(f"/api/threads/{thread}/posts",
                        {"body": "[a](https://a.example) and [b](https://b.example)"})
    assert two.status_code == 422, two.text
    assert two.json()["error"]["message"] == "a new member's post may have 1 link; this one has 2"
    image = newcomer.post(f"/api/threads/{thread}/posts", {"body": "![cat](https://c.example/c.png)"})
    assert image.status_code == 422, image.text
    assert image.json()["error"]["message"] == (
        "a new member's post may have no images; this one has 1")
    # A mention renders as a link to a profile: it is no link here.
    fine = reply(newcomer, thread,
                 body=f"@{member.member['handle']} see [a](https://a.example)")
    too_many = newcomer.patch(f"/api/posts/{fine['id']}",
                              {"body": "[a](https://a.example) [b](https://b.example)"})
    assert too_many.status_code == 422, too_many.text
    assert [p["raw"] for p in member.get(f"/api/threads/{thread}").json()["items"]
            if p["id"] == fine["id"]] == [fine["raw"]]


def test_staff_are_never_gated(gated: Server, category: dict, admin: Client,
                               stack: Stack) -> None:
    staff = gated.client().register()
    assert admin.put(f"/api/members/{staff.member['id']}/role",
                     {"role": "moderator"}).status_code == 200
    for n in range(2):
        new_thread(staff, category["id"], title=f"Announcement {n}",
                   body="[a](https://a.example) [b](https://b.example) ![i](https://i.example/i.png)")
    assert thread_count(stack, staff.member["id"]) == 2


# --- held for approval -----------------------------------------------------------------------


def events_about(stack: Stack, event_type: str, post_id: int) -> list[str]:
    rows = stack.sql(f"SELECT payload FROM outbox_event WHERE type = '{event_type}' "
                     f"AND payload LIKE '%\"post_id\":{int(post_id)},%'")
    held = stack.sql(f"SELECT payload FROM outbox_event WHERE type = '{event_type}' "
                     f"AND payload LIKE '%\"target_id\":{int(post_id)},%'")
    return [row[0] for row in rows + held]


def test_a_watched_word_set_to_hold_holds_the_post_until_a_moderator_approves_it(
        member: Client, other: Client, moderator: Client, category: dict, watch: Watch,
        stack: Stack) -> None:
    word = made_up()
    watch(word, "hold")
    thread = new_thread(other, category["id"], title="Open question")["thread"]["id"]
    held = reply(member, thread, body=f"try {word}")
    assert held["hidden"] == "held"
    [event] = events_about(stack, "content.held", held["id"])
    assert f"watched word '{word}'" in event
    assert held["id"] not in [p["id"] for p in other.get(f"/api/threads/{thread}").json()["items"]]
    mine = [p for p in member.get(f"/api/threads/{thread}").json()["items"] if p["id"] == held["id"]]
    assert [p["hidden"] for p in mine] == ["held"]
    assert events_about(stack, "post.created", held["id"]) == []

    approved = moderator.post(f"/api/posts/{held['id']}/unhide", {"reason": "fine"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["hidden"] is None
    assert held["id"] in [p["id"] for p in other.get(f"/api/threads/{thread}").json()["items"]]
    assert len(events_about(stack, "post.created", held["id"])) == 1


@pytest.fixture(scope="module")
def premoderated(stack: Stack, server: Server) -> Iterator[Server]:
    """A server of the stack that holds each account's posts until one is approved."""
    holding = stack.start_server(env={"HEARTH_NEW_MEMBER_HELD_POSTS": "1"})
    yield holding
    holding.process.stop()


def test_a_new_accounts_first_post_waits_for_approval_and_later_ones_do_not(
        premoderated: Server, category: dict, other: Client, moderator: Client,
        stack: Stack) -> None:
    newcomer = premoderated.client().register()
    created = new_thread(newcomer, category["id"], title="Hello from a newcomer")
    thread_id, post_id = created["thread"]["id"], created["post"]["id"]
    assert created["post"]["hidden"] == "held"
    [event] = events_about(stack, "content.held", post_id)
    assert "first post of a new account" in event
    # Until approved, nobody else sees the thread, listed or opened; its author does.
    listed = other.get(f"/api/categories/{category['id']}/threads").json()["items"]
    assert thread_id not in [t["id"] for t in listed]
    assert other.get(f"/api/threads/{thread_id}").status_code == 404
    assert newcomer.get(f"/api/threads/{thread_id}").json()["items"][0]["hidden"] == "held"
    # Still unapproved, the next post waits too.
    second = reply(newcomer, thread_id, body="anyone?")
    assert second["hidden"] == "held"

    assert moderator.post(f"/api/posts/{post_id}/unhide", {}).status_code == 200
    assert thread_id in [t["id"] for t in
                         other.get(f"/api/categories/{category['id']}/threads").json()["items"]]
    assert [p["id"] for p in other.get(f"/api/threads/{thread_id}").json()["items"]] == [post_id]
    assert len(events_about(stack, "post.created", post_id)) == 1
    # One approved post: from now on the newcomer's posts go straight out.
    third = reply(newcomer, thread_id, body="thanks")
    assert third["hidden"] is None
    assert [p["id"] for p in other.get(f"/api/threads/{thread_id}").json()["items"]] == [
        post_id, third["id"]]


def test_every_server_process_screens_with_the_list_as_it_is_now(
        gated: Server, category: dict, moderator: Client) -> None:
    """Changed through one process, the list applies at once in another (its version)."""
    word = made_up()
    entry = moderator.post("/api/watched-words", {"pattern": word, "action": "block"}).json()
    elsewhere = gated.client().register()
    thread = new_thread(elsewhere, category["id"], title="Elsewhere")["thread"]["id"]
    assert elsewhere.post(f"/api/threads/{thread}/posts", {"body": word}).status_code == 422
    assert moderator.patch(f"/api/watched-words/{entry['id']}",
                           {"action": "replace", "replacement": "[x]"}).status_code == 200
    assert reply(elsewhere, thread, body=word)["raw"] == "[x]"
    assert moderator.delete(f"/api/watched-words/{entry['id']}").status_code == 204
    assert reply(elsewhere, thread, body=word)["raw"] == word
