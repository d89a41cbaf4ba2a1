"""Members see their points move live on their private channel."""

from __future__ import annotations

from server import events, outbox, runtime


@outbox.handler("ledger.live", events.PointsPosted)
async def push_points(event_id: int, event: events.Event) -> None:
    if not isinstance(event, events.PointsPosted):
        return
    await runtime.current().broker.publish(
        f"user:{event.member_id}", "points.posted",
        {"transaction_id": event.transaction_id, "amount": event.amount,
         "balance": event.balance, "kind": event.kind, "reason": event.reason},
        message_id=f"p{event_id}",
    )
