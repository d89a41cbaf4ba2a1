"""Boards read straight from their sources while the store cannot answer (cold while it is
rebuilt, or Redis unreachable): points boards ranked in SQL over the ledger, registered boards
(a challenge's) from their owner's scores. Same filters, ranking and tie order as the stores,
at the price of aggregating on every read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from gamification.leaderboards.store import Standing
from gamification.ledger import services as ledger
from server import db


@dataclass(frozen=True)
class Window:
    """A points board: what was earned in [since, until), in one category when given."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    category_id: int | None = None


# A points board's window, or a registered board's scores.
Source = Window | dict[int, int]


def _ranked_sql(window: Window, excluded: set[int]) -> tuple[str, list[Any]]:
    """`r`: the board's members above zero with their rank and 1-based position."""
    totals, args = ledger.earned_totals(window.since, window.until, window.category_id)
    # Member ids start at 1: a stand-in keeps the statement's shape when nobody is excluded.
    match, excluded_args = db.values_in(sorted(excluded) or [0], "bigint")
    return ("WITH t AS (" + totals + "), r AS (SELECT member, score, "
            "RANK() OVER (ORDER BY score DESC) AS rank, "
            "ROW_NUMBER() OVER (ORDER BY score DESC, member DESC) AS pos "
            "FROM t WHERE score > 0 AND member NOT " + match + ") ",
            [*args, *excluded_args])


def _standings(rows: list[dict[str, Any]]) -> list[Standing]:
    return [Standing(member_id=int(r["member"]), score=int(r["score"]), rank=int(r["rank"]))
            for r in rows]


def _ranked(scores: dict[int, int], excluded: set[int]) -> list[Standing]:
    """A registered board in display order: score, then member id, both descending."""
    ordered = sorted(((m, s) for m, s in scores.items() if s > 0 and m not in excluded),
                     key=lambda pair: (-pair[1], -pair[0]))
    out: list[Standing] = []
    for i, (member_id, score) in enumerate(ordered):
        rank = out[-1].rank if out and out[-1].score == score else i + 1
        out.append(Standing(member_id=member_id, score=score, rank=rank))
    return out


async def top(source: Source, excluded: set[int], limit: int, offset: int) -> list[Standing]:
    if isinstance(source, dict):
        return _ranked(source, excluded)[offset:offset + limit]
    ranked, args = _ranked_sql(source, excluded)
    return _standings(await db.fetch(
        ranked + "SELECT member, score, rank FROM r ORDER BY pos LIMIT {} OFFSET {}",
        *args, limit, offset))


async def standing(source: Source, excluded: set[int], member_id: int) -> Standing | None:
    if isinstance(source, dict):
        return next((s for s in _ranked(source, excluded) if s.member_id == member_id), None)
    ranked, args = _ranked_sql(source, excluded)
    rows = _standings(await db.fetch(
        ranked + "SELECT member, score, rank FROM r WHERE member = {}", *args, member_id))
    return rows[0] if rows else None


async def around(source: Source, excluded: set[int], member_id: int, n: int) -> list[Standing]:
    """2n+1 members from n above the member (fewer above near the top), as the stores do."""
    if isinstance(source, dict):
        board = _ranked(source, excluded)
        position = next((i for i, s in enumerate(board) if s.member_id == member_id), None)
        if position is None:
            return []
        first = max(0, position - n)
        return board[first:first + 2 * n + 1]
    ranked, args = _ranked_sql(source, excluded)
    return _standings(await db.fetch(
        ranked + ", me AS (SELECT CASE WHEN pos - {} < 1 THEN 1 ELSE pos - {} END AS first "
        "FROM r WHERE member = {}) "
        "SELECT r.member, r.score, r.rank FROM r JOIN me ON r.pos >= me.first "
        "AND r.pos < me.first + {} ORDER BY r.pos",
        *args, n, n, member_id, 2 * n + 1))
