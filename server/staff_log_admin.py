"""Reading the staff audit log: admins and moderators read all of it, brand staff their own
brand's part. The log has no route that writes: entries come only from `staff_log.record`
inside each act's transaction, and the database refuses to update or delete them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import Parameter

from server import db
from server.auth import PEOPLE_ONLY_OPT, Actor
from server.errors import Forbidden, Invalid, NotFound
from server.tables import Member
from server.types import MAX_ID

PAGE_LIMIT = 100
ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]*)*")
TARGET_TYPE = re.compile(r"[a-z][a-z0-9_]*")
HANDLE = re.compile(r"@?[A-Za-z0-9_]{1,32}")


class StaffLogEntryOut(msgspec.Struct):
    id: int
    created_at: dt.datetime
    # Null for the system (an automatic act); the label reads after the actor is gone.
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str
    target_label: str
    brand_id: int | None
    # The changed fields as they were and as they became; null when nothing existed before
    # (a creation) or remains after (a deletion).
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str


class StaffLogPage(msgspec.Struct):
    items: list[StaffLogEntryOut]
    # Pass back as `before` for older entries; null on the last page.
    next_cursor: int | None


class Filters(msgspec.Struct, frozen=True):
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    brand_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _invalid(name: str, message: str) -> Invalid:
    return Invalid(f"{name} {message}", [{"key": name, "message": message}])


def _readable_brand(actor: Actor, brand_id: int | None) -> int | None:
    """The brand the reader is confined to (None: every entry), or a refusal."""
    actor.member()  # signed in, and a person rather than an API token
    if actor.is_moderator:
        return brand_id
    if actor.role == "brand_staff" and actor.brand_id is not None:
        if brand_id is not None and brand_id != actor.brand_id:
            raise Forbidden("brand staff read only their own brand's part of the staff log")
        return actor.brand_id
    raise Forbidden("only staff read the staff log")


def _decoded(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return {"value": raw}
    return value if isinstance(value, dict) else {"value": value}


def _after(prefix: str) -> str:
    # ACTION allows only ASCII below "~", so the next code point is always a character.
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


async def _actor_id(handle: str) -> int:
    if HANDLE.fullmatch(handle) is None:
        raise _invalid("actor", "must be a member's handle, such as @ana")
    key = handle.removeprefix("@").lower()
    rows = await Member.select(Member.id).where(Member.handle_key == key)
    if not rows:
        raise NotFound(f"no member has the handle @{key}",
                       [{"key": "actor", "message": f"no member has the handle @{key}"}])
    return int(rows[0]["id"])


async def read(actor: Actor, filters: Filters, before: int | None, limit: int) -> StaffLogPage:
    """Newest first, `limit` entries older than `before`, matching every filter given."""
    brand_id = _readable_brand(actor, filters.brand_id)
    where: list[str] = []
    args: list[Any] = []
    if brand_id is not None:
        where.append("brand_id = {}")
        args.append(brand_id)
    if filters.actor is not None:
        where.append("actor_id = {}")
        args.append(await _actor_id(filters.actor))
    if filters.action is not None:
        if len(filters.action) > 60 or ACTION.fullmatch(filters.action) is None:
            raise _invalid("action", "must be an action or the start of one, in lower case "
                           "letters, digits, '_' and '.', such as 'badge.' or 'token.revoke'")
        # A prefix: "badge" matches "badge.grant" and "badge.revoke". Compared code point by
        # code point, as the index on PostgreSQL is built.
        column = "action" if db.is_sqlite() else 'action COLLATE "C"'
        where.append(f"{column} >= {{}} AND {column} < {{}}")
        args += [filters.action, _after(filters.action)]
    if filters.target_id is not None and filters.target_type is None:
        raise _invalid("target_id", "needs target_type too (ids are per type)")
    if filters.target_type is not None:
        if len(filters.target_type) > 30 or TARGET_TYPE.fullmatch(filters.target_type) is None:
            raise _invalid("target_type", "must be a target type such as 'badge' or 'token'")
        where.append("target_type = {}")
        args.append(filters.target_type)
    if filters.target_id is not None:
        if not 1 <= len(filters.target_id) <= 40:
            raise _invalid("target_id", "must be 1 to 40 characters")
        where.append("target_id = {}")
        args.append(filters.target_id)
    if filters.since is not None and filters.until is not None and filters.since > filters.until:
        raise _invalid("since", "must not be after until")
    for name, value, op in (("since", filters.since, ">="), ("until", filters.until, "<")):
        if value is None:
            continue
        if value.tzinfo is None:
            raise _invalid(name, "needs a time zone, such as 2026-11-26T21:00:00Z")
        where.append(f"created_at {op} {{}}")
        args.append(value)
    if before is not None:
        where.append("id < {}")
        args.append(before)
    sql = ("SELECT id, created_at, actor_id, actor_label, action, target_type, target_id, "
           "target_label, brand_id, before, after, reason FROM staff_log"
           + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY id DESC LIMIT {}")
    rows = await db.fetch(sql, *args, limit + 1)
    entries = [StaffLogEntryOut(
        id=int(r["id"]), created_at=r["created_at"], actor_id=r["actor_id"],
        actor_label=r["actor_label"], action=r["action"], target_type=r["target_type"],
        target_id=r["target_id"], target_label=r["target_label"], brand_id=r["brand_id"],
        before=_decoded(r["before"]), after=_decoded(r["after"]), reason=r["reason"],
    ) for r in rows[:limit]]
    return StaffLogPage(items=entries,
                        next_cursor=entries[-1].id if len(rows) > limit else None)


class StaffLogController(Controller):
    path = "/api/staff-log"
    tags = ["moderation"]
    # The audit log is a staff console's page, read by people: a brand's integration has no
    # business reading who did what.
    opt = {PEOPLE_ONLY_OPT: True}

    @get("/")
    async def list_entries(
        self, actor: Actor,
        actor_handle: Annotated[str | None, Parameter(query="actor", max_length=33)] = None,
        action: Annotated[str | None, Parameter(max_length=60)] = None,
        target_type: Annotated[str | None, Parameter(max_length=30)] = None,
        target_id: Annotated[str | None, Parameter(max_length=40)] = None,
        brand_id: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        before: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        limit: Annotated[int, Parameter(ge=1, le=PAGE_LIMIT)] = 50,
    ) -> StaffLogPage:
        """Staff acts, newest first. Admins and moderators read every entry; brand staff only
        their brand's. Filters: `actor` (a handle), `action` (an action or its start, e.g.
        `badge.`), `target_type` and `target_id`, `brand_id`, `since` and `until` (times with
        a zone). Pass next_cursor back as `before` for older entries. The log cannot be
        edited or deleted, by any route or by SQL."""
        filters = Filters(actor=actor_handle, action=action, target_type=target_type,
                          target_id=target_id, brand_id=brand_id, since=since, until=until)
        return await read(actor, filters, before, limit)
