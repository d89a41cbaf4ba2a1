"""Committed community events become awards; removals become reversals."""

from __future__ import annotations

from gamification.rules import services
from gamification.rules.scorables import INBOUND, REMOVALS
from server import events, outbox


@outbox.batch_handler(
    "rules.award",
    events.MemberRegistered, events.MemberVisited, events.ThreadCreated, events.PostCreated,
    events.ReactionAdded, events.PostMarkedHelpful, *INBOUND, *REMOVALS,
)
async def award(batch: list[outbox.Delivery]) -> None:
    # Awards and removals in one handler, so that a batch holding "reacted, took it back,
    # reacted again" ends as the same sequence one at a time would.
    await services.apply_in_order(batch)
