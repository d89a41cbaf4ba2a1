import datetime as dt

from gamification.badges.services import _longest_streak


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day + "T12:00:00+00:00")


def test_longest_run_of_consecutive_days() -> None:
    times = [at(d) for d in ("2026-03-01", "2026-03-02", "2026-03-02", "2026-03-04",
                             "2026-03-05", "2026-03-06")]
    assert _longest_streak(times, "day") == 3
    assert _longest_streak([], "day") == 0


def test_weeks_cross_the_year_boundary() -> None:
    times = [at(d) for d in ("2025-12-22", "2025-12-29", "2026-01-05", "2026-01-19")]
    assert _longest_streak(times, "week") == 3
