"""Rule management and the engine that turns committed events into ledger awards.

An award's idempotency key is derived from (event, rule), so replaying an event changes
nothing. Removing the source (a post deleted, a reaction withdrawn) reverses its awards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from gamification.ledger import services as ledger
from gamification.rules import expressions, removals
from gamification.rules.schemas import (
    EventTypeOut,
    RuleCheck,
    RuleIn,
    RuleOut,
    RulePatch,
    RuleTryIn,
    RuleTryOut,
)
from gamification.rules.scorables import BRAND_ONLY, CUSTOM, SCORABLES, Removal, credit, names
from gamification.rules.tables import Rule, RuleAward
from server import clock, db, events, outbox, staff_log
from server.accounts.sanctions import silenced_ids
from server.accounts.services import get_brand
from server.auth import Actor
from server.errors import Forbidden, Invalid, NotFound
from server.events import fields_of
from server.types import parse_id

log = logging.getLogger("hearth.rules")



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
              active_from: dt.datetime | None, active_until: dt.datetime | None,
              brand_id: int | None) -> None:
    unknown = [t for t in event_types if t not in SCORABLES]
    if unknown:
        raise Invalid(f"these events cannot earn points: {', '.join(unknown)}; "
                      f"use {', '.join(SCORABLES)}")
    reported = [t for t in event_types if t in BRAND_ONLY]
    if reported and brand_id is None:
        raise Invalid(f"{', '.join(reported)} come from a brand's own systems: only that "
                      "brand's rules pay for them, from its budget; set brand_id")
    if brand_id is not None:
        # A brand rule pays for acts in the brand's categories: these happen in none.
        unplaced = [t for t in event_types if "brand_id" not in names(SCORABLES[t].sample)]
        if unplaced:
            raise Invalid(f"a brand's rule cannot pay for {', '.join(unplaced)}: it pays only "
                          "for acts in the brand's categories")
    for when in (active_from, active_until):
        if when is not None and when.tzinfo is None:
            raise Invalid("active_from and active_until need a time zone")
    if active_from and active_until and active_until <= active_from:
        raise Invalid("active_until must be after active_from")
    if condition.strip():
        expressions.check_syntax(condition, "condition")
    expressions.check_syntax(formula, "points formula")
    for event_type in event_types:
        if event_type in CUSTOM:
            # Its fields are what each brand declared, which no sample holds: the syntax is
            # checked, and an event the rule cannot evaluate earns nothing from it.
            continue
        expressions.trial(condition, formula, names(SCORABLES[event_type].sample))


async def list_rules(actor: Actor) -> list[RuleOut]:
    _require_staff(actor)
    rows = await Rule.select().order_by(Rule.id)
    return [_rule_out(r) for r in rows
            if actor.is_admin or r["brand"] is None or r["brand"] == actor.brand_id]


async def create_rule(actor: Actor, data: RuleIn) -> RuleOut:
    _may_manage(actor, data.brand_id)
    if data.brand_id is not None:
        await get_brand(data.brand_id)
    formula = str(data.points)
    _validate(data.event_types, data.condition, formula, data.active_from, data.active_until,
              data.brand_id)
    async with outbox.unit_of_work():
        rows = await Rule.insert(Rule(
            name=data.name, event_types=" ".join(dict.fromkeys(data.event_types)),
            condition=data.condition, points=formula, cap_day=data.cap_day,
            cap_week=data.cap_week, cap_month=data.cap_month,
            cooldown_seconds=data.cooldown_seconds, active_from=data.active_from,
            active_until=data.active_until, brand=data.brand_id, category_id=data.category_id,
            enabled=data.enabled,
        )).returning(Rule.id)
        created = _rule_out(await _rule_row(int(rows[0]["id"])))
        await staff_log.record(actor, "rule.create", "rule", created.id,
                               f"rule '{created.name}'", after=_audited(created),
                               brand_id=created.brand_id)
    return created


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
              after["active_until"], after["brand"])
    if "event_types" in changes:
        changes["event_types"] = " ".join(dict.fromkeys(event_types))
    if not changes:
        return _rule_out(row)
    async with outbox.unit_of_work():
        await Rule.update({getattr(Rule, k): v for k, v in changes.items()}).where(Rule.id == rule_id)
        updated = _rule_out(await _rule_row(rule_id))
        was, now = staff_log.changes(_audited(_rule_out(row)), _audited(updated))
        if now:
            await staff_log.record(actor, "rule.update", "rule", rule_id,
                                   f"rule '{updated.name}'", before=was, after=now,
                                   brand_id=updated.brand_id)
    return updated


def _audited(rule: RuleOut) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(rule).items() if k != "id"}


def _require_staff(actor: Actor) -> None:
    if not actor.is_admin and actor.role != "brand_staff":
        raise Forbidden("rules are for admins and brand staff")


def event_types(actor: Actor) -> list[EventTypeOut]:
    """The events rules, badges and challenge tasks can count, with their fields."""
    _require_staff(actor)
    out = []
    for event_type, scorable in SCORABLES.items():
        sample = names(scorable.sample)
        out.append(EventTypeOut(
            type=event_type, fields=fields_of(type(scorable.sample)),
            brand_rules="brand_id" in sample, sample=sample))
    return out


def _sample_event(fields: dict[str, Any]) -> events.Event:
    event_type = fields.get("event")
    if not isinstance(event_type, str) or event_type not in SCORABLES:
        raise Invalid(f"the sample event's `event` must be one of {', '.join(SCORABLES)}")
    payload = {k: v for k, v in fields.items() if k != "event"}
    try:
        return msgspec.convert({**payload, "type": event_type}, events.Event)  # type: ignore[arg-type]
    except msgspec.ValidationError as exc:
        raise Invalid(f"the sample event does not fit {event_type}: {exc}") from None


def _evaluated(what: str, evaluate: Callable[[], Any]) -> tuple[Any, str | None]:
    try:
        return evaluate(), None
    except Exception as exc:
        return None, expressions.message(
            f"the {what} fails on this event: {getattr(exc, 'message', exc)}")


async def try_rule(actor: Actor, data: RuleTryIn) -> RuleTryOut:
    """What a rule would pay for one event, and why, checked as the engine checks (see
    _applies and _candidates). Writes nothing; expressions are bounded by construction, so
    evaluating one here is as cheap as the engine's own."""
    rule = data.rule
    _may_manage(actor, rule.brand_id)
    if rule.brand_id is not None:
        await get_brand(rule.brand_id)
    formula = str(rule.points)
    _validate(rule.event_types, rule.condition, formula, rule.active_from, rule.active_until,
              rule.brand_id)
    event = _sample_event(data.event)
    event_type = events.event_type(event)
    fields = names(event)
    now = clock.now()
    checks = [RuleCheck(check="event type", passed=event_type in rule.event_types,
                        detail=f"{event_type} is {'' if event_type in rule.event_types else 'not '}"
                               f"one of {', '.join(rule.event_types)}")]
    scorable = SCORABLES[event_type]
    own = scorable.target_owner is not None and \
        fields.get(scorable.target_owner) == fields[scorable.actor]
    checks.append(RuleCheck(check="earner", passed=not own, detail=(
        f"{scorable.actor} is also {scorable.target_owner}: acts on one's own content earn nothing"
        if own else f"member {fields[scorable.beneficiary]} ({scorable.beneficiary}) earns")))
    if rule.brand_id is not None:
        checks.append(RuleCheck(check="brand", passed=fields.get("brand_id") == rule.brand_id,
                                detail=f"the event's brand_id is {fields.get('brand_id')}"))
    if rule.category_id is not None:
        checks.append(RuleCheck(check="category",
                                passed=fields.get("category_id") == rule.category_id,
                                detail=f"the event's category_id is {fields.get('category_id')}"))
    if rule.active_from is not None or rule.active_until is not None:
        active = (rule.active_from is None or now >= rule.active_from) and \
            (rule.active_until is None or now < rule.active_until)
        checks.append(RuleCheck(check="active period", passed=active,
                                detail=f"now is {now.isoformat(timespec='seconds')}"))
    checks.append(RuleCheck(check="enabled", passed=rule.enabled,
                            detail="the rule is enabled" if rule.enabled else "the rule is off"))
    if rule.condition.strip():
        matched, error = _evaluated("condition",
                                    lambda: expressions.matches(rule.condition, fields))
        checks.append(RuleCheck(check=f"condition `{rule.condition}`", passed=bool(matched),
                                detail=error or f"comes to {matched}"))
    value, error = _evaluated("points formula", lambda: expressions.points(formula, fields))
    points = value if isinstance(value, int) else 0
    checks.append(RuleCheck(check=f"points `{formula}`", passed=points > 0,
                            detail=error or f"comes to {points}"))
    pays = all(c.passed for c in checks)
    return RuleTryOut(points=points if pays else 0, checks=checks)


