"""The webhook event types, each mapped from one outbox event: what it is called, which
brands receive it, and its payload (`data`). One `add` per outbox event.

Every body is {"type": ..., "timestamp": ISO 8601, "brand_id": receiving brand, "data": ...}.
Points, challenges and rewards belong to one brand (whose budget paid, whose challenge,
whose catalogue) and only its endpoints get them; tiers and badges are the member's
standing across the whole program (which every brand's staff can look up already) and go to
every brand that subscribes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from gamification.challenges import services as challenges
from gamification.ledger import services as ledger
from server import events

# Every brand that subscribes (program-wide events).
EVERY_BRAND = None


@dataclass(frozen=True)
class Routed:
    """What one outbox event becomes: its webhook type, the brands that receive it (None:
    every brand) and its data."""

    type: str
    brands: frozenset[int] | None
    data: dict[str, Any]


Route = Callable[[Any], Awaitable[Routed | None]]


@dataclass(frozen=True)
class WebhookType:
    name: str
    description: str
    # "brand" (one brand's) or "program" (every subscribing brand's).
    scope: str


@dataclass(frozen=True)
class Mapped:
    route: Route
    # The webhook types the route may produce: events nobody subscribed to are not routed.
    types: frozenset[str]


TYPES: dict[str, WebhookType] = {}
ROUTES: dict[type[events.Event], Mapped] = {}


def add(event: type[events.Event], route: Route, *declared: WebhookType) -> None:
    """Map an outbox event to the webhook type(s) its route may produce."""
    ROUTES[event] = Mapped(route, frozenset(t.name for t in declared))
    for webhook_type in declared:
        TYPES[webhook_type.name] = webhook_type


def _data(event: events.Event) -> dict[str, Any]:
    return msgspec.to_builtins(event)  # type: ignore[no-any-return]


async def _points(event: events.PointsPosted) -> Routed | None:
    """The brand whose budget paid (or took back) the points; issuance's are nobody's."""
    transaction = await ledger.get_transaction(event.transaction_id)
    brands = frozenset(int(p.account.split(":")[1]) for p in transaction.postings
                       if p.account.startswith("brand:") and p.account.endswith(":budget"))
    if not brands:
        return None
    kind = "points.reversed" if event.kind == "reversal" else "points.posted"
    return Routed(kind, brands, _data(event))


async def _challenge(event: events.ChallengeCompleted) -> Routed | None:
    brand_id = await challenges.brand_of(event.challenge_id)
    return Routed("challenge.completed", frozenset({brand_id}), _data(event))


def _program(name: str) -> Route:
    async def route(event: Any) -> Routed:
        return Routed(name, EVERY_BRAND, _data(event))
    return route


add(events.PointsPosted, _points,
    WebhookType("points.posted", "points paid to (or spent by) a member from the brand's "
                "budget: transaction_id, member_id, amount, balance, kind, reason, posted_at",
                "brand"),
    WebhookType("points.reversed", "a points transaction the brand paid was reversed (same "
                "fields, amount negative)", "brand"))
add(events.ChallengeCompleted, _challenge,
    WebhookType("challenge.completed", "a member completed one of the brand's challenges: "
                "member_id, challenge_id", "brand"))
add(events.BadgeGranted, _program("badge.granted"),
    WebhookType("badge.granted", "a member earned a badge: member_id, badge_id, grant_id, "
                "name, number", "program"))
add(events.BadgeRevoked, _program("badge.revoked"),
    WebhookType("badge.revoked", "a badge grant was revoked: member_id, badge_id, grant_id, "
                "name", "program"))
add(events.TierChanged, _program("tier.changed"),
    WebhookType("tier.changed", "a member moved on the tier ladder: member_id, from_tier, "
                "to_tier, promoted", "program"))


async def _reward(event: events.RewardRedeemed | events.RewardRefunded) -> Routed:
    name = "reward.redeemed" if isinstance(event, events.RewardRedeemed) else "reward.refunded"
    return Routed(name, frozenset({event.brand_id}), _data(event))


add(events.RewardRedeemed, _reward,
    WebhookType("reward.redeemed", "a member redeemed one of the brand's catalogue rewards "
                "(how a reward fulfilled by webhook reaches the brand's systems): "
                "redemption_id, reward_id, member_id, points, fulfilment, redeemed_at; never "
                "a coupon code", "brand"))
add(events.RewardRefunded, _reward,
    WebhookType("reward.refunded", "staff refunded a redemption (points and stock back, any "
                "code void): redemption_id, reward_id, member_id, points, refunded_at", "brand"))

# Sent only when staff ask for it (POST .../ping): never subscribed to.
PING = "webhook.ping"
