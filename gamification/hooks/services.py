"""Outbound webhooks: brand staff manage their brand's endpoints; an outbox handler turns
events into one delivery per (event, endpoint); the runner sends what is due, at least once,
retrying on the settings' schedule and dead-lettering after it; replays and pings."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import random
from collections import defaultdict
from typing import Any

import msgspec

from gamification.hooks import addresses, sender, signing, types
from gamification.hooks.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    ReplayOut,
    WebhookTypeOut,
)
from gamification.hooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from server import clock, db, notifications, outbox, runtime, schedule, staff_log
from server.accounts.services import brand_staff_ids
from server.auth import Actor
from server.errors import Conflict, Invalid, NotFound
from server.settings import get_settings

log = logging.getLogger("hearth.hooks")

DELIVER_TASK = "hooks.deliver"
BATCH_SIZE = 200
SENDS_PER_ENDPOINT = 32
# A call sends at most this many batches, then leaves the rest to the next (a job, a kick).
MAX_BATCHES = 50
# One replay moves at most this many deliveries (a month of a busy endpoint is a new ask).
REPLAY_LIMIT = 10_000
NOTICE = "webhook_disabled"
_encoder = msgspec.json.Encoder()


def claim_seconds() -> float:
    """How long a sender holds a batch: longer than the batch can take at worst (resolving,
    then one endpoint's share of the batch in waves of SENDS_PER_ENDPOINT attempts, each up to
    twice the timeout) plus recording; a sender that died lets go after this."""
    timeout = get_settings().webhooks_timeout_seconds
    waves = -(-BATCH_SIZE // SENDS_PER_ENDPOINT)
    return timeout + waves * 2 * timeout + 5


# --- endpoints -------------------------------------------------------------------------------


def _types_of(row: dict[str, Any]) -> list[str]:
    return str(row["event_types"]).split()


def secret_hint(secret: str) -> str:
    """Tells secrets apart (a receiver can compute it too) yet reveals none of the secret's
    characters: anyone who may read the endpoint list may not sign as Hearth."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:8]


def _endpoint_out(row: dict[str, Any]) -> EndpointOut:
    until = row["previous_until"]
    return EndpointOut(
        id=row["id"], brand_id=row["brand"], url=row["url"], description=row["description"],
        event_types=_types_of(row), enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"], secret_hint=secret_hint(row["secret"]),
        previous_secret_until=until if until is not None and until > clock.now() else None,
        consecutive_failures=row["consecutive_failures"], created_at=row["created_at"])


def _with_secret(row: dict[str, Any]) -> EndpointSecretOut:
    return EndpointSecretOut(**msgspec.structs.asdict(_endpoint_out(row)), secret=row["secret"])


def _event_types(wanted: list[str]) -> str:
    unknown = sorted(set(wanted) - types.TYPES.keys())
    if unknown:
        message = (f"event_types: unknown {', '.join(unknown)}; known are "
                   f"{', '.join(sorted(types.TYPES))}")
        raise Invalid(message, [{"field": "event_types", "message": message}])
    return " ".join(sorted(set(wanted)))


async def _row(brand_id: int, endpoint_id: int) -> dict[str, Any]:
    rows = await WebhookEndpoint.select().where(
        (WebhookEndpoint.id == endpoint_id) & (WebhookEndpoint.brand == brand_id))
    if not rows:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist in brand {brand_id}")
    return rows[0]


def _audited(row: dict[str, Any]) -> dict[str, Any]:
    return {"url": row["url"], "description": row["description"],
            "event_types": _types_of(row), "enabled": bool(row["enabled"])}


def webhook_types() -> list[WebhookTypeOut]:
    return [WebhookTypeOut(type=t.name, description=t.description, scope=t.scope)
            for t in sorted(types.TYPES.values(), key=lambda t: t.name)]