# --- the engine ----------------------------------------------------------------------------


def _period_starts(now: dt.datetime) -> dict[str, dt.datetime]:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "cap_day": day,
        "cap_week": day - dt.timedelta(days=day.weekday()),
        "cap_month": day.replace(day=1),
    }


@dataclass
class _Candidate:
    event_id: int
    key: str
    rule: dict[str, Any]
    member_id: int
    points: int
    source: str
    category_id: int | None


@dataclass
class _Usage:
    """What a member was already awarded under one rule: per cap period, and the latest."""

    used: dict[str, int] = dataclasses.field(default_factory=dict)
    last: dt.datetime | None = None


async def _usage(rules: list[dict[str, Any]], member_ids: set[int],
                 now: dt.datetime) -> dict[tuple[int, int], _Usage]:
    """Awards that count against caps and cooldowns, per (rule, member), in one query."""
    starts = _period_starts(now)
    limited = {r["id"]: r for r in rules
               if r["cooldown_seconds"] or any(r[f] is not None for f in starts)}
    usage: dict[tuple[int, int], _Usage] = {}
    if not limited:
        return usage
    since = min([starts[f] for r in limited.values() for f in starts if r[f] is not None]
                + [now - dt.timedelta(seconds=r["cooldown_seconds"]) for r in limited.values()])
    rows = await RuleAward.select(
        RuleAward.rule, RuleAward.member, RuleAward.points, RuleAward.awarded_at
    ).where(
        RuleAward.rule.is_in(list(limited)) & RuleAward.member.is_in(sorted(member_ids))
        & RuleAward.reversed_at.is_null() & (RuleAward.awarded_at >= since)
    )
    for row in rows:
        entry = usage.setdefault((int(row["rule"]), int(row["member"])), _Usage())
        for period, start in starts.items():
            if row["awarded_at"] >= start:
                entry.used[period] = entry.used.get(period, 0) + int(row["points"])
        if entry.last is None or row["awarded_at"] > entry.last:
            entry.last = row["awarded_at"]
    return usage


