"""Each member's notifications: stored once per (event, member, kind) and pushed live on the
member's private channel `user:{id}`, each as the member's preferences for its kind say (in
the app, by email, both or neither).

Kinds are open-ended: `notify()` takes any, and a kind nobody described in KINDS, or the
member never chose for, takes the defaults (in the app, no email). Security mail (password
and email changes) is no notification and no preference: it is always sent."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post, put
from litestar.params import Parameter

from server import clock, mail, outbox, runtime
from server.auth import PEOPLE_ONLY_OPT, Actor
from server.errors import Invalid
from server.security import sha256
from server.tables import Member, Notification, NotificationPreferences
from server.types import MAX_ID

# The kinds a member is shown on the preferences page, with what each is about. Others
# (added by packages later) are accepted and shown once chosen for.
KINDS: dict[str, str] = {
    "reply": "someone replied to your post",
    "reaction": "someone reacted to your post",
    "badge": "you earned a badge",
    "tier": "your tier changed",
    "challenge": "a challenge you joined moved on",
    "challenge_reward": "a challenge rewarded you",
}
Kind = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_.]*$")]
MAX_KINDS = 100

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


class KindPreference(msgspec.Struct, forbid_unknown_fields=True):
    kind: Kind
    in_app: bool = True
    email: bool = False


class PreferenceOut(msgspec.Struct):
    kind: str
    description: str
    in_app: bool
    email: bool


class PreferencesIn(msgspec.Struct, forbid_unknown_fields=True):
    # Only the kinds named change; the others keep what they were.
    items: Annotated[list[KindPreference], msgspec.Meta(max_length=MAX_KINDS)]


class PreferencesOut(msgspec.Struct):
    items: list[PreferenceOut]


_prefs_decoder = msgspec.json.Decoder(dict[str, KindPreference])


async def _stored(member_id: int) -> dict[str, KindPreference]:
    rows = await NotificationPreferences.select(NotificationPreferences.data).where(
        NotificationPreferences.member == member_id)
    return _prefs_decoder.decode(rows[0]["data"]) if rows else {}


async def preference(member_id: int, kind: str) -> KindPreference:
    return (await _stored(member_id)).get(kind) or KindPreference(kind=kind)


def _preferences_out(stored: dict[str, KindPreference]) -> PreferencesOut:
    kinds = [*KINDS, *sorted(k for k in stored if k not in KINDS)]
    items = []
    for kind in kinds:
        chosen = stored.get(kind) or KindPreference(kind=kind)
        items.append(PreferenceOut(kind=kind, description=KINDS.get(kind, kind),
                                   in_app=chosen.in_app, email=chosen.email))
    return PreferencesOut(items=items)


async def preferences(member_id: int) -> PreferencesOut:
    return _preferences_out(await _stored(member_id))


async def set_preferences(member_id: int, data: PreferencesIn) -> PreferencesOut:
    async with outbox.unit_of_work():
        stored = await _stored(member_id)
        stored.update({item.kind: item for item in data.items})
        if len(stored) > MAX_KINDS:
            raise Invalid(f"at most {MAX_KINDS} notification kinds can be set")
        encoded = _encoder.encode(stored).decode()
        await NotificationPreferences.insert(NotificationPreferences(
            member=member_id, data=encoded, updated_at=clock.now(),
        )).on_conflict(target=NotificationPreferences.member, action="DO UPDATE",
                       values=[NotificationPreferences.data, NotificationPreferences.updated_at])
    return _preferences_out(stored)


async def _mail(member_id: int, kind: str, event_id: int, data: dict[str, Any]) -> None:
    rows = await Member.select(Member.email, Member.handle).where(Member.id == member_id)
    if not rows or not mail.safe_address(rows[0]["email"]):
        return
    text = data.get("text")
    about = text if isinstance(text, str) and text else KINDS.get(kind, f"a new {kind} notification")
    site = runtime.current().settings.public_url
    await mail.queue(rows[0]["email"], f"Hearth: {about}", (
        f"Hello {rows[0]['handle']},\n\n{about.rstrip('.')}.\n\n"
        + (f"See it on {site}/#/notifications\n\n" if site else "")
        + "You get this mail because you asked for these notifications by email; your "
        "notification settings turn it off.\n"),
        # One mail per notification, however often its event is replayed.
        key="n-" + sha256(f"{event_id}:{member_id}:{kind}")[:40])


async def notify(member_id: int, kind: str, event_id: int, data: dict[str, Any]) -> None:
    """Idempotent by (event, member, kind): a replayed event neither stores, pushes nor
    mails twice. What the member's preference for the kind turns off is skipped."""
    chosen = await preference(member_id, kind)
    if chosen.email:
        await _mail(member_id, kind, event_id, data)
    if not chosen.in_app:
        return
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


class PreferencesController(Controller):
    path = "/api/me/notification-preferences"
    tags = ["notifications"]
    opt = {PEOPLE_ONLY_OPT: True}

    @get("/")
    async def get_preferences(self, actor: Actor) -> PreferencesOut:
        """Per notification kind: shown in the app (default on) and sent by email (default
        off). Kinds not listed take the defaults."""
        return await preferences(actor.member())

    @put("/")
    async def put_preferences(self, actor: Actor, data: PreferencesIn) -> PreferencesOut:
        """Set the kinds named; the others keep their settings."""
        return await set_preferences(actor.member(), data)


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
