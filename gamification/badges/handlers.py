"""Committed events feed the activity log and re-check badges; grants reach the member."""

from __future__ import annotations

from gamification.badges import services
from gamification.ledger.services import EARNING_KINDS
from server import events, outbox
from server.notifications import notify


@outbox.handler(
    "badges.activity",
    events.MemberRegistered, events.MemberVisited, events.ThreadCreated, events.PostCreated,
    events.ReactionAdded, events.PostMarkedHelpful,
)
async def record(event_id: int, event: events.Event) -> None:
    member_id = await services.record_activity(event_id, event)
    if member_id is not None:
        await services.sync_member(member_id, events.event_type(event))


@outbox.handler("badges.removal", events.PostDeleted, events.ReactionRemoved,
                events.PostUnmarkedHelpful)
async def removed(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.PostDeleted):
        members = await services.remove_activity(f"post:{event.post_id}")
    elif isinstance(event, events.PostUnmarkedHelpful):
        members = await services.remove_activity(f"post:{event.post_id}:helpful")
    elif isinstance(event, events.ReactionRemoved):
        members = await services.remove_activity(
            f"post:{event.post_id}:reaction:{event.member_id}:{event.kind}")
    else:
        return
    for member_id in members:
        await services.sync_member(member_id, None)


@outbox.handler("badges.points", events.PointsPosted)
async def points(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.PointsPosted) and event.kind in EARNING_KINDS:
        await services.sync_member(event.member_id, "points.posted")


@outbox.handler("badges.challenges", events.ChallengeCompleted)
async def challenge_completed(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.ChallengeCompleted):
        await services.sync_member(event.member_id, "challenge.completed")


@outbox.handler("badges.notify", events.BadgeGranted)
async def tell_the_member(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.BadgeGranted):
        await notify(event.member_id, "badge", event_id, {
            "badge_id": event.badge_id, "name": event.name, "times": event.number,
        })
