"""Boards follow the ledger: each earning posting moves them; role changes reshape them."""

from __future__ import annotations

from gamification.leaderboards import services
from gamification.ledger.services import EARNING_KINDS
from server import events, outbox
from server.auth import Actor
from server.errors import DomainError
from server.realtime import channel_rule


@channel_rule("leaderboard")
async def may_watch(actor: Actor, key: str) -> bool:
    """Whoever may read the board over HTTP: a category's board follows the category."""
    try:
        await services.readable_board(actor, key)
    except DomainError:
        return False
    return True


@outbox.batch_handler("leaderboards.record", events.PointsPosted)
async def record(batch: list[outbox.Delivery]) -> None:
    changed = await services.record([
        d.event for d in batch
        if isinstance(d.event, events.PointsPosted) and d.event.kind in EARNING_KINDS
    ])
    # After commit: the pushed top ten must show what was just recorded.
    await outbox.after_commit(lambda: services.publish_changes(changed))


@outbox.handler("leaderboards.roles", events.MemberRoleChanged)
async def reshape(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.MemberRoleChanged):
        await services.refresh_member(event.member_id)
