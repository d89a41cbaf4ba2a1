"""Reading a thread page: the shared page from the cache, and what is the reader's own on top.

Every reader gets the same posts, so they come from community.forums.cache. A signed-in
member's read costs one query (the overlay): the thread's version, its category's visibility
and brand (whose staff moderate it), their read mark, their watch levels for the thread and
its category, and their reactions and bookmarks on the page's posts. When the version
matches the cached page's, that is the whole read; otherwise the page is built again first.
Reading moves the read mark in memory only (community.forums.readmarks).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from community.forums import cache, readmarks, watching
from community.forums.cache import SharedPage
from community.forums.schemas import PostOut, PostPage, Viewer
from community.forums.services import (
    authors_by_id,
    check_readable,
    posts_from_rows,
    sees_hidden,
    thread_from_row,
)
from community.forums.tables import Category, Post, Thread
from server import db
from server.auth import Actor
from server.errors import NotFound


@dataclass
class Overlay:
    version: int
    visibility: str
    # The category's brand: its staff moderate the thread.
    brand: int | None = None
    mark: int = 0
    thread_level: str | None = None
    category_level: str | None = None
    # Post id -> the reader's reaction kinds on it.
    mine: dict[int, list[str]] = field(default_factory=dict)
    bookmarked: set[int] = field(default_factory=set)


async def read(actor: Actor, thread_id: int, after: int, limit: int) -> PostPage:
    """A page of live posts after post number `after`; reading it marks it read."""
    if actor.member_id is None:
        return await _anonymous(actor, thread_id, after, limit)
    key = (thread_id, after, limit)
    shared = cache.signed_in.get(key)
    overlay = await _overlay(actor.person_id, thread_id, shared.post_ids if shared else [])
    if shared is None or shared.version != overlay.version:
        shared = await _build_once(("member", *key), key)
        if shared.version < overlay.version:
            # That build began before the write this reader has seen committed.
            shared = await _build(*key)
        cache.signed_in.put(key, shared, shared.weight)
        if actor.person_id is not None and shared.post_ids:
            overlay.mine, overlay.bookmarked = await _own_marks(actor.person_id, shared.post_ids)
    elif time.monotonic() - shared.built > cache.SHARED_PAGE_SECONDS:
        # Current, but authors' names may have changed: renewed behind this read, so that
        # the readers of a busy thread never all wait for it together.
        _renew(key)
    check_readable(actor, {"visibility": overlay.visibility})
    if shared.thread_hidden and not sees_hidden(actor, shared.author_id, {"brand": overlay.brand}):
        raise NotFound(f"thread {thread_id} does not exist")
    if actor.person_id is None:
        return shared.page
    return await _for_member(actor, shared, overlay)


async def _anonymous(actor: Actor, thread_id: int, after: int, limit: int) -> PostPage:
    key = cache.anonymous_key(thread_id, after, limit)
    shared = cache.anonymous.get(key)
    if shared is None:
        # Keyed by the announcements seen too: a build begun before a write must not be
        # joined by a reader who has heard of it (only members' reads check versions).
        shared = await _build_once(("anonymous", *key), (thread_id, after, limit))
        cache.anonymous.put(key, shared, shared.weight)
    check_readable(actor, {"visibility": shared.visibility})
    if shared.thread_hidden:
        raise NotFound(f"thread {thread_id} does not exist")
    return shared.page


_building: dict[Hashable, asyncio.Task[SharedPage]] = {}


def _flight(flight: Hashable, key: tuple[int, int, int]) -> asyncio.Task[SharedPage]:
    """The build of the page at key that readers missing the cache together under the same
    `flight` share (after a write to a busy thread, every reader would otherwise build the
    same page at once)."""
    loop = asyncio.get_running_loop()
    task = _building.get(flight)
    if task is None or task.get_loop() is not loop:
        # A context of its own: never a reader's unit of work.
        task = loop.create_task(_build(*key), context=contextvars.Context())
        _building[flight] = task
        task.add_done_callback(lambda done: _building.pop(flight, None)
                               if _building.get(flight) is done else None)
    return task


async def _build_once(flight: Hashable, key: tuple[int, int, int]) -> SharedPage:
    # Shielded: one reader hanging up must not cancel the build the others wait for.
    return await asyncio.shield(_flight(flight, key))


def _renew(key: tuple[int, int, int]) -> None:
    def keep(task: asyncio.Task[SharedPage]) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        current = cache.signed_in.get(key)
        if current is None or current.version <= task.result().version:
            cache.signed_in.put(key, task.result(), task.result().weight)

    flight = ("member", *key)
    if flight not in _building:
        _flight(flight, key).add_done_callback(keep)


async def _build(thread_id: int, after: int, limit: int) -> SharedPage:
    """The page from the database. The thread (and its version) is read before the posts, so
    the page is at least as new as the version it is cached under."""
    threads = await Thread.select().where((Thread.id == thread_id) & Thread.deleted_at.is_null())
    if not threads:
        raise NotFound(f"thread {thread_id} does not exist")
    thread = threads[0]
    categories = await Category.select(Category.visibility).where(
        Category.id == thread["category"])
    if not categories:
        raise NotFound(f"thread {thread_id} does not exist")
    rows = await Post.select().where(
        (Post.thread == thread_id) & Post.deleted_at.is_null() & (Post.post_number > after)
    ).order_by(Post.post_number).limit(limit + 1)
    page = rows[:limit]
    everything = await posts_from_rows(page, None)
    posts = [p for p in everything if p.hidden is None]
    hidden = [p for p in everything if p.hidden is not None]
    # The first page already carries the thread's author; look it up only past it.
    author = next((p.author for p in posts if p.author.id == thread["author"]), None)
    if author is None:
        author = (await authors_by_id({thread["author"]}))[thread["author"]]
    # Out of view counts as gone for unread counts, as deleted does.
    deleted = await db.fetch(
        "SELECT post_number FROM forum_post WHERE thread = {} AND (deleted_at IS NOT NULL "
        "OR hidden_at IS NOT NULL) AND post_number > {} ORDER BY post_number", thread_id, after)
    return SharedPage(
        page=PostPage(thread=thread_from_row(thread, author), items=posts,
                      next_cursor=page[-1]["post_number"] if len(rows) > limit else None),
        version=int(thread["version"]), visibility=categories[0]["visibility"],
        at_end=len(rows) <= limit, deleted=[int(r["post_number"]) for r in deleted],
        post_ids=[p.id for p in everything], hidden=hidden,
        thread_hidden=thread["hidden_at"] is not None, author_id=int(thread["author"]),
        weight=sum(len(p.raw) + len(p.html) + POST_OVERHEAD for p in everything)
        + 8 * len(deleted),
    )


# Roughly what a post costs in memory besides its text (its struct, author, reactions).
POST_OVERHEAD = 600

THREAD_STATE = ("SELECT t.version AS version, c.visibility AS visibility, c.brand AS brand{extra} "
                "FROM forum_thread t JOIN forum_category c ON c.id = t.category{joins} "
                "WHERE t.id = {{}} AND t.deleted_at IS NULL")
MEMBER = (", m.last_read_post_number AS mark, tw.level AS thread_level, "
          "cw.level AS category_level")
MEMBER_JOINS = (" LEFT JOIN forum_read_mark m ON m.member = {} AND m.thread = t.id"
                " LEFT JOIN forum_thread_watch tw ON tw.thread = t.id AND tw.member = {}"
                " LEFT JOIN forum_category_watch cw ON cw.category = t.category AND cw.member = {}")
# Driven from the page's post ids (at most 100), each probing the (post, member, kind) and
# (member, post) indexes. A bookmark is a row without a kind.
OWN_MARKS_PG = ("SELECT r.post AS post, r.kind AS kind FROM unnest({}::bigint[]) AS p(id) "
                "JOIN forum_reaction r ON r.post = p.id AND r.member = {} UNION ALL "
                "SELECT b.post AS post, NULL AS kind FROM unnest({}::bigint[]) AS q(id) "
                "JOIN forum_bookmark b ON b.post = q.id AND b.member = {}")


def _own_marks_sql(member_id: int, post_ids: list[int]) -> tuple[str, list[Any]]:
    """The member's reactions and bookmarks on these posts, as (post, kind) rows."""
    if not db.is_sqlite():
        return OWN_MARKS_PG, [post_ids, member_id, post_ids, member_id]
    match, ids = db.values_in(post_ids, "bigint")
    return ("SELECT post, kind FROM forum_reaction WHERE member = {} AND post " + match
            + " UNION ALL SELECT post, NULL AS kind FROM forum_bookmark WHERE member = {} "
            "AND post " + match), [member_id, *ids, member_id, *ids]


