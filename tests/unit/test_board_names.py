"""Board names parse strictly: real ISO weeks and months, ASCII digits, ids in range."""

import datetime as dt

import pytest

from gamification.leaderboards.boards import resolve
from server.errors import Invalid
from server.types import MAX_ID

NOW = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)


@pytest.mark.parametrize("name", [
    "all-time", "week:2020-W53", "week:2026-W53", "week:2027-W52", "week:0001-W01",
    "month:2026-01", "month:9999-12", "category:1", f"category:{MAX_ID}", "season:42",
])
def test_board_names_that_exist(name: str) -> None:
    assert resolve(name, NOW) == name


def test_current_periods_resolve_to_their_names() -> None:
    assert resolve("week", NOW) == "week:2026-W10"
    assert resolve("month", NOW) == "month:2026-03"


@pytest.mark.parametrize("name", [
    "week:2027-W53", "week:2026-W00", "week:2026-W1", "week:0000-W01", "month:2026-13",
    "month:2026-00", "month:0000-05", "month:2026-1", "category:0", "category:01",
    f"category:{MAX_ID + 1}", "season:\u0663", "week:\u0662\u0660\u0662\u0666-W01",
    "category:1\n", " all-time", "category:", "challenge:1", "week:2026-w10",
])
def test_names_that_are_not_boards(name: str) -> None:
    with pytest.raises(Invalid) as refused:
        resolve(name, NOW)
    assert repr(name) in refused.value.message
