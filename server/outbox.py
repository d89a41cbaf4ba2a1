"""The spine: services write rows and outbox events in one transaction; a relay hands
committed events to handlers at least once; handlers are idempotent by event id.

    async with unit_of_work():
        ...write rows...
        await emit(PostCreated(...))
    # committed: the runner is asked to relay the new events

A relay claims a batch of pending events (oldest first; claimed rows are skipped by other
relays until the claim expires), runs each handler once over the whole batch in one
transaction with one receipt per (event, handler), then marks the batch dispatched. If the
process dies after the commit and before the relay, the event row is still pending and the
periodic sweep, which is the same relay, hands it over. Claims are short and renewed while
the batch runs, so a dead relay's batch is taken over within CLAIM_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from server import clock, db, errors, events, schedule
from server.settings import get_settings
from server.tables import OutboxEvent

log = logging.getLogger("hearth.outbox")

# An event that failed this often is left for an operator (it stays in the table).
MAX_ATTEMPTS = 25
BATCH_SIZE = 500
# A claim lapses this long after the relay last renewed it: a dead relay's batch is taken
# over by then. A live relay renews it every HEARTBEAT_SECONDS while the batch runs.
CLAIM_SECONDS = 10
HEARTBEAT_SECONDS = 3
# A handler that could not reach a backing service (Redis down) is tried again this soon,
# and it does not count as an attempt: the event is not at fault, and an outage of any
# length must neither use up its attempts nor leave it waiting a long backoff afterwards.
UNREACHABLE_RETRY_SECONDS = 2
ERROR_CHARS = 2000


@dataclass(frozen=True)
class Delivery:
    event_id: int
    event_type: str
    event: events.Event


EventFn = Callable[[int, events.Event], Awaitable[None]]
BatchFn = Callable[[list[Delivery]], Awaitable[None]]


@dataclass(frozen=True)
class Handler:
    name: str
    event_types: frozenset[str]
    fn: BatchFn


_handlers: dict[str, Handler] = {}
_pending: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "hearth_outbox_pending", default=None
)
_after_commit: list[Callable[[], Awaitable[None]]] = []
Push = Callable[[], Awaitable[None]]
_pushes: contextvars.ContextVar[list[Push] | None] = contextvars.ContextVar(
    "hearth_outbox_pushes", default=None
)


def _tags(types: tuple[type[events.Event], ...]) -> frozenset[str]:
    return frozenset(str(t.__struct_config__.tag) for t in types)


def batch_handler(name: str, *types: type[events.Event]) -> Callable[[BatchFn], BatchFn]:
    """Register fn to receive committed events of the given types, a batch at a time, in
    event order, inside one transaction; each event reaches it once in effect."""

    def register(fn: BatchFn) -> BatchFn:
        _handlers[name] = Handler(name, _tags(types), fn)
        return fn

    return register


def handler(name: str, *types: type[events.Event]) -> Callable[[EventFn], EventFn]:
    """Like batch_handler, for handlers that take one event at a time."""

    def register(fn: EventFn) -> EventFn:
        async def each(batch: list[Delivery]) -> None:
            for delivery in batch:
                await fn(delivery.event_id, delivery.event)

        _handlers[name] = Handler(name, _tags(types), each)
        return fn

    return register


def on_commit(callback: Callable[[], Awaitable[None]]) -> None:
    """The runner registers here to be told when events were committed."""
    _after_commit.clear()
    _after_commit.append(callback)


def failpoint(name: str) -> None:
    """Crash here when HEARTH_FAILPOINT names this point: lets a test kill the process at
    exactly the moment the spine must survive."""
    if get_settings().failpoint == name:
        log.warning("failpoint %s: exiting", name)
        os._exit(86)


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[None]:
    """A write transaction whose emitted events are dispatched after it commits.
    Nested units join the outermost one."""
    pushes = _pushes.get()
    if _pending.get() is not None and pushes is not None:
        mark = len(pushes)
        try:
            async with db.transaction():
                yield
        except BaseException:
            del pushes[mark:]  # the savepoint was rolled back, and so is what it would push
            raise
        return
    pending: list[int] = []
    pushes = []
    token = _pending.set(pending)
    pushes_token = _pushes.set(pushes)
    try:
        async with db.transaction():
            yield
    finally:
        _pending.reset(token)
        _pushes.reset(pushes_token)
    for push in pushes:
        try:
            await push()
        except Exception:
            log.exception("a live push after commit failed")
    if pending:
        failpoint("after-commit")
        for callback in _after_commit:
            try:
                await callback()
            except Exception:
                # The write is committed; the sweep will deliver. The caller must not see a
                # failure and retry a write that succeeded.
                log.exception("handing events %s to the runner failed; the sweep will", pending)


async def after_commit(push: Push) -> None:
    """Run push once the current unit of work has committed, never if it rolls back (at once
    outside one): live messages must not announce what did not happen."""
    pushes = _pushes.get()
    if pushes is None:
        await push()
    else:
        pushes.append(push)


async def emit(event: events.Event) -> int:
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("emit() must run inside unit_of_work()")
    rows = await OutboxEvent.insert(
        OutboxEvent(type=events.event_type(event), payload=events.encode(event))
    ).returning(OutboxEvent.id)
    event_id = int(rows[0]["id"])
    pending.append(event_id)
    return event_id


async def emit_many(batch: list[events.Event]) -> list[int]:
    """emit() for many events in one statement; ids in the order given."""
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("emit_many() must run inside unit_of_work()")
    if not batch:
        return []
    now = clock.now()
    rows = await db.insert_rows(
        "outbox_event", ["type", "payload", "created_at", "attempts"],
        ["text", "text", "timestamptz", "int"],
        [(events.event_type(event), events.encode(event), now, 0) for event in batch],
        "RETURNING id")
    ids = sorted(int(r["id"]) for r in rows)
    pending.extend(ids)
    return ids



async def _claim(limit: int) -> list[Delivery]:
    """Take up to `limit` pending events nobody else holds, oldest first."""
    now = clock.now()
    skip_locked = "" if db.is_sqlite() else " FOR UPDATE SKIP LOCKED"
    rows = await db.fetch(
        "UPDATE outbox_event SET claimed_until = {} WHERE id IN ("
        "SELECT id FROM outbox_event WHERE dispatched_at IS NULL AND attempts < {} "
        "AND (claimed_until IS NULL OR claimed_until < {}) ORDER BY id LIMIT {}"
        + skip_locked + ") RETURNING id, type, payload",
        now + dt.timedelta(seconds=CLAIM_SECONDS), MAX_ATTEMPTS, now, limit,
    )
    batch = []
    for row in sorted(rows, key=lambda r: int(r["id"])):
        try:
            event = events.decode(row["payload"])
        except Exception as exc:
            log.exception("outbox event %s cannot be decoded; it is skipped", row["id"])
            await _finish([], {int(row["id"]): f"cannot be decoded: {exc}"[:ERROR_CHARS]}, {}, [])
            continue
        batch.append(Delivery(int(row["id"]), str(row["type"]), event))
    return batch


async def _receipted(event_ids: list[int]) -> set[tuple[int, str]]:
    match, args = db.values_in(event_ids, "bigint")
    rows = await db.fetch("SELECT event_id, handler FROM handler_receipt WHERE event_id " + match,
                          *args)
    return {(int(r["event_id"]), str(r["handler"])) for r in rows}


@dataclass(frozen=True)
class Failure:
    error: str
    # A backing service was unreachable: not the event's fault (see UNREACHABLE_RETRY_SECONDS).
    unreachable: bool


def _unreachable(exc: BaseException) -> bool:
    return errors.unavailable(exc) is not None


async def _run(h: Handler, batch: list[Delivery]) -> Failure | None:
    """One handler over a batch, in one transaction with its receipts. On failure (when
    nothing of it was kept) returns what went wrong, for the operator."""
    try:
        async with unit_of_work():
            now = clock.now()
            claimed = {int(r["event_id"]) for r in await db.insert_rows(
                "handler_receipt", ["event_id", "handler", "handled_at"],
                ["bigint", "text", "timestamptz"],
                [(d.event_id, h.name, now) for d in batch],
                "ON CONFLICT DO NOTHING RETURNING event_id")}
            todo = [d for d in batch if d.event_id in claimed]
            if todo:
                await h.fn(todo)
    except Exception as exc:
        unreachable = _unreachable(exc)
        if unreachable:
            # One line, not a traceback per batch for as long as Redis is down.
            log.warning("handler %s could not reach a service for events %s (%s: %s); "
                        "trying again in %ss", h.name, [d.event_id for d in batch],
                        type(exc).__name__, exc, UNREACHABLE_RETRY_SECONDS)
        else:
            log.exception("handler %s failed on events %s; they will be retried", h.name,
                          [d.event_id for d in batch])
        return Failure(f"{h.name}: {type(exc).__name__}: {exc}"[:ERROR_CHARS], unreachable)
    return None


async def _keep_claimed(event_ids: list[int]) -> None:
    """Renew the batch's claim while it runs. Its own connection, outside the dispatch's
    transaction; on SQLite it queues for the write lock like any writer (a handler's next
    transaction may then wait for one short UPDATE, never for anything the dispatch holds),
    and a renewal that fails only lets the claim run on."""
    match, args = db.values_in(event_ids, "bigint")
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            await db.fetch("UPDATE outbox_event SET claimed_until = {} WHERE id " + match
                           + " AND dispatched_at IS NULL",
                           clock.now() + dt.timedelta(seconds=CLAIM_SECONDS), *args)
        except Exception:
            log.warning("renewing the claim on %d events failed", len(event_ids), exc_info=True)


async def _finish(done: list[int], failed: dict[int, str], unreachable: dict[int, str],
                  released: list[int]) -> None:
    now = clock.now()
    if done:
        match, args = db.values_in(done, "bigint")
        await db.fetch("UPDATE outbox_event SET dispatched_at = {}, claimed_until = NULL, "
                       "attempts = attempts + 1 WHERE id " + match, now, *args)
    if released:
        # Not started: free for any relay at once, whoever else was going to.
        match, args = db.values_in(released, "bigint")
        await db.fetch("UPDATE outbox_event SET claimed_until = NULL WHERE id " + match, *args)
    by_error: dict[str, list[int]] = defaultdict(list)
    for event_id, error in unreachable.items():
        by_error[error].append(event_id)
    for error, ids in by_error.items():
        match, args = db.values_in(sorted(ids), "bigint")
        await db.fetch("UPDATE outbox_event SET last_error = {}, claimed_until = {} WHERE id "
                       + match, error, now + dt.timedelta(seconds=UNREACHABLE_RETRY_SECONDS),
                       *args)
    for event_id, error in sorted(failed.items()):
        # Back off: the claim is kept for a while that grows with each failure.
        attempts = await OutboxEvent.update({
            OutboxEvent.attempts: OutboxEvent.attempts + 1, OutboxEvent.last_error: error,
        }).where(OutboxEvent.id == event_id).returning(OutboxEvent.attempts)
        wait = min(2 ** int(attempts[0]["attempts"]) if attempts else 1, 600)
        await OutboxEvent.update({OutboxEvent.claimed_until: now + dt.timedelta(seconds=wait)}).where(
            OutboxEvent.id == event_id)


Stopping = Callable[[], bool]


async def dispatch(batch: list[Delivery], stopping: Stopping | None = None) -> None:
    """Run every handler over the events it has not handled yet. A handler that fails on
    the batch is retried one event at a time, so one bad event holds up only itself. When
    `stopping` turns true (the process is shutting down), the handlers not started yet are
    left to another relay: the events they concern are released at once."""
    if not batch:
        return
    renewing = asyncio.create_task(_keep_claimed([d.event_id for d in batch]),
                                   name="hearth-outbox-claim", context=contextvars.Context())
    failed: dict[int, str] = {}
    unreachable: dict[int, str] = {}
    released: set[int] = set()
    try:
        done = await _receipted([d.event_id for d in batch])
        for h in _handlers.values():
            todo = [d for d in batch
                    if d.event_type in h.event_types and (d.event_id, h.name) not in done]
            if not todo:
                continue
            if stopping is not None and stopping():
                released.update(d.event_id for d in todo)
                continue
            on_batch = await _run(h, todo)
            failpoint("mid-dispatch")
            if on_batch is None:
                continue
            for delivery in todo:
                # Unreachable is no event's fault: trying each alone would fail alike.
                alone = (on_batch if len(todo) == 1 or on_batch.unreachable
                         else await _run(h, [delivery]))
                if alone is not None:
                    (unreachable if alone.unreachable else failed).setdefault(
                        delivery.event_id, alone.error)
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
    unreachable = {i: e for i, e in unreachable.items() if i not in failed}
    released -= failed.keys() | unreachable.keys()
    if released:
        log.info("stopping: events %s are left to another relay", sorted(released))
    await _finish([d.event_id for d in batch if d.event_id not in failed
                   and d.event_id not in unreachable and d.event_id not in released],
                  failed, unreachable, sorted(released))


async def relay(max_batches: int = 20, batch_size: int = BATCH_SIZE,
                backlog: Push | None = None, stopping: Stopping | None = None) -> int:
    """Claim and dispatch pending events until none are left (or max_batches were done);
    returns how many were dispatched. Safe to run in many processes at once: `backlog` is
    called once when a full batch shows that more is waiting, so that another process can
    start on the next batch meanwhile. Once `stopping` turns true, no batch is claimed."""
    total = 0
    for _ in range(max_batches):
        if stopping is not None and stopping():
            break
        batch = await _claim(batch_size)
        if not batch:
            break
        if backlog is not None and len(batch) == batch_size:
            await backlog()
            backlog = None
        await dispatch(batch, stopping)
        total += len(batch)
    return total


PRUNE_CHUNK = 5000


@schedule.every(3600, "outbox.prune")
async def prune() -> int:
    """Delete dispatched events older than the retention, with their receipts; returns how
    many. Events not yet dispatched (pending or failing) are kept whatever their age."""
    cutoff = clock.now() - dt.timedelta(days=get_settings().outbox_retention_days)
    total = 0
    while True:
        async with db.transaction():
            # The newest row always stays: SQLite would otherwise hand out its id again, and
            # awards, notifications and removals are keyed by event id.
            rows = await db.fetch("SELECT id FROM outbox_event WHERE dispatched_at < {} "
                                  "AND id < (SELECT MAX(id) FROM outbox_event) "
                                  "ORDER BY id LIMIT {}", cutoff, PRUNE_CHUNK)
            if not rows:
                return total
            match, args = db.values_in([int(r["id"]) for r in rows], "bigint")
            await db.fetch("DELETE FROM handler_receipt WHERE event_id " + match, *args)
            await db.fetch("DELETE FROM outbox_event WHERE id " + match, *args)
        total += len(rows)
