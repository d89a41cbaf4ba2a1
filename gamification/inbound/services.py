"""Inbound events: what a brand's own systems (its shop, its reviews, its referral program)
report about a member. Each accepted request is recorded once per Idempotency-Key and goes on
the outbox as an event rules select like forum events; a refund takes back what its order
earned (the rules engine's removals).

Nothing is written for a request refused with a 4xx: every check runs before the one
transaction that records the request and emits its event."""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from gamification.inbound.currencies import MINOR_UNITS
from gamification.inbound.schemas import (
    BatchResult,
    CustomField,
    CustomTypeIn,
    CustomTypeOut,
    EventBatchIn,
    EventBatchOut,
    EventIn,
    InboundEventOut,
    InboundEventPage,
    InboundOut,
    OrderCompletedData,
    OrderRefundedData,
    ReferralConvertedData,
    ReviewPostedData,
)
from gamification.inbound.tables import InboundEvent, InboundType
from gamification.ledger import services as ledger
from gamification.tiers import services as tiers
from server import clock, db, events, outbox, ratelimit, runtime, staff_log
from server.accounts.services import active_member_ids_by_email, active_member_roles, get_brand
from server.auth import Actor
from server.errors import Conflict, Forbidden, Invalid

BUILT_IN = ("order.completed", "order.refunded", "review.posted", "referral.converted")
# Names a custom type's fields may not take: rules see them beside the event's own.
RESERVED_FIELDS = frozenset({"event", "brand_id", "member_id", "name", "inbound_id", "fields",
                             "tier"})
MAX_NUMBER = 10**15  # what rule expressions hold (gamification.rules.expressions)
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,4})?$")
INTEGRATION_ONLY = ("inbound events come from a brand's systems: send them with an API token "
                    "that has the 'events' scope")


class _Raced(Exception):
    """Another request with the same key was recorded first (and this one rolled back)."""


def _canonical_hash(data: EventIn) -> str:
    body = json.dumps(msgspec.to_builtins(data), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _out(row: dict[str, Any]) -> InboundOut:
    return InboundOut(id=int(row["id"]), type=row["type"], idempotency_key=row["idempotency_key"],
                      member_id=int(row["member"]), reference=row["reference"],
                      summary=row["summary"], received_at=row["received_at"])


def _convert(data: dict[str, Any], shape: type[Any]) -> Any:
    try:
        return msgspec.convert(data, shape)
    except msgspec.ValidationError as exc:
        # msgspec says "... - at `$.amount`": name the field as the client sent it.
        raise Invalid(str(exc).replace("`$.", "`data.").replace("`$`", "`data`")) from None


def _amount(raw: str, currency: str) -> tuple[Decimal, int]:
    """The amount and its value in the currency's minor unit, or a 422 naming the field."""
    if not _AMOUNT.fullmatch(raw):
        raise Invalid("data.amount must be a decimal string such as \"42.50\" (not negative, "
                      "no exponent, at most 12 digits before the point)")
    if currency not in MINOR_UNITS:
        raise Invalid(f"data.currency {currency!r} is not an ISO 4217 currency code "
                      "(such as EUR, USD, JPY)")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise Invalid("data.amount is not a decimal number") from None
    digits = MINOR_UNITS[currency]
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > digits:
        raise Invalid(f"data.amount has more decimals than {currency} has ({digits})")
    return amount, int(amount.scaleb(digits))


async def _members(refs: list[Any], labels: list[str]) -> list[int]:
    """The member each reference names, in two queries for a whole batch."""
    for ref, label in zip(refs, labels, strict=True):
        if (ref.id is None) == (ref.email is None):
            raise Invalid(f"{label}member: give exactly one of `id` or `email`")
    by_email = await active_member_ids_by_email({r.email for r in refs if r.email is not None})
    active = await active_member_roles({r.id for r in refs if r.id is not None})
    out = []
    for ref, label in zip(refs, labels, strict=True):
        if ref.email is not None:
            found = by_email.get(ref.email.strip().lower())
            if found is None:
                raise Invalid(f"{label}member.email: no active member has this email")
            out.append(found)
        else:
            if ref.id not in active:
                raise Invalid(f"{label}member.id: no active member has id {ref.id}")
            out.append(int(ref.id))
    return out


def _field_value(field: CustomField, value: Any) -> str | int | float | bool:
    name = f"data.{field.name}"
    if field.type == "boolean":
        if not isinstance(value, bool):
            raise Invalid(f"{name} must be true or false")
        return value
    if field.type == "text":
        if not isinstance(value, str):
            raise Invalid(f"{name} must be a text")
        if len(value) > field.max_length:
            raise Invalid(f"{name} is longer than {field.max_length} characters")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            field.type == "integer" and not isinstance(value, int)):
        raise Invalid(f"{name} must be {'a whole number' if field.type == 'integer' else 'a number'}")
    if not -MAX_NUMBER <= value <= MAX_NUMBER or value != value:
        raise Invalid(f"{name} must be within ±{MAX_NUMBER:.0e}")
    return value


