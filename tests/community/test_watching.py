"""Watching threads and categories: who hears of a new post (Discourse's levels: watching
hears of every post; tracking and normal of replies and mentions; muted of nothing), set by
the member themself, shown to them where they read."""

import uuid

from tests.community.support import (
    kinds_about,
    new_thread,
    notified_of,
    reply,
    told,
)
from tests.harness import Client, Server, Stack


def watch(client: Client, what: str, level: str | None) -> dict:
    response = (client.delete(f"/api/{what}/watch") if level is None
                else client.put(f"/api/{what}/watch", {"level": level}))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_author_hears_of_every_reply_to_their_thread(
        stack: Stack, member: Client, other: Client, category: dict) -> None:
    created = new_thread(member, category["id"], "Espresso tips")
    thread_id = created["thread"]["id"]
    assert member.get(f"/api/threads/{thread_id}/watch").json() == {
        "level": "watching", "source": "thread"}
    viewer = member.get(f"/api/threads/{thread_id}").json()["viewer"]
    assert (viewer["watch_level"], viewer["watch_source"]) == ("watching", "thread")
    assert other.get(f"/api/threads/{thread_id}").json()["viewer"]["watch_level"] == "normal"

    # Not addressed to the author's post: today's "reply" would not have told them.
    loose = reply(other, thread_id, "Grind finer")
    note = told(member, loose["id"], "posted")
    assert note["text"] == f"@{other.member['handle']} replied to 'Espresso tips'"
    assert note["data"]["thread_id"] == thread_id and note["data"]["post_number"] == 2

    # Addressed to it: one notification, the more particular one.
    direct = reply(other, thread_id, "And tamp evenly", reply_to=created["post"]["id"])
    told(member, direct["id"], "reply")
    assert kinds_about(member, direct["id"]) == ["reply"]
    # The poster hears nothing of their own posts.
    assert kinds_about(other, direct["id"]) == []


