"""The current time, for everything that reasons about days, periods, deadlines and expiry.

Production reads the system clock. Tests move time without touching tables: every process
of a test stack (servers, Celery worker, beat, one-off commands) names the same file in
HEARTH_TEST_CLOCK_FILE, holding an offset in seconds added to the system clock, and the
service-level tests install a clock of their own in-process with `use()`.
Time that only measures durations (timeouts, TTLs, caches) stays on time.monotonic().
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable

# How often a test process looks at the offset file: cheap, and short enough that a test
# which moved time waits for it (tests.harness.Stack.advance) without noticing.
REFRESH_SECONDS = 0.05

log = logging.getLogger("hearth.clock")


def system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FileOffsetClock:
    """The system clock plus the offset in a shared file, re-read when the file changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._checked = float("-inf")
        self._stamp: tuple[int, int] | None = None
        self._offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        tick = time.monotonic()
        if tick - self._checked >= REFRESH_SECONDS:
            self._checked = tick
            self._reload()
        return system_now() + self._offset

    def _reload(self) -> None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            self._stamp, self._offset = None, dt.timedelta()
            return
        # Writers replace the file (a new inode), so a change within one mtime tick shows too.
        stamp = (info.st_ino, info.st_mtime_ns)
        if stamp != self._stamp:
            with open(self.path) as handle:
                text = handle.read().strip()
            offset = dt.timedelta(seconds=float(text or 0))
            if offset != self._offset:
                # Whoever can write the file moves time: never silently.
                log.warning("test clock: offset now %s (from %s)", offset, self.path)
            self._offset = offset
            self._stamp = stamp


_source: Callable[[], dt.datetime] | None = None


def _configured() -> Callable[[], dt.datetime]:
    global _source
    from server.settings import get_settings

    path = get_settings().test_clock_file
    _source = FileOffsetClock(path) if path else system_now
    return _source


def now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return (_source or _configured())()


def today() -> dt.date:
    """The current UTC date."""
    return now().date()


def use(source: Callable[[], dt.datetime] | None) -> None:
    """Make `source` this process's clock (tests); None goes back to what the settings say."""
    global _source
    _source = source
