"""The spine: services write rows and outbox events in one transaction; the relay hands
committed events to handlers at least once; handlers are idempotent by event id.

    async with unit_of_work():
        ...write rows...
        await emit(PostCreated(...))
    # committed: the runner is asked to dispatch the new events

If the process dies after the commit and before the dispatch, the event row is still there
with no dispatched_at, and the periodic sweep hands it over.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from server import db, events
from server.settings import get_settings
from server.tables import HandlerReceipt, OutboxEvent

log = logging.getLogger("hearth.outbox")

MAX_ATTEMPTS = 25

HandlerFn = Callable[[int, events.Event], Awaitable[None]]


@dataclass(frozen=True)
class Handler:
    name: str
    event_types: frozenset[str]
    fn: HandlerFn


_handlers: dict[str, Handler] = {}
_pending: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "hearth_outbox_pending", default=None
)
_after_commit: list[Callable[[list[int]], Awaitable[None]]] = []


def handler(name: str, *types: type[events.Event]) -> Callable[[HandlerFn], HandlerFn]:
    """Register fn to receive committed events of the given types, once per event in effect."""

    def register(fn: HandlerFn) -> HandlerFn:
        tags = frozenset(str(t.__struct_config__.tag) for t in types)
        _handlers[name] = Handler(name, tags, fn)
        return fn

    return register


def handlers_for(event_type: str) -> list[Handler]:
    return [h for h in _handlers.values() if event_type in h.event_types]


def on_commit(callback: Callable[[list[int]], Awaitable[None]]) -> None:
    """The runner registers here to be told of newly committed events."""
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
    if _pending.get() is not None:
        async with db.transaction():
            yield
        return
    pending: list[int] = []
    token = _pending.set(pending)
    try:
        async with db.transaction():
            yield
    finally:
        _pending.reset(token)
    if pending:
        failpoint("after-commit")
        for callback in _after_commit:
            try:
                await callback(pending)
            except Exception:
                # The write is committed; the sweep will deliver. The caller must not see a
                # failure and retry a write that succeeded.
                log.exception("handing events %s to the runner failed; the sweep will", pending)


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


async def dispatch(event_id: int) -> bool:
    """Run every handler that has not yet handled this event. True when all have."""
    rows = await OutboxEvent.select(
        OutboxEvent.type, OutboxEvent.payload, OutboxEvent.dispatched_at
    ).where(OutboxEvent.id == event_id)
    if not rows or rows[0]["dispatched_at"] is not None:
        return True
    event = events.decode(rows[0]["payload"])
    done = {
        r["handler"]
        for r in await HandlerReceipt.select(HandlerReceipt.handler).where(
            HandlerReceipt.event_id == event_id
        )
    }
    ok = True
    for h in handlers_for(rows[0]["type"]):
        if h.name in done:
            continue
        try:
            async with unit_of_work():
                claimed = await HandlerReceipt.insert(
                    HandlerReceipt(event_id=event_id, handler=h.name)
                ).on_conflict(action="DO NOTHING").returning(HandlerReceipt.id)
                if claimed:
                    await h.fn(event_id, event)
        except Exception:
            ok = False
            log.exception("handler %s failed on event %s; it will be retried", h.name, event_id)
    now = dt.datetime.now(dt.UTC)
    if ok:
        await OutboxEvent.update(
            {OutboxEvent.dispatched_at: now, OutboxEvent.attempts: OutboxEvent.attempts + 1}
        ).where(OutboxEvent.id == event_id)
    else:
        await OutboxEvent.update({OutboxEvent.attempts: OutboxEvent.attempts + 1}).where(
            OutboxEvent.id == event_id
        )
    return ok


async def dispatch_many(event_ids: list[int]) -> None:
    for event_id in event_ids:
        await dispatch(event_id)


def sweep_cutoff(interval_seconds: float) -> float:
    """How old an undispatched event must be before a sweep takes it: well past the normal
    dispatch latency, so events merely waiting in a queue are not dispatched twice."""
    return 6 * interval_seconds


async def sweep(older_than_seconds: float = 0.0, limit: int = 500) -> int:
    """Dispatch committed events nobody finished; returns how many were picked up."""
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than_seconds)
    rows = (
        await OutboxEvent.select(OutboxEvent.id)
        .where(OutboxEvent.dispatched_at.is_null() & (OutboxEvent.created_at <= cutoff))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    ids = [int(r["id"]) for r in rows]
    await dispatch_many(ids)
    return len(ids)
