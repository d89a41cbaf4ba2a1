"""Board names. A points posting lands on: all-time, its calendar week and month, and its
category's board when it came from a category."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from server import clock
from server.errors import Invalid

_BOARD = re.compile(
    r"^(all-time|week|month|week:\d{4}-W\d{2}|month:\d{4}-\d{2}|(category|season):\d{1,10})$")


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
    if not _BOARD.match(name):
        raise Invalid(f"{name!r} is not a leaderboard: use all-time, week, month, "
                      "week:YYYY-Www, month:YYYY-MM, category:ID or season:ID")
    now = now or clock.now()
    if name == "week":
        return week_key(now)
    if name == "month":
        return month_key(now)
    return name
