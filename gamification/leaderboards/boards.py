"""Board names. A points posting lands on: all-time, its calendar week and month, and its
category's board when it came from a category."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from server.errors import Invalid

# [0-9], not \d (which takes any script's digits), and fullmatch, not $ (which allows a "\n").
_BOARD = re.compile(
    r"all-time|week|month|week:[0-9]{4}-W[0-9]{2}|month:[0-9]{4}-[0-9]{2}|(category|season):[0-9]{1,10}")


def week_key(when: dt.datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"week:{year}-W{week:02d}"


def month_key(when: dt.datetime) -> str:
    return f"month:{when.year}-{when.month:02d}"


SeasonSpan = tuple[int, dt.datetime, dt.datetime]


def boards_for(when: dt.datetime, category_id: int | None,
               seasons: Sequence[SeasonSpan] = ()) -> list[str]:
    """seasons: (id, starts_at, ends_at); a posting inside one also lands on its board."""
    boards = ["all-time", week_key(when), month_key(when)]
    if category_id is not None:
        boards.append(f"category:{category_id}")
    boards += [f"season:{sid}" for sid, start, end in seasons if start <= when < end]
    return boards


def resolve(name: str, now: dt.datetime | None = None) -> str:
    """'week' and 'month' mean the current ones; anything else must be a board name."""
    if not _BOARD.fullmatch(name):
        raise Invalid(f"{name!r} is not a leaderboard: use all-time, week, month, "
                      "week:YYYY-Www, month:YYYY-MM, category:ID or season:ID")
    now = now or dt.datetime.now(dt.UTC)
    if name == "week":
        return week_key(now)
    if name == "month":
        return month_key(now)
    return name