def _custom_fields(declared: list[CustomField], data: dict[str, Any]) -> tuple[
        tuple[str, str | int | float | bool], ...]:
    by_name = {f.name: f for f in declared}
    unknown = sorted(set(data) - set(by_name))
    if unknown:
        raise Invalid(f"data.{unknown[0]} is not a field of this type "
                      f"(declared: {', '.join(by_name) or 'none'})")
    missing = [f.name for f in declared if f.required and f.name not in data]
    if missing:
        raise Invalid(f"data.{missing[0]} is required")
    return tuple((name, _field_value(by_name[name], data[name])) for name in sorted(data))


_decode_fields = msgspec.json.Decoder(list[CustomField])


async def _declared(brand_id: int, name: str) -> list[CustomField] | None:
    rows = await InboundType.select(InboundType.fields).where(
        InboundType.scoped_name == f"{brand_id}:{name}")
    return _decode_fields.decode(rows[0]["fields"]) if rows else None


class _Plan(msgspec.Struct):
    """A validated request: what to record and emit."""

    type: str
    reference: str
    summary: str
    source: str
    subject: str | None
    data: Any
    member_id: int = 0


async def _plan(brand_id: int, data: EventIn, declarations: dict[str, list[CustomField] | None]
                ) -> _Plan:
    """The request checked, but for its member (resolved for a whole batch at once)."""
    kind = data.type
    if kind not in BUILT_IN:
        if kind not in declarations:
            declarations[kind] = await _declared(brand_id, kind) \
                if re.fullmatch(r"[a-z][a-z0-9_]{0,39}", kind) else None
        declared = declarations[kind]
        if declared is None:
            raise Invalid(f"type: unknown event type {kind[:60]!r}; use one of "
                          f"{', '.join(BUILT_IN)} or a custom type your brand declared")
        return _Plan(kind, "", kind, "", None, _custom_fields(declared, data.data))
    parsed: Any
    if kind == "order.completed":
        parsed = _convert(data.data, OrderCompletedData)
        currency = parsed.currency.upper()
        amount, _ = _amount(parsed.amount, currency)
        ref, summary = parsed.order_id, f"order {parsed.order_id}: {amount} {currency}"
        source = f"order:{brand_id}:{ref}"
    elif kind == "order.refunded":
        parsed = _convert(data.data, OrderRefundedData)
        ref, summary, source = parsed.order_id, f"refund of order {parsed.order_id}", \
            f"order:{brand_id}:{parsed.order_id}"
    elif kind == "review.posted":
        parsed = _convert(data.data, ReviewPostedData)
        ref, source = parsed.review_id, f"review:{brand_id}:{parsed.review_id}"
        summary = f"review {ref}" + (f" ({parsed.rating}/5)" if parsed.rating else "")
    else:
        parsed = _convert(data.data, ReferralConvertedData)
        ref, source = parsed.referral_id, f"referral:{brand_id}:{parsed.referral_id}"
        summary = f"referral {ref}"
    return _Plan(kind, ref, summary, source, f"{brand_id}:{kind}:{ref}", parsed)


