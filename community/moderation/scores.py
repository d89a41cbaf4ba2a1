"""What a flag weighs, and why, in lines a moderator reads (after Discourse's reviewable
scores): a base by the flagger's role, plus their tier, their account's age and their
accuracy (the share of their decided flags that moderators agreed with).

The weight and its lines are stored on the flag when it is made: an item's score is the
sum of its flags' weights and explains itself without recomputing anything."""

from __future__ import annotations

import datetime as dt

import msgspec

from community.moderation.tables import FlaggerRecord
from gamification.tiers import services as tiers
from server import clock
from server.accounts.services import members_by_id
from server.auth import Actor

STAFF_BASE = 10
MEMBER_BASE = 2
# A watched word set to "flag" (content.auto_flagged): enough to rank, not to hide alone.
SYSTEM_WEIGHT = 5
# Account age in days, and the points from that age on (the highest reached counts).
AGE_STEPS = ((7, 1), (30, 2), (365, 3))
# Accuracy counts once this many of the member's flags were decided (agreed or disagreed).
ACCURACY_MIN_DECIDED = 5
# From -ACCURACY_SPAN (never agreed with) to +ACCURACY_SPAN (always).
ACCURACY_SPAN = 3
MIN_WEIGHT = 1


class Line(msgspec.Struct, frozen=True):
    label: str
    points: int


def _age_points(created_at: dt.datetime, now: dt.datetime) -> tuple[int, int]:
    days = max(0, (now - created_at).days)
    points = 0
    for threshold, step in AGE_STEPS:
        if days >= threshold:
            points = step
    return days, points


def accuracy_points(agreed: int, disagreed: int) -> int:
    decided = agreed + disagreed
    if decided < ACCURACY_MIN_DECIDED:
        return 0
    return round((2 * agreed / decided - 1) * ACCURACY_SPAN)


async def flag_weight(actor: Actor, brand_id: int | None) -> tuple[int, list[Line]]:
    """The weight of a flag the actor makes now on content of this brand, and its lines (they
    add up to it, but for the floor of MIN_WEIGHT, which has its own line). Staff weigh as
    staff only where they moderate: brand staff flag another brand's content as members."""
    member_id = actor.member()
    if actor.moderates(brand_id):
        lines = [Line(f"flagged by staff ({actor.role.replace('_', ' ')})", STAFF_BASE)]
    else:
        lines = [Line("flagged by a member", MEMBER_BASE)]
        mine = await tiers.mine(member_id)
        ladder = (await tiers.ladder()).tiers
        if mine.tier is not None:
            position = next((i for i, t in enumerate(ladder) if t.name == mine.tier.name), 0)
            if position:
                lines.append(Line(f"tier {mine.tier.name}", position))
    member = (await members_by_id({member_id})).get(member_id)
    if member is not None:
        days, points = _age_points(member.created_at, clock.now())
        if points:
            lines.append(Line(f"account {days} days old", points))
    record = await FlaggerRecord.select(FlaggerRecord.agreed, FlaggerRecord.disagreed).where(
        FlaggerRecord.member == member_id)
    if record:
        agreed, disagreed = int(record[0]["agreed"]), int(record[0]["disagreed"])
        points = accuracy_points(agreed, disagreed)
        if agreed + disagreed >= ACCURACY_MIN_DECIDED:
            share = round(100 * agreed / (agreed + disagreed))
            lines.append(Line(f"accuracy: {share}% of {agreed + disagreed} decided flags "
                              "agreed with", points))
    total = sum(line.points for line in lines)
    if total < MIN_WEIGHT:
        lines.append(Line("a flag weighs at least 1", MIN_WEIGHT - total))
        total = MIN_WEIGHT
    return total, lines


def system_weight(reason: str) -> tuple[int, list[Line]]:
    return SYSTEM_WEIGHT, [Line(f"flagged by the system: {reason}"[:200], SYSTEM_WEIGHT)]
