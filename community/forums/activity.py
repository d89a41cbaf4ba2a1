"""A member's recent threads and posts, for their profile: only what the viewer may read."""

from __future__ import annotations

from community.forums.schemas import ActivityItem, ActivityPage
from community.forums.services import check_readable
from community.forums.tables import Category
from server import db
from server.accounts.services import public_member
from server.auth import Actor
from server.errors import Forbidden, NotFound
from server.markup import excerpt

EXCERPT_CHARS = 200


async def _readable_categories(actor: Actor) -> list[int]:
    """The categories the actor may read, by the forums' own rule (check_readable)."""
    readable = []
    for row in await Category.select().order_by(Category.id):
        try:
            check_readable(actor, row)
        except (Forbidden, NotFound):
            continue
        readable.append(int(row["id"]))
    return readable


async def member_activity(actor: Actor, member_id: int, before: int | None,
                          limit: int) -> ActivityPage:
    """The member's live posts in live threads the actor may read, newest first."""
    await public_member(member_id)
    categories = await _readable_categories(actor)
    if not categories:
        return ActivityPage(items=[], next_cursor=None)
    match, args = db.values_in(categories, "bigint")
    sql = ("SELECT p.id AS id, p.post_number AS post_number, p.html AS html, "
           "p.created_at AS created_at, t.id AS thread_id, t.title AS title, "
           "t.category AS category FROM forum_post p JOIN forum_thread t ON t.id = p.thread "
           "WHERE p.author = {} AND p.deleted_at IS NULL AND t.deleted_at IS NULL "
           "AND t.category " + match)
    params: list[object] = [member_id, *args]
    if actor.person_id != member_id:
        # Out of view (community.forums.hiding): shown on the author's own profile only.
        sql += " AND p.hidden_at IS NULL AND t.hidden_at IS NULL"
    if before is not None:
        sql += " AND p.id < {}"
        params.append(before)
    rows = await db.fetch(sql + " ORDER BY p.id DESC LIMIT {}", *params, limit + 1)
    items = [ActivityItem(
        kind="thread" if r["post_number"] == 1 else "post", post_id=int(r["id"]),
        post_number=int(r["post_number"]), thread_id=int(r["thread_id"]), thread_title=r["title"],
        category_id=int(r["category"]), excerpt=excerpt(r["html"], EXCERPT_CHARS),
        created_at=r["created_at"]) for r in rows[:limit]]
    return ActivityPage(items=items,
                        next_cursor=items[-1].post_id if len(rows) > limit else None)