def _event(brand_id: int, plan: _Plan, inbound_id: int, tier: str | None,
           order_number: int) -> events.Event:
    if plan.type == "order.completed":
        currency = plan.data.currency.upper()
        amount, minor = _amount(plan.data.amount, currency)
        return events.OrderCompleted(
            brand_id=brand_id, member_id=plan.member_id, order_id=plan.reference,
            amount=float(amount), amount_minor=minor, currency=currency,
            order_number=order_number, inbound_id=inbound_id, tier=tier)
    if plan.type == "order.refunded":
        return events.OrderRefunded(brand_id=brand_id, member_id=plan.member_id,
                                    order_id=plan.reference, inbound_id=inbound_id)
    if plan.type == "review.posted":
        return events.ReviewPosted(brand_id=brand_id, member_id=plan.member_id,
                                   review_id=plan.reference, inbound_id=inbound_id,
                                   rating=plan.data.rating, tier=tier)
    if plan.type == "referral.converted":
        return events.ReferralConverted(brand_id=brand_id, member_id=plan.member_id,
                                        referral_id=plan.reference, inbound_id=inbound_id,
                                        tier=tier)
    return events.CustomEventReceived(brand_id=brand_id, member_id=plan.member_id,
                                      name=plan.type, inbound_id=inbound_id, fields=plan.data,
                                      tier=tier)


class _Item(msgspec.Struct):
    key: str
    data: EventIn
    request_hash: str
    # How errors name it: "" alone, "events[3]." in a batch.
    label: str


async def _replays(brand_id: int, items: list[_Item]) -> dict[str, InboundOut]:
    """Items already recorded, by key; a key recorded with another body is a 409."""
    # Raw SQL on the hot path: Piccolo's query builder costs more than these queries.
    match, args = db.values_in(sorted({f"{brand_id}:{item.key}" for item in items}), "text")
    rows = await db.fetch("SELECT id, type, idempotency_key, member, reference, summary, "
                          "received_at, request_hash FROM gamification_inbound_event "
                          "WHERE scoped_key " + match, *args)
    found = {str(r["idempotency_key"]): r for r in rows}
    for item in items:
        row = found.get(item.key)
        if row is not None and row["request_hash"] != item.request_hash:
            raise Conflict(f"{item.label}Idempotency-Key {item.key!r} was already used with a "
                           "different body: use a new key for a new event")
    return {key: _out(row) for key, row in found.items()}


async def _check_subjects(brand_id: int, fresh: list[tuple[_Item, _Plan]]) -> None:
    """Inside the unit of work, under the members' locks: a refund names an order of its
    member, and each order, review and referral is reported (and refunded) once."""
    wanted = {p.subject for _, p in fresh if p.subject is not None} | {
        f"{brand_id}:order.completed:{p.reference}" for _, p in fresh if p.type == "order.refunded"}
    known: dict[str, int] = {}
    if wanted:
        match, args = db.values_in(sorted(wanted), "text")
        rows = await db.fetch("SELECT subject, member FROM gamification_inbound_event "
                              "WHERE subject " + match, *args)
        known = {str(r["subject"]): int(r["member"]) for r in rows}
    for item, plan in fresh:
        if plan.type == "order.refunded":
            owner = known.get(f"{brand_id}:order.completed:{plan.reference}")
            if owner is None:
                raise Invalid(f"{item.label}data.order_id: your brand reported no completed "
                              f"order {plan.reference!r}")
            if owner != plan.member_id:
                raise Invalid(f"{item.label}member: order {plan.reference!r} is another member's")
        if plan.subject is not None:
            if plan.subject in known:
                what = "refunded" if plan.type == "order.refunded" else "reported"
                raise Conflict(f"{item.label}{plan.type.split('.')[0]} {plan.reference!r} was "
                               f"already {what} under another Idempotency-Key")
            # Reported from here on: a batch may hold an order and then its refund.
            known[plan.subject] = plan.member_id


async def _order_counts(brand_id: int, member_ids: set[int]) -> dict[int, int]:
    """Orders the brand reported so far per member (refunded ones too)."""
    match, args = db.values_in(sorted(member_ids), "bigint")
    rows = await db.fetch(
        "SELECT member, COUNT(*) AS n FROM gamification_inbound_event WHERE brand = {} "
        "AND type = 'order.completed' AND member " + match + " GROUP BY member",
        brand_id, *args)
    return {int(r["member"]): int(r["n"]) for r in rows}


