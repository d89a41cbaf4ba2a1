"""Posts out of view: hidden (by the flags' score or a moderator) or held for approval.

Such a post stays where it is, numbered, but every reader other than its author and whoever
moderates its category's brand reads the thread as if it were not there; a thread whose first
post is out of view is itself out of view. Each change bumps the thread's version, so cached
pages follow it at once, and goes out as an event: `content.hidden` takes back what the post
earned, and the live thread channel removes or brings back the post on every open page.
"""

from __future__ import annotations

from typing import Any

from community.forums import cache
from community.forums.schemas import PostOut
from community.forums.services import announce_post, post_out, readable_post
from community.forums.tables import Post, Thread
from server import clock, db, events, outbox, staff_log
from server.auth import Actor
from server.errors import Conflict, Forbidden, NotFound

POST_CONTEXT = ("SELECT p.id AS id, p.thread AS thread, p.author AS author, "
                "p.post_number AS post_number, p.reply_to AS reply_to, "
                "p.hidden_reason AS hidden_reason, t.category AS category, c.brand AS brand, "
                "r.author AS reply_to_author "
                "FROM forum_post p JOIN forum_thread t ON t.id = p.thread "
                "JOIN forum_category c ON c.id = t.category "
                "LEFT JOIN forum_post r ON r.id = p.reply_to "
                "WHERE p.id = {} AND p.deleted_at IS NULL AND t.deleted_at IS NULL")


async def _context(post_id: int) -> dict[str, Any] | None:
    rows = await db.fetch(POST_CONTEXT, post_id)
    return rows[0] if rows else None


async def hide_post(by_member_id: int | None, post_id: int, reason: str) -> bool:
    """Inside a unit of work: take a live post out of view. False when it is gone or already
    out of view, so that of two racing callers exactly one hides it."""
    post = await _context(post_id)
    if post is None:
        return False
    now = clock.now()
    hidden = await Post.update({Post.hidden_at: now, Post.hidden_reason: reason}).where(
        (Post.id == post_id) & Post.hidden_at.is_null() & Post.deleted_at.is_null()
    ).returning(Post.id)
    if not hidden:
        return False
    changes: dict[Any, Any] = {Thread.version: Thread.version + 1,
                               Thread.post_count: Thread.post_count - 1}
    if post["post_number"] == 1:
        changes[Thread.hidden_at] = now
    await Thread.update(changes).where(Thread.id == post["thread"])
    await outbox.emit(events.ContentHidden(
        target_type="post", target_id=post_id, author_id=post["author"], reason=reason,
        by_member_id=by_member_id, thread_id=post["thread"], category_id=post["category"],
        brand_id=post["brand"]))
    thread_id = int(post["thread"])
    await outbox.after_commit(lambda: cache.changed(thread_id))
    return True


async def restore_post(by_member_id: int | None, post_id: int) -> bool:
    """Inside a unit of work: bring a hidden or held post back into view. A held post is
    announced only now (post.created, and thread.created for a first post), so it notifies
    and earns from its approval on. False when it is gone or already in view."""
    post = await _context(post_id)
    if post is None:
        return False
    shown = await Post.update({Post.hidden_at: None, Post.hidden_reason: None}).where(
        (Post.id == post_id) & Post.hidden_at.is_not_null() & Post.deleted_at.is_null()
    ).returning(Post.id)
    if not shown:
        return False
    changes: dict[Any, Any] = {Thread.version: Thread.version + 1,
                               Thread.post_count: Thread.post_count + 1}
    if post["post_number"] == 1:
        changes[Thread.hidden_at] = None
    await Thread.update(changes).where(Thread.id == post["thread"])
    if post["hidden_reason"] == "held":
        await announce_post(events.PostCreated(
            post_id=post_id, thread_id=post["thread"], category_id=post["category"],
            author_id=post["author"], post_number=post["post_number"],
            reply_to_post_id=post["reply_to"], reply_to_author_id=post["reply_to_author"],
            brand_id=post["brand"]))
    else:
        await outbox.emit(events.ContentRestored(
            target_type="post", target_id=post_id, author_id=post["author"],
            by_member_id=by_member_id, thread_id=post["thread"], category_id=post["category"],
            brand_id=post["brand"]))
    thread_id = int(post["thread"])
    await outbox.after_commit(lambda: cache.changed(thread_id))
    return True


async def moderate(actor: Actor, post_id: int, hide: bool, reason: str) -> PostOut:
    """A moderator of the post's category hides it, or brings it back, by hand."""
    actor.member()
    post, thread, category = await readable_post(actor, post_id)
    if not actor.moderates(category["brand"]):
        raise Forbidden("only moderators of this category hide or unhide its posts")
    label = f"post #{post['post_number']} in '{thread['title']}'"
    async with outbox.unit_of_work():
        changed = (await hide_post(actor.member_id, post_id, "moderator") if hide
                   else await restore_post(actor.member_id, post_id))
        if not changed:
            raise Conflict(f"this post is already {'hidden' if hide else 'in view'}")
        await staff_log.record(
            actor, "post.hide" if hide else "post.unhide", "post", post_id, label,
            before={"hidden": post["hidden_reason"]},
            after={"hidden": "moderator" if hide else None}, reason=reason,
            brand_id=category["brand"])
    shown = await post_out(post_id, actor.person_id)
    if shown is None:
        raise NotFound(f"post {post_id} does not exist")
    return shown
