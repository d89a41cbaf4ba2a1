"""Leaderboards while their store is cold (the embedded store's mark of a complete build gone):
reads from the ledger that cost nothing when nothing can be on the board, a bounded number of
ledger sums at once, one rebuild however many asked, and a ledger check that says it could not
compare the boards rather than crashing. And the cached top page a board's live push renews."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from gamification.audit import ledger_check
from gamification.leaderboards import fallback, store
from gamification.leaderboards import services as leaderboards
from gamification.ledger import services as ledger
from gamification.rules import services as rules
from gamification.rules.schemas import RuleIn
from server import db
from tests.service.support import Hearth, register, thread_created

pytestmark = pytest.mark.anyio


async def _earning_member(hearth: Hearth) -> int:
    """A member with 10 points on a warm store (the boards were never built in a new
    database): no board has been read from the ledger yet."""
    await leaderboards.rebuild()
    await rules.create_rule(hearth.admin, RuleIn(
        name="A thread", event_types=["thread.created"], points="10"))  # type: ignore[arg-type]
    member = await register()
    assert member.member_id is not None
    await thread_created(member)
    await hearth.relay()
    return member.member_id


async def _lose_the_store() -> None:
    await db.fetch("DELETE FROM leaderboard_state WHERE name = {}", store.GENERATION)


async def _not_yet() -> None:
    """A rebuild asked for and not finished: the store stays cold."""


async def _scores(name: str) -> list[tuple[int, int]]:
    page = await leaderboards.top(await register(), name, 20, 0)
    return [(row.member.id, row.score) for row in page.items]


async def test_boards_no_point_can_be_on_are_empty_without_summing_the_ledger(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    member_id = await _earning_member(hearth)
    await _lose_the_store()
    monkeypatch.setattr(leaderboards, "heal", _not_yet)
    summed: list[tuple[Any, ...]] = []
    real = ledger.earned_totals

    def counted(*window: Any) -> tuple[str, list[Any]]:
        summed.append(window)
        return real(*window)

    monkeypatch.setattr(ledger, "earned_totals", counted)
    # After now (the very last ones end past Python's largest date), or before the ledger began.
    for name in ("week:9999-W52", "month:9999-12", "week:2027-W01", "week:0001-W01",
                 "month:2026-02"):
        assert await _scores(name) == [], name
    assert summed == []
    # The current period is summed: the member's points are there.
    assert await _scores("week:2026-W10") == [(member_id, 10)]
    assert len(summed) == 1


async def test_ledger_sums_run_two_at_a_time_however_many_boards_are_asked_for(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    await _earning_member(hearth)
    await _lose_the_store()
    running, most = 0, 0

    async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            # Every asker is in by now: the others wait for a place, not for the database.
            await asyncio.sleep(0.05)
            return await db.fetch(sql, *args)
        finally:
            running -= 1

    monkeypatch.setattr(fallback, "db", SimpleNamespace(fetch=fetch))
    await asyncio.gather(*(fallback.load(fallback.Window(category_id=n), set())
                           for n in range(8)))
    assert most == fallback.CONCURRENT_SUMS


async def test_heals_queued_behind_a_rebuild_leave_the_store_it_built_alone(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    member_id = await _earning_member(hearth)
    await _lose_the_store()
    # Asked again at once if nothing else stopped it: only the rebuild under way does.
    monkeypatch.setattr(store, "ASK_AGAIN_SECONDS", 0)
    assert await leaderboards.store().ask_rebuild()
    snapshots: list[bool] = []
    real = leaderboards._snapshot

    async def watched() -> store.Snapshot:
        snapshots.append(await leaderboards.store().ask_rebuild())
        return await real()

    monkeypatch.setattr(leaderboards, "_snapshot", watched)
    await asyncio.gather(*(leaderboards.heal_now() for _ in range(3)))
    assert snapshots == [False]
    assert [(s.member_id, s.score) for s in await leaderboards.store().top("all-time", 10, 0)] == [
        (member_id, 10)]


async def test_the_ledger_check_notes_boards_not_built_yet_instead_of_failing(
        hearth: Hearth) -> None:
    await _earning_member(hearth)
    await _lose_the_store()
    check = await ledger_check()
    assert check.found == []
    assert check.notes == ["leaderboards: boards not built yet (rebuilding), not compared"]



async def test_a_boards_live_push_renews_the_cached_top_page(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    """Browsers refetch a board when its push arrives: every process drops its cached top page
    before it passes the push on, however long pages are kept."""
    member_id = await _earning_member(hearth)
    monkeypatch.setattr(leaderboards, "TOP_CACHE_SECONDS", 3600)
    assert await _scores("all-time") == [(member_id, 10)]
    # As another process changes it: straight into the store, nothing here hears of it.
    await leaderboards.store().add([store.BoardPosting(["all-time"], member_id, 5, 10**12)])
    assert await _scores("all-time") == [(member_id, 10)]
    await leaderboards.push_board("all-time")
    assert await _scores("all-time") == [(member_id, 15)]