async def _record(actor: Actor, brand_id: int, items: list[_Item]) -> list[tuple[InboundOut, bool]]:
    """Every item recorded and emitted, or (on any 4xx) none: (outcome, was a replay)."""
    recorded = await _replays(brand_id, items)
    fresh: list[tuple[_Item, _Plan]] = []
    firsts: dict[str, _Item] = {}
    declarations: dict[str, list[CustomField] | None] = {}
    for item in items:
        if item.key in recorded:
            continue
        first = firsts.setdefault(item.key, item)
        if first is not item:
            if first.request_hash != item.request_hash:
                raise Conflict(f"{item.label}Idempotency-Key {item.key!r} is used twice in this "
                               "batch with different bodies")
            continue
        try:
            fresh.append((item, await _plan(brand_id, item.data, declarations)))
        except Invalid as exc:
            raise Invalid(item.label + exc.message) from None
    if fresh:
        ids = await _members([i.data.member for i, _ in fresh], [i.label for i, _ in fresh])
        for (_, plan), member_id in zip(fresh, ids, strict=True):
            plan.member_id = member_id
        members = set(ids)
        held = await tiers.tier_names(members)
        now = clock.now()
        async with outbox.unit_of_work():
            await ledger.lock_members(members)
            # Requests with these keys that committed while this one waited for the locks.
            match, args = db.values_in([f"{brand_id}:{i.key}" for i, _ in fresh], "text")
            if await db.fetch("SELECT 1 FROM gamification_inbound_event WHERE scoped_key "
                              + match + " LIMIT 1", *args):
                raise _Raced
            await _check_subjects(brand_id, fresh)
            orders = await _order_counts(brand_id, members)
            rows = await db.insert_rows(
                "gamification_inbound_event",
                ["brand", "scoped_key", "idempotency_key", "request_hash", "type", "member",
                 "subject", "reference", "summary", "source", "token_id", "received_at"],
                ["bigint", "text", "text", "text", "text", "bigint", "text", "text", "text",
                 "text", "bigint", "timestamptz"],
                [(brand_id, f"{brand_id}:{i.key}", i.key, i.request_hash, p.type, p.member_id,
                  p.subject, p.reference, p.summary[:200], p.source, actor.token_id, now)
                 for i, p in fresh],
                "ON CONFLICT (scoped_key) DO NOTHING RETURNING id, idempotency_key")
            if len(rows) < len(fresh):
                raise _Raced
            inbound_ids = {str(r["idempotency_key"]): int(r["id"]) for r in rows}
            emitted = []
            for item, plan in fresh:
                if plan.type == "order.completed":
                    # The member's nth order, counted under their lock: two first orders at
                    # once are not both first.
                    orders[plan.member_id] = orders.get(plan.member_id, 0) + 1
                emitted.append(_event(brand_id, plan, inbound_ids[item.key],
                                      held.get(plan.member_id), orders.get(plan.member_id, 0)))
                recorded[item.key] = InboundOut(
                    id=inbound_ids[item.key], type=plan.type, idempotency_key=item.key,
                    member_id=plan.member_id, reference=plan.reference,
                    summary=plan.summary[:200], received_at=now)
            await outbox.emit_many(emitted)
    made = {item.key for item, _ in fresh}
    return [(recorded[item.key], item.key not in made or firsts.get(item.key) is not item)
            for item in items]


def _authorized(actor: Actor) -> int:
    if actor.via != "token" or actor.brand_id is None or actor.token_id is None:
        raise Forbidden(INTEGRATION_ONLY)
    return actor.brand_id


async def _receive(actor: Actor, items: list[_Item]) -> list[tuple[InboundOut, bool]]:
    brand_id = _authorized(actor)
    for _ in range(3):
        try:
            return await _record(actor, brand_id, items)
        except _Raced:
            # Another request recorded some of these keys first: they are replays now.
            continue
        except Exception as exc:
            if db.is_unique_violation(exc):
                # The same order reported at once under two keys: the other one won.
                raise Conflict("an order, review or referral in this request was just reported "
                               "under another Idempotency-Key") from None
            raise
    raise Conflict("other requests with these keys keep arriving at once: try again")


def _check_key(key: str | None, label: str) -> str:
    if key is None or not _KEY.fullmatch(key):
        raise Invalid(f"{label}Idempotency-Key: send 1 to 200 visible ASCII characters, "
                      "unique per event (your order or event id will do)")
    return key


async def receive(actor: Actor, key: str | None, data: EventIn) -> tuple[InboundOut, bool]:
    """Record and emit one inbound event; (the recorded outcome, whether it was a replay)."""
    _authorized(actor)
    await ratelimit.check("inbound event", f"token:{actor.token_id}",
                          runtime.current().settings.inbound_rate_limit)
    item = _Item(_check_key(key, ""), data, _canonical_hash(data), "")
    return (await _receive(actor, [item]))[0]


