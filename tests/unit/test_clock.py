"""server.clock: the system clock unless told otherwise; a shared offset file; an injected
source."""

import datetime as dt
import logging
import os
import time
from pathlib import Path

import pytest

from server import clock


def test_an_offset_file_moves_the_clock_when_it_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    source = clock.FileOffsetClock(str(path))
    # No file yet: the system clock.
    assert abs(source() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    staged = tmp_path / "clock.new"
    staged.write_text(str(3 * 86400))
    os.replace(staged, path)
    time.sleep(2 * clock.REFRESH_SECONDS)
    moved = source() - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=3) - dt.timedelta(seconds=5) < moved <= dt.timedelta(days=3)
    assert source().tzinfo is dt.UTC


def test_an_injected_source_is_the_clock_until_removed() -> None:
    fixed = dt.datetime(2026, 3, 4, 23, 59, tzinfo=dt.UTC)
    clock.use(lambda: fixed)
    try:
        assert clock.now() == fixed
        assert clock.today() == dt.date(2026, 3, 4)
    finally:
        clock.use(None)
    assert abs(clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_moving_the_offset_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "clock"
    path.write_text("3600")
    with caplog.at_level(logging.WARNING, logger="hearth.clock"):
        clock.FileOffsetClock(str(path))()
    assert "test clock: offset now 1:00:00" in caplog.text
