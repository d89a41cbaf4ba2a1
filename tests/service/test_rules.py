"""Rules on an injected clock: caps per day and week, and cooldowns, at their exact edges."""

from __future__ import annotations

import pytest

from gamification.ledger import services as ledger
from gamification.rules import services as rules
from gamification.rules.schemas import RuleIn
from server.auth import Actor
from tests.service.support import CATEGORY, Hearth, register, thread_created

pytestmark = pytest.mark.anyio


async def rule(hearth: Hearth, **fields: object) -> None:
    await rules.create_rule(hearth.admin, RuleIn(
        name="Service rule", event_types=["thread.created"],
        condition=f"category_id == {CATEGORY}", **fields))  # type: ignore[arg-type]


async def threads(hearth: Hearth, member: Actor, count: int) -> int:
    """`count` new threads by the member, relayed; returns the member's balance after."""
    for _ in range(count):
        await thread_created(member)
    await hearth.relay()
    assert member.member_id is not None
    return (await ledger.balance(member.member_id)).balance


async def test_a_daily_cap_fills_up_and_starts_again_at_midnight_utc(hearth: Hearth) -> None:
    await rule(hearth, points=5, cap_day=12)
    member = await register()
    assert await threads(hearth, member, 3) == 12  # 5, 5, then the 2 left under the cap
    hearth.clock.advance(hours=11, minutes=59, seconds=59)  # 23:59:59, the same day
    assert await threads(hearth, member, 1) == 12
    hearth.clock.advance(seconds=1)  # midnight
    assert await threads(hearth, member, 1) == 17


async def test_a_weekly_cap_counts_from_monday(hearth: Hearth) -> None:
    await rule(hearth, points=5, cap_week=10)
    member = await register()
    # Wednesday noon: two awards fill this week's cap.
    assert await threads(hearth, member, 3) == 10
    hearth.clock.advance(days=4, hours=11, minutes=59)  # Sunday 23:59
    assert await threads(hearth, member, 1) == 10
    hearth.clock.advance(minutes=1)  # Monday 00:00, a new ISO week
    assert await threads(hearth, member, 3) == 20


async def test_a_cooldown_holds_until_it_has_fully_passed(hearth: Hearth) -> None:
    await rule(hearth, points=3, cooldown_seconds=3600)
    member, other = await register(), await register()
    # One award in a batch of two: the cooldown binds inside a batch too.
    assert await threads(hearth, member, 2) == 3
    # Each member has their own cooldown.
    assert await threads(hearth, other, 1) == 3
    hearth.clock.advance(minutes=59, seconds=59)
    assert await threads(hearth, member, 1) == 3
    hearth.clock.advance(seconds=1)
    assert await threads(hearth, member, 1) == 6
