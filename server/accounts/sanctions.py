"""Sanctions: silence (the member reads, but cannot post, react or vote) and suspension (the
member cannot sign in), each for a duration, with escalation for repeat offences, one appeal
per sanction, and lifting early.

A sanction is in force from starts_at until ends_at unless lifted first: every check compares
with server.clock, so nothing needs to run when one ends. Suspensions also keep
`member.suspended_until` (the longest end of those in force) beside what sign-in and every
session lookup read anyway, so a suspended member's session is refused without a query more.

Who may: moderators and admins impose, lift and decide appeals; brand staff do none of it.
Moderators cannot sanction staff (moderators, brand staff, admins); admins sanction
moderators and brand staff, never an admin nor themselves. An appeal is decided by someone
other than the sanction's imposer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from server import auth, clock, db, events, notifications, outbox, realtime, sessions, staff_log
from server.accounts.schemas import AppealOut, AppealPage, SanctionOut, SanctionPage
from server.auth import Actor
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.tables import Member, MemberSanction, SanctionAppeal

DAY = 86_400
KINDS = ("silence", "suspend")
# The escalation ladder: a member's n-th sanction (overturned ones do not count) takes rung n,
# and every one past the last takes the last. It gives the kind when none is named, and the
# duration when none is given.
LADDER: tuple[tuple[str, int], ...] = (
    ("silence", DAY),
    ("silence", 3 * DAY),
    ("silence", 7 * DAY),
    ("suspend", 30 * DAY),
    ("suspend", 365 * DAY),
)
MIN_DURATION_SECONDS = 60
MAX_DURATION_SECONDS = 5 * 365 * DAY
PAGE_LIMIT = 100
STAFF_ROLES = ("moderator", "brand_staff", "admin")
NOTICE = "sanction"


def ladder_step(earlier: int) -> tuple[str, int]:
    """The rung for a member with `earlier` counted sanctions: (kind, duration in seconds)."""
    return LADDER[min(earlier, len(LADDER) - 1)]


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _verb(kind: str) -> str:
    return "silenced" if kind == "silence" else "suspended"


# --- who may --------------------------------------------------------------------------------


def _require_moderator(actor: Actor) -> int:
    member_id = actor.member()
    if not actor.is_moderator:
        raise Forbidden("only moderators and admins impose, lift or review sanctions")
    return member_id


def _may_sanction(actor: Actor, member_id: int, role: str) -> None:
    if member_id == actor.member_id:
        raise Forbidden("you cannot sanction yourself")
    if role == "admin":
        raise Forbidden("admins cannot be sanctioned")
    if role in STAFF_ROLES and not actor.is_admin:
        raise Forbidden("moderators cannot sanction staff; an admin can")


# --- reading --------------------------------------------------------------------------------


def _in_force(row: dict[str, Any], now: dt.datetime) -> bool:
    return row["lifted_at"] is None and row["starts_at"] <= now < row["ends_at"]


async def _handles(ids: Collection[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = await Member.select(Member.id, Member.handle).where(Member.id.is_in(wanted))
    return {int(r["id"]): r["handle"] for r in rows}


async def _appeals_of(sanction_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not sanction_ids:
        return {}
    rows = await SanctionAppeal.select().where(SanctionAppeal.sanction.is_in(sanction_ids))
    return {int(r["sanction"]): r for r in rows}


def _appeal_out(row: dict[str, Any], sanction: dict[str, Any],
                handles: dict[int, str]) -> AppealOut:
    return AppealOut(
        id=row["id"], sanction_id=sanction["id"], member_id=sanction["member"],
        member_handle=handles.get(sanction["member"], ""), text=row["text"],
        status=row["status"], created_at=row["created_at"], decided_at=row["decided_at"],
        decided_by_handle=handles.get(row["decided_by"]) if row["decided_by"] else None,
        decision_reason=row["decision_reason"],
        imposed_by_handle=handles.get(sanction["imposed_by"]) if sanction["imposed_by"] else None,
        kind=sanction["kind"], sanction_reason=sanction["reason"], ends_at=sanction["ends_at"])


async def _sanctions_out(rows: list[dict[str, Any]]) -> list[SanctionOut]:
    appeals = await _appeals_of([int(r["id"]) for r in rows])
    handles = await _handles([x for r in rows for x in (r["member"], r["imposed_by"],
                                                        r["lifted_by"])]
                             + [a["decided_by"] for a in appeals.values()])
    now = clock.now()
    out = []
    for row in rows:
        appeal = appeals.get(int(row["id"]))
        out.append(SanctionOut(
            id=row["id"], member_id=row["member"], member_handle=handles.get(row["member"], ""),
            kind=row["kind"], reason=row["reason"], source=row["source"], step=row["step"],
            starts_at=row["starts_at"], ends_at=row["ends_at"],
            imposed_by_handle=handles.get(row["imposed_by"]) if row["imposed_by"] else None,
            lifted_at=row["lifted_at"],
            lifted_by_handle=handles.get(row["lifted_by"]) if row["lifted_by"] else None,
            lift_reason=row["lift_reason"], active=_in_force(row, now),
            appeal=_appeal_out(appeal, row, handles) if appeal is not None else None))
    return out


async def _sanction_row(sanction_id: int) -> dict[str, Any]:
    rows = await MemberSanction.select().where(MemberSanction.id == sanction_id)
    if not rows:
        raise NotFound(f"sanction {sanction_id} does not exist")
    return rows[0]


async def sanction_out(sanction_id: int) -> SanctionOut:
    return (await _sanctions_out([await _sanction_row(sanction_id)]))[0]


async def member_sanctions(actor: Actor, member_id: int) -> list[SanctionOut]:
    """Moderators and admins: a member's sanctions, newest first (the latest PAGE_LIMIT)."""
    _require_moderator(actor)
    if not await Member.exists().where(Member.id == member_id):
        raise NotFound(f"member {member_id} does not exist")
    rows = await MemberSanction.select().where(MemberSanction.member == member_id).order_by(
        MemberSanction.id, ascending=False).limit(PAGE_LIMIT)
    return await _sanctions_out(rows)


