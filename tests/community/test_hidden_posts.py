"""A hidden post is out of view for everyone but its author and the category's moderators:
on cached and fresh pages, on the live channel, and in what it earned."""

from __future__ import annotations

from typing import Any

from tests.community.support import new_thread, reply
from tests.harness import Client, eventually


def numbers(client: Client, thread_id: int) -> list[int]:
    response = client.get(f"/api/threads/{thread_id}")
    assert response.status_code == 200, response.text
    return [p["post_number"] for p in response.json()["items"]]


def hidden_marks(client: Client, thread_id: int) -> dict[int, Any]:
    return {p["post_number"]: p["hidden"] for p in client.get(f"/api/threads/{thread_id}").json()["items"]}


def test_a_hidden_reply_is_seen_only_by_its_author_and_moderators(
        member: Client, other: Client, anon: Client, moderator: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"], "Grinders")["thread"]["id"]
    answer = reply(other, thread_id, "buy mine at example.test")
    # Every reader has the page cached before the hide.
    for reader in (member, other, anon, moderator):
        assert numbers(reader, thread_id) == [1, 2]

    hidden = moderator.post(f"/api/posts/{answer['id']}/hide", {"reason": "advertising"})
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["hidden"] == "moderator"

    assert numbers(anon, thread_id) == [1]
    assert numbers(member, thread_id) == [1]
    assert hidden_marks(other, thread_id) == {1: None, 2: "moderator"}
    assert hidden_marks(moderator, thread_id) == {1: None, 2: "moderator"}
    assert member.get(f"/api/threads/{thread_id}").json()["thread"]["post_count"] == 1
    assert member.get(f"/api/posts/{answer['id']}").status_code == 404
    assert other.get(f"/api/posts/{answer['id']}").json()["hidden"] == "moderator"
    refused = member.post(f"/api/posts/{answer['id']}/reactions", {"kind": "like"})
    assert refused.status_code == 404, refused.text
    again = moderator.post(f"/api/posts/{answer['id']}/hide", {"reason": "twice"})
    assert again.status_code == 409 and "already hidden" in again.json()["error"]["message"]

    activity = f"/api/members/{other.member['id']}/activity"
    assert [i["post_id"] for i in member.get(activity).json()["items"]] == []
    assert [i["post_id"] for i in other.get(activity).json()["items"]] == [answer["id"]]

    assert moderator.post(f"/api/posts/{answer['id']}/unhide", {}).status_code == 200
    assert numbers(anon, thread_id) == [1, 2]
    assert hidden_marks(member, thread_id) == {1: None, 2: None}


def test_members_cannot_hide_posts(member: Client, other: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    answer = reply(other, thread_id)
    refused = member.post(f"/api/posts/{answer['id']}/hide", {"reason": "I dislike it"})
    assert refused.status_code == 403, refused.text
    assert numbers(member, thread_id) == [1, 2]


def test_hiding_the_first_post_hides_the_thread(member: Client, other: Client, anon: Client,
                                                moderator: Client, category: dict) -> None:
    created = new_thread(member, category["id"], "Hidden away")
    thread_id = created["thread"]["id"]
    listed = f"/api/categories/{category['id']}/threads"
    assert thread_id in [t["id"] for t in other.get(listed).json()["items"]]
    assert moderator.post(f"/api/posts/{created['post']['id']}/hide", {}).status_code == 200

    for reader in (other, anon):
        assert thread_id not in [t["id"] for t in reader.get(listed).json()["items"]]
        assert reader.get(f"/api/threads/{thread_id}").status_code == 404
    for reader in (member, moderator):
        assert thread_id in [t["id"] for t in reader.get(listed).json()["items"]]
        assert hidden_marks(reader, thread_id) == {1: "moderator"}
    refused = other.post(f"/api/threads/{thread_id}/posts", {"body": "hello?"})
    assert refused.status_code == 404, refused.text


def test_a_hidden_post_leaves_open_pages_live_and_comes_back(
        member: Client, other: Client, moderator: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    answer = reply(other, thread_id, "spam spam")
    channel = f"thread:{thread_id}"
    socket = member.websocket()
    try:
        assert socket.subscribe(channel)["type"] == "subscribed"
        assert moderator.post(f"/api/posts/{answer['id']}/hide", {}).status_code == 200
        gone = socket.wait_for(lambda f: f.get("channel") == channel
                               and f.get("event") == "post.hidden")
        assert gone["data"] == {"post_id": answer["id"], "reason": "moderator"}
        assert moderator.post(f"/api/posts/{answer['id']}/unhide", {}).status_code == 200
        back = socket.wait_for(lambda f: f.get("channel") == channel
                               and f.get("event") == "post.restored")
        assert back["data"]["id"] == answer["id"] and back["data"]["raw"] == "spam spam"
    finally:
        socket.close()


def test_a_hidden_reply_earns_nothing(admin: Client, member: Client, other: Client,
                                      moderator: Client, category: dict) -> None:
    created = admin.post("/api/gamification/rules", {
        "name": "Reply", "category_id": category["id"], "event_types": ["post.created"],
        "condition": "post_number > 1", "points": 5})
    assert created.status_code == 201, created.text
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    answer = reply(other, thread_id)
    eventually(lambda: other.get("/api/me/points").json()["balance"] == 5)
    assert moderator.post(f"/api/posts/{answer['id']}/hide", {}).status_code == 200
    eventually(lambda: other.get("/api/me/points").json()["balance"] == 0)
