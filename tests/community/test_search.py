"""Full-text search: what a searcher finds, in what order, and what they never see.

Every test searches for words of its own (random letters), so the shared database's other
posts never answer."""

from __future__ import annotations

import datetime as dt
import random
import string
import uuid
from typing import Any

import pytest

from tests.community.support import new_thread, reply
from tests.harness import Client, Server, Stack


def word() -> str:
    """A word no other test writes."""
    return "".join(random.choices(string.ascii_lowercase, k=10))


def search(client: Client, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def found(client: Client, q: str, **params: Any) -> list[int]:
    return [hit["post_id"] for hit in search(client, q, **params)["items"]]


def error(client: Client, q: str, **params: Any) -> tuple[int, str]:
    response = client.get("/api/search", params={"q": q, **params})
    return response.status_code, response.json().get("message", response.text)


def first_post(created: dict[str, Any]) -> int:
    return int(created["post"]["id"])


@pytest.fixture
def members_only(admin: Client) -> dict[str, Any]:
    slug = "m-" + uuid.uuid4().hex[:8]
    response = admin.post("/api/categories", {"name": "Members " + slug, "slug": slug,
                                              "visibility": "members"})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_post_is_found_by_its_words_as_soon_as_it_is_written(
        member: Client, other: Client, anon: Client, category: dict) -> None:
    kettle = word()
    created = new_thread(member, category["id"], title=f"Descaling the {kettle}",
                         body=f"My {kettle} needs descaling, which vinegar works?")
    answer = reply(member, created["thread"]["id"], f"Citric acid cleans a {kettle} best.")
    assert set(found(anon, kettle)) == {first_post(created), answer["id"]}
    # Other forms of a word find it too.
    assert found(other, f"{kettle} cleaning") == [answer["id"]]
    hit = search(other, f"{kettle} cleaning")["items"][0]
    assert hit["thread_id"] == created["thread"]["id"]
    assert hit["thread_title"] == f"Descaling the {kettle}"
    assert hit["post_number"] == 2 and hit["author"]["id"] == member.member["id"]
    assert f"<mark>{kettle}</mark>" in hit["snippet_html"]
    assert hit["hidden"] is None


def test_an_edit_replaces_the_old_words_and_a_deletion_removes_the_post(
        member: Client, anon: Client, category: dict) -> None:
    before, after = word(), word()
    created = new_thread(member, category["id"], body=f"about {before}")
    post_id = first_post(created)
    edited = member.patch(f"/api/posts/{post_id}", {"body": f"now about {after}"})
    assert edited.status_code == 200, edited.text
    assert found(anon, before) == []
    assert found(anon, after) == [post_id]
    second = reply(member, created["thread"]["id"], f"more {after}")
    assert member.delete(f"/api/posts/{second['id']}").status_code == 204
    assert found(anon, after) == [post_id]
    # Deleting the first post deletes the thread: nothing of it is found.
    third = reply(member, created["thread"]["id"], f"and {after} again")
    assert found(anon, after) == [third["id"], post_id]
    assert member.delete(f"/api/posts/{post_id}").status_code == 204
    assert found(anon, after) == []


def test_a_retitled_thread_is_found_by_its_new_title_only(
        member: Client, anon: Client, category: dict) -> None:
    old, new = word(), word()
    created = new_thread(member, category["id"], title=f"Question about {old}", body="see title")
    assert found(anon, old) == [first_post(created)]
    response = member.patch(f"/api/threads/{created['thread']['id']}", {"title": f"Solved: {new}"})
    assert response.status_code == 200, response.text
    assert found(anon, old) == []
    hit = search(anon, new)["items"][0]
    assert hit["post_id"] == first_post(created)
    assert hit["title_html"] == f"Solved: <mark>{new}</mark>"


def test_title_matches_rank_first_and_newer_posts_break_ties(
        member: Client, anon: Client, category: dict) -> None:
    grinder = word()
    older = new_thread(member, category["id"], body=f"{grinder} arrived yesterday")
    newer = new_thread(member, category["id"], body=f"{grinder} arrived today")
    titled = new_thread(member, category["id"], title=f"The {grinder} review",
                        body="Long-term thoughts")
    assert found(anon, grinder) == [first_post(titled), first_post(newer), first_post(older)]


def test_phrases_exclusions_and_prefixes(member: Client, anon: Client, category: dict) -> None:
    a, b = word(), word()
    both = new_thread(member, category["id"], body=f"{a} {b} together")
    apart = new_thread(member, category["id"], body=f"{b} then {a}")
    assert found(anon, f'"{a} {b}"') == [first_post(both)]
    assert found(anon, f"{a} -{b}") == []
    assert found(anon, f'{a} -"{a} {b}"') == [first_post(apart)]
    assert set(found(anon, f"{a[:5]}*")) == {first_post(both), first_post(apart)}
    # Punctuation joins words into a phrase, as the tokenizers split them.
    assert found(anon, f"{b}-{a}") == []
    assert found(anon, f"{a}-{b}") == [first_post(both)]


@pytest.mark.parametrize(("q", "says"), [
    ("", "type a word"),
    ("   ", "type a word"),
    ('"unclosed phrase', "unclosed quote"),
    ("-only -exclusions", "not only words to leave out"),
    ("the and of", "very common words"),
    ("ab*", "at least 3 letters"),
    (" ".join(f"w{i}x" for i in range(9)), "more than 8 terms"),
    ("x" * 201, "200"),
    ('"' + " ".join(["word"] * 9) + '"', "at most 8 words"),
])
def test_queries_it_cannot_read_are_422_saying_why(anon: Client, q: str, says: str) -> None:
    status, message = error(anon, q)
    assert status in (400, 422) and says in message, (status, message)


def test_what_looks_like_syntax_is_just_words(member: Client, anon: Client,
                                              category: dict) -> None:
    w = word()
    created = new_thread(member, category["id"], body=f"{w} NEAR OR AND NOT")
    # FTS5 and tsquery operators in the box are words (or punctuation) to us, never syntax.
    for q in (f"{w} OR", f"{w} NEAR(x)", f"{w} AND", f"{w} | xyz:* & !y", f"{w}^ (", f"{w}:"):
        status = anon.get("/api/search", params={"q": q}).status_code
        assert status == 200, q
    assert found(anon, f"{w} NEAR") == [first_post(created)]
    assert search(anon, word())["items"] == []


def test_snippets_escape_what_the_post_says(member: Client, anon: Client,
                                            category: dict) -> None:
    w = word()
    new_thread(member, category["id"], title=f"<b>{w}</b> & co",
               body=f"{w} <script>alert(1)</script> <img src=x onerror=alert(2)> \"{w}\"")
    hit = search(anon, w)["items"][0]
    for html in (hit["snippet_html"], hit["title_html"]):
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    # PostgreSQL's snippets leave out what its parser takes for tags (SQLite's keep them,
    # escaped): either way the words between them show as text.
    assert "alert(1)" in hit["snippet_html"]
    assert "&lt;img src=x onerror=alert(2)&gt;" in hit["snippet_html"]
    assert f"<mark>{w}</mark>" in hit["snippet_html"]
    assert hit["title_html"] == f"&lt;b&gt;<mark>{w}</mark>&lt;/b&gt; &amp; co"


def test_members_only_categories_are_searched_by_members_only(
        member: Client, anon: Client, members_only: dict) -> None:
    w = word()
    created = new_thread(member, members_only["id"], body=f"private {w}")
    assert found(anon, w) == []
    assert found(member, w) == [first_post(created)]
    status, message = error(anon, w, category_id=members_only["id"])
    assert status == 403 and "sign in" in message


def test_a_thread_moved_into_a_members_only_category_is_found_by_members_only(
        member: Client, anon: Client, moderator: Client, category: dict,
        members_only: dict) -> None:
    w = word()
    created = new_thread(member, category["id"], body=f"moving {w}")
    assert found(anon, w) == [first_post(created)]
    moved = moderator.patch(f"/api/threads/{created['thread']['id']}",
                            {"category_id": members_only["id"]})
    assert moved.status_code == 200, moved.text
    assert found(anon, w) == []
    assert found(member, w, category_id=members_only["id"]) == [first_post(created)]


def test_filters_by_category_author_and_date(
        server: Server, stack: Stack, admin: Client, member: Client, other: Client,
        anon: Client, category: dict) -> None:
    w = word()
    child = admin.post("/api/categories", {"name": "Sub", "slug": "s-" + uuid.uuid4().hex[:8],
                                           "parent_id": category["id"]}).json()
    elsewhere = admin.post("/api/categories", {"name": "Else",
                                               "slug": "e-" + uuid.uuid4().hex[:8]}).json()
    mine = first_post(new_thread(member, category["id"], body=f"{w} one"))
    sub = first_post(new_thread(other, child["id"], body=f"{w} two"))
    far = first_post(new_thread(other, elsewhere["id"], body=f"{w} three"))
    assert found(anon, w, category_id=category["id"]) == [sub, mine]
    assert found(anon, w, category_id=child["id"]) == [sub]
    assert found(anon, w, author=member.member["handle"]) == [mine]
    assert found(anon, w, author="@" + other.member["handle"].upper()) == [far, sub]
    today = stack.now().date()
    assert set(found(anon, w, since=today.isoformat(), until=today.isoformat())) == {
        mine, sub, far}
    assert found(anon, w, until=(today - dt.timedelta(days=1)).isoformat()) == []
    assert found(anon, w, since=(today + dt.timedelta(days=1)).isoformat()) == []
    assert error(anon, w, since=today.isoformat(),
                 until=(today - dt.timedelta(days=1)).isoformat())[0] == 422
    assert error(anon, w, author="nobody-" + w)[0] == 404
    assert error(anon, w, category_id=999_999_999)[0] == 404
    assert error(anon, w, since="yesterday")[0] == 400


def test_days_bound_what_is_found(stack: Stack, member: Client, anon: Client,
                                  category: dict) -> None:
    w = word()
    created = new_thread(member, category["id"], body=f"{w} on the first day")
    first_day = stack.now().date()
    stack.advance(days=3)
    later = reply(member, created["thread"]["id"], f"{w} three days on")
    last_day = stack.now().date()
    assert found(anon, w, until=first_day.isoformat()) == [first_post(created)]
    assert found(anon, w, since=last_day.isoformat()) == [later["id"]]
    assert found(anon, w, since=(first_day + dt.timedelta(days=1)).isoformat(),
                 until=(last_day - dt.timedelta(days=1)).isoformat()) == []
    assert set(found(anon, w, since=first_day.isoformat(), until=last_day.isoformat())) == {
        first_post(created), later["id"]}


def test_days_out_of_range_are_422(member: Client) -> None:
    for key, day in (("since", "0001-01-01"), ("until", "9999-12-31")):
        refused = member.get(f"/api/search?q=coffee&{key}={day}")
        assert refused.status_code == 422, refused.text
        assert key in refused.text


def _hide(stack: Stack, post_id: int, reason: str) -> None:
    stack.sql(f"UPDATE forum_post SET hidden_at = CURRENT_TIMESTAMP, hidden_reason = '{reason}' "
              f"WHERE id = {post_id}")


def test_hidden_and_held_posts_are_found_by_their_author_and_moderators_only(
        stack: Stack, member: Client, other: Client, anon: Client, moderator: Client,
        category: dict) -> None:
    w = word()
    created = new_thread(other, category["id"], body=f"{w} first")
    hidden = reply(member, created["thread"]["id"], f"{w} flagged")
    held = reply(member, created["thread"]["id"], f"{w} waiting")
    _hide(stack, hidden["id"], "flags")
    _hide(stack, held["id"], "held")
    everyone = [first_post(created)]
    assert found(anon, w) == everyone
    assert found(other, w) == everyone
    assert found(member, w) == [held["id"], hidden["id"], first_post(created)]
    assert {h["post_id"]: h["hidden"] for h in search(member, w)["items"]} == {
        held["id"]: "held", hidden["id"]: "flags", first_post(created): None}
    assert found(moderator, w) == [held["id"], hidden["id"], first_post(created)]
    assert found(moderator, w, status="hidden") == [hidden["id"]]
    assert found(moderator, w, status="held") == [held["id"]]
    assert found(moderator, w, status="visible") == everyone
    # The status filter is the staff's.
    status, message = error(member, w, status="hidden")
    assert status == 403 and "staff" in message
    assert error(moderator, w, status="deleted")[0] == 400


def test_brand_staff_see_hidden_posts_of_their_brands_categories_only(
        stack: Stack, server: Server, admin: Client, member: Client, category: dict) -> None:
    w = word()
    brand = admin.post("/api/brands", {"name": "S", "slug": "s-" + uuid.uuid4().hex[:6]}).json()
    theirs = admin.post("/api/categories", {"name": "Brand", "slug": "b-" + uuid.uuid4().hex[:8],
                                            "brand_id": brand["id"]}).json()
    staff = server.client().register()
    assert admin.put(f"/api/members/{staff.member['id']}/role",
                     {"role": "brand_staff", "brand_id": brand["id"]}).status_code == 200
    inside = first_post(new_thread(member, theirs["id"], body=f"{w} inside"))
    outside = first_post(new_thread(member, category["id"], body=f"{w} outside"))
    _hide(stack, inside, "moderator")
    _hide(stack, outside, "moderator")
    assert found(staff, w) == [inside]
    assert found(staff, w, status="hidden") == [inside]
    assert found(member, w) == [outside, inside]


def test_pages_and_counts(member: Client, anon: Client, category: dict) -> None:
    w = word()
    created = new_thread(member, category["id"], body=f"{w} 0")
    posts = [first_post(created)] + [reply(member, created["thread"]["id"], f"{w} {i}")["id"]
                                     for i in range(1, 5)]
    first = search(anon, w, limit=2)
    assert first["total"] == 5 and first["total_exact"] is True and first["next_page"] == 2
    last = search(anon, w, limit=2, page=3)
    assert last["next_page"] is None and len(last["items"]) == 1
    seen = [h["post_id"] for p in (1, 2, 3) for h in search(anon, w, limit=2, page=p)["items"]]
    assert sorted(seen) == sorted(posts)
    beyond = search(anon, w, limit=2, page=9)
    assert beyond["items"] == [] and beyond["total"] == 5
    assert error(anon, w, limit=51)[0] == 400
    assert error(anon, w, page=0)[0] == 400
    assert error(anon, w, page=501, limit=2)[0] == 422


def test_anonymous_searches_are_limited_per_address(stack: Stack, member: Client) -> None:
    limited = stack.start_server(env={
        "HEARTH_SEARCH_RATE_LIMIT": "2/3600", "HEARTH_TRUST_PROXY_HEADERS": "true",
        "HEARTH_REDIS_PREFIX": "t" + uuid.uuid4().hex[:10]})
    try:
        anon = limited.client()

        def ask(ip: str) -> int:
            return anon.get("/api/search", params={"q": "kettle"},
                            headers={"X-Forwarded-For": ip}).status_code

        assert [ask("10.0.0.1"), ask("10.0.0.1"), ask("10.0.0.1")] == [200, 200, 429]
        assert ask("10.0.0.2") == 200
        # Signed-in members search on.
        signed_in = member.on(limited)
        assert all(signed_in.get("/api/search", params={"q": "kettle"},
                                 headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 200
                   for _ in range(3))
    finally:
        limited.process.stop()