async def list_endpoints(brand_id: int) -> list[EndpointOut]:
    rows = await WebhookEndpoint.select().where(
        WebhookEndpoint.brand == brand_id).order_by(WebhookEndpoint.id)
    return [_endpoint_out(r) for r in rows]


async def get_endpoint(brand_id: int, endpoint_id: int) -> EndpointOut:
    return _endpoint_out(await _row(brand_id, endpoint_id))


async def create_endpoint(actor: Actor, brand_id: int, data: EndpointIn) -> EndpointSecretOut:
    wanted = _event_types(data.event_types)
    await addresses.check_url(data.url, get_settings().webhooks_allow_loopback)
    async with outbox.unit_of_work():
        rows = await WebhookEndpoint.insert(WebhookEndpoint(
            brand=brand_id, url=data.url, description=data.description, event_types=wanted,
            secret=signing.new_secret(), created_by=actor.accountable(), created_at=clock.now(),
        )).returning(WebhookEndpoint.id)
        row = await _row(brand_id, int(rows[0]["id"]))
        await staff_log.record(actor, "webhook.create", "webhook_endpoint", row["id"],
                               row["url"], after=_audited(row), brand_id=brand_id)
    return _with_secret(row)


async def update_endpoint(actor: Actor, brand_id: int, endpoint_id: int,
                          data: EndpointPatch) -> EndpointOut:
    before = await _row(brand_id, endpoint_id)
    values: dict[Any, Any] = {}
    if data.url is not None:
        await addresses.check_url(data.url, get_settings().webhooks_allow_loopback)
        values[WebhookEndpoint.url] = data.url
    if data.event_types is not None:
        values[WebhookEndpoint.event_types] = _event_types(data.event_types)
    if data.description is not None:
        values[WebhookEndpoint.description] = data.description
    if data.enabled is not None:
        values[WebhookEndpoint.enabled] = data.enabled
        if data.enabled:
            values[WebhookEndpoint.consecutive_failures] = 0
            values[WebhookEndpoint.disabled_reason] = ""
        elif before["enabled"]:
            values[WebhookEndpoint.disabled_reason] = f"disabled by {staff_log.actor_label(actor)}"
    if not values:
        return _endpoint_out(before)
    async with outbox.unit_of_work():
        await WebhookEndpoint.update(values).where(WebhookEndpoint.id == endpoint_id)
        after = await _row(brand_id, endpoint_id)
        old, new = staff_log.changes(_audited(before), _audited(after))
        if new:
            await staff_log.record(actor, "webhook.update", "webhook_endpoint", endpoint_id,
                                   after["url"], before=old, after=new, brand_id=brand_id)
    if data.enabled:
        await kick()
    return _endpoint_out(after)


async def delete_endpoint(actor: Actor, brand_id: int, endpoint_id: int) -> None:
    row = await _row(brand_id, endpoint_id)
    async with outbox.unit_of_work():
        await db.fetch("DELETE FROM webhook_attempt WHERE delivery IN "
                       "(SELECT id FROM webhook_delivery WHERE endpoint = {})", endpoint_id)
        await WebhookDelivery.delete().where(WebhookDelivery.endpoint == endpoint_id)
        await WebhookEndpoint.delete().where(WebhookEndpoint.id == endpoint_id)
        await staff_log.record(actor, "webhook.delete", "webhook_endpoint", endpoint_id,
                               row["url"], before=_audited(row), brand_id=brand_id)


async def rotate_secret(actor: Actor, brand_id: int, endpoint_id: int) -> EndpointSecretOut:
    """A new secret; the old one keeps signing (alongside) for the overlap period, so the
    receiver can switch without dropping a delivery."""
    row = await _row(brand_id, endpoint_id)
    overlap = dt.timedelta(seconds=get_settings().webhooks_secret_overlap_seconds)
    async with outbox.unit_of_work():
        await WebhookEndpoint.update({
            WebhookEndpoint.secret: signing.new_secret(),
            WebhookEndpoint.previous_secret: row["secret"],
            WebhookEndpoint.previous_until: clock.now() + overlap,
        }).where(WebhookEndpoint.id == endpoint_id)
        await staff_log.record(actor, "webhook.rotate", "webhook_endpoint", endpoint_id,
                               row["url"], reason=f"old secret signs for {overlap} more",
                               brand_id=brand_id)
    return _with_secret(await _row(brand_id, endpoint_id))


