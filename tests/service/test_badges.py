"""Badge criteria on an injected clock: streaks by calendar day, and windows of days."""

from __future__ import annotations

import uuid

import pytest

from gamification.badges import services as badges
from gamification.badges.schemas import BadgeIn, CountCriteria, StreakCriteria
from server.auth import Actor
from tests.service.support import CATEGORY, Hearth, register, thread_created

pytestmark = pytest.mark.anyio

OURS = f"category_id == {CATEGORY}"


async def badge(hearth: Hearth, criteria: StreakCriteria | CountCriteria) -> int:
    made = await badges.create_badge(hearth.admin, BadgeIn(
        slug="svc-" + uuid.uuid4().hex[:8], name="Service badge", criteria=criteria))
    return made.id


async def standing(member: Actor, badge_id: int) -> tuple[int, int | None]:
    """(times earned, progress toward the next grant: None once earned)."""
    assert member.member_id is not None
    mine = await badges.mine(member.member_id)
    times = next((e.times for e in mine.earned if e.badge.id == badge_id), 0)
    progress = next((u.progress.current for u in mine.unearned
                     if u.badge.id == badge_id and u.progress is not None), None)
    return times, progress


async def act(hearth: Hearth, *members: Actor) -> None:
    for member in members:
        await thread_created(member)
    await hearth.relay()


async def test_a_day_streak_counts_calendar_days_not_spans_of_24_hours(hearth: Hearth) -> None:
    streak = await badge(hearth, StreakCriteria(event_types=["thread.created"], length=3,
                                                condition=OURS))
    night_owl, steady, gappy = await register(), await register(), await register()
    await act(hearth, steady, gappy)  # Wednesday 12:00
    hearth.clock.advance(hours=11, minutes=59)  # Wednesday 23:59
    await act(hearth, night_owl)
    hearth.clock.advance(minutes=2)  # Thursday 00:01
    await act(hearth, night_owl, steady)
    assert await standing(night_owl, streak) == (0, 2)
    hearth.clock.advance(days=1)  # Friday 00:01: three days in a row, 24 hours and 2 minutes
    await act(hearth, night_owl, steady, gappy)
    assert await standing(night_owl, streak) == (1, None)
    assert await standing(steady, streak) == (1, None)
    # Wednesday and Friday, nothing on Thursday: a run of one.
    assert await standing(gappy, streak) == (0, 1)


async def test_a_week_streak_needs_one_in_each_iso_week(hearth: Hearth) -> None:
    streak = await badge(hearth, StreakCriteria(event_types=["thread.created"], length=2,
                                                unit="week", condition=OURS))
    member = await register()
    await act(hearth, member)  # Wednesday
    hearth.clock.advance(days=4, hours=11, minutes=59)  # Sunday 23:59, the same ISO week
    await act(hearth, member)
    assert await standing(member, streak) == (0, 1)
    hearth.clock.advance(minutes=1)  # Monday 00:00
    await act(hearth, member)
    assert await standing(member, streak) == (1, None)


async def test_a_windowed_count_forgets_activity_older_than_its_window(hearth: Hearth) -> None:
    recent = await badge(hearth, CountCriteria(event_types=["thread.created"], count=2,
                                               window_days=7, condition=OURS))
    member = await register()
    await act(hearth, member)
    hearth.clock.advance(days=7, seconds=1)  # the first is now just outside the window
    await act(hearth, member)
    assert await standing(member, recent) == (0, 1)
    hearth.clock.advance(days=6)
    await act(hearth, member)
    assert await standing(member, recent) == (1, None)
