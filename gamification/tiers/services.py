"""The tier ladder. Members climb as soon as their points earned in the rolling window reach
a threshold; they step down only after staying below it for the grace period. Every move is a
`tier.changed` event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import msgspec

from gamification.ledger import services as ledger
from gamification.tiers.schemas import LadderIn, LadderOut, MyTier, NextTier, TierOut
from gamification.tiers.tables import MemberTier, Tier, TierSettings
from server import clock, db, events, outbox, staff_log
from server.auth import Actor
from server.errors import Forbidden, Invalid


async def _settings() -> dict[str, Any]:
    rows = await TierSettings.select().order_by(TierSettings.id).limit(1)
    return rows[0] if rows else {"window_days": 365, "grace_days": 30}


async def ladder() -> LadderOut:
    settings = await _settings()
    tiers = await Tier.select().order_by(Tier.threshold)
    return LadderOut(tiers=[TierOut(name=t["name"], threshold=int(t["threshold"])) for t in tiers],
                     window_days=settings["window_days"], grace_days=settings["grace_days"])


async def set_ladder(actor: Actor, data: LadderIn) -> LadderOut:
    if not actor.is_admin:
        raise Forbidden("only admins change the tier ladder")
    names = [t.name for t in data.tiers]
    if len(set(names)) != len(names):
        raise Invalid("tier names must be unique")
    thresholds = [t.threshold for t in data.tiers]
    if thresholds != sorted(set(thresholds)):
        raise Invalid("thresholds must strictly increase, from the first tier to the last")
    async with outbox.unit_of_work():
        was = await ladder()
        await Tier.delete(force=True)
        await Tier.insert(*[Tier(name=t.name, threshold=t.threshold) for t in data.tiers])
        await TierSettings.delete(force=True)
        await TierSettings.insert(TierSettings(window_days=data.window_days,
                                               grace_days=data.grace_days))
        now = await ladder()
        before, after = staff_log.changes(msgspec.structs.asdict(was),
                                          msgspec.structs.asdict(now))
        if after:
            await staff_log.record(actor, "tiers.update", "tier_ladder", None, "the tier ladder",
                                   before=before, after=after)
    return now


def _position(tiers: list[TierOut], name: str | None) -> int:
    return next((i for i, t in enumerate(tiers) if t.name == name), -1)


async def _states(member_ids: list[int]) -> dict[int, dict[str, Any]]:
    now = clock.now()
    await db.insert_rows("gamification_member_tier", ["member", "since"], ["bigint", "timestamptz"],
                         [(m, now) for m in member_ids], "ON CONFLICT DO NOTHING")
    match, args = db.values_in(member_ids, "bigint")
    rows = await db.fetch("SELECT member, tier_name, since, below_since "
                          "FROM gamification_member_tier WHERE member " + match, *args)
    return {int(r["member"]): dict(r) for r in rows}


def _window_start(window_days: int, now: dt.datetime) -> dt.date:
    """The window is whole UTC days: today and the window_days - 1 before it."""
    return now.date() - dt.timedelta(days=window_days - 1)


async def _recount(member_days: set[tuple[int, dt.date]]) -> None:
    """Recount these members' days from the ledger: idempotent, so a replayed event (or
    two relays on the same one) cannot count an earning twice."""
    totals = await ledger.day_earnings(member_days)
    await db.insert_rows(
        "gamification_earning_day", ["member", "day", "points"], ["bigint", "date", "bigint"],
        sorted((m, day, points) for (m, day), points in totals.items()),
        "ON CONFLICT (member, day) DO UPDATE SET points = excluded.points")


async def _earned(member_ids: list[int], since: dt.date) -> dict[int, int]:
    match, args = db.values_in(member_ids, "bigint")
    rows = await db.fetch(
        "SELECT member, SUM(points) AS earned FROM gamification_earning_day "
        "WHERE day >= {} AND member " + match + " GROUP BY member", since, *args)
    return {int(r["member"]): int(r["earned"]) for r in rows}


async def evaluate(member_ids: set[int], earned_on: set[tuple[int, dt.date]] | None = None) -> None:
    """Place members on the ladder, after recounting the days they earned on (if any);
    runs after earnings and on the periodic review."""
    if not member_ids:
        return
    current = await ladder()
    now = clock.now()
    grace = dt.timedelta(days=current.grace_days)
    ordered = sorted(member_ids)
    async with outbox.unit_of_work():
        # Under the members' locks, so concurrent earnings are all counted before deciding.
        await ledger.lock_members(member_ids)
        if earned_on:
            await _recount(earned_on)
        earned = await _earned(ordered, _window_start(current.window_days, now))
        states = await _states(ordered)
        for member_id in ordered:
            await _place(member_id, earned.get(member_id, 0), states[member_id], current, now,
                         grace)


async def _place(member_id: int, earned: int, state: dict[str, Any], current: LadderOut,
                 now: dt.datetime, grace: dt.timedelta) -> None:
    qualifying = max((i for i, t in enumerate(current.tiers) if t.threshold <= earned),
                     default=-1)
    held = _position(current.tiers, state["tier_name"])
    below_since = state["below_since"]
    falling = qualifying < held
    grace_over = below_since is not None and now - below_since >= grace
    this_member = MemberTier.member == member_id
    if qualifying > held or (falling and (not grace or grace_over)):
        target = current.tiers[qualifying].name if qualifying >= 0 else None
        await MemberTier.update({MemberTier.tier_name: target, MemberTier.since: now,
                                 MemberTier.below_since: None}).where(this_member)
        await outbox.emit(events.TierChanged(member_id=member_id, from_tier=state["tier_name"],
                                             to_tier=target, promoted=qualifying > held))
    elif falling and below_since is None:
        await MemberTier.update({MemberTier.below_since: now}).where(this_member)
    elif not falling and below_since is not None:
        await MemberTier.update({MemberTier.below_since: None}).where(this_member)


async def mine(member_id: int) -> MyTier:
    current = await ladder()
    now = clock.now()
    earned = (await _earned([member_id], _window_start(current.window_days, now))).get(member_id, 0)
    rows = await MemberTier.select().where(MemberTier.member == member_id)
    state = rows[0] if rows else None
    held = _position(current.tiers, state["tier_name"] if state else None)
    upcoming = current.tiers[held + 1] if held + 1 < len(current.tiers) else None
    below = state["below_since"] if state else None
    return MyTier(
        tier=current.tiers[held] if held >= 0 else None,
        since=state["since"] if state and held >= 0 else None,
        earned_in_window=earned, window_days=current.window_days,
        next=NextTier(name=upcoming.name, threshold=upcoming.threshold,
                      points_needed=max(0, upcoming.threshold - earned)) if upcoming else None,
        demotes_at=below + dt.timedelta(days=current.grace_days) if below else None,
    )


async def review_all() -> int:
    """Points age out of the window without any new event: re-place everyone on a tier."""
    rows = await MemberTier.select(MemberTier.member).where(MemberTier.tier_name.is_not_null())
    members = [int(row["member"]) for row in rows]
    for start in range(0, len(members), 200):
        await evaluate(set(members[start:start + 200]))
    return len(members)


async def counted_earnings() -> dict[int, int]:
    """What the earning days add up to for each member: all of what they earned, when every
    earning was recounted."""
    rows = await db.fetch("SELECT member, SUM(points) AS earned FROM gamification_earning_day "
                          "GROUP BY member")
    return {int(r["member"]): int(r["earned"]) for r in rows}


async def tier_names(member_ids: Collection[int]) -> dict[int, str]:
    """The tier each of these members holds now (absent: none)."""
    if not member_ids:
        return {}
    match, args = db.values_in(sorted(member_ids), "bigint")
    rows = await db.fetch("SELECT member, tier_name FROM gamification_member_tier "
                          "WHERE tier_name IS NOT NULL AND member " + match, *args)
    return {int(r["member"]): str(r["tier_name"]) for r in rows}