# --- deliveries ------------------------------------------------------------------------------


def _body(kind: str, brand_id: int, data: dict[str, Any], now: dt.datetime) -> str:
    return _encoder.encode({"type": kind, "timestamp": now.isoformat(), "brand_id": brand_id,
                            "data": data}).decode()


def _delivery_out(row: dict[str, Any]) -> DeliveryOut:
    return DeliveryOut(
        id=row["id"], endpoint_id=row["endpoint"], message_id=row["message_id"],
        event_type=row["event_type"], event_id=row["event_id"], status=row["status"],
        attempts=row["attempts"], next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"], delivered_at=row["delivered_at"],
        last_status_code=row["last_status_code"], last_latency_ms=row["last_latency_ms"],
        last_response=row["last_response"], last_error=row["last_error"])


async def _delivery_row(endpoint_id: int, delivery_id: int) -> dict[str, Any]:
    rows = await WebhookDelivery.select().where(
        (WebhookDelivery.id == delivery_id) & (WebhookDelivery.endpoint == endpoint_id))
    if not rows:
        raise NotFound(f"delivery {delivery_id} does not exist for endpoint {endpoint_id}")
    return rows[0]


async def deliveries(brand_id: int, endpoint_id: int, status: str | None, before: int | None,
                     limit: int) -> DeliveryPage:
    await _row(brand_id, endpoint_id)
    query = WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    rows = await query.order_by(WebhookDelivery.id, ascending=False).limit(limit + 1)
    return DeliveryPage(items=[_delivery_out(r) for r in rows[:limit]],
                        next_cursor=rows[limit - 1]["id"] if len(rows) > limit else None)


async def delivery(brand_id: int, endpoint_id: int, delivery_id: int) -> DeliveryDetail:
    await _row(brand_id, endpoint_id)
    row = await _delivery_row(endpoint_id, delivery_id)
    attempts = await WebhookAttempt.select().where(
        WebhookAttempt.delivery == delivery_id).order_by(WebhookAttempt.id)
    return DeliveryDetail(
        **msgspec.structs.asdict(_delivery_out(row)), payload=row["payload"],
        attempt_log=[AttemptOut(id=a["id"], attempted_at=a["attempted_at"],
                                http_status=a["status_code"], latency_ms=a["latency_ms"],
                                response_excerpt=a["response_excerpt"], error=a["error"])
                     for a in attempts])


def _enabled(row: dict[str, Any]) -> None:
    if not row["enabled"]:
        raise Conflict("the endpoint is disabled: enable it first")


async def ping(actor: Actor, brand_id: int, endpoint_id: int) -> DeliveryOut:
    """A test delivery of type webhook.ping, sent like any other."""
    row = await _row(brand_id, endpoint_id)
    _enabled(row)
    now = clock.now()
    body = _body(types.PING, brand_id, {"endpoint_id": endpoint_id,
                                        "message": "a test ping from Hearth"}, now)
    async with outbox.unit_of_work():
        rows = await WebhookDelivery.insert(WebhookDelivery(
            endpoint=endpoint_id, message_id=signing.new_message_id(), event_type=types.PING,
            payload=body, next_attempt_at=now, created_at=now,
        )).returning(WebhookDelivery.id)
    await kick()
    return _delivery_out(await _delivery_row(endpoint_id, int(rows[0]["id"])))


_REPLAYED = ("status = 'pending', round_attempts = 0, next_attempt_at = {}, "
             "claimed_until = NULL")


