"""Each member's notifications: stored once per (event, member, kind) and pushed live on the
member's private channel `user:{id}`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter

from server import clock, outbox, runtime
from server.auth import Actor
from server.tables import Notification
from server.types import MAX_ID

_encoder = msgspec.json.Encoder()


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    data: dict[str, Any]
    created_at: dt.datetime
    read: bool


class NotificationPage(msgspec.Struct):
    items: list[NotificationOut]
    unread_count: int
    next_cursor: int | None


def _out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(id=row["id"], kind=row["kind"], data=msgspec.json.decode(row["data"]),
                           created_at=row["created_at"], read=row["read_at"] is not None)


async def notify(member_id: int, kind: str, event_id: int, data: dict[str, Any]) -> None:
    """Idempotent by (event, member, kind): a replayed event neither stores nor pushes twice."""
    rows = await Notification.insert(
        Notification(member=member_id, kind=kind, event_id=event_id,
                     data=_encoder.encode(data).decode())
    ).on_conflict(action="DO NOTHING").returning(Notification.id)
    if not rows:
        return
    row = (await Notification.select().where(Notification.id == rows[0]["id"]))[0]
    out = msgspec.to_builtins(_out(row))

    async def push() -> None:
        await runtime.current().broker.publish(f"user:{member_id}", "notification", out,
                                               message_id=f"n{row['id']}")

    await outbox.after_commit(push)


async def page(member_id: int, before: int | None = None, limit: int = 20) -> NotificationPage:
    query = Notification.select().where(Notification.member == member_id)
    if before is not None:
        query = query.where(Notification.id < before)
    rows = await query.order_by(Notification.id, ascending=False).limit(limit + 1)
    unread = await Notification.count().where(
        (Notification.member == member_id) & Notification.read_at.is_null()
    )
    items = [_out(r) for r in rows[:limit]]
    return NotificationPage(items=items, unread_count=int(unread),
                            next_cursor=items[-1].id if len(rows) > limit else None)


async def mark_all_read(member_id: int) -> None:
    await Notification.update({Notification.read_at: clock.now()}).where(
        (Notification.member == member_id) & Notification.read_at.is_null()
    )


class NotificationController(Controller):
    path = "/api/notifications"
    tags = ["notifications"]

    @get("/")
    async def list_notifications(
        self, actor: Actor, before: Annotated[int, Parameter(ge=1, le=MAX_ID)] | None = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> NotificationPage:
        """Newest first; pass next_cursor back as `before` for older ones."""
        return await page(actor.member(), before, limit)

    @post("/read", status_code=200)
    async def read_all(self, actor: Actor) -> NotificationPage:
        await mark_all_read(actor.member())
        return await page(actor.member())
