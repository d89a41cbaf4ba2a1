"""Read marks: reads buffer them, a flush writes them in one go, they only move forward, and
a flush that fails keeps them for the next one. Unread counts subtract deleted posts."""

from __future__ import annotations

import pytest

from community.forums import readmarks, services
from community.forums.schemas import CategoryIn, PostIn, ThreadIn
from server import db
from server.auth import Actor
from tests.service.support import Hearth, register

pytestmark = pytest.mark.anyio


async def _thread(admin: Actor, author: Actor, replies: int) -> int:
    category = await services.create_category(admin, CategoryIn(name="Marks", slug="marks"))
    thread, _ = await services.create_thread(author, category.id, ThreadIn(title="Marks", body="one"))
    for n in range(replies):
        await services.reply(author, thread.id, PostIn(body=f"reply {n}"))
    return thread.id


async def _written(member_id: int, thread_id: int) -> int | None:
    rows = await db.fetch("SELECT last_read_post_number AS n FROM forum_read_mark "
                          "WHERE member = {} AND thread = {}", member_id, thread_id)
    return int(rows[0]["n"]) if rows else None


async def test_marks_wait_in_the_buffer_move_only_forward_and_survive_a_failed_flush(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    author, reader = await register(), await register()
    thread_id = await _thread(hearth.admin, author, 4)
    assert reader.member_id is not None
    me = reader.member_id

    await readmarks.advance(me, thread_id, 3)
    await readmarks.advance(me, thread_id, 2)
    assert await _written(me, thread_id) is None
    assert await readmarks.marks(me, [thread_id]) == {thread_id: 3}

    async def down(*args: object) -> None:
        raise ConnectionRefusedError("the database is down")

    monkeypatch.setattr(readmarks, "_upsert", down)
    with pytest.raises(ConnectionRefusedError):
        await readmarks.flush()
    assert readmarks.buffered(me, thread_id) == 3
    monkeypatch.undo()

    await readmarks.advance(me, thread_id, 4)
    await readmarks.flush()
    assert await _written(me, thread_id) == 4
    assert readmarks.buffered(me, thread_id) == 0
    # A lower mark written later (another process's older read) moves nothing back.
    await readmarks.write(me, thread_id, 1)
    assert await _written(me, thread_id) == 4
    assert await readmarks.unread_counts(me, {thread_id: 5}) == {thread_id: 1}
    await readmarks.stop()


async def test_unread_counts_subtract_deleted_posts_after_the_mark(hearth: Hearth) -> None:
    author, reader = await register(), await register()
    thread_id = await _thread(hearth.admin, author, 5)
    assert reader.member_id is not None
    await readmarks.advance(reader.member_id, thread_id, 2)
    await readmarks.flush()
    page = await db.fetch("SELECT id, post_number FROM forum_post WHERE thread = {} "
                          "ORDER BY post_number", thread_id)
    ids = {int(r["post_number"]): int(r["id"]) for r in page}
    # One deleted before the mark (already read), two after it.
    for number in (2, 4, 6):
        await services.delete_post(author, ids[number])
    assert await readmarks.unread_counts(reader.member_id, {thread_id: 6}) == {thread_id: 2}
    assert readmarks.unread(6, 2, [4, 6]) == 2
    assert readmarks.unread(6, 4, [4, 6]) == 1
    assert readmarks.unread(6, 6, [4, 6]) == 0


async def test_a_mark_the_database_refuses_is_dropped_and_the_others_written(
        hearth: Hearth) -> None:
    author, reader = await register(), await register()
    thread_id = await _thread(hearth.admin, author, 2)
    assert reader.member_id is not None
    await readmarks.advance(reader.member_id, thread_id, 3)
    # A thread that does not exist (as if deleted for good since the read).
    await readmarks.advance(reader.member_id, thread_id + 1000, 7)
    await readmarks.flush()
    assert await _written(reader.member_id, thread_id) == 3
    assert await _written(reader.member_id, thread_id + 1000) is None
    assert readmarks.buffered(reader.member_id, thread_id + 1000) == 0
