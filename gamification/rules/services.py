"""Rule management and the engine that turns committed events into ledger awards.

An award's idempotency key is derived from (event, rule), so replaying an event changes
nothing. Removing the source (a post deleted, a reaction withdrawn) reverses its awards.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import msgspec

from gamification.ledger import services as ledger
from gamification.rules import expressions
from gamification.rules.schemas import RuleIn, RuleOut, RulePatch
from gamification.rules.scorables import SCORABLES, credit, names
from gamification.rules.tables import Rule, RuleAward
from server import events, outbox
from server.accounts.services import get_brand
from server.auth import Actor
from server.errors import Conflict, Forbidden, Invalid, NotFound

log = logging.getLogger("hearth.rules")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- management ----------------------------------------------------------------------------


def _rule_out(row: dict[str, Any]) -> RuleOut:
    return RuleOut(
        id=row["id"], name=row["name"], event_types=row["event_types"].split(),
        points=row["points"], condition=row["condition"], cap_day=row["cap_day"],
        cap_week=row["cap_week"], cap_month=row["cap_month"],
        cooldown_seconds=row["cooldown_seconds"], active_from=row["active_from"],
        active_until=row["active_until"], brand_id=row["brand"], category_id=row["category_id"],
        enabled=bool(row["enabled"]),
    )


async def _rule_row(rule_id: int) -> dict[str, Any]:
    rows = await Rule.select().where(Rule.id == rule_id)
    if not rows:
        raise NotFound(f"rule {rule_id} does not exist")
    return rows[0]


def _may_manage(actor: Actor, brand_id: int | None) -> None:
    if actor.is_admin:
        return
    if brand_id is not None and actor.manages_brand(brand_id):
        return
    raise Forbidden("admins manage every rule; brand staff only their brand's rules")


def _validate(event_types: list[str], condition: str, formula: str,
              active_from: dt.datetime | None, active_until: dt.datetime | None) -> None:
    unknown = [t for t in event_types if t not in SCORABLES]
    if unknown:
        raise Invalid(f"these events cannot earn points: {', '.join(unknown)}; "
                      f"use {', '.join(SCORABLES)}")
    for when in (active_from, active_until):
        if when is not None and when.tzinfo is None:
            raise Invalid("active_from and active_until need a time zone")
    if active_from and active_until and active_until <= active_from:
        raise Invalid("active_until must be after active_from")
    if condition.strip():
        expressions.check_syntax(condition, "condition")
    expressions.check_syntax(formula, "points formula")
    for event_type in event_types:
        expressions.trial(condition, formula, names(SCORABLES[event_type].sample))


async def list_rules(actor: Actor) -> list[RuleOut]:
    if not actor.is_admin and actor.role != "brand_staff":
        raise Forbidden("rules are for admins and brand staff")
    rows = await Rule.select().order_by(Rule.id)
    return [_rule_out(r) for r in rows
            if actor.is_admin or r["brand"] is None or r["brand"] == actor.brand_id]


async def create_rule(actor: Actor, data: RuleIn) -> RuleOut:
    _may_manage(actor, data.brand_id)
    if data.brand_id is not None:
        await get_brand(data.brand_id)
    formula = str(data.points)
    _validate(data.event_types, data.condition, formula, data.active_from, data.active_until)
    rows = await Rule.insert(Rule(
        name=data.name, event_types=" ".join(dict.fromkeys(data.event_types)),
        condition=data.condition, points=formula, cap_day=data.cap_day, cap_week=data.cap_week,
        cap_month=data.cap_month, cooldown_seconds=data.cooldown_seconds,
        active_from=data.active_from, active_until=data.active_until, brand=data.brand_id,
        category_id=data.category_id, enabled=data.enabled,
    )).returning(Rule.id)
    return _rule_out(await _rule_row(int(rows[0]["id"])))


async def update_rule(actor: Actor, rule_id: int, data: RulePatch) -> RuleOut:
    row = await _rule_row(rule_id)
    _may_manage(actor, row["brand"])
    merged = {
        "name": data.name, "event_types": data.event_types,
        "points": None if data.points is None else str(data.points),
        "condition": data.condition, "cooldown_seconds": data.cooldown_seconds,
        "enabled": data.enabled,
    }
    changes: dict[str, Any] = {k: v for k, v in merged.items() if v is not None}
    for field in ("cap_day", "cap_week", "cap_month", "active_from", "active_until",
                  "category_id"):
        value = getattr(data, field)
        if value is not msgspec.UNSET:
            changes[field] = value
    after = {**row, **changes}
    event_types = after["event_types"] if isinstance(after["event_types"], list) \
        else after["event_types"].split()
    _validate(event_types, after["condition"], after["points"], after["active_from"],
              after["active_until"])
    if "event_types" in changes:
        changes["event_types"] = " ".join(dict.fromkeys(event_types))
    if changes:
        await Rule.update({getattr(Rule, k): v for k, v in changes.items()}).where(Rule.id == rule_id)
    return _rule_out(await _rule_row(rule_id))


# --- the engine ----------------------------------------------------------------------------


def _period_starts(now: dt.datetime) -> dict[str, dt.datetime]:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "cap_day": day,
        "cap_week": day - dt.timedelta(days=day.weekday()),
        "cap_month": day.replace(day=1),
    }


async def _awarded_since(rule_id: int, member_id: int, since: dt.datetime) -> int:
    rows = await RuleAward.select(RuleAward.points).where(
        (RuleAward.rule == rule_id) & (RuleAward.member == member_id)
        & RuleAward.reversed_at.is_null() & (RuleAward.awarded_at >= since)
    )
    return sum(int(r["points"]) for r in rows)


async def _capped(rule: dict[str, Any], member_id: int, points: int, now: dt.datetime) -> int:
    for field, since in _period_starts(now).items():
        cap = rule[field]
        if cap is not None:
            points = min(points, cap - await _awarded_since(rule["id"], member_id, since))
    return points


async def _cooling_down(rule: dict[str, Any], member_id: int, now: dt.datetime) -> bool:
    if not rule["cooldown_seconds"]:
        return False
    since = now - dt.timedelta(seconds=rule["cooldown_seconds"])
    return bool(await RuleAward.exists().where(
        (RuleAward.rule == rule["id"]) & (RuleAward.member == member_id)
        & RuleAward.reversed_at.is_null() & (RuleAward.awarded_at > since)
    ))


def award_key(event_id: int, event: events.Event, rule_id: int) -> str:
    if isinstance(event, events.MemberVisited):
        # A visit is once a day however many times its event is emitted.
        return f"award:visit:{event.member_id}:{event.day}:rule:{rule_id}"
    return f"award:event:{event_id}:rule:{rule_id}"


def _applies(rule: dict[str, Any], event_type: str, fields: dict[str, Any], now: dt.datetime) -> bool:
    if event_type not in rule["event_types"].split():
        return False
    if rule["active_from"] is not None and now < rule["active_from"]:
        return False
    if rule["active_until"] is not None and now >= rule["active_until"]:
        return False
    return rule["category_id"] is None or fields.get("category_id") == rule["category_id"]


async def apply(event_id: int, event: events.Event) -> None:
    """Award points for one committed event, under every rule that matches it."""
    earned = credit(event)
    if earned is None:
        return
    event_type, member_id, fields = earned.event_type, earned.member_id, earned.fields
    now = _now()
    for rule in await Rule.select().where(Rule.enabled == True):  # noqa: E712
        if not _applies(rule, event_type, fields, now):
            continue
        key = award_key(event_id, event, rule["id"])
        try:
            if not expressions.matches(rule["condition"], fields):
                continue
            points = expressions.points(rule["points"], fields)
        except Exception as exc:
            log.warning("rule %s cannot be evaluated on event %s: %s", rule["id"], event_id, exc)
            continue
        try:
            async with outbox.unit_of_work():
                if await ledger.find(key) is not None:
                    continue
                account = ledger.member_account(member_id)
                await ledger.lock_account(account)
                points = await _capped(rule, member_id, points, now)
                if points <= 0 or await _cooling_down(rule, member_id, now):
                    continue
                counterpart = (ledger.brand_budget_account(rule["brand"]) if rule["brand"]
                               else ledger.ISSUANCE)
                transaction = await ledger.post(
                    key=key, kind="award", reason=rule["name"], source=earned.scorable.source(event),
                    postings=[(account, points), (counterpart, -points)],
                    category_id=fields.get("category_id"),
                )
                await RuleAward.insert(RuleAward(
                    rule=rule["id"], member=member_id, ledger_transaction=transaction.id,
                    points=points, awarded_at=now,
                )).on_conflict(action="DO NOTHING")
        except Conflict as exc:
            log.info("rule %s could not award event %s: %s", rule["id"], event_id, exc.message)


async def revoke(source: str, reason: str) -> None:
    """Reverse every award tied to a removed source; caps free up again."""
    reversals = await ledger.reverse_source(source, reason)
    reversed_ids = [r.reverses for r in reversals if r.reverses is not None]
    if reversed_ids:
        await RuleAward.update({RuleAward.reversed_at: _now()}).where(
            RuleAward.ledger_transaction.is_in(reversed_ids)
        )