def _within_limits(candidate: _Candidate, usage: _Usage, now: dt.datetime) -> int:
    """Points the candidate may still get under its rule's caps and cooldown (0: none)."""
    rule = candidate.rule
    if rule["cooldown_seconds"] and usage.last is not None and \
            usage.last > now - dt.timedelta(seconds=rule["cooldown_seconds"]):
        return 0
    points = candidate.points
    for period in _period_starts(now):
        if rule[period] is not None:
            points = min(points, rule[period] - usage.used.get(period, 0))
    return points


def award_key(event_id: int, event: events.Event, rule_id: int) -> str:
    if isinstance(event, events.MemberVisited):
        # A visit is once a day however many times its event is emitted.
        return f"award:visit:{event.member_id}:{event.day}:rule:{rule_id}"
    return f"award:event:{event_id}:rule:{rule_id}"


def _applies(rule: dict[str, Any], event_type: str, fields: dict[str, Any], now: dt.datetime) -> bool:
    # try_rule() explains these same checks one by one: change both together.
    if event_type not in rule["event_types"].split():
        return False
    if rule["active_from"] is not None and now < rule["active_from"]:
        return False
    if rule["active_until"] is not None and now >= rule["active_until"]:
        return False
    if rule["brand"] is not None and fields.get("brand_id") != rule["brand"]:
        return False
    return rule["category_id"] is None or fields.get("category_id") == rule["category_id"]


def _candidates(batch: list[outbox.Delivery], rules: list[dict[str, Any]],
                now: dt.datetime) -> list[_Candidate]:
    """Every (event, rule) pair that would award, before caps and cooldowns."""
    found: dict[str, _Candidate] = {}
    for delivery in batch:
        earned = credit(delivery.event)
        if earned is None:
            continue
        for rule in rules:
            if not _applies(rule, earned.event_type, earned.fields, now):
                continue
            key = award_key(delivery.event_id, delivery.event, rule["id"])
            if key in found:
                continue
            try:
                if not expressions.matches(rule["condition"], earned.fields):
                    continue
                points = expressions.points(rule["points"], earned.fields)
            except Exception as exc:
                log.warning("rule %s cannot be evaluated on event %s: %s", rule["id"],
                            delivery.event_id, exc)
                continue
            if points > 0:
                found[key] = _Candidate(delivery.event_id, key, rule, earned.member_id, points,
                                        earned.scorable.source(delivery.event),
                                        earned.fields.get("category_id"))
    return list(found.values())


