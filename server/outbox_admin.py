"""The operator's view of the outbox: what is waiting, what keeps failing and why, and the
two ways out for a failing event (try again now, or give it up)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter

from server import clock, outbox, runtime, staff_log
from server.auth import Actor
from server.errors import Conflict, Forbidden, NotFound
from server.tables import OutboxEvent
from server.types import MAX_ID

log = logging.getLogger("hearth.outbox")


class FailingEvent(msgspec.Struct):
    id: int
    type: str
    created_at: dt.datetime
    attempts: int
    # True once MAX_ATTEMPTS failures stopped the retries: only an operator moves it on.
    gave_up: bool
    # When the relay may take it again (its back-off); null if it may now.
    retry_after: dt.datetime | None
    last_error: str | None
    payload: dict[str, Any]


class OutboxStatus(msgspec.Struct):
    pending: int
    failing: int
    gave_up: int
    oldest_pending_at: dt.datetime | None
    max_attempts: int
    items: list[FailingEvent]
    next_cursor: int | None


class EventOutcome(msgspec.Struct):
    id: int
    type: str
    dispatched: bool
    attempts: int
    last_error: str | None


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only admins see and manage the outbox")


def _failing(row: dict[str, Any]) -> FailingEvent:
    claimed = row["claimed_until"]
    return FailingEvent(
        id=row["id"], type=row["type"], created_at=row["created_at"], attempts=row["attempts"],
        gave_up=row["attempts"] >= outbox.MAX_ATTEMPTS,
        retry_after=claimed if claimed is not None and claimed > clock.now() else None,
        last_error=row["last_error"], payload=_payload(row["payload"]))


def _payload(raw: str) -> dict[str, Any]:
    try:
        decoded = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        decoded = None
    # An undecodable payload is exactly what the operator needs to see.
    return decoded if isinstance(decoded, dict) else {"raw": raw}


async def status(actor: Actor, before: int | None, limit: int) -> OutboxStatus:
    _require_admin(actor)
    pending = OutboxEvent.dispatched_at.is_null()
    failing = pending & (OutboxEvent.attempts > 0)
    query = OutboxEvent.select().where(failing)
    if before is not None:
        query = query.where(OutboxEvent.id < before)
    rows = await query.order_by(OutboxEvent.id, ascending=False).limit(limit + 1)
    oldest = await OutboxEvent.select(OutboxEvent.created_at).where(pending).order_by(
        OutboxEvent.id).limit(1)
    items = [_failing(r) for r in rows[:limit]]
    return OutboxStatus(
        pending=int(await OutboxEvent.count().where(pending)),
        failing=int(await OutboxEvent.count().where(failing)),
        gave_up=int(await OutboxEvent.count().where(
            pending & (OutboxEvent.attempts >= outbox.MAX_ATTEMPTS))),
        oldest_pending_at=oldest[0]["created_at"] if oldest else None,
        max_attempts=outbox.MAX_ATTEMPTS, items=items,
        next_cursor=items[-1].id if len(rows) > limit else None)


async def _undispatched(event_id: int) -> dict[str, Any]:
    rows = await OutboxEvent.select(OutboxEvent.dispatched_at, OutboxEvent.last_error,
                                    OutboxEvent.type, OutboxEvent.attempts).where(
        OutboxEvent.id == event_id)
    if not rows:
        raise NotFound(f"there is no outbox event {event_id}")
    if rows[0]["dispatched_at"] is not None:
        raise Conflict(f"outbox event {event_id} was already dispatched")
    return rows[0]


async def _outcome(event_id: int) -> EventOutcome:
    rows = await OutboxEvent.select().where(OutboxEvent.id == event_id)
    if not rows:
        raise NotFound(f"there is no outbox event {event_id}")
    row = rows[0]
    return EventOutcome(id=event_id, type=row["type"], dispatched=row["dispatched_at"] is not None,
                        attempts=row["attempts"], last_error=row["last_error"])


async def outcome(actor: Actor, event_id: int) -> EventOutcome:
    _require_admin(actor)
    return await _outcome(event_id)


async def retry(actor: Actor, event_id: int) -> EventOutcome:
    """Clear the attempts and the back-off, and wake a relay: handlers that already handled
    the event keep their receipts, so only the failing ones run again."""
    _require_admin(actor)
    async with outbox.unit_of_work():
        row = await _undispatched(event_id)
        await OutboxEvent.update({OutboxEvent.attempts: 0, OutboxEvent.claimed_until: None}).where(
            (OutboxEvent.id == event_id) & OutboxEvent.dispatched_at.is_null())
        await staff_log.record(actor, "outbox.retry", "outbox_event", event_id,
                               f"{row['type']} event {event_id}",
                               before={"attempts": row["attempts"],
                                       "last_error": row["last_error"]},
                               after={"attempts": 0})
    log.warning("outbox event %s retried by admin %s", event_id, actor.handle)
    await runtime.current().runner.wake()
    return await _outcome(event_id)


async def discard(actor: Actor, event_id: int) -> EventOutcome:
    """Give the event up: marked dispatched with who did it, then pruned like the rest."""
    _require_admin(actor)
    async with outbox.unit_of_work():
        row = await _undispatched(event_id)
        note = f"discarded by @{actor.handle}; last error: {row['last_error'] or 'none'}"
        await OutboxEvent.update({
            OutboxEvent.dispatched_at: clock.now(), OutboxEvent.claimed_until: None,
            OutboxEvent.last_error: note[:outbox.ERROR_CHARS],
        }).where((OutboxEvent.id == event_id) & OutboxEvent.dispatched_at.is_null())
        await staff_log.record(actor, "outbox.discard", "outbox_event", event_id,
                               f"{row['type']} event {event_id}",
                               before={"dispatched": False, "attempts": row["attempts"],
                                       "last_error": row["last_error"]},
                               after={"dispatched": True})
    log.warning("outbox event %s discarded by admin %s", event_id, actor.handle)
    return await _outcome(event_id)


class OutboxController(Controller):
    path = "/api/admin/outbox"
    tags = ["operations"]

    @get("/")
    async def show(
        self, actor: Actor, before: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> OutboxStatus:
        """Counts of waiting events, and the failing ones (newest first) with their last
        error; pass next_cursor back as `before` for older ones."""
        return await status(actor, before, limit)

    @get("/{event_id:int}")
    async def show_event(self, actor: Actor,
                         event_id: Annotated[int, Parameter(ge=1, le=MAX_ID)]) -> EventOutcome:
        """Whether one event was dispatched, and what its last failure said."""
        return await outcome(actor, event_id)

    @post("/{event_id:int}/retry", status_code=200)
    async def retry_event(self, actor: Actor,
                          event_id: Annotated[int, Parameter(ge=1, le=MAX_ID)]) -> EventOutcome:
        """Try a failing event again now, even one that was given up."""
        return await retry(actor, event_id)

    @post("/{event_id:int}/discard", status_code=200)
    async def discard_event(self, actor: Actor,
                            event_id: Annotated[int, Parameter(ge=1, le=MAX_ID)]) -> EventOutcome:
        """Stop trying an event whose effects will never apply."""
        return await discard(actor, event_id)
