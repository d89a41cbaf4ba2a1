"""Boards read straight from their sources while the store cannot answer (cold while it is
rebuilt, or Redis unreachable): points boards summed over the ledger, registered boards (a
challenge's) from their owner's scores. Same filters, ranking and tie order as the stores.

Summing a large ledger costs far more than a store read, and a cold store meets every reader
at once: each process computes a board once in a while (CACHE_SECONDS, or twice as long as
the computation took, so that reads never take more than a third of the database from the
rebuild), and whoever asks meanwhile waits for that one computation or reuses it. Any week
or month of years 1 to 9999 is a board: those wholly before the ledger's first transaction or
after now are empty without a sum, and a process runs at most CONCURRENT_SUMS sums at once."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from gamification.leaderboards.store import Standing
from gamification.ledger import services as ledger
from server import clock, db

CACHE_SECONDS = 2.0
CONCURRENT_SUMS = 2


@dataclass(frozen=True)
class Window:
    """A points board: what was earned in [since, until), in one category when given."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    category_id: int | None = None


# A points board's window, or a registered board's scores.
Source = Window | dict[int, int]


class Board:
    """One board's members above zero, ranked, in display order (score, then member id,
    both descending); read as the stores are read."""

    def __init__(self, scores: dict[int, int], excluded: set[int]) -> None:
        ordered = sorted(((m, s) for m, s in scores.items() if s > 0 and m not in excluded),
                         key=lambda pair: (-pair[1], -pair[0]))
        self._rows: list[tuple[int, int, int]] = []
        for i, (member_id, score) in enumerate(ordered):
            tied = self._rows and self._rows[-1][1] == score
            self._rows.append((member_id, score, self._rows[-1][2] if tied else i + 1))
        self._positions = {row[0]: i for i, row in enumerate(self._rows)}

    def _page(self, first: int, count: int) -> list[Standing]:
        return [Standing(member_id=m, score=s, rank=r) for m, s, r in self._rows[first:first + count]]

    def top(self, limit: int, offset: int) -> list[Standing]:
        return self._page(offset, limit)

    def standing(self, member_id: int) -> Standing | None:
        position = self._positions.get(member_id)
        return None if position is None else self._page(position, 1)[0]

    def around(self, member_id: int, n: int) -> list[Standing]:
        """2n+1 members from n above the member (fewer above near the top)."""
        position = self._positions.get(member_id)
        return [] if position is None else self._page(max(0, position - n), 2 * n + 1)


# Per event loop: asyncio primitives belong to the loop they were first used on.
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary())
_first: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[float, dt.datetime | None]] = (
    weakref.WeakKeyDictionary())


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _gates:
        _gates[loop] = asyncio.Semaphore(CONCURRENT_SUMS)
    return _gates[loop]


async def _first_transaction() -> dt.datetime | None:
    loop = asyncio.get_running_loop()
    known = _first.get(loop)
    if known is None or time.monotonic() - known[0] > CACHE_SECONDS:
        async with _gate():
            known = (time.monotonic(), await ledger.first_transaction_at())
        _first[loop] = known
    return known[1]


async def _nothing_earned_in(window: Window) -> bool:
    if window.since is not None and window.since > clock.now():
        return True
    if window.until is None:
        return False
    first = await _first_transaction()
    return first is None or window.until <= first


async def load(source: Source, excluded: set[int]) -> Board:
    if isinstance(source, dict):
        return Board(source, excluded)
    if await _nothing_earned_in(source):
        return Board({}, excluded)
    totals, args = ledger.earned_totals(source.since, source.until, source.category_id)
    async with _gate():
        rows = await db.fetch(totals, *args)
    return Board({int(r["member"]): int(r["score"]) for r in rows}, excluded)


_computed: dict[str, tuple[float, asyncio.Task[tuple[Board, float]]]] = {}


def _fresh(started: float, task: asyncio.Task[tuple[Board, float]], now: float) -> bool:
    if not task.done():
        return True
    if task.cancelled() or task.exception() is not None:
        return False
    return now - started <= max(CACHE_SECONDS, 2 * task.result()[1])


async def board(name: str, compute: Callable[[], Awaitable[Board]]) -> Board:
    """The board as this process computed it lately (or is computing it now)."""
    now = time.monotonic()
    loop = asyncio.get_running_loop()
    # Stale ones go here, at the next read from the sources: none is ever used stale.
    for key in [k for k, (at, task) in _computed.items() if not _fresh(at, task, now)]:
        del _computed[key]
    cached = _computed.get(name)
    if cached is None or cached[1].get_loop() is not loop:
        async def run() -> tuple[Board, float]:
            started = time.monotonic()
            computed = await compute()
            return computed, time.monotonic() - started

        # A fresh context: the computation must not join whatever transaction its first
        # asker has open, and it outlives that asker if the asker is cancelled.
        cached = (now, loop.create_task(run(), context=contextvars.Context()))
        _computed[name] = cached
    return (await asyncio.shield(cached[1]))[0]
