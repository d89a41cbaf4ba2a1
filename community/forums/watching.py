"""Members' watch levels for threads and categories (schemas.WATCH_LEVELS), and whom a new
post concerns.

Levels live in forum_thread_watch and forum_category_watch, keyed by (thread or category,
member): a new post finds its thread's watchers by the key's first column, a reader's own
level is the whole key. A member with no level anywhere is at "normal".
"""

from __future__ import annotations

from community.forums.schemas import WatchOut
from server import db

DEFAULT = "normal"
# The levels that change who hears of a post beyond replies and mentions.
NOTABLE = ("watching", "muted")

_UPSERT = ("INSERT INTO forum_{what}_watch ({what}, member, level) VALUES ({{}}, {{}}, {{}}) "
           "ON CONFLICT ({what}, member) DO UPDATE SET level = excluded.level")


def out(thread_level: str | None, category_level: str | None) -> WatchOut:
    if thread_level is not None:
        return WatchOut(level=thread_level, source="thread")
    if category_level is not None:
        return WatchOut(level=category_level, source="category")
    return WatchOut(level=DEFAULT, source="default")


async def thread_level(member_id: int, thread_id: int) -> WatchOut:
    rows = await db.fetch(
        "SELECT tw.level AS thread_level, cw.level AS category_level FROM forum_thread t "
        "LEFT JOIN forum_thread_watch tw ON tw.thread = t.id AND tw.member = {} "
        "LEFT JOIN forum_category_watch cw ON cw.category = t.category AND cw.member = {} "
        "WHERE t.id = {}", member_id, member_id, thread_id)
    return out(rows[0]["thread_level"], rows[0]["category_level"]) if rows else out(None, None)


async def set_thread_level(member_id: int, thread_id: int, level: str | None) -> None:
    """Set the member's level for the thread; None goes back to the category's."""
    if level is None:
        await db.fetch("DELETE FROM forum_thread_watch WHERE thread = {} AND member = {}",
                       thread_id, member_id)
    else:
        await db.fetch(_UPSERT.format(what="thread"), thread_id, member_id, level)


async def set_category_level(member_id: int, category_id: int, level: str | None) -> None:
    """Set the member's level for the category; None goes back to the default."""
    if level is None:
        await db.fetch("DELETE FROM forum_category_watch WHERE category = {} AND member = {}",
                       category_id, member_id)
    else:
        await db.fetch(_UPSERT.format(what="category"), category_id, member_id, level)


async def watch_new_thread(member_id: int, thread_id: int) -> None:
    """Inside the unit of work creating the thread: its author watches it."""
    await db.fetch(_UPSERT.format(what="thread"), thread_id, member_id, "watching")


async def category_levels(member_id: int, category_ids: list[int]) -> dict[int, str]:
    """The member's levels for these categories, where set."""
    if not category_ids:
        return {}
    match, args = db.values_in(category_ids, "bigint")
    rows = await db.fetch("SELECT category, level FROM forum_category_watch "
                          "WHERE member = {} AND category " + match, member_id, *args)
    return {int(r["category"]): r["level"] for r in rows}


async def notable_levels(thread_id: int, category_id: int) -> dict[int, str]:
    """Members watching or muting the thread, by its level or, where it has none for them,
    its category's: one statement, whatever the number of watchers."""
    rows = await db.fetch(
        "SELECT member, level FROM forum_thread_watch WHERE thread = {} AND level IN ({}, {}) "
        "UNION ALL "
        "SELECT c.member, c.level FROM forum_category_watch c "
        "WHERE c.category = {} AND c.level IN ({}, {}) AND NOT EXISTS ("
        "SELECT 1 FROM forum_thread_watch t WHERE t.thread = {} AND t.member = c.member)",
        thread_id, *NOTABLE, category_id, *NOTABLE, thread_id)
    return {int(r["member"]): r["level"] for r in rows}
