"""Members' bookmarks on posts: set and cleared idempotently, listed newest first with only
what the member may still read (live posts in live threads of readable categories)."""

from __future__ import annotations

from community.forums import services
from community.forums.schemas import BookmarkedPost, BookmarkOut, BookmarkPage
from community.forums.tables import Post
from server import clock, db
from server.auth import Actor


async def bookmark(actor: Actor, post_id: int) -> BookmarkOut:
    member_id = actor.member()
    await services.readable_post(actor, post_id)
    await db.fetch("INSERT INTO forum_bookmark (member, post, created_at) VALUES ({}, {}, {}) "
                   "ON CONFLICT (member, post) DO NOTHING", member_id, post_id, clock.now())
    return BookmarkOut(post_id=post_id, bookmarked=True)


async def unbookmark(actor: Actor, post_id: int) -> BookmarkOut:
    """Whether or not the post is still there: a bookmark on a deleted post goes too."""
    member_id = actor.member()
    await db.fetch("DELETE FROM forum_bookmark WHERE member = {} AND post = {}",
                   member_id, post_id)
    return BookmarkOut(post_id=post_id, bookmarked=False)


async def page(actor: Actor, before: int | None, limit: int) -> BookmarkPage:
    """Newest bookmark first; pass next_cursor back as `before` for older ones."""
    member_id = actor.member()
    visible, visible_args = db.values_in(list(services.readable_visibilities(actor)), "text")
    older, older_args = ("AND b.id < {} ", [before]) if before is not None else ("", [])
    rows = await db.fetch(
        "SELECT b.id AS id, b.post AS post, b.created_at AS created_at, t.id AS thread, "
        "t.title AS title FROM forum_bookmark b "
        "JOIN forum_post p ON p.id = b.post AND p.deleted_at IS NULL "
        "AND (p.hidden_at IS NULL OR p.author = b.member) "
        "JOIN forum_thread t ON t.id = p.thread AND t.deleted_at IS NULL "
        "AND (t.hidden_at IS NULL OR t.author = b.member) "
        "JOIN forum_category c ON c.id = t.category "
        "WHERE b.member = {} AND c.visibility " + visible + " " + older
        + "ORDER BY b.id DESC LIMIT {}",
        member_id, *visible_args, *older_args, limit + 1)
    shown = rows[:limit]
    posts = {p.id: p for p in await services.posts_from_rows(
        await Post.select().where(Post.id.is_in([int(r["post"]) for r in shown]))
        if shown else [], member_id)}
    items = [BookmarkedPost(id=int(r["id"]), created_at=r["created_at"], thread_id=int(r["thread"]),
                            thread_title=r["title"], post=posts[int(r["post"])])
             for r in shown if int(r["post"]) in posts]
    return BookmarkPage(items=items,
                        next_cursor=int(shown[-1]["id"]) if len(rows) > limit else None)