def test_watching_a_thread_tells_of_every_post_until_unwatched(
        stack: Stack, server: Server, member: Client, other: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    path = f"threads/{thread_id}"
    assert watch(other, path, "watching") == {"level": "watching", "source": "thread"}
    assert other.get(f"/api/{path}/watch").json() == {"level": "watching", "source": "thread"}
    first = reply(member, thread_id, "More on milk")
    assert told(other, first["id"], "posted")["text"] == (
        f"@{member.member['handle']} replied to 'Espresso tips'")

    assert watch(other, path, None) == {"level": "normal", "source": "default"}
    second = reply(member, thread_id, "And on water")
    notified_of(stack, second["id"])
    assert kinds_about(other, second["id"]) == []

    # Tracking hears of replies to one's posts and mentions only, like normal.
    assert watch(other, path, "tracking")["level"] == "tracking"
    third = reply(member, thread_id, "Anyone?")
    notified_of(stack, third["id"])
    assert kinds_about(other, third["id"]) == []
    mine = reply(other, thread_id, "mine")
    told(other, reply(member, thread_id, "to you", reply_to=mine["id"])["id"], "reply")


def test_muting_a_thread_silences_even_replies_and_mentions(
        stack: Stack, member: Client, other: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    theirs = reply(other, thread_id, "I have a question")
    assert watch(other, f"threads/{thread_id}", "muted") == {"level": "muted", "source": "thread"}
    answer = reply(member, thread_id, f"Here you go @{other.member['handle']}",
                   reply_to=theirs["id"])
    notified_of(stack, answer["id"])
    assert kinds_about(other, answer["id"]) == []
    # The author muting their own thread stops hearing of it too.
    watch(member, f"threads/{thread_id}", "muted")
    later = reply(other, thread_id, "thanks")
    notified_of(stack, later["id"])
    assert kinds_about(member, later["id"]) == []


def test_a_category_level_applies_where_the_thread_has_none(
        stack: Stack, member: Client, other: Client, anon: Client, category: dict) -> None:
    category_path = f"categories/{category['id']}"
    assert other.get(f"/api/{category_path}/watch").json() == {"level": "normal", "source": "default"}
    assert watch(other, category_path, "watching") == {"level": "watching", "source": "category"}
    listed = {c["id"]: c["watch_level"] for c in other.get("/api/categories").json()}
    assert listed[category["id"]] == "watching"
    assert {c["id"]: c["watch_level"] for c in member.get("/api/categories").json()}[
        category["id"]] == "normal"
    assert {c["id"]: c["watch_level"] for c in anon.get("/api/categories").json()}[
        category["id"]] is None

    created = new_thread(member, category["id"], "Latte art")
    thread_id = created["thread"]["id"]
    assert told(other, created["post"]["id"], "new_thread")["text"] == (
        f"@{member.member['handle']} started 'Latte art'")
    viewer = other.get(f"/api/threads/{thread_id}").json()["viewer"]
    assert (viewer["watch_level"], viewer["watch_source"]) == ("watching", "category")
    told(other, reply(member, thread_id, "A heart")["id"], "posted")

    # The thread's own level overrides the category's.
    watch(other, f"threads/{thread_id}", "normal")
    quiet = reply(member, thread_id, "A tulip")
    notified_of(stack, quiet["id"])
    assert kinds_about(other, quiet["id"]) == []
    assert watch(other, f"threads/{thread_id}", None) == {"level": "watching", "source": "category"}

    # A muted category silences a reply to one's post in a thread with no level of one's own.
    theirs = reply(other, thread_id, "Mine is a rosetta")
    watch(other, category_path, "muted")
    answer = reply(member, thread_id, "Nice", reply_to=theirs["id"])
    notified_of(stack, answer["id"])
    assert kinds_about(other, answer["id"]) == []
    assert watch(other, category_path, None) == {"level": "normal", "source": "default"}
    told(other, reply(member, thread_id, "Again", reply_to=theirs["id"])["id"], "reply")


def test_watch_levels_are_checked_and_only_for_what_one_may_read(
        admin: Client, member: Client, anon: Client, category: dict) -> None:
    created = new_thread(member, category["id"])
    thread_id = created["thread"]["id"]
    bad = member.put(f"/api/threads/{thread_id}/watch", {"level": "loud"})
    assert bad.status_code == 400 and "level" in bad.text
    assert member.put(f"/api/threads/{thread_id}/watch", {}).status_code == 400
    assert member.put("/api/threads/999999999/watch", {"level": "watching"}).status_code == 404
    assert member.get("/api/categories/999999999/watch").status_code == 404
    assert member.put("/api/categories/999999999/watch", {"level": "muted"}).status_code == 404
    assert anon.put(f"/api/threads/{thread_id}/watch", {"level": "watching"}).status_code == 401
    assert anon.get(f"/api/categories/{category['id']}/watch").status_code == 401
    # A deleted thread cannot be watched any more.
    assert member.delete(f"/api/posts/{created['post']['id']}").status_code == 204
    for response in (member.put(f"/api/threads/{thread_id}/watch", {"level": "watching"}),
                     member.get(f"/api/threads/{thread_id}/watch"),
                     member.delete(f"/api/threads/{thread_id}/watch")):
        assert response.status_code == 404, response.text


def test_an_api_token_has_no_watch_levels(admin: Client, server: Server, member: Client,
                                          category: dict) -> None:
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    brand = admin.post("/api/brands", {"name": "W", "slug": "w-" + uuid.uuid4().hex[:6]}).json()
    bot = server.client()
    bot.token = admin.post(f"/api/brands/{brand['id']}/tokens",
                           {"name": "crm", "scopes": ["read", "write"]}).json()["secret"]
    for what in (f"threads/{thread_id}", f"categories/{category['id']}"):
        for response in (bot.get(f"/api/{what}/watch"),
                         bot.put(f"/api/{what}/watch", {"level": "watching"}),
                         bot.delete(f"/api/{what}/watch")):
            assert response.status_code == 403, response.text
            assert "not a person" in response.json()["error"]["message"]
    assert {c["id"]: c["watch_level"] for c in bot.get("/api/categories").json()}[
        category["id"]] is None
