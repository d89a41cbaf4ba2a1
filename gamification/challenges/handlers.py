"""Committed events advance challenges (removals take back what they counted); who may watch
a challenge live."""

from __future__ import annotations

from gamification.challenges import services
from gamification.rules.scorables import INBOUND, REMOVALS
from server import events, outbox
from server.auth import Actor
from server.errors import DomainError
from server.realtime import channel_rule


@channel_rule("challenge", numeric=True)
async def may_watch(actor: Actor, key: str) -> bool:
    try:
        await services.get(actor, int(key))
    except DomainError:
        return False
    return True


@outbox.batch_handler(
    "challenges.progress",
    events.MemberVisited, events.ThreadCreated, events.PostCreated, events.ReactionAdded,
    events.PostMarkedHelpful, *INBOUND, *REMOVALS,
)
async def advance(batch: list[outbox.Delivery]) -> None:
    await services.on_events(batch)