async def receive_batch(actor: Actor, data: EventBatchIn) -> EventBatchOut:
    """Many events in one request, all recorded or (on any 4xx) none; each event counts
    against the token's rate limit."""
    _authorized(actor)
    limit = runtime.current().settings.inbound_rate_limit
    await ratelimit.check("inbound event", f"token:{actor.token_id}", limit, len(data.events))
    items = []
    for n, event in enumerate(data.events):
        body = EventIn(type=event.type, member=event.member, data=event.data)
        label = f"events[{n}]."
        items.append(_Item(_check_key(event.idempotency_key, label), body,
                           _canonical_hash(body), label))
    results = await _receive(actor, items)
    return EventBatchOut(results=[BatchResult(event=out, replayed=replayed)
                                  for out, replayed in results])


# --- the brand's console -------------------------------------------------------------------


def _may_manage(actor: Actor, brand_id: int) -> None:
    if not actor.manages_brand(brand_id):
        raise Forbidden("a brand's inbound events are for its staff and admins")


async def list_events(actor: Actor, brand_id: int, before: int | None,
                      limit: int) -> InboundEventPage:
    """Newest first; pass next_cursor back as `before`."""
    _may_manage(actor, brand_id)
    await get_brand(brand_id)
    query = InboundEvent.select().where(InboundEvent.brand == brand_id)
    if before is not None:
        query = query.where(InboundEvent.id < before)
    rows = await query.order_by(
        InboundEvent.id, ascending=False).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    moved = await ledger.awarded_by_source({r["source"] for r in rows})
    items = []
    for row in rows:
        awarded, reversed_ = moved.get(row["source"], (0, 0))
        out = _out(row)
        items.append(InboundEventOut(**msgspec.structs.asdict(out), points_awarded=awarded,
                                     points_reversed=reversed_))
    return InboundEventPage(items=items, next_cursor=int(rows[-1]["id"]) if more else None)


def _type_out(row: dict[str, Any]) -> CustomTypeOut:
    return CustomTypeOut(id=int(row["id"]), brand_id=int(row["brand"]), name=row["name"],
                         fields=_decode_fields.decode(row["fields"]),
                         created_at=row["created_at"])


async def list_types(actor: Actor, brand_id: int) -> list[CustomTypeOut]:
    _may_manage(actor, brand_id)
    await get_brand(brand_id)
    rows = await InboundType.select().where(InboundType.brand == brand_id).order_by(
        InboundType.name)
    return [_type_out(r) for r in rows]


async def declare_type(actor: Actor, brand_id: int, data: CustomTypeIn) -> CustomTypeOut:
    """A custom event type: a name and a short list of typed fields, which rules then see by
    name on `custom.received` events. Bounded by construction: at most 20 fields, texts up
    to 1,000 characters, no patterns."""
    _may_manage(actor, brand_id)
    brand = await get_brand(brand_id)
    names = [f.name for f in data.fields]
    clash = sorted(RESERVED_FIELDS & set(names))
    if clash:
        raise Invalid(f"fields: {clash[0]!r} is a name every inbound event already has")
    if len(set(names)) != len(names):
        raise Invalid("fields: each field name once")
    scoped = f"{brand_id}:{data.name}"
    if await InboundType.exists().where(InboundType.scoped_name == scoped):
        raise Conflict(f"your brand already declared {data.name!r}")
    encoded = msgspec.json.encode(data.fields).decode()
    try:
        async with outbox.unit_of_work():
            rows = await InboundType.insert(InboundType(
                brand=brand_id, scoped_name=scoped, name=data.name, fields=encoded,
                created_by=actor.accountable(), created_at=clock.now(),
            )).returning(InboundType.id)
            await staff_log.record(
                actor, "inbound_type.declare", "inbound_type", int(rows[0]["id"]),
                f"event type '{data.name}' of brand '{brand.name}'",
                after={"name": data.name, "fields": msgspec.to_builtins(data.fields)},
                brand_id=brand_id)
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict(f"your brand already declared {data.name!r}") from None
        raise
    found = await InboundType.select().where(InboundType.scoped_name == scoped)
    return _type_out(found[0])
