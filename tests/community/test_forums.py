import uuid

from tests.harness import Client


def new_thread(client: Client, category_id: int, title: str = "Hello there", body: str = "body") -> dict:
    response = client.post(f"/api/categories/{category_id}/threads", {"title": title, "body": body})
    assert response.status_code == 201, response.text
    return response.json()


def test_categories_are_admin_managed_with_parent_order_and_visibility(
        admin: Client, member: Client, anon: Client) -> None:
    slug = "p-" + uuid.uuid4().hex[:6]
    assert member.post("/api/categories", {"name": "X", "slug": slug}).status_code == 403
    parent = admin.post("/api/categories", {"name": "Parent", "slug": slug, "position": 5}).json()
    child = admin.post("/api/categories", {"name": "Child", "slug": slug + "-c", "parent_id": parent["id"],
                                           "visibility": "members", "position": 1})
    assert child.status_code == 201
    assert child.json()["parent_id"] == parent["id"]
    grandchild = admin.post("/api/categories", {"name": "G", "slug": slug + "-g",
                                                "parent_id": child.json()["id"]})
    assert grandchild.status_code == 422
    missing_parent = admin.post("/api/categories", {"name": "G", "slug": slug + "-m", "parent_id": 999999})
    assert missing_parent.status_code == 404
    assert admin.post("/api/categories", {"name": "Again", "slug": slug}).status_code == 409

    public_ids = [c["id"] for c in anon.get("/api/categories").json()]
    member_ids = [c["id"] for c in member.get("/api/categories").json()]
    assert parent["id"] in public_ids and child.json()["id"] not in public_ids
    assert child.json()["id"] in member_ids
    listed = member.get("/api/categories").json()
    positions = [c["position"] for c in listed]
    assert positions == sorted(positions)

    renamed = admin.patch(f"/api/categories/{parent['id']}", {"name": "Renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"


def test_admins_reorder_and_nest_several_categories_at_once_or_not_at_all(
        admin: Client, member: Client) -> None:
    slug = "o-" + uuid.uuid4().hex[:6]
    a, b, c = (admin.post("/api/categories", {"name": f"Order {n}", "slug": f"{slug}-{n}",
                                              "position": i}).json()
               for i, n in enumerate("abc"))

    def order() -> list[tuple[int, int | None]]:
        ours = {a["id"], b["id"], c["id"]}
        return [(cat["id"], cat["parent_id"]) for cat in member.get("/api/categories").json()
                if cat["id"] in ours]

    moved = admin.put("/api/categories/order", {"items": [
        {"id": c["id"], "position": -900_000}, {"id": a["id"], "position": -899_999},
        {"id": b["id"], "position": 0, "parent_id": c["id"]}]})
    assert moved.status_code == 200, moved.text
    assert order() == [(c["id"], None), (a["id"], None), (b["id"], c["id"])]

    # A nest two deep is refused, and so is everything else in the same request.
    deep = admin.put("/api/categories/order", {"items": [
        {"id": a["id"], "position": -900_001}, {"id": c["id"], "position": 0, "parent_id": b["id"]}]})
    assert deep.status_code == 422 and "one level deep" in deep.json()["error"]["message"]
    has_children = admin.put("/api/categories/order", {"items": [
        {"id": c["id"], "position": 0, "parent_id": a["id"]}]})
    assert has_children.status_code == 422, has_children.text
    missing = admin.put("/api/categories/order", {"items": [
        {"id": a["id"], "position": -900_001}, {"id": 2_000_000_000, "position": 1}]})
    assert missing.status_code == 404
    twice = admin.put("/api/categories/order", {"items": [
        {"id": a["id"], "position": 1}, {"id": a["id"], "position": 2}]})
    assert twice.status_code == 422
    assert order() == [(c["id"], None), (a["id"], None), (b["id"], c["id"])]

    # Un-nesting is a move too.
    flat = admin.put("/api/categories/order", {"items": [{"id": b["id"], "position": -1}]})
    assert flat.status_code == 200 and (b["id"], None) in order()
    assert member.put("/api/categories/order", {"items": [{"id": a["id"], "position": 1}]}
                      ).status_code == 403


def test_members_only_category_hides_threads_from_anonymous(
        admin: Client, member: Client, anon: Client) -> None:
    slug = "m-" + uuid.uuid4().hex[:6]
    lounge = admin.post("/api/categories", {"name": "Lounge", "slug": slug, "visibility": "members"}).json()
    created = new_thread(member, lounge["id"], "Members talk")
    assert anon.get(f"/api/categories/{lounge['id']}/threads").status_code == 403
    assert anon.get(f"/api/threads/{created['thread']['id']}").status_code == 403
    assert anon.get(f"/api/posts/{created['post']['id']}").status_code == 403
    assert member.get(f"/api/threads/{created['thread']['id']}").status_code == 200


def test_thread_with_replies_markdown_and_reply_to(member: Client, other: Client, anon: Client,
                                                   category: dict) -> None:
    created = new_thread(member, category["id"], "Markdown please", "Some **bold** and `code`")
    thread_id = created["thread"]["id"]
    assert created["post"]["html"] == "<p>Some <strong>bold</strong> and <code>code</code></p>\n"
    assert created["post"]["post_number"] == 1
    reply = other.post(f"/api/threads/{thread_id}/posts",
                       {"body": "I agree", "reply_to_post_id": created["post"]["id"]})
    assert reply.status_code == 201
    assert reply.json()["post_number"] == 2
    assert reply.json()["reply_to_post_id"] == created["post"]["id"]
    page = anon.get(f"/api/threads/{thread_id}").json()
    assert [p["post_number"] for p in page["items"]] == [1, 2]
    assert page["thread"]["post_count"] == 2
    assert page["items"][1]["author"]["handle"] == other.member["handle"]
    assert anon.post(f"/api/threads/{thread_id}/posts", {"body": "anon"}).status_code == 401


def test_reply_to_a_post_from_another_thread_is_refused(member: Client, category: dict) -> None:
    a = new_thread(member, category["id"], "Thread A")
    b = new_thread(member, category["id"], "Thread B")
    response = member.post(f"/api/threads/{a['thread']['id']}/posts",
                           {"body": "x", "reply_to_post_id": b["post"]["id"]})
    assert response.status_code == 422
    assert "not a live post" in response.json()["error"]["message"]


def test_thread_list_orders_by_last_activity_with_pinned_first_and_cursor_pages(
        admin: Client, member: Client, moderator: Client) -> None:
    slug = "o-" + uuid.uuid4().hex[:6]
    cat = admin.post("/api/categories", {"name": "Order", "slug": slug}).json()
    threads = [new_thread(member, cat["id"], f"Thread number {i}")["thread"]["id"] for i in range(5)]
    member.post(f"/api/threads/{threads[1]}/posts", {"body": "bump"})
    assert moderator.patch(f"/api/threads/{threads[3]}", {"pinned": True}).status_code == 200
    assert member.patch(f"/api/threads/{threads[2]}", {"pinned": True}).status_code == 403

    seen, cursor = [], None
    while True:
        url = f"/api/categories/{cat['id']}/threads?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = member.get(url).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [threads[3], threads[1], threads[4], threads[2], threads[0]]
    bad = member.get(f"/api/categories/{cat['id']}/threads?cursor=%%%")
    assert bad.status_code == 422
    import base64

    huge = base64.urlsafe_b64encode(b"0:99999999999999999999").decode()
    assert member.get(f"/api/categories/{cat['id']}/threads?cursor={huge}").status_code == 422


def test_post_pages_by_post_number(member: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    for i in range(4):
        member.post(f"/api/threads/{thread_id}/posts", {"body": f"reply {i}"})
    first = member.get(f"/api/threads/{thread_id}?limit=2").json()
    assert [p["post_number"] for p in first["items"]] == [1, 2]
    assert first["next_cursor"] == 2
    rest = member.get(f"/api/threads/{thread_id}?limit=10&after=2").json()
    assert [p["post_number"] for p in rest["items"]] == [3, 4, 5]
    assert rest["next_cursor"] is None
    assert member.get(f"/api/threads/{thread_id}?limit=0").status_code == 400
    assert member.get(f"/api/threads/{thread_id}?limit=1000").status_code == 400


def test_edits_keep_revision_history_and_only_author_or_moderator_edit(
        member: Client, other: Client, moderator: Client, thread: dict) -> None:
    post_id = thread["post"]["id"]
    assert other.patch(f"/api/posts/{post_id}", {"body": "hijack"}).status_code == 403
    edited = member.patch(f"/api/posts/{post_id}", {"body": "Second *version*"})
    assert edited.status_code == 200
    assert edited.json()["revision"] == 2
    assert edited.json()["html"] == "<p>Second <em>version</em></p>\n"
    assert edited.json()["edited_at"] is not None
    moderated = moderator.patch(f"/api/posts/{post_id}", {"body": "Moderated", "reason": "tone"})
    assert moderated.status_code == 200
    history = other.get(f"/api/posts/{post_id}/revisions").json()
    assert [(r["revision"], r["raw"]) for r in history] == [
        (1, "First post **here**"), (2, "Second *version*"), (3, "Moderated")]
    assert history[2]["editor"]["handle"] == moderator.member["handle"]
    assert history[2]["reason"] == "tone"


def test_soft_delete_hides_posts_and_deleting_first_post_removes_thread(
        member: Client, other: Client, moderator: Client, anon: Client, category: dict) -> None:
    created = new_thread(member, category["id"])
    thread_id = created["thread"]["id"]
    reply = other.post(f"/api/threads/{thread_id}/posts", {"body": "to be removed"}).json()
    assert member.delete(f"/api/posts/{reply['id']}").status_code == 403
    assert other.delete(f"/api/posts/{reply['id']}").status_code == 204
    assert anon.get(f"/api/posts/{reply['id']}").status_code == 404
    page = anon.get(f"/api/threads/{thread_id}").json()
    assert [p["id"] for p in page["items"]] == [created["post"]["id"]]
    assert page["thread"]["post_count"] == 1
    assert other.delete(f"/api/posts/{reply['id']}").status_code == 404
    assert other.patch(f"/api/posts/{reply['id']}", {"body": "revive"}).status_code == 404

    assert moderator.delete(f"/api/posts/{created['post']['id']}").status_code == 204
    assert anon.get(f"/api/threads/{thread_id}").status_code == 404
    listed = anon.get(f"/api/categories/{category['id']}/threads").json()["items"]
    assert thread_id not in [t["id"] for t in listed]


def test_locked_threads_refuse_replies_and_edits_from_members(
        member: Client, other: Client, moderator: Client, thread: dict) -> None:
    thread_id = thread["thread"]["id"]
    locked = moderator.patch(f"/api/threads/{thread_id}", {"locked": True})
    assert locked.status_code == 200 and locked.json()["locked"] is True
    refused = other.post(f"/api/threads/{thread_id}/posts", {"body": "let me in"})
    assert refused.status_code == 403
    assert "locked" in refused.json()["error"]["message"]
    assert member.patch(f"/api/posts/{thread['post']['id']}", {"body": "edit"}).status_code == 403
    assert moderator.post(f"/api/threads/{thread_id}/posts", {"body": "staff note"}).status_code == 201
    moderator.patch(f"/api/threads/{thread_id}", {"locked": False})
    assert other.post(f"/api/threads/{thread_id}/posts", {"body": "now ok"}).status_code == 201


def test_reactions_one_of_each_kind_per_member(member: Client, other: Client, thread: dict) -> None:
    post_id = thread["post"]["id"]
    first = other.post(f"/api/posts/{post_id}/reactions", {"kind": "like"})
    assert first.status_code == 201
    assert first.json()["reactions"] == {"like": 1}
    assert first.json()["my_reactions"] == ["like"]
    again = other.post(f"/api/posts/{post_id}/reactions", {"kind": "like"})
    assert again.status_code == 409
    assert other.post(f"/api/posts/{post_id}/reactions", {"kind": "love"}).status_code == 201
    assert member.post(f"/api/posts/{post_id}/reactions", {"kind": "like"}).status_code == 201
    assert other.post(f"/api/posts/{post_id}/reactions", {"kind": "angry"}).status_code == 400
    post = member.get(f"/api/posts/{post_id}").json()
    assert post["reactions"] == {"like": 2, "love": 1}
    assert post["my_reactions"] == ["like"]
    removed = other.delete(f"/api/posts/{post_id}/reactions/like")
    assert removed.status_code == 200 and removed.json()["reactions"] == {"like": 1, "love": 1}
    assert other.delete(f"/api/posts/{post_id}/reactions/like").status_code == 404


def test_unread_counts_per_member(member: Client, other: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"], "Unread test")["thread"]["id"]

    def unread(client: Client) -> int | None:
        items = client.get(f"/api/categories/{category['id']}/threads?limit=100").json()["items"]
        return next(t["unread_count"] for t in items if t["id"] == thread_id)

    assert unread(member) == 0
    assert unread(other) == 1
    other.get(f"/api/threads/{thread_id}")
    assert unread(other) == 0
    other.post(f"/api/threads/{thread_id}/posts", {"body": "one"})
    other.post(f"/api/threads/{thread_id}/posts", {"body": "two"})
    assert unread(other) == 0
    assert unread(member) == 2
    member.get(f"/api/threads/{thread_id}?limit=2")
    assert unread(member) == 1
    anon_items = Client(member.server).get(f"/api/categories/{category['id']}/threads").json()["items"]
    assert all(t["unread_count"] is None for t in anon_items)


def test_deleted_posts_never_count_as_unread(member: Client, other: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"], "Deleted unread")["thread"]["id"]
    posts = [other.post(f"/api/threads/{thread_id}/posts", {"body": f"r{i}"}).json() for i in range(3)]
    other.delete(f"/api/posts/{posts[0]['id']}")
    other.delete(f"/api/posts/{posts[2]['id']}")
    items = member.get(f"/api/categories/{category['id']}/threads?limit=100").json()["items"]
    assert next(t["unread_count"] for t in items if t["id"] == thread_id) == 1
    page = member.get(f"/api/threads/{thread_id}").json()
    assert page["thread"]["unread_count"] == 0
    items = member.get(f"/api/categories/{category['id']}/threads?limit=100").json()["items"]
    assert next(t["unread_count"] for t in items if t["id"] == thread_id) == 0


def test_thread_title_edit_by_author(member: Client, other: Client, thread: dict) -> None:
    thread_id = thread["thread"]["id"]
    assert other.patch(f"/api/threads/{thread_id}", {"title": "Mine now"}).status_code == 403
    renamed = member.patch(f"/api/threads/{thread_id}", {"title": "A better title"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "A better title"
    assert member.patch(f"/api/threads/{thread_id}", {"title": "  x  "}).status_code == 422


def test_anonymous_readers_see_every_change_once_the_write_returns(
        admin: Client, member: Client, other: Client, anon: Client, moderator: Client) -> None:
    """Anonymous thread pages are cached; no write may leave them stale."""
    slug = "cache-" + uuid.uuid4().hex[:6]
    cat = admin.post("/api/categories", {"name": "Cached", "slug": slug}).json()
    created = new_thread(member, cat["id"], "Cached thread", "v1")
    thread_id, first = created["thread"]["id"], created["post"]["id"]

    def page() -> dict:
        response = anon.get(f"/api/threads/{thread_id}")
        assert response.status_code == 200, response.text
        return response.json()

    assert [p["raw"] for p in page()["items"]] == ["v1"]
    reply = other.post(f"/api/threads/{thread_id}/posts", {"body": "a reply"}).json()
    assert [p["raw"] for p in page()["items"]] == ["v1", "a reply"]
    member.patch(f"/api/posts/{first}", {"body": "v2"})
    assert page()["items"][0]["raw"] == "v2"
    other.post(f"/api/posts/{first}/reactions", {"kind": "like"})
    assert page()["items"][0]["reactions"] == {"like": 1}
    other.delete(f"/api/posts/{first}/reactions/like")
    assert page()["items"][0]["reactions"] == {}
    other.delete(f"/api/posts/{reply['id']}")
    assert len(page()["items"]) == 1
    moderator.patch(f"/api/threads/{thread_id}", {"title": "Renamed cached thread", "locked": True})
    assert page()["thread"]["title"] == "Renamed cached thread" and page()["thread"]["locked"]
    admin.patch(f"/api/categories/{cat['id']}", {"visibility": "members"})
    assert anon.get(f"/api/threads/{thread_id}").status_code == 403


def test_a_preview_renders_markdown_as_a_post_would_and_stores_nothing(
        member: Client, anon: Client, category: dict) -> None:
    body = 'Look: **bold** <img src=x onerror="alert(1)"> [site](javascript:alert(1))'
    preview = member.post("/api/community/preview", {"body": body})
    assert preview.status_code == 200, preview.text
    thread = new_thread(member, category["id"], "Preview twin", body)
    assert preview.json()["html"] == thread["post"]["html"]
    assert "<strong>bold</strong>" in preview.json()["html"]
    html = preview.json()["html"]
    assert "&lt;img" in html and "<img" not in html and 'href="javascript' not in html

    assert anon.post("/api/community/preview", {"body": "hi"}).status_code == 401
    assert member.post("/api/community/preview", {"body": ""}).status_code in (400, 422)
    too_long = member.post("/api/community/preview", {"body": "x" * 50_001})
    assert too_long.status_code in (400, 422) and "error" in too_long.json()


def test_moderators_move_a_thread_to_another_category(
        admin: Client, member: Client, moderator: Client, anon: Client, category: dict) -> None:
    lounge = admin.post("/api/categories", {"name": "Lounge", "slug": "mv-" + uuid.uuid4().hex[:6],
                                            "visibility": "members"}).json()
    thread = new_thread(member, category["id"], "Wrong place", "hello")["thread"]
    move = {"category_id": lounge["id"]}
    assert member.patch(f"/api/threads/{thread['id']}", move).status_code == 403
    assert moderator.patch(f"/api/threads/{thread['id']}", {"category_id": 999_999_999}).status_code == 404
    moved = moderator.patch(f"/api/threads/{thread['id']}", move)
    assert moved.status_code == 200, moved.text
    assert moved.json()["category_id"] == lounge["id"]

    def listed(category_id: int) -> list[int]:
        return [t["id"] for t in member.get(f"/api/categories/{category_id}/threads").json()["items"]]

    assert thread["id"] in listed(lounge["id"]) and thread["id"] not in listed(category["id"])
    # It now has the members-only category's visibility.
    assert anon.get(f"/api/threads/{thread['id']}").status_code == 403
    assert member.get(f"/api/threads/{thread['id']}").json()["thread"]["category_id"] == lounge["id"]