async def replay(actor: Actor, brand_id: int, endpoint_id: int, delivery_id: int) -> DeliveryOut:
    """Send one delivery again, with the same webhook-id, from the start of the schedule."""
    row = await _row(brand_id, endpoint_id)
    _enabled(row)
    await _delivery_row(endpoint_id, delivery_id)
    async with outbox.unit_of_work():
        await db.fetch("UPDATE webhook_delivery SET " + _REPLAYED + " WHERE id = {}",
                       clock.now(), delivery_id)
        await staff_log.record(actor, "webhook.replay", "webhook_delivery", delivery_id,
                               row["url"], brand_id=brand_id)
    await kick()
    return _delivery_out(await _delivery_row(endpoint_id, delivery_id))


async def replay_range(actor: Actor, brand_id: int, endpoint_id: int, since: dt.datetime,
                       until: dt.datetime) -> ReplayOut:
    """Send again every delivery created in [since, until) that is not already waiting."""
    row = await _row(brand_id, endpoint_id)
    for name, value in (("since", since), ("until", until)):
        if value.tzinfo is None:
            raise Invalid(f"{name} must carry a time zone (e.g. 2026-11-27T00:00:00Z)",
                          [{"field": name, "message": "no time zone"}])
        try:
            year = value.astimezone(dt.UTC).year
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            year = 0
        if not 1970 <= year <= 9998:
            raise Invalid(f"{name} must be in the years 1970 to 9998 (UTC)",
                          [{"field": name, "message": "out of range"}])
    if since >= until:
        raise Invalid("until must be after since", [{"field": "until", "message": "not after since"}])
    _enabled(row)
    async with outbox.unit_of_work():
        ids = await db.fetch(
            "SELECT id FROM webhook_delivery WHERE endpoint = {} AND created_at >= {} "
            "AND created_at < {} AND status <> 'pending' ORDER BY id LIMIT {}",
            endpoint_id, since, until, REPLAY_LIMIT)
        if ids:
            match, args = db.values_in([int(r["id"]) for r in ids], "bigint")
            await db.fetch("UPDATE webhook_delivery SET " + _REPLAYED + " WHERE id " + match,
                           clock.now(), *args)
        await staff_log.record(actor, "webhook.replay", "webhook_endpoint", endpoint_id,
                               row["url"], reason=f"{len(ids)} deliveries from {since.isoformat()} "
                               f"to {until.isoformat()}", brand_id=brand_id)
    if ids:
        await kick()
    return ReplayOut(replayed=len(ids))


# --- the pipeline: events -> deliveries -> attempts ---------------------------------------------


async def kick() -> None:
    """Have the runner send what is due now (the periodic job would, a little later)."""
    await runtime.current().runner.submit(DELIVER_TASK)


async def fan_out(batch: list[outbox.Delivery]) -> None:
    """One delivery per (event, subscribed endpoint of the event's brand), once however
    often the event is handed over (the dedupe key)."""
    endpoints = await db.fetch("SELECT id, brand, event_types FROM webhook_endpoint "
                               "WHERE enabled")
    if not endpoints:
        return
    subscribed: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for e in endpoints:
        for kind in _types_of(e):
            subscribed[kind].append((int(e["id"]), int(e["brand"])))
    now = clock.now()
    rows: list[tuple[Any, ...]] = []
    for delivery in batch:
        mapped = types.ROUTES.get(type(delivery.event))
        if mapped is None or not any(kind in subscribed for kind in mapped.types):
            continue
        routed = await mapped.route(delivery.event)
        if routed is None:
            continue
        for endpoint_id, brand_id in subscribed.get(routed.type, []):
            if routed.brands is not None and brand_id not in routed.brands:
                continue
            rows.append((endpoint_id, f"{delivery.event_id}:{endpoint_id}", delivery.event_id,
                         signing.new_message_id(), routed.type,
                         _body(routed.type, brand_id, routed.data, now), now, now))
    if rows:
        await db.insert_rows(
            "webhook_delivery", ["endpoint", "dedupe_key", "event_id", "message_id", "event_type",
                                 "payload", "next_attempt_at", "created_at"],
            ["bigint", "text", "bigint", "text", "text", "text", "timestamptz", "timestamptz"],
            rows, "ON CONFLICT DO NOTHING")
        await outbox.after_commit(kick)


