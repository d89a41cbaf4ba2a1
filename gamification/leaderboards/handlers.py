"""Boards follow the ledger: each earning posting moves them; role changes reshape them."""

from __future__ import annotations

import datetime as dt

from gamification.leaderboards import services
from gamification.ledger.services import EARNING_KINDS
from server import events, outbox
from server.auth import Actor
from server.realtime import channel_rule


@channel_rule("leaderboard")
async def anyone_may_watch(actor: Actor, key: str) -> bool:
    return bool(key)


@outbox.handler("leaderboards.record", events.PointsPosted)
async def record(event_id: int, event: events.Event) -> None:
    if not isinstance(event, events.PointsPosted) or event.kind not in EARNING_KINDS:
        return
    changed = await services.record(
        event.member_id, event.amount, dt.datetime.fromisoformat(event.posted_at),
        event.category_id, event.transaction_id,
    )
    await services.publish_changes(changed)


@outbox.handler("leaderboards.roles", events.MemberRoleChanged)
async def reshape(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.MemberRoleChanged):
        await services.refresh_member(event.member_id)
