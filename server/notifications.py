"""Each member's notifications: stored once per (event, member, kind) and pushed live on the
member's private channel `user:{id}`, each as the member's preferences for its kind say (in
the app, by email, both or neither).

A notification's data carries what it is about as it was when it was made (names, titles),
and its `text` is built from that data by the plugin that sends the kind
(Plugin.notification_texts): the kernel names no package, and every client shows the same
sentence.

Kinds are open-ended: `notify()` takes any, and a kind nobody described in KINDS, or the
member never chose for, takes the defaults (in the app, no email). Security mail (password
and email changes) is no notification and no preference: it is always sent."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post, put
from litestar.params import Parameter

from server import clock, db, mail, outbox, plugins, runtime
from server.auth import PEOPLE_ONLY_OPT, Actor
from server.errors import Invalid
from server.pubsub import Message
from server.security import sha256
from server.tables import Member, Notification, NotificationPreferences
from server.types import MAX_ID

log = logging.getLogger("hearth.notifications")

# The kinds a member is shown on the preferences page, with what each is about. Others
# (added by packages later) are accepted and shown once chosen for.
KINDS: dict[str, str] = {
    "reply": "someone replied to your post",
    "posted": "a new reply in a thread or category you watch",
    "new_thread": "a new thread in a category you watch",
    "mention": "someone mentioned you",
    "reaction": "someone reacted to your post",
    "badge": "you earned a badge",
    "tier": "your tier changed",
    "challenge": "a challenge you joined moved on",
    "challenge_reward": "a challenge rewarded you",
    "sanction": "you were silenced or suspended, or a sanction or appeal of yours changed",
    "moderator_edit": "a moderator edited your post",
    "content_hidden": "your post was hidden after members flagged it",
    "moderation_outcome": "a moderator decided on your flagged or held content",
    "flag_outcome": "a moderator decided on something you flagged",
    "webhook_disabled": "brand staff: a webhook endpoint of your brand kept failing and was "
                        "disabled",
}
Kind = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_.]*$")]
MAX_KINDS = 100
PREFERENCE_SLICE = 10_000

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


# The kinds the kernel itself sends (sanctions), as plugins declare theirs.
_kernel_texts: dict[str, Callable[[dict[str, Any]], str]] = {}


def kernel_text(kind: str, fn: Callable[[dict[str, Any]], str]) -> None:
    _kernel_texts[kind] = fn


@functools.cache
def _texts() -> Mapping[str, Callable[[dict[str, Any]], str]]:
    return {**_kernel_texts, **{kind: fn for plugin in plugins.load()
                                for kind, fn in plugin.notification_texts.items()}}


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
    about = describe(kind, data)
    site = runtime.current().settings.public_url
    await mail.queue(rows[0]["email"], f"Hearth: {about}", (
        f"Hello {rows[0]['handle']},\n\n{about.rstrip('.')}.\n\n"
        + (f"See it on {site}/#/notifications\n\n" if site else "")
        + "You get this mail because you asked for these notifications by email; your "
        "notification settings turn it off.\n"),
        # One mail per notification, however often its event is replayed.
        key="n-" + sha256(f"{event_id}:{member_id}:{kind}")[:40])


async def notify(member_id: int, kind: str, event_id: int, data: dict[str, Any],
                 always_mail: bool = False) -> None:
    """Idempotent by (event, member, kind): a replayed event neither stores, pushes nor
    mails twice. What the member's preference for the kind turns off is skipped, but for
    the mail of `always_mail` notices (a suspended member cannot read the app)."""
    chosen = await preference(member_id, kind)
    if chosen.email or always_mail:
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


async def notify_many(event_id: int, kinds: Mapping[int, str], data: dict[str, Any]) -> None:
    """notify() for many members at once (a thread's watchers), each with their kind, in one
    statement and one publishing round trip; idempotent and preference-aware in the same way."""
    if not kinds:
        return
    chosen: dict[int, dict[str, KindPreference]] = {}
    members = sorted(kinds)
    # In slices: SQLite and asyncpg cap a statement's parameters.
    for start in range(0, len(members), PREFERENCE_SLICE):
        stored = await NotificationPreferences.select(
            NotificationPreferences.member, NotificationPreferences.data,
        ).where(NotificationPreferences.member.is_in(members[start:start + PREFERENCE_SLICE]))
        chosen.update({row["member"]: _prefs_decoder.decode(row["data"]) for row in stored})
    shown: dict[int, str] = {}
    for member_id, kind in kinds.items():
        preference_ = chosen.get(member_id, {}).get(kind) or KindPreference(kind=kind)
        if preference_.email:
            await _mail(member_id, kind, event_id, data)
        if preference_.in_app:
            shown[member_id] = kind
    if not shown:
        return
    now = clock.now()
    encoded = _encoder.encode(data).decode()
    rows = await db.insert_rows(
        "notification", ["member", "kind", "event_id", "data", "created_at"],
        ["bigint", "text", "bigint", "text", "timestamptz"],
        [(member_id, kind, event_id, encoded, now) for member_id, kind in sorted(shown.items())],
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
        self, actor: Actor, before: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> NotificationPage:
        """Newest first; pass next_cursor back as `before` for older ones."""
        return await page(actor.member(), before, limit)

    @post("/read", status_code=200)
    async def read_all(self, actor: Actor) -> NotificationPage:
        await mark_all_read(actor.member())
        return await page(actor.member())