async def _claim(limit: int) -> list[dict[str, Any]]:
    now = clock.now()
    lock = "" if db.is_sqlite() else " FOR UPDATE OF d SKIP LOCKED"
    return await db.fetch(
        "UPDATE webhook_delivery SET claimed_until = {} WHERE id IN ("
        "SELECT d.id FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint "
        "WHERE d.status = 'pending' AND d.next_attempt_at <= {} AND e.enabled "
        "AND (d.claimed_until IS NULL OR d.claimed_until < {}) "
        "ORDER BY d.next_attempt_at, d.id LIMIT {}" + lock + ") "
        "RETURNING id, endpoint, message_id, payload, round_attempts, claimed_until",
        now + dt.timedelta(seconds=claim_seconds()), now, now, limit)


def _secrets(endpoint: dict[str, Any], now: dt.datetime) -> list[str]:
    until = endpoint["previous_until"]
    if endpoint["previous_secret"] and until is not None and until > now:
        return [endpoint["secret"], endpoint["previous_secret"]]
    return [endpoint["secret"]]


async def _send(claimed: list[dict[str, Any]],
                endpoints: dict[int, dict[str, Any]]) -> list[sender.Outcome]:
    allow_loopback = get_settings().webhooks_allow_loopback
    # Resolved and checked once per endpoint and batch; every attempt goes to that address.
    # All at once: one slow name server costs the batch one resolve timeout, not one each.
    async def place(url: str) -> tuple[addresses.Target, addresses.Address] | str:
        try:
            target = addresses.parse(url, allow_loopback)
            return target, await addresses.resolve(target, allow_loopback)
        except addresses.Refused as exc:
            return f"refused: url {exc}"

    ids = list(endpoints)
    places = dict(zip(ids, await asyncio.gather(*(place(endpoints[i]["url"]) for i in ids)),
                      strict=True))

    # Connections per endpoint and batch: enough to keep a receiver busy, few enough that a
    # batch does not open hundreds.
    lanes = {endpoint_id: asyncio.Semaphore(SENDS_PER_ENDPOINT) for endpoint_id in endpoints}

    async def one(row: dict[str, Any]) -> sender.Outcome:
        place = places[int(row["endpoint"])]
        if isinstance(place, str):
            return sender.Outcome(None, 0, "", place)
        async with lanes[int(row["endpoint"])]:
            now = clock.now()
            body = str(row["payload"]).encode()
            # The receiver checks webhook-timestamp against its own clock to refuse
            # replays: it is the system clock's, never the program's (which tests move).
            headers = signing.headers(_secrets(endpoints[int(row["endpoint"])], now),
                                      row["message_id"], int(clock.system_now().timestamp()),
                                      body)
            return await sender.attempt(place[0], place[1], headers, body)

    results = await asyncio.gather(*(one(row) for row in claimed), return_exceptions=True)
    # A bug in one send is that delivery's logged failure, not the batch's.
    return [r if isinstance(r, sender.Outcome)
            else sender.Outcome(None, 0, "", f"{type(r).__name__}: {r}"[:500])
            for r in results]


def _retry_in(round_attempts: int) -> float | None:
    """Seconds until the next try after the round's n-th failed attempt; None: no more."""
    plan = get_settings().webhooks_retry_schedule
    if round_attempts > len(plan):
        return None
    # Jitter, so that the deliveries of an outage do not all come back at once.
    return plan[round_attempts - 1] * random.uniform(0.8, 1.2)