async def my_sanctions(actor: Actor) -> list[SanctionOut]:
    """The member's own sanctions, newest first (the latest PAGE_LIMIT)."""
    rows = await MemberSanction.select().where(
        MemberSanction.member == actor.member()).order_by(
        MemberSanction.id, ascending=False).limit(PAGE_LIMIT)
    return await _sanctions_out(rows)


async def list_sanctions(actor: Actor, status: str, kind: str | None, member_id: int | None,
                         before: int | None, limit: int) -> SanctionPage:
    """Moderators and admins: sanctions newest first; `status` active (in force now), ended
    (lifted or run out) or all."""
    _require_moderator(actor)
    now = clock.now()
    query = MemberSanction.select()
    if status == "active":
        query = query.where(MemberSanction.lifted_at.is_null()
                            & (MemberSanction.starts_at <= now) & (MemberSanction.ends_at > now))
    elif status == "ended":
        query = query.where(MemberSanction.lifted_at.is_not_null()
                            | (MemberSanction.ends_at <= now))
    if kind is not None:
        query = query.where(MemberSanction.kind == kind)
    if member_id is not None:
        query = query.where(MemberSanction.member == member_id)
    if before is not None:
        query = query.where(MemberSanction.id < before)
    rows = await query.order_by(MemberSanction.id, ascending=False).limit(limit + 1)
    items = await _sanctions_out(rows[:limit])
    return SanctionPage(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


async def list_appeals(actor: Actor, status: str, before: int | None, limit: int) -> AppealPage:
    """Moderators and admins: appeals newest first, by status (open, upheld, overturned, all)."""
    _require_moderator(actor)
    query = SanctionAppeal.select()
    if status != "all":
        query = query.where(SanctionAppeal.status == status)
    if before is not None:
        query = query.where(SanctionAppeal.id < before)
    rows = await query.order_by(SanctionAppeal.id, ascending=False).limit(limit + 1)
    page = rows[:limit]
    if not page:
        return AppealPage(items=[], next_cursor=None)
    sanctions = {int(r["id"]): r for r in await MemberSanction.select().where(
        MemberSanction.id.is_in([int(a["sanction"]) for a in page]))}
    handles = await _handles([x for s in sanctions.values() for x in (s["member"], s["imposed_by"])]
                             + [a["decided_by"] for a in page])
    items = [_appeal_out(a, sanctions[int(a["sanction"])], handles) for a in page]
    return AppealPage(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


# --- enforcement ----------------------------------------------------------------------------


async def _binding(member_id: int, now: dt.datetime) -> dict[str, Any] | None:
    """The sanction in force on the member that ends last (a suspension before a silence)."""
    rows = await db.fetch_small(
        "SELECT kind, reason, ends_at FROM member_sanction WHERE member = {} "
        "AND lifted_at IS NULL AND starts_at <= {} AND ends_at > {} "
        "ORDER BY kind DESC, ends_at DESC LIMIT 1", member_id, now, now)
    return rows[0] if rows else None


async def require_may_participate(actor: Actor) -> None:
    """Raise 403, saying why and until when, if the person acting is silenced or suspended.
    API tokens are a brand's integration, never sanctioned."""
    if actor.via == "token" or actor.member_id is None:
        return
    binding = await _binding(actor.member_id, clock.now())
    if binding is None:
        return
    ends = binding["ends_at"]
    if isinstance(ends, str):
        ends = dt.datetime.fromisoformat(ends)
    raise Forbidden(f"you are {_verb(binding['kind'])} until {_when(ends)}: {binding['reason']} "
                    "You can read, but not post, react or vote until then; you may appeal "
                    "from your account page.")


async def silenced_ids(member_ids: Collection[int], at: dt.datetime | None = None) -> set[int]:
    """Which of these members are silenced or suspended at `at` (default now): one query."""
    if not member_ids:
        return set()
    moment = at or clock.now()
    match, args = db.values_in(sorted(member_ids), "bigint")
    rows = await db.fetch(
        "SELECT DISTINCT member FROM member_sanction WHERE lifted_at IS NULL "
        "AND starts_at <= {} AND ends_at > {} AND member " + match, moment, moment, *args)
    return {int(r["member"]) for r in rows}


async def suspension_notice(member_id: int) -> str | None:
    """Why and until when the member cannot sign in, or None."""
    now = clock.now()
    rows = await MemberSanction.select(MemberSanction.reason, MemberSanction.ends_at).where(
        (MemberSanction.member == member_id) & (MemberSanction.kind == "suspend")
        & MemberSanction.lifted_at.is_null() & (MemberSanction.starts_at <= now)
        & (MemberSanction.ends_at > now)).order_by(MemberSanction.ends_at, ascending=False).limit(1)
    if not rows:
        return None
    return f"this account is suspended until {_when(rows[0]['ends_at'])}: {rows[0]['reason']}"


async def _suspended_until(member_id: int, now: dt.datetime) -> None:
    """Recompute member.suspended_until from the suspensions in force, in the caller's unit."""
    rows = await MemberSanction.select(MemberSanction.ends_at).where(
        (MemberSanction.member == member_id) & (MemberSanction.kind == "suspend")
        & MemberSanction.lifted_at.is_null() & (MemberSanction.ends_at > now)
    ).order_by(MemberSanction.ends_at, ascending=False).limit(1)
    await Member.update({Member.suspended_until: rows[0]["ends_at"] if rows else None}).where(
        Member.id == member_id)


# --- acts -----------------------------------------------------------------------------------


async def _lock_member(member_id: int) -> dict[str, Any]:
    """The member's row, locked until the unit of work ends: acts on one member's sanctions
    take turns, so steps and "already silenced" are decided on what the others committed."""
    rows = await db.lock_rows("member", "id, handle, role", [member_id])
    if not rows:
        raise NotFound(f"member {member_id} does not exist")
    return rows[0]


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {"kind": row["kind"], "reason": row["reason"], "ends_at": row["ends_at"].isoformat(),
            "lifted_at": row["lifted_at"].isoformat() if row["lifted_at"] else None}


async def impose(actor: Actor, member_id: int, kind: str | None, reason: str,
                 duration_seconds: int | None = None, source: str = "") -> SanctionOut:
    """Silence or suspend a member. Without a kind or a duration, the escalation ladder
    decides them from the member's earlier sanctions. 409 while a sanction of the kind (or a
    suspension) is in force."""
    by = _require_moderator(actor)
    if kind is not None and kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}")
    if duration_seconds is not None and not (
            MIN_DURATION_SECONDS <= duration_seconds <= MAX_DURATION_SECONDS):
        raise Invalid(f"duration_seconds must be from {MIN_DURATION_SECONDS} to "
                      f"{MAX_DURATION_SECONDS} (5 years), or omitted for the ladder's step",
                      [{"key": "duration_seconds", "message": "out of range"}])
    reason = reason.strip()
    if not reason:
        raise Invalid("say why: the member is shown the reason")
    keys: list[str] = []
    async with outbox.unit_of_work():
        member = await _lock_member(member_id)
        _may_sanction(actor, member_id, member["role"])
        now = clock.now()
        earlier = await MemberSanction.select().where(MemberSanction.member == member_id)
        overturned = {int(r["sanction"]) for r in await SanctionAppeal.select(
            SanctionAppeal.sanction).where(
            SanctionAppeal.sanction.is_in([int(r["id"]) for r in earlier])
            & (SanctionAppeal.status == "overturned"))} if earlier else set()
        counted = [r for r in earlier if int(r["id"]) not in overturned]
        rung_kind, rung_seconds = ladder_step(len(counted))
        kind = kind or rung_kind
        seconds = duration_seconds or rung_seconds
        for row in earlier:
            if _in_force(row, now) and (row["kind"] == kind or row["kind"] == "suspend"):
                raise Conflict(f"@{member['handle']} is already {_verb(row['kind'])} until "
                               f"{_when(row['ends_at'])} (sanction {row['id']}): lift it first")
        ends = now + dt.timedelta(seconds=seconds)
        rows = await MemberSanction.insert(MemberSanction(
            member=member_id, kind=kind, reason=reason, source=source, step=len(counted) + 1,
            starts_at=now, ends_at=ends, imposed_by=by)).returning(MemberSanction.id)
        sanction_id = int(rows[0]["id"])
        if kind == "suspend":
            await _suspended_until(member_id, now)
            keys = await sessions.delete_member_sessions(member_id)
            await outbox.emit(events.MemberSuspended(sanction_id=sanction_id, member_id=member_id,
                                                     ends_at=ends.isoformat(), by_member_id=by))
        else:
            await outbox.emit(events.MemberSilenced(sanction_id=sanction_id, member_id=member_id,
                                                    ends_at=ends.isoformat(), by_member_id=by))
        await staff_log.record(actor, f"member.{kind}", "member", member_id,
                               f"@{member['handle']}", reason=reason,
                               after={"sanction_id": sanction_id, "kind": kind,
                                      "ends_at": ends.isoformat(), "step": len(counted) + 1,
                                      "source": source})
    if kind == "suspend":
        await _sessions_ended(member_id, keys)
    return await sanction_out(sanction_id)


async def _sessions_ended(member_id: int, keys: list[str]) -> None:
    """After the commit: every process stops trusting the member's sessions, and their open
    websockets close at once (server.realtime re-checks them on the announcement)."""
    await sessions.forget(keys)
    auth.forget_member(member_id)
    await realtime.announce_sessions_ended(member_id)


async def _lift(sanction: dict[str, Any], by: int, reason: str, now: dt.datetime) -> None:
    await MemberSanction.update({MemberSanction.lifted_at: now, MemberSanction.lifted_by: by,
                                 MemberSanction.lift_reason: reason}).where(
        MemberSanction.id == sanction["id"])
    if sanction["kind"] == "suspend":
        await _suspended_until(sanction["member"], now)
    await outbox.emit(events.SanctionLifted(sanction_id=sanction["id"],
                                            member_id=sanction["member"], kind=sanction["kind"],
                                            by_member_id=by))


async def lift(actor: Actor, sanction_id: int, reason: str) -> SanctionOut:
    """End a sanction early. 409 when it is no longer in force."""
    by = _require_moderator(actor)
    sanction = await _sanction_row(sanction_id)
    async with outbox.unit_of_work():
        member = await _lock_member(sanction["member"])
        _may_sanction(actor, sanction["member"], member["role"])
        sanction = await _sanction_row(sanction_id)
        now = clock.now()
        if not _in_force(sanction, now):
            raise Conflict(f"sanction {sanction_id} is no longer in force")
        await _lift(sanction, by, reason, now)
        await staff_log.record(actor, "sanction.lift", "member", sanction["member"],
                               f"@{member['handle']}", reason=reason,
                               before=_snapshot(sanction),
                               after={**_snapshot(sanction), "lifted_at": now.isoformat()})
    return await sanction_out(sanction_id)


async def appeal(actor: Actor, sanction_id: int, text: str) -> AppealOut:
    """The sanctioned member appeals, once per sanction (409 the second time), while it is
    in force. Someone else's sanction is a 404."""
    member_id = actor.member()
    rows = await MemberSanction.select().where(MemberSanction.id == sanction_id)
    if not rows or rows[0]["member"] != member_id:
        raise NotFound(f"you have no sanction {sanction_id}")
    sanction = rows[0]
    if not _in_force(sanction, clock.now()):
        raise Conflict(f"sanction {sanction_id} is no longer in force: there is nothing to appeal")
    try:
        async with outbox.unit_of_work():
            inserted = await SanctionAppeal.insert(SanctionAppeal(
                sanction=sanction_id, text=text, status="open", created_at=clock.now(),
            )).on_conflict(action="DO NOTHING").returning(SanctionAppeal.id)
            if not inserted:
                raise Conflict(f"sanction {sanction_id} has been appealed already")
            appeal_id = int(inserted[0]["id"])
            await outbox.emit(events.SanctionAppealed(appeal_id=appeal_id, sanction_id=sanction_id,
                                                      member_id=member_id))
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict(f"sanction {sanction_id} has been appealed already") from None
        raise
    return await _appeal(appeal_id)


async def _appeal(appeal_id: int) -> AppealOut:
    rows = await SanctionAppeal.select().where(SanctionAppeal.id == appeal_id)
    if not rows:
        raise NotFound(f"appeal {appeal_id} does not exist")
    sanction = await _sanction_row(int(rows[0]["sanction"]))
    handles = await _handles([sanction["member"], sanction["imposed_by"], rows[0]["decided_by"]])
    return _appeal_out(rows[0], sanction, handles)


async def decide(actor: Actor, appeal_id: int, decision: str, reason: str) -> AppealOut:
    """Uphold or overturn an appeal (overturning lifts the sanction, and it no longer counts
    toward the ladder). The sanction's imposer may not decide (403); a decided appeal is 409."""
    by = _require_moderator(actor)
    if decision not in ("upheld", "overturned"):
        raise Invalid("decision must be upheld or overturned")
    current = await _appeal(appeal_id)
    sanction = await _sanction_row(current.sanction_id)
    if sanction["imposed_by"] == by:
        raise Forbidden("a moderator other than the one who imposed the sanction decides its "
                        "appeal")
    async with outbox.unit_of_work():
        member = await _lock_member(sanction["member"])
        _may_sanction(actor, sanction["member"], member["role"])
        now = clock.now()
        decided = await SanctionAppeal.update({
            SanctionAppeal.status: decision, SanctionAppeal.decided_at: now,
            SanctionAppeal.decided_by: by, SanctionAppeal.decision_reason: reason,
        }).where((SanctionAppeal.id == appeal_id) & (SanctionAppeal.status == "open")).returning(
            SanctionAppeal.id)
        if not decided:
            raise Conflict(f"appeal {appeal_id} has been decided already")
        sanction = await _sanction_row(current.sanction_id)
        if decision == "overturned" and _in_force(sanction, now):
            await _lift(sanction, by, f"appeal overturned: {reason}", now)
        await outbox.emit(events.AppealDecided(appeal_id=appeal_id, sanction_id=sanction["id"],
                                               member_id=sanction["member"], status=decision,
                                               by_member_id=by))
        await staff_log.record(actor, "appeal.decide", "member", sanction["member"],
                               f"@{member['handle']}", reason=reason,
                               before={"appeal_id": appeal_id, "status": "open"},
                               after={"appeal_id": appeal_id, "status": decision,
                                      "sanction": _snapshot(sanction)})
    return await _appeal(appeal_id)


# --- notices --------------------------------------------------------------------------------


def _text(data: dict[str, Any]) -> str:
    what = data["what"]
    until = data.get("until", "")
    reason = data.get("reason", "")
    if what in ("silence", "suspend"):
        return f"You are {_verb(what)} until {until}: {reason}"
    if what == "lifted":
        return f"Your {data.get('kind', 'sanction')} was lifted: {reason}"
    if what == "upheld":
        return f"Your appeal was upheld, and the sanction stands until {until}: {reason}"
    return f"Your appeal succeeded and the sanction was lifted: {reason}"


notifications.kernel_text(NOTICE, _text)


@outbox.handler("sanctions.notify", events.MemberSilenced, events.MemberSuspended,
                events.SanctionLifted, events.AppealDecided)
async def _notify(event_id: int, event: events.Event) -> None:
    """Tell the member why and until when; a suspended member cannot open the app, so these
    notices are mailed too."""
    assert isinstance(event, (events.MemberSilenced, events.MemberSuspended,
                              events.SanctionLifted, events.AppealDecided))
    rows = await MemberSanction.select().where(MemberSanction.id == event.sanction_id)
    if not rows:
        return
    sanction = rows[0]
    data: dict[str, Any] = {"sanction_id": sanction["id"], "kind": sanction["kind"],
                            "until": _when(sanction["ends_at"]), "reason": sanction["reason"]}
    if isinstance(event, events.SanctionLifted):
        data.update(what="lifted", reason=sanction["lift_reason"])
    elif isinstance(event, events.AppealDecided):
        decided = await SanctionAppeal.select(SanctionAppeal.decision_reason).where(
            SanctionAppeal.id == event.appeal_id)
        data.update(what=event.status, appeal_id=event.appeal_id,
                    reason=decided[0]["decision_reason"] if decided else "")
    else:
        data["what"] = sanction["kind"]
    await notifications.notify(event.member_id, NOTICE, event_id, data, always_mail=True)
