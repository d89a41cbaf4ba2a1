"""Each member's notifications: stored once per (event, member, kind) and pushed live on the
member's private channel `user:{id}`.

A notification's data carries what it is about as it was when it was made (names, titles),
and its `text` is built from that data by the plugin that sends the kind
(Plugin.notification_texts): the kernel names no package, and every client shows the same
sentence.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter

from server import clock, db, outbox, plugins, runtime
from server.auth import Actor
from server.pubsub import Message
from server.tables import Notification
from server.types import MAX_ID

log = logging.getLogger("hearth.notifications")

_encoder = msgspec.json.Encoder()


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    # What to show, e.g. "You earned Home barista" or "@ana replied to 'Espresso tips'".
    text: str
    data: dict[str, Any]
    created_at: dt.datetime
    read: bool


class NotificationPage(msgspec.Struct):
    items: list[NotificationOut]
    unread_count: int
    next_cursor: int | None


@functools.cache
def _texts() -> Mapping[str, Callable[[dict[str, Any]], str]]:
    return {kind: fn for plugin in plugins.load() for kind, fn in plugin.notification_texts.items()}


def describe(kind: str, data: dict[str, Any]) -> str:
    fn = _texts().get(kind)
    if fn is not None:
        try:
            return fn(data)
        except (KeyError, TypeError, ValueError) as exc:
            # Data from before the kind's text needed a field: still shown, plainly.
            log.warning("notification text for %r failed on %r: %s", kind, data, exc)
    return "You have a new notification"


def _out(row: dict[str, Any]) -> NotificationOut:
    data = msgspec.json.decode(row["data"])
    return NotificationOut(id=row["id"], kind=row["kind"], text=describe(row["kind"], data),
                           data=data, created_at=row["created_at"],
                           read=row["read_at"] is not None)


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


async def notify_many(event_id: int, kinds: Mapping[int, str], data: dict[str, Any]) -> None:
    """notify() for many members at once (a thread's watchers), each with their kind, in one
    statement and one publishing round trip; idempotent in the same way."""
    if not kinds:
        return
    now = clock.now()
    encoded = _encoder.encode(data).decode()
    rows = await db.insert_rows(
        "notification", ["member", "kind", "event_id", "data", "created_at"],
        ["bigint", "text", "bigint", "text", "timestamptz"],
        [(member_id, kind, event_id, encoded, now) for member_id, kind in sorted(kinds.items())],
        "ON CONFLICT DO NOTHING RETURNING id, member, kind")
    if not rows:
        return
    messages = [
        Message(f"user:{row['member']}", "notification", msgspec.to_builtins(NotificationOut(
            id=int(row["id"]), kind=row["kind"], text=describe(row["kind"], data), data=data,
            created_at=now, read=False)), f"n{row['id']}")
        for row in sorted(rows, key=lambda r: int(r["id"]))
    ]

    async def push() -> None:
        await runtime.current().broker.publish_many(messages)

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
