"""Members see their points move live on their private channel, and are told ahead of time
which points expire."""

from __future__ import annotations

from server import events, outbox, runtime
from server.notifications import notify
from server.pubsub import Message


@outbox.batch_handler("ledger.live", events.PointsPosted)
async def push_points(batch: list[outbox.Delivery]) -> None:
    messages = [
        Message(f"user:{d.event.member_id}", "points.posted",
                {"transaction_id": d.event.transaction_id, "amount": d.event.amount,
                 "balance": d.event.balance, "kind": d.event.kind, "reason": d.event.reason},
                f"p{d.event_id}")
        for d in batch if isinstance(d.event, events.PointsPosted)
    ]
    await outbox.after_commit(lambda: runtime.current().broker.publish_many(messages))


@outbox.handler("ledger.expiring", events.PointsExpiring)
async def notify_expiring(event_id: int, event: events.Event) -> None:
    assert isinstance(event, events.PointsExpiring)
    await notify(event.member_id, "points_expiring", event_id, {
        "amount": event.amount, "expires_on": event.expires_on, "days": event.days})
