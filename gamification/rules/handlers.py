"""Committed community events become awards; removals become reversals."""

from __future__ import annotations

from gamification.rules import services
from server import events, outbox


@outbox.batch_handler(
    "rules.award",
    events.MemberRegistered, events.MemberVisited, events.ThreadCreated, events.PostCreated,
    events.ReactionAdded, events.PostMarkedHelpful,
)
async def award(batch: list[outbox.Delivery]) -> None:
    await services.apply(batch)


@outbox.handler("rules.revoke", events.PostDeleted, events.ReactionRemoved,
                events.PostUnmarkedHelpful)
async def revoke(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.PostDeleted):
        await services.revoke(f"post:{event.post_id}", "post removed")
    elif isinstance(event, events.PostUnmarkedHelpful):
        await services.revoke(f"post:{event.post_id}:helpful", "helpful mark taken back")
    elif isinstance(event, events.ReactionRemoved):
        await services.revoke(
            f"post:{event.post_id}:reaction:{event.member_id}:{event.kind}", "reaction withdrawn"
        )
