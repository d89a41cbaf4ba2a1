"""Committed events feed the activity log and re-check badges; grants reach the member."""

from __future__ import annotations

from gamification.badges import services
from gamification.ledger.services import EARNING_KINDS
from gamification.rules import removals
from gamification.rules.scorables import INBOUND, REMOVALS, Removal
from server import events, outbox
from server.notifications import notify


@outbox.batch_handler(
    "badges.activity",
    events.MemberRegistered, events.MemberVisited, events.ThreadCreated, events.PostCreated,
    events.ReactionAdded, events.PostMarkedHelpful, *INBOUND, *REMOVALS,
)
async def record(batch: list[outbox.Delivery]) -> None:
    # Activity and its removal in one handler, in event order (see rules.award).
    moved: dict[int, set[str] | None] = {}

    def note(member_id: int, event_types: set[str] | None) -> None:
        known = moved.get(member_id, set())
        moved[member_id] = None if known is None or event_types is None else known | event_types

    async def acts(run: list[outbox.Delivery]) -> None:
        for member_id, types in (await services.record_activity(run)).items():
            note(member_id, types)

    async def taken_back(delivery: outbox.Delivery, gone: Removal) -> None:
        for member_id in await services.remove_activity(gone.source, delivery.event_id):
            note(member_id, None)

    await removals.in_order(batch, acts, taken_back)
    await services.sync_members(moved)


@outbox.batch_handler("badges.points", events.PointsPosted)
async def points(batch: list[outbox.Delivery]) -> None:
    await services.sync_members({
        d.event.member_id: {"points.posted"} for d in batch
        if isinstance(d.event, events.PointsPosted) and d.event.kind in EARNING_KINDS
    })


@outbox.batch_handler("badges.challenges", events.ChallengeCompleted)
async def challenge_completed(batch: list[outbox.Delivery]) -> None:
    members = await services.record_completions(batch)
    await services.sync_members({member_id: {services.COMPLETED} for member_id in members})


@outbox.handler("badges.notify", events.BadgeGranted)
async def tell_the_member(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.BadgeGranted):
        await notify(event.member_id, "badge", event_id, {
            "badge_id": event.badge_id, "name": event.name, "times": event.number,
        })
