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
    CustomField,
    CustomTypeIn,
    CustomTypeOut,
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


async def _recorded(brand_id: int, key: str, request_hash: str) -> InboundOut | None:
    rows = await InboundEvent.select().where(InboundEvent.scoped_key == f"{brand_id}:{key}")
    if not rows:
        return None
    if rows[0]["request_hash"] != request_hash:
        raise Conflict("this Idempotency-Key was already used with a different body: use a new "
                       "key for a new event")
    return _out(rows[0])


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


async def _member(ref: Any) -> int:
    if (ref.id is None) == (ref.email is None):
        raise Invalid("member: give exactly one of `id` or `email`")
    if ref.email is not None:
        found = await active_member_ids_by_email([ref.email])
        if ref.email not in found:
            raise Invalid("member.email: no active member has this email")
        return found[ref.email]
    if ref.id not in await active_member_roles({ref.id}):
        raise Invalid(f"member.id: no active member has id {ref.id}")
    return int(ref.id)


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
    member_id: int
    reference: str
    summary: str
    source: str
    subject: str | None
    data: Any


async def _plan(brand_id: int, data: EventIn) -> _Plan:
    kind = data.type
    if kind not in BUILT_IN:
        declared = await _declared(brand_id, kind) if re.fullmatch(r"[a-z][a-z0-9_]{0,39}", kind) \
            else None
        if declared is None:
            raise Invalid(f"type: unknown event type {kind[:60]!r}; use one of "
                          f"{', '.join(BUILT_IN)} or a custom type your brand declared")
        member_id = await _member(data.member)
        return _Plan(kind, member_id, "", kind, "", None, _custom_fields(declared, data.data))
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
    member_id = await _member(data.member)
    return _Plan(kind, member_id, ref, summary, source, f"{brand_id}:{kind}:{ref}", parsed)


async def _event(brand_id: int, plan: _Plan, inbound_id: int, tier: str | None) -> events.Event:
    if plan.type == "order.completed":
        currency = plan.data.currency.upper()
        amount, minor = _amount(plan.data.amount, currency)
        # Every order the brand reported for the member, refunded or not, this one included
        # (under the member's lock: two first orders at once are not both first).
        count = await InboundEvent.count().where(
            (InboundEvent.brand == brand_id) & (InboundEvent.member == plan.member_id)
            & (InboundEvent.type == "order.completed"))
        return events.OrderCompleted(
            brand_id=brand_id, member_id=plan.member_id, order_id=plan.reference,
            amount=float(amount), amount_minor=minor, currency=currency, order_number=count,
            inbound_id=inbound_id, tier=tier)
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


async def _check_subject(brand_id: int, plan: _Plan) -> None:
    """Inside the unit of work, under the member's lock."""
    if plan.type == "order.refunded":
        orders = await InboundEvent.select(InboundEvent.member).where(
            InboundEvent.subject == f"{brand_id}:order.completed:{plan.reference}")
        if not orders:
            raise Invalid(f"data.order_id: your brand reported no completed order "
                          f"{plan.reference!r}")
        if int(orders[0]["member"]) != plan.member_id:
            raise Invalid(f"member: order {plan.reference!r} is another member's")
    if plan.subject is not None and await InboundEvent.exists().where(
            InboundEvent.subject == plan.subject):
        what = "refunded" if plan.type == "order.refunded" else "reported"
        raise Conflict(f"{plan.type.split('.')[0]} {plan.reference!r} was already {what} "
                       "under another Idempotency-Key")


async def receive(actor: Actor, key: str | None, data: EventIn) -> tuple[InboundOut, bool]:
    """Record and emit one inbound event; (the recorded outcome, whether it was a replay)."""
    if actor.via != "token" or actor.brand_id is None or actor.token_id is None:
        raise Forbidden(INTEGRATION_ONLY)
    brand_id = actor.brand_id
    await ratelimit.check("inbound event", f"token:{actor.token_id}",
                          runtime.current().settings.inbound_rate_limit)
    if key is None or not _KEY.fullmatch(key):
        raise Invalid("Idempotency-Key: send a header of 1 to 200 visible ASCII characters, "
                      "unique per event (your order or event id will do)")
    request_hash = _canonical_hash(data)
    recorded = await _recorded(brand_id, key, request_hash)
    if recorded is not None:
        return recorded, True
    plan = await _plan(brand_id, data)
    tier = (await tiers.tier_names({plan.member_id})).get(plan.member_id)
    now = clock.now()
    try:
        async with outbox.unit_of_work():
            await ledger.lock_members({plan.member_id})
            # A request with this key that committed while this one waited for the lock.
            if await InboundEvent.exists().where(InboundEvent.scoped_key == f"{brand_id}:{key}"):
                raise _Raced
            await _check_subject(brand_id, plan)
            rows = await db.insert_rows(
                "gamification_inbound_event",
                ["brand", "scoped_key", "idempotency_key", "request_hash", "type", "member",
                 "subject", "reference", "summary", "source", "token_id", "received_at"],
                ["bigint", "text", "text", "text", "text", "bigint", "text", "text", "text",
                 "text", "bigint", "timestamptz"],
                [(brand_id, f"{brand_id}:{key}", key, request_hash, plan.type, plan.member_id,
                  plan.subject, plan.reference, plan.summary[:200], plan.source, actor.token_id,
                  now)],
                "ON CONFLICT (scoped_key) DO NOTHING RETURNING id")
            if not rows:
                raise _Raced
            inbound_id = int(rows[0]["id"])
            await outbox.emit(await _event(brand_id, plan, inbound_id, tier))
    except _Raced:
        replay = await _recorded(brand_id, key, request_hash)
        assert replay is not None
        return replay, True
    except Exception as exc:
        if db.is_unique_violation(exc):
            # The same order reported at once under two keys: the other one won.
            raise Conflict(f"{plan.type} {plan.reference!r} was just reported under another "
                           "Idempotency-Key") from None
        raise
    return InboundOut(id=inbound_id, type=plan.type, idempotency_key=key, member_id=plan.member_id,
                      reference=plan.reference, summary=plan.summary[:200], received_at=now), False


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
