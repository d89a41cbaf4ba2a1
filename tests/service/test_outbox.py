"""The relay at its edges: a service that cannot be reached, a batch that outlasts its claim,
a relay told to stop."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from server import clock, db, events, outbox
from tests.service.support import Hearth

pytestmark = pytest.mark.anyio


class Trouble:
    """What the test handler does with each event: fail the way it is told, or count it."""

    def __init__(self) -> None:
        self.raising: BaseException | None = None
        self.handled: list[int] = []
        self.hold_seconds = 0.0


@pytest.fixture
async def trouble(hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Trouble]:
    await hearth.relay()  # what setting up the test emitted (the admin's registration)
    state = Trouble()

    async def handle(batch: list[outbox.Delivery]) -> None:
        if state.raising is not None:
            raise state.raising
        # Held inside the handler's write transaction: on SQLite, the write lock.
        await asyncio.sleep(state.hold_seconds)
        state.handled += [d.event_id for d in batch]

    monkeypatch.setitem(outbox._handlers, "test.trouble", outbox.Handler(
        "test.trouble", frozenset({"member.role_changed"}), handle))
    yield state


async def emit(count: int = 1) -> list[int]:
    async with outbox.unit_of_work():
        return [await outbox.emit(events.MemberRoleChanged(member_id=1_000_000 + n, role="member"))
                for n in range(count)]


async def row(event_id: int) -> dict:
    rows = await db.fetch("SELECT attempts, last_error, claimed_until, dispatched_at "
                          "FROM outbox_event WHERE id = {}", event_id)
    return rows[0]


def at(value: object) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


async def test_an_unreachable_service_costs_no_attempt_and_is_retried_within_seconds(
        hearth: Hearth, trouble: Trouble) -> None:
    [event_id] = await emit()
    trouble.raising = RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")
    for _ in range(outbox.MAX_ATTEMPTS + 5):  # an outage longer than the attempts allow
        await outbox.relay()
        state = await row(event_id)
        assert state["attempts"] == 0 and "ConnectionError" in state["last_error"]
        assert at(state["claimed_until"]) == clock.now() + dt.timedelta(
            seconds=outbox.UNREACHABLE_RETRY_SECONDS)
        hearth.clock.advance(seconds=outbox.UNREACHABLE_RETRY_SECONDS + 0.5)

    trouble.raising = None
    await outbox.relay()
    assert trouble.handled == [event_id]
    assert (await row(event_id))["dispatched_at"] is not None


async def test_a_real_failure_still_counts_and_backs_off(hearth: Hearth, trouble: Trouble) -> None:
    [event_id] = await emit()
    trouble.raising = ValueError("this event is wrong")
    await outbox.relay()
    state = await row(event_id)
    assert state["attempts"] == 1 and "ValueError" in state["last_error"]
    assert at(state["claimed_until"]) > clock.now() + dt.timedelta(
        seconds=outbox.UNREACHABLE_RETRY_SECONDS - 1)


async def test_a_batch_holding_the_sqlite_write_lock_past_its_renewals_finishes_once(
        hearth: Hearth, trouble: Trouble, monkeypatch: pytest.MonkeyPatch) -> None:
    # The renewal waits for the write lock the handler holds: neither may wait on the other.
    monkeypatch.setattr(outbox, "HEARTBEAT_SECONDS", 0.05)
    trouble.hold_seconds = 0.5
    ids = await emit(3)
    assert await asyncio.wait_for(outbox.relay(), timeout=60) == 3
    assert trouble.handled == ids
    for event_id in ids:
        state = await row(event_id)
        assert state["dispatched_at"] is not None and state["attempts"] == 1
        assert state["last_error"] is None and state["claimed_until"] is None


async def test_a_relay_told_to_stop_releases_what_it_had_not_started(
        hearth: Hearth, trouble: Trouble) -> None:
    ids = await emit(2)
    assert await outbox.relay(stopping=lambda: True) == 0
    assert trouble.handled == []
    stopped = outbox.Delivery(ids[0], "member.role_changed",
                              events.MemberRoleChanged(member_id=1_000_000, role="member"))
    claimed = await outbox._claim(outbox.BATCH_SIZE)
    assert [d.event_id for d in claimed] == ids
    await outbox.dispatch([stopped], stopping=lambda: True)
    state = await row(ids[0])
    assert state["claimed_until"] is None and state["dispatched_at"] is None
    assert state["attempts"] == 0
    # Released, so the next relay takes it at once; the other is still claimed.
    await outbox.relay()
    assert trouble.handled == [ids[0]]