def _add_own_marks(rows: list[dict[str, Any]], mine: dict[int, list[str]],
                   bookmarked: set[int]) -> None:
    for row in rows:
        if row.get("post") is None:
            continue
        if row["kind"] is None:
            bookmarked.add(int(row["post"]))
        else:
            mine.setdefault(int(row["post"]), []).append(row["kind"])


async def _overlay(member_id: int | None, thread_id: int, post_ids: list[int]) -> Overlay:
    """The one query of a signed-in read (see the module)."""
    args: list[Any]
    if member_id is None:
        sql, args = THREAD_STATE.format(extra="", joins=""), [thread_id]
    elif not post_ids:
        sql = THREAD_STATE.format(extra=MEMBER, joins=MEMBER_JOINS)
        args = [member_id, member_id, member_id, thread_id]
    else:
        marks, marks_args = _own_marks_sql(member_id, post_ids)
        sql = THREAD_STATE.format(extra=MEMBER + ", x.post AS post, x.kind AS kind",
                                  joins=MEMBER_JOINS + " LEFT JOIN (" + marks + ") x ON 1 = 1")
        args = [member_id, member_id, member_id, *marks_args, thread_id]
    rows = await db.fetch_small(sql, *args)
    if not rows:
        raise NotFound(f"thread {thread_id} does not exist")
    overlay = Overlay(version=int(rows[0]["version"]), visibility=rows[0]["visibility"],
                      brand=rows[0]["brand"],
                      mark=int(rows[0].get("mark") or 0),
                      thread_level=rows[0].get("thread_level"),
                      category_level=rows[0].get("category_level"))
    _add_own_marks(rows, overlay.mine, overlay.bookmarked)
    return overlay


