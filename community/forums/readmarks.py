"""How far each member has read each thread, and how many posts they have not read yet.

Reading never writes. A read moves the member's mark in this process's buffer, which is
written every FLUSH_SECONDS in one statement, as Discourse batches its "timings"; this
process sees its own buffered marks at once, other processes once the buffer is written.
Marks only move forward, so writes from several processes in any order agree. A process
that stops writes its buffer first (stop() is the plugin's on_stop); a crash loses at most
the last FLUSH_SECONDS of marks, which the next read of those threads moves again.

Unread counts subtract: the thread's highest post number, less the mark, less the deleted
posts after the mark (the partial index `forum_post_deleted` holds only those).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import logging
from collections.abc import Sequence

from server import db
from server.errors import unavailable

log = logging.getLogger("hearth.forums")

FLUSH_SECONDS = 1.0
CHUNK = 500
# Past this many unwritten marks a read waits for the write instead of adding more.
MAX_PENDING = 100_000

Key = tuple[int, int]
_pending: dict[Key, int] = {}
# Being written right now: still this process's truth until the write lands.
_writing: dict[Key, int] = {}
_flusher: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None
# The timer's writes, shielded from its cancellation; stop() waits for them.
_writes: set[asyncio.Future[None]] = set()

ON_CONFLICT = ("ON CONFLICT (member, thread) DO UPDATE "
               "SET last_read_post_number = excluded.last_read_post_number "
               "WHERE forum_read_mark.last_read_post_number < excluded.last_read_post_number")


def buffered(member_id: int, thread_id: int) -> int:
    """This process's unwritten mark for the member and thread (0 when none)."""
    key = (member_id, thread_id)
    return max(_pending.get(key, 0), _writing.get(key, 0))


async def advance(member_id: int, thread_id: int, post_number: int) -> None:
    """The member has read the thread up to post_number; written within FLUSH_SECONDS."""
    key = (member_id, thread_id)
    if _pending.get(key, 0) >= post_number:
        return
    _pending[key] = post_number
    if len(_pending) > MAX_PENDING:
        await flush()
        return
    _schedule()


async def write(member_id: int, thread_id: int, post_number: int) -> None:
    """Move the mark now, inside the caller's unit of work (a member's own new post)."""
    await _upsert([((member_id, thread_id), post_number)])


def _schedule() -> None:
    global _flusher
    loop = asyncio.get_running_loop()
    if _flusher is not None and _flusher[0] is loop and not _flusher[1].done():
        return
    # A context of its own: never the unit of work (or anything else) of the read that
    # started it.
    _flusher = (loop, loop.create_task(_flush_while_pending(), name="forums.read-marks",
                                       context=contextvars.Context()))


async def stop() -> None:
    """Stop the timer and write what is buffered (the plugin's on_stop)."""
    global _flusher
    held, _flusher = _flusher, None
    if held is not None and held[0] is asyncio.get_running_loop():
        # Cancelled while it sleeps; a write under way finishes (it is shielded) and is
        # waited for, so that whatever it fails to write is back in the buffer below.
        held[1].cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await held[1]
    with contextlib.suppress(Exception):
        await asyncio.gather(*_writes)
    await flush()


async def _flush_while_pending() -> None:
    while _pending:
        await asyncio.sleep(FLUSH_SECONDS)
        write = asyncio.ensure_future(flush())
        _writes.add(write)
        write.add_done_callback(_writes.discard)
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            raise
        except Exception:  # kept in the buffer; the next round tries again
            log.warning("read marks could not be written; retrying in %s s", FLUSH_SECONDS,
                        exc_info=True)


async def flush() -> None:
    """Write every buffered mark now. While the database is unreachable they go back into
    the buffer; a mark the database refuses (its member or thread is gone) is dropped."""
    global _pending, _writing
    if not _pending:
        return
    batch, _pending = _pending, {}
    _writing = {**_writing, **batch} if _writing else batch
    items = sorted(batch.items())
    try:
        for start in range(0, len(items), CHUNK):
            chunk = items[start:start + CHUNK]
            try:
                await _upsert(chunk)
            except Exception as exc:
                if unavailable(exc) is not None:
                    raise
                await _upsert_each(chunk)
    except BaseException:
        for key, number in batch.items():
            if _pending.get(key, 0) < number:
                _pending[key] = number
        raise
    finally:
        _writing = {k: v for k, v in _writing.items() if batch.get(k) != v}


async def _upsert_each(items: Sequence[tuple[Key, int]]) -> None:
    """One by one, so that one mark the database refuses does not hold the others back."""
    for item in items:
        try:
            await _upsert([item])
        except Exception as exc:
            if unavailable(exc) is not None:
                raise
            log.warning("dropped the read mark of member %s on thread %s: %s",
                        item[0][0], item[0][1], exc)


async def _upsert(items: Sequence[tuple[Key, int]]) -> None:
    await db.insert_rows("forum_read_mark", ("member", "thread", "last_read_post_number"),
                         ("bigint", "bigint", "int"),
                         [(member, thread, number) for (member, thread), number in items],
                         ON_CONFLICT)


async def marks(member_id: int, thread_ids: Sequence[int]) -> dict[int, int]:
    """The member's marks on these threads as this process knows them (written or not)."""
    found = {thread_id: buffered(member_id, thread_id) for thread_id in thread_ids}
    if not thread_ids:
        return found
    match, args = db.values_in(list(thread_ids), "bigint")
    for row in await db.fetch("SELECT thread, last_read_post_number FROM forum_read_mark "
                              "WHERE member = {} AND thread " + match, member_id, *args):
        thread_id = int(row["thread"])
        found[thread_id] = max(found[thread_id], int(row["last_read_post_number"]))
    return found


def unread(highest_post_number: int, mark: int, deleted_numbers: Sequence[int]) -> int:
    """Live posts after the mark; deleted_numbers sorted, holding at least those after it."""
    gone = len(deleted_numbers) - bisect.bisect_right(deleted_numbers, mark)
    return max(0, highest_post_number - mark - gone)


async def unread_counts(member_id: int, highest: dict[int, int]) -> dict[int, int]:
    """Unread posts per thread, given each thread's highest post number: one query for the
    marks and the deleted posts after them, which the partial index finds without reading
    the threads' other posts."""
    if not highest:
        return {}
    match, args = db.values_in(list(highest), "bigint")
    written: dict[int, int] = {}
    deleted: dict[int, list[int]] = {thread_id: [] for thread_id in highest}
    for row in await db.fetch(
            "SELECT t.id AS thread, m.last_read_post_number AS mark, d.post_number AS n "
            "FROM forum_thread t "
            "LEFT JOIN forum_read_mark m ON m.member = {} AND m.thread = t.id "
            "LEFT JOIN forum_post d ON d.thread = t.id AND d.deleted_at IS NOT NULL "
            "AND d.post_number > COALESCE(m.last_read_post_number, 0) "
            "WHERE t.id " + match + " ORDER BY d.post_number",
            member_id, *args):
        thread_id = int(row["thread"])
        written[thread_id] = int(row["mark"] or 0)
        if row["n"] is not None:
            deleted[thread_id].append(int(row["n"]))
    return {thread_id: unread(number, max(written.get(thread_id, 0),
                                          buffered(member_id, thread_id)), deleted[thread_id])
            for thread_id, number in highest.items()}
