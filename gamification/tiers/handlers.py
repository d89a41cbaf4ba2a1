"""Earning moves members on the ladder; every move reaches the member live."""

from __future__ import annotations

import datetime as dt

from gamification.ledger.services import EARNING_KINDS
from gamification.tiers import services
from server import events, outbox
from server.notifications import notify


@outbox.batch_handler("tiers.evaluate", events.PointsPosted)
async def evaluate(batch: list[outbox.Delivery]) -> None:
    earned_on = {(d.event.member_id, dt.datetime.fromisoformat(d.event.posted_at).date())
                 for d in batch
                 if isinstance(d.event, events.PointsPosted) and d.event.kind in EARNING_KINDS}
    await services.evaluate({member for member, _ in earned_on}, earned_on)


@outbox.handler("tiers.notify", events.TierChanged)
async def tell_the_member(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.TierChanged):
        await notify(event.member_id, "tier", event_id, {
            "from_tier": event.from_tier, "to_tier": event.to_tier, "promoted": event.promoted,
        })
