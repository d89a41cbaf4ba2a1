"""Board names. A points posting lands on: all-time, its calendar week and month, and its
category's board when it came from a category."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from server import clock
from server.errors import Invalid
from server.types import MAX_ID

# [0-9], not \d: \d also matches other scripts' digits (Arabic-Indic, fullwidth...).
_DATED = re.compile(r"(week):([0-9]{4})-W([0-9]{2})|(month):([0-9]{4})-([0-9]{2})")
_OWNED = re.compile(r"(category|season):([1-9][0-9]{0,18})")
USAGE = "use all-time, week, month, week:YYYY-Www, month:YYYY-MM, category:ID or season:ID"


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


def _valid(name: str) -> bool:
    if name in ("all-time", "week", "month"):
        return True
    owned = _OWNED.fullmatch(name)
    if owned:
        return int(owned.group(2)) <= MAX_ID
    dated = _DATED.fullmatch(name)
    if dated is None:
        return False
    if dated.group(1):
        year, week = int(dated.group(2)), int(dated.group(3))
        # Only years with 53 ISO weeks have a W53: 28 December is always in the last one.
        return year >= 1 and 1 <= week <= dt.date(year, 12, 28).isocalendar().week
    return int(dated.group(5)) >= 1 and 1 <= int(dated.group(6)) <= 12


def resolve(name: str, now: dt.datetime | None = None) -> str:
    """'week' and 'month' mean the current ones; anything else must be a board name."""
    if not _valid(name):
        raise Invalid(f"{name!r} is not a leaderboard: {USAGE}")
    now = now or clock.now()
    if name == "week":
        return week_key(now)
    if name == "month":
        return month_key(now)
    return name


def category_of(name: str) -> int | None:
    """The category a resolved board name belongs to, if it is a category's board."""
    family, _, key = name.partition(":")
    return int(key) if family == "category" else None