async def apply(batch: list[outbox.Delivery]) -> None:
    """Award points for committed events, in order, under every rule that matches each:
    a few statements for the whole batch."""
    now = clock.now()
    rules = await Rule.select().where(Rule.enabled == True)  # noqa: E712
    candidates = _candidates(batch, rules, now)
    if not candidates:
        return
    # A silenced (or suspended) member earns nothing while the sanction is in force.
    muted = await silenced_ids({c.member_id for c in candidates}, now)
    candidates = [c for c in candidates if c.member_id not in muted]
    if not candidates:
        return
    recorded = await ledger.recorded_keys([c.key for c in candidates])
    candidates = [c for c in candidates if c.key not in recorded]
    if not candidates:
        return
    async with outbox.unit_of_work():
        # Caps and cooldowns are read under the members' locks: concurrent batches for the
        # same member count each other's awards.
        members = {c.member_id for c in candidates}
        await ledger.lock_members(members)
        gone = await removals.taken_back([(c.source, c.event_id) for c in candidates])
        candidates = [c for c in candidates if (c.source, c.event_id) not in gone]
        usage = await _usage([c.rule for c in candidates], members, now)
        accepted: list[_Candidate] = []
        for candidate in candidates:
            tally = usage.setdefault((candidate.rule["id"], candidate.member_id), _Usage())
            points = _within_limits(candidate, tally, now)
            if points <= 0:
                continue
            for period in _period_starts(now):
                tally.used[period] = tally.used.get(period, 0) + points
            tally.last = now
            candidate.points = points
            accepted.append(candidate)
        posted = await ledger.post_many([
            ledger.NewTransaction(
                key=c.key, kind="award", reason=c.rule["name"], source=c.source,
                postings=[(ledger.member_account(c.member_id), c.points),
                          (ledger.brand_budget_account(c.rule["brand"]) if c.rule["brand"]
                           else ledger.ISSUANCE, -c.points)],
                category_id=c.category_id,
            ) for c in accepted
        ])
        awards = [c for c in accepted if c.key in posted]
        await db.insert_rows(
            "gamification_rule_award",
            ["rule", "member", "ledger_transaction", "points", "awarded_at"],
            ["bigint", "bigint", "bigint", "bigint", "timestamptz"],
            [(c.rule["id"], c.member_id, posted[c.key], c.points, now) for c in awards],
            "ON CONFLICT DO NOTHING")


async def apply_in_order(batch: list[outbox.Delivery]) -> None:
    """Awards and their reversals, in event order."""
    async def reverse(delivery: outbox.Delivery, gone: Removal) -> None:
        await revoke(gone.source, gone.reason, delivery.event_id)

    await removals.in_order(batch, apply, reverse)


def _earlier_than(event_id: int) -> Callable[[str], bool]:
    """Accepts the keys of awards for events before this one: a removal takes back what came
    before it, never a later act (replays, or batches handled out of order)."""
    def accepts(key: str) -> bool:
        awarded_for = _event_of(key)
        return awarded_for is None or awarded_for < event_id

    return accepts


async def revoke(source: str, reason: str, removal_event_id: int) -> None:
    """Reverse the awards tied to a removed source, earned before the removal; caps free
    up again."""
    reversals = await ledger.reverse_source(source, reason, only=_earlier_than(removal_event_id))
    reversed_ids = [r.reverses for r in reversals if r.reverses is not None]
    if reversed_ids:
        await RuleAward.update({RuleAward.reversed_at: clock.now()}).where(
            RuleAward.ledger_transaction.is_in(reversed_ids)
        )


# --- audit ---------------------------------------------------------------------------------


async def duplicate_awards() -> list[str]:
    """Acts paid twice: a source with more than one live award under the same rule (two
    events for one post, say). An award whose act a later removal took back is not live,
    even when its reversal found nothing left to recover."""
    live = await ledger.live_awards()
    by_act: dict[tuple[str, int], list[tuple[int, int | None]]] = {}
    for row in await RuleAward.select(RuleAward.rule, RuleAward.ledger_transaction):
        award = live.get(int(row["ledger_transaction"]))
        if award is not None:
            source, key = award
            by_act.setdefault((source, int(row["rule"])), []).append(
                (int(row["ledger_transaction"]), _event_of(key)))
    suspects = {act: paid for act, paid in by_act.items() if len(paid) > 1}
    gone = await removals.taken_back([(source, event_id) for (source, _), paid in suspects.items()
                                      for _, event_id in paid if event_id is not None])
    found = []
    for (source, rule_id), paid in sorted(suspects.items()):
        kept = sorted(i for i, event_id in paid if (source, event_id) not in gone)
        if len(kept) > 1:
            found.append(f"{source} paid {len(kept)} times under rule {rule_id} "
                         f"(transactions {', '.join(map(str, kept))})")
    return found


def _event_of(key: str) -> int | None:
    """The event an award key (award_key) names; None for a visit's, which names a day."""
    parts = key.split(":")
    return parse_id(parts[2]) if parts[:2] == ["award", "event"] and len(parts) >= 3 else None