async def _record(claimed: list[dict[str, Any]], endpoints: dict[int, dict[str, Any]],
                  outcomes: list[sender.Outcome]) -> None:
    now = clock.now()
    async with outbox.unit_of_work():
        # An endpoint deleted while its deliveries were in flight took them along; a claim
        # that lapsed (or a replay) let another sender take a delivery, which records its
        # own attempt: log only what is still there under this claim (held until committed).
        match, args = db.values_in([int(r["id"]) for r in claimed], "bigint")
        live = {int(r["id"]) for r in await db.fetch(
            "SELECT id FROM webhook_delivery WHERE claimed_until = {} AND id " + match
            + ("" if db.is_sqlite() else " FOR SHARE"), claimed[0]["claimed_until"], *args)}
        kept = [(row, o) for row, o in zip(claimed, outcomes, strict=True) if int(row["id"]) in live]
        if not kept:
            return
        claimed, outcomes = [row for row, _ in kept], [o for _, o in kept]
        attempt_ids = await db.insert_rows(
            "webhook_attempt", ["delivery", "attempted_at", "status_code", "latency_ms",
                                "response_excerpt", "error"],
            ["bigint", "timestamptz", "int", "int", "text", "text"],
            [(int(row["id"]), now, o.status_code, o.latency_ms, o.excerpt, o.error)
             for row, o in zip(claimed, outcomes, strict=True)], "RETURNING id")
        delivered = [(int(row["id"]), o) for row, o in zip(claimed, outcomes, strict=True)
                     if o.ok]
        await _delivered(delivered, now)
        for row, outcome in zip(claimed, outcomes, strict=True):
            if outcome.ok:
                continue
            last = (outcome.status_code, outcome.latency_ms, outcome.excerpt, outcome.error)
            wait = _retry_in(int(row["round_attempts"]) + 1)
            await db.fetch(
                "UPDATE webhook_delivery SET status = {}, attempts = attempts + 1, "
                "round_attempts = round_attempts + 1, next_attempt_at = {}, "
                "claimed_until = NULL, last_status_code = {}, last_latency_ms = {}, "
                "last_response = {}, last_error = {} WHERE id = {}",
                "pending" if wait is not None else "dead",
                None if wait is None else now + dt.timedelta(seconds=wait), *last,
                int(row["id"]))
        await _count_failures(claimed, endpoints, outcomes,
                              min(int(r["id"]) for r in attempt_ids))


_DELIVERED = ("status = 'delivered', delivered_at = {}, attempts = attempts + 1, "
              "round_attempts = round_attempts + 1, next_attempt_at = NULL, "
              "claimed_until = NULL, ")


async def _delivered(done: list[tuple[int, sender.Outcome]], now: dt.datetime) -> None:
    """Mark the batch's successes: one statement on PostgreSQL (the hot path of a busy
    endpoint), one per row on SQLite."""
    if not done:
        return
    if db.is_sqlite():
        for delivery_id, o in done:
            await db.fetch("UPDATE webhook_delivery SET " + _DELIVERED + "last_status_code = {}, "
                           "last_latency_ms = {}, last_response = {}, last_error = '' "
                           "WHERE id = {}", now, o.status_code, o.latency_ms, o.excerpt,
                           delivery_id)
        return
    await db.fetch(
        "UPDATE webhook_delivery d SET " + _DELIVERED + "last_status_code = v.code, "
        "last_latency_ms = v.latency, last_response = v.excerpt, last_error = '' "
        "FROM unnest({}::bigint[], {}::int[], {}::int[], {}::text[]) AS v(id, code, latency, "
        "excerpt) WHERE d.id = v.id", now, [i for i, _ in done],
        [o.status_code for _, o in done], [o.latency_ms for _, o in done],
        [o.excerpt for _, o in done])


