"""A member's recent threads and posts on their profile: only what the viewer may read."""

import uuid

from tests.harness import Client


def new_category(admin: Client, visibility: str = "public") -> dict:
    slug = "act-" + uuid.uuid4().hex[:8]
    response = admin.post("/api/categories", {"name": "Activity " + slug, "slug": slug,
                                              "visibility": visibility})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def start(client: Client, category: dict, title: str, body: str = "opening post") -> dict:
    response = client.post(f"/api/categories/{category['id']}/threads",
                           {"title": title, "body": body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def reply(client: Client, thread_id: int, body: str) -> dict:
    response = client.post(f"/api/threads/{thread_id}/posts", {"body": body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def activity(viewer: Client, member: Client, **params: object) -> dict:
    response = viewer.get(f"/api/members/{member.member['id']}/activity", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def listed(page: dict) -> list[tuple[str, str]]:
    return [(i["kind"], i["thread_title"]) for i in page["items"]]


def test_outsiders_see_only_what_they_may_read_newest_first(
        admin: Client, member: Client, other: Client, anon: Client) -> None:
    public, private = new_category(admin), new_category(admin, "members")
    theirs = start(other, public, "Somebody else's thread")
    start(member, public, "My public thread")
    reply(member, theirs["thread"]["id"], "a reply of mine")
    start(member, private, "My members-only thread")

    assert listed(activity(other, member)) == [
        ("thread", "My members-only thread"), ("post", "Somebody else's thread"),
        ("thread", "My public thread")]
    # Signed out, the members-only category's posts are not there at all.
    assert listed(activity(anon, member)) == [
        ("post", "Somebody else's thread"), ("thread", "My public thread")]
    # A category made members-only later hides what was posted in it before.
    assert admin.patch(f"/api/categories/{public['id']}", {"visibility": "members"}
                       ).status_code == 200
    assert activity(anon, member)["items"] == []
    assert len(activity(other, member)["items"]) == 3
    # Each member's activity is their own posts only.
    assert listed(activity(other, other)) == [("thread", "Somebody else's thread")]


def test_deleted_posts_and_threads_are_left_out(admin: Client, member: Client,
                                                anon: Client) -> None:
    category = new_category(admin)
    kept = start(member, category, "A thread that stays")
    gone = start(member, category, "A thread that goes")
    removed = reply(member, kept["thread"]["id"], "a reply taken back")
    reply(member, kept["thread"]["id"], "a reply that stays")
    assert member.delete(f"/api/posts/{removed['id']}").status_code == 204
    assert member.delete(f"/api/posts/{gone['post']['id']}").status_code == 204
    page = activity(anon, member)
    assert [(i["kind"], i["excerpt"]) for i in page["items"]] == [
        ("post", "a reply that stays"), ("thread", "opening post")]


def test_excerpts_are_plain_text_and_short(admin: Client, member: Client, anon: Client) -> None:
    category = new_category(admin)
    start(member, category, "Markup thread",
          "# Heading\n\n**Bold** and _italic_ with [a link](https://example.test) & `code`\n\n"
          "- one\n- two")
    item = activity(anon, member)["items"][0]
    assert item["excerpt"] == "Heading Bold and italic with a link & code one two"
    start(member, category, "Long thread", "word " * 100)
    long = activity(anon, member)["items"][0]["excerpt"]
    assert len(long) == 200 and long.endswith("…") and long.startswith("word word")


def test_activity_pages_by_cursor(admin: Client, member: Client, anon: Client) -> None:
    category = new_category(admin)
    thread = start(member, category, "Paging thread", "post 0")
    for i in range(1, 5):
        reply(member, thread["thread"]["id"], f"post {i}")
    seen, before = [], None
    while True:
        params = {"limit": 2} if before is None else {"limit": 2, "before": before}
        page = activity(anon, member, **params)
        seen += [i["excerpt"] for i in page["items"]]
        before = page["next_cursor"]
        if before is None:
            break
    assert seen == [f"post {i}" for i in range(4, -1, -1)]


def test_bad_requests_for_activity(anon: Client, member: Client) -> None:
    assert anon.get("/api/members/987654321/activity").status_code == 404
    path = f"/api/members/{member.member['id']}/activity"
    for params in ({"limit": 0}, {"limit": 101}, {"before": 0}, {"before": "x"}):
        assert anon.get(path, params=params).status_code == 400, params