async def _own_marks(member_id: int, post_ids: list[int]) -> tuple[dict[int, list[str]], set[int]]:
    sql, args = _own_marks_sql(member_id, post_ids)
    rows = await (db.fetch_small if db.is_sqlite() else db.fetch)(sql, *args)
    mine: dict[int, list[str]] = {}
    bookmarked: set[int] = set()
    _add_own_marks(rows, mine, bookmarked)
    return mine, bookmarked


async def _for_member(actor: Actor, shared: SharedPage, overlay: Overlay) -> PostPage:
    member_id = actor.member()
    page = shared.page
    thread = page.thread
    mark = max(overlay.mark, readmarks.buffered(member_id, thread.id))
    # Reaching the end reads the whole thread, including numbers taken by deleted posts.
    # The page's last number, its cursor, may be a post out of view.
    read_to = thread.highest_post_number if shared.at_end else page.next_cursor or mark
    if read_to > mark:
        await readmarks.advance(member_id, thread.id, read_to)
        mark = read_to
    shown = page.items
    if shared.hidden:
        mine_too = [post for post in shared.hidden
                    if sees_hidden(actor, post.author.id, {"brand": overlay.brand})]
        if mine_too:
            shown = sorted([*shown, *mine_too], key=lambda post: post.post_number)
    items: list[PostOut] = [
        msgspec.structs.replace(post, my_reactions=sorted(overlay.mine[post.id]))
        if post.id in overlay.mine else post
        for post in shown
    ]
    moderates = actor.moderates(overlay.brand)
    open_to_me = not thread.locked or moderates
    own = [post.id for post in items if post.author.id == member_id]
    everything = [post.id for post in items]
    watch = watching.out(overlay.thread_level, overlay.category_level)
    viewer = Viewer(
        member_id=member_id, last_read_post_number=mark, can_reply=open_to_me,
        can_moderate=moderates,
        editable_post_ids=everything if moderates else own if open_to_me else [],
        deletable_post_ids=everything if moderates else own,
        bookmarked_post_ids=[post.id for post in items if post.id in overlay.bookmarked],
        watch_level=watch.level, watch_source=watch.source,
    )
    unread = readmarks.unread(thread.highest_post_number, mark, shared.deleted)
    return msgspec.structs.replace(
        page, thread=msgspec.structs.replace(thread, unread_count=unread), items=items,
        viewer=viewer)
