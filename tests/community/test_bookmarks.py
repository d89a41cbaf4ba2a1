"""Bookmarks: a member's own, set and cleared idempotently, listed newest first with only
what they may still read, and shown on the thread page they are reading."""

import uuid

from tests.community.support import new_thread, reply
from tests.harness import Client, Server


def bookmarks(client: Client, query: str = "") -> dict:
    response = client.get("/api/me/bookmarks" + query)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_bookmarks_are_listed_newest_first_in_pages(member: Client, other: Client,
                                                    category: dict) -> None:
    created = new_thread(other, category["id"], "Milk frothing")
    thread_id = created["thread"]["id"]
    posts = [created["post"]] + [reply(other, thread_id, f"tip {i}") for i in range(3)]
    for post in (posts[2], posts[0], posts[3]):
        response = member.put(f"/api/posts/{post['id']}/bookmark")
        assert response.status_code == 200 and response.json() == {
            "post_id": post["id"], "bookmarked": True}
    # Again is harmless and does not move it.
    assert member.put(f"/api/posts/{posts[2]['id']}/bookmark").status_code == 200

    first = bookmarks(member, "?limit=2")
    assert [b["post"]["id"] for b in first["items"]] == [posts[3]["id"], posts[0]["id"]]
    assert first["items"][0]["thread_id"] == thread_id
    assert first["items"][0]["thread_title"] == "Milk frothing"
    assert first["items"][0]["post"]["raw"] == "tip 2"
    rest = bookmarks(member, f"?limit=2&before={first['next_cursor']}")
    assert [b["post"]["id"] for b in rest["items"]] == [posts[2]["id"]]
    assert rest["next_cursor"] is None
    # Someone else's list is their own.
    assert bookmarks(other)["items"] == []

    page = member.get(f"/api/threads/{thread_id}").json()
    assert sorted(page["viewer"]["bookmarked_post_ids"]) == sorted(
        p["id"] for p in (posts[0], posts[2], posts[3]))
    assert other.get(f"/api/threads/{thread_id}").json()["viewer"]["bookmarked_post_ids"] == []

    removed = member.delete(f"/api/posts/{posts[0]['id']}/bookmark")
    assert removed.status_code == 200 and removed.json()["bookmarked"] is False
    assert member.delete(f"/api/posts/{posts[0]['id']}/bookmark").status_code == 200
    assert [b["post"]["id"] for b in bookmarks(member)["items"]] == [posts[3]["id"], posts[2]["id"]]
    page = member.get(f"/api/threads/{thread_id}").json()
    assert sorted(page["viewer"]["bookmarked_post_ids"]) == sorted([posts[2]["id"], posts[3]["id"]])


def test_deleted_posts_and_threads_leave_the_list(member: Client, other: Client,
                                                  category: dict) -> None:
    kept = new_thread(other, category["id"], "Kept thread")
    gone = new_thread(other, category["id"], "Gone thread")
    deleted_reply = reply(other, kept["thread"]["id"], "soon deleted")
    for post in (kept["post"], gone["post"], deleted_reply):
        assert member.put(f"/api/posts/{post['id']}/bookmark").status_code == 200
    assert other.delete(f"/api/posts/{deleted_reply['id']}").status_code == 204
    assert other.delete(f"/api/posts/{gone['post']['id']}").status_code == 204
    assert [b["post"]["id"] for b in bookmarks(member)["items"]] == [kept["post"]["id"]]
    # Nothing to bookmark there any more.
    assert member.put(f"/api/posts/{deleted_reply['id']}/bookmark").status_code == 404
    assert member.put("/api/posts/999999999/bookmark").status_code == 404


def test_bookmarks_are_a_persons(admin: Client, server: Server, anon: Client, member: Client,
                                 category: dict) -> None:
    post_id = new_thread(member, category["id"])["post"]["id"]
    assert anon.put(f"/api/posts/{post_id}/bookmark").status_code == 401
    assert anon.get("/api/me/bookmarks").status_code == 401
    brand = admin.post("/api/brands", {"name": "B", "slug": "b-" + uuid.uuid4().hex[:6]}).json()
    bot = server.client()
    bot.token = admin.post(f"/api/brands/{brand['id']}/tokens",
                           {"name": "crm", "scopes": ["read", "write"]}).json()["secret"]
    for response in (bot.put(f"/api/posts/{post_id}/bookmark"),
                     bot.delete(f"/api/posts/{post_id}/bookmark"), bot.get("/api/me/bookmarks")):
        assert response.status_code == 403 and "not a person" in response.text
    assert member.get("/api/me/bookmarks?limit=0").status_code == 400
    assert member.get("/api/me/bookmarks?before=0").status_code == 400
    assert member.get(f"/api/me/bookmarks?before={2**63}").status_code == 400