async def _count_failures(claimed: list[dict[str, Any]], endpoints: dict[int, dict[str, Any]],
                          outcomes: list[sender.Outcome], first_attempt_id: int) -> None:
    """Failures in a row per endpoint; past the setting, the endpoint is disabled and its
    brand's staff are told."""
    by_endpoint: dict[int, list[bool]] = defaultdict(list)
    for row, outcome in zip(claimed, outcomes, strict=True):
        by_endpoint[int(row["endpoint"])].append(outcome.ok)
    limit = get_settings().webhooks_disable_after
    for endpoint_id, oks in sorted(by_endpoint.items()):
        if any(oks):
            trailing = len(oks) - 1 - max(i for i, ok in enumerate(oks) if ok)
            await db.fetch("UPDATE webhook_endpoint SET consecutive_failures = {} WHERE id = {}",
                           trailing, endpoint_id)
            continue
        counted = await db.fetch(
            "UPDATE webhook_endpoint SET consecutive_failures = consecutive_failures + {} "
            "WHERE id = {} RETURNING consecutive_failures", len(oks), endpoint_id)
        if not counted or int(counted[0]["consecutive_failures"]) < limit:
            continue
        reason = f"{limit} failed attempts in a row"
        disabled = await db.fetch(
            "UPDATE webhook_endpoint SET enabled = FALSE, disabled_reason = {} "
            "WHERE id = {} AND enabled RETURNING id", reason, endpoint_id)
        if not disabled:
            continue
        endpoint = endpoints[endpoint_id]
        log.warning("webhook endpoint %s (%s) disabled: %s", endpoint_id, endpoint["url"],
                    reason)
        await staff_log.record(None, "webhook.disable", "webhook_endpoint", endpoint_id,
                               endpoint["url"], before={"enabled": True},
                               after={"enabled": False}, reason=reason,
                               brand_id=int(endpoint["brand"]))
        data = {"endpoint_id": endpoint_id, "url": endpoint["url"], "reason": reason,
                "brand_id": int(endpoint["brand"])}
        # The attempt that tipped it over names the notice: once per disabling.
        await notifications.notify_many(
            first_attempt_id, {m: NOTICE for m in await brand_staff_ids(int(endpoint["brand"]))},
            data)


@schedule.task(DELIVER_TASK)
async def deliver_due() -> int:
    """Send every delivery that is due, a batch at a time; returns how many were tried."""
    total = 0
    for _ in range(MAX_BATCHES):
        claimed = await _claim(BATCH_SIZE)
        if not claimed:
            break
        endpoints = {int(e["id"]): e for e in await WebhookEndpoint.select().where(
            WebhookEndpoint.id.is_in(sorted({int(r["endpoint"]) for r in claimed})))}
        # An endpoint deleted since the claim: its deliveries went with it.
        claimed = [r for r in claimed if int(r["endpoint"]) in endpoints]
        if not claimed:
            continue
        outcomes = await _send(claimed, endpoints)
        await _record(claimed, endpoints, outcomes)
        total += len(claimed)
    return total


PRUNE_CHUNK = 5000


async def prune() -> int:
    """Delete finished deliveries (delivered or dead) older than the retention, with their
    attempts; returns how many. Pending ones are kept whatever their age."""
    cutoff = clock.now() - dt.timedelta(days=get_settings().webhooks_retention_days)
    total = 0
    while True:
        async with db.transaction():
            rows = await db.fetch("SELECT id FROM webhook_delivery WHERE created_at < {} "
                                  "AND status <> 'pending' ORDER BY id LIMIT {}", cutoff,
                                  PRUNE_CHUNK)
            if not rows:
                return total
            match, args = db.values_in([int(r["id"]) for r in rows], "bigint")
            await db.fetch("DELETE FROM webhook_attempt WHERE delivery " + match, *args)
            await db.fetch("DELETE FROM webhook_delivery WHERE id " + match, *args)
        total += len(rows)


async def close() -> None:
    """As the process stops: the pooled HTTP connections."""
    await sender.close()
