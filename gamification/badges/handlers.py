"""Committed events feed the activity log and re-check badges; grants reach the member."""

from __future__ import annotations

from gamification.badges import services
from gamification.ledger import services as ledger
from gamification.ledger.services import EARNING_KINDS
from gamification.rules import removals
from gamification.rules.scorables import REMOVALS, credit, removal
from server import events, outbox
from server.notifications import notify


@outbox.batch_handler(
    "badges.activity",
    events.MemberRegistered, events.MemberVisited, events.ThreadCreated, events.PostCreated,
    events.ReactionAdded, events.PostMarkedHelpful, *REMOVALS,
)
async def record(batch: list[outbox.Delivery]) -> None:
    # Activity and its removal in one handler, in event order (see rules.award).
    moved: dict[int, set[str] | None] = {}

    def note(member_id: int, event_types: set[str] | None) -> None:
        known = moved.get(member_id, set())
        moved[member_id] = None if known is None or event_types is None else known | event_types

    # Every member's lock first: a removal handled by another relay is then either seen here
    # (remembered) or sees this activity.
    await ledger.lock_members(
        {r.member_id for d in batch if (r := removal(d.event)) is not None}
        | {c.member_id for d in batch if (c := credit(d.event)) is not None})
    run: list[outbox.Delivery] = []
    for delivery in batch:
        taken_back = removal(delivery.event)
        if taken_back is None:
            run.append(delivery)
            continue
        for member_id, types in (await services.record_activity(run)).items():
            note(member_id, types)
        run = []
        await removals.remember(taken_back.source, delivery.event_id)
        for member_id in await services.remove_activity(taken_back.source, delivery.event_id):
            note(member_id, None)
    for member_id, types in (await services.record_activity(run)).items():
        note(member_id, types)
    await services.sync_members(moved)


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
