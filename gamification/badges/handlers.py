"""Committed events feed the activity log and re-check badges; grants reach the member."""

from __future__ import annotations

from gamification.badges import services
from gamification.ledger.services import EARNING_KINDS
from server import events, outbox
from server.notifications import notify


@outbox.batch_handler(
    "badges.activity",
    events.MemberRegistered, events.MemberVisited, events.ThreadCreated, events.PostCreated,
    events.ReactionAdded, events.PostMarkedHelpful,
)
async def record(batch: list[outbox.Delivery]) -> None:
    touched = await services.record_activity(batch)
    await services.sync_members(dict(touched))


@outbox.batch_handler("badges.removal", events.PostDeleted, events.ReactionRemoved,
                      events.PostUnmarkedHelpful)
async def removed(batch: list[outbox.Delivery]) -> None:
    members: set[int] = set()
    for delivery in batch:
        event = delivery.event
        if isinstance(event, events.PostDeleted):
            members |= await services.remove_activity(f"post:{event.post_id}")
        elif isinstance(event, events.PostUnmarkedHelpful):
            members |= await services.remove_activity(f"post:{event.post_id}:helpful")
        elif isinstance(event, events.ReactionRemoved):
            members |= await services.remove_activity(
                f"post:{event.post_id}:reaction:{event.member_id}:{event.kind}")
    await services.sync_members(dict.fromkeys(members))


@outbox.batch_handler("badges.points", events.PointsPosted)
async def points(batch: list[outbox.Delivery]) -> None:
    await services.sync_members({
        d.event.member_id: {"points.posted"} for d in batch
        if isinstance(d.event, events.PointsPosted) and d.event.kind in EARNING_KINDS
    })


@outbox.batch_handler("badges.challenges", events.ChallengeCompleted)
async def challenge_completed(batch: list[outbox.Delivery]) -> None:
    await services.sync_members({d.event.member_id: {"challenge.completed"} for d in batch
                                 if isinstance(d.event, events.ChallengeCompleted)})


@outbox.handler("badges.notify", events.BadgeGranted)
async def tell_the_member(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.BadgeGranted):
        await notify(event.member_id, "badge", event_id, {
            "badge_id": event.badge_id, "name": event.name, "times": event.number,
        })
