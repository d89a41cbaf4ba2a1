"""What service-tier tests share: a clock they move by hand, and one test's Hearth."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

import msgspec

from server import events, outbox
from server.accounts import services as accounts
from server.accounts.schemas import RegisterIn
from server.auth import Actor

# Forum ids for staged events; no forum rows exist, and gamification needs none.
_ids = itertools.count(1_000)
CATEGORY = 77

# A Wednesday noon, far from any period boundary: caps, weeks and days start where a test
# says they do, never where the machine's clock happens to be.
START = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)


class ManualClock:
    """Time that stands still until advance() moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, days: float = 0, hours: float = 0, minutes: float = 0,
                seconds: float = 0) -> dt.datetime:
        step = dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if step <= dt.timedelta():
            raise ValueError(f"time only moves forward, not by {step}")
        self.current += step
        return self.current


async def register(role: str = "member") -> Actor:
    """A new account, as the actor its own requests would be."""
    handle = "s" + uuid.uuid4().hex[:10]
    data = msgspec.convert({"handle": handle, "email": f"{handle}@example.test",
                            "password": "correct horse battery"}, RegisterIn)
    made = await accounts.register(data, role=role)
    return Actor(member_id=made.id, handle=made.handle, role=role, via="session")


@dataclass
class Hearth:
    """One test's Hearth: its own database, its clock, and an admin to act as."""

    clock: ManualClock
    admin: Actor

    async def relay(self) -> int:
        """Hand every committed event to its handlers, as the relay does; returns how many."""
        total = 0
        while count := await outbox.relay():
            total += count
        return total


async def thread_created(author: Actor, category_id: int = CATEGORY) -> int:
    """Commit a thread.created event, as the forums would on a new thread; returns its
    post id."""
    post_id = next(_ids)
    assert author.member_id is not None
    async with outbox.unit_of_work():
        await outbox.emit(events.ThreadCreated(thread_id=post_id, category_id=category_id,
                                               author_id=author.member_id, post_id=post_id))
    return post_id
