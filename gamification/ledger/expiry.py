"""Points expiry: the sweep that posts expirations and sends the advance notices, and what a
member sees of what expires when.

- An expiration is a ledger transaction, kind `expiration`, from the member to the issuance
  account: the points leave circulation as spent points do (the brand's budget paid for
  them when they were earned, and does not get them back). It does not lower what the
  member earned (lifetime, tiers, boards).
- Each lot past its expiry is expired under its member's account lock, from what is left
  of it as read under that lock, with the key `expire:lot:<id>:<expired so far>`: a spend
  racing the expiry takes points first or finds them gone, never both, and two sweeps at
  once expire a lot once.
- Points a pending hold reserves do not expire while it is pending (the checkout may still
  post them); if the hold is voided they expire at the next sweep.
- Members are told 30 and 7 days ahead: a notice per lot and threshold (`notified` is
  claimed under the member's lock with the event that notifies), grouped per member and day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from gamification.ledger import services as ledger
from gamification.ledger.lots import as_datetime
from gamification.ledger.schemas import Expiries, ExpiringPoints
from server import clock, db, events, outbox
from server.settings import get_settings

# Days ahead members are told, soonest first (one past the 7-day one gets no 30-day notice).
NOTICE_DAYS = (7, 30)
SWEEP_BATCH = 500


async def expire_due() -> int:
    """Post an expiration for every lot past its expiry; how many this run posted. The run
    pages on past each lot it read: a lot that cannot expire yet (a pending hold reserves
    its points) stays due, and must not take the place of the lots after it."""
    now = clock.now()
    posted = 0
    after: tuple[object, int] | None = None
    while True:
        sql = ("SELECT id, member, expires_at FROM ledger_lot WHERE remaining > 0 "
               "AND expires_at IS NOT NULL AND expires_at <= {}")
        args: list[object] = [now]
        if after is not None:
            # The value as read, passed back as is: compared in its stored form.
            sql += " AND (expires_at > {} OR (expires_at = {} AND id > {}))"
            args += [after[0], after[0], after[1]]
        due = await db.fetch(sql + " ORDER BY expires_at, id LIMIT {}", *args, SWEEP_BATCH)
        for lot in due:
            posted += await _expire(int(lot["id"]), int(lot["member"]))
        if len(due) < SWEEP_BATCH:
            return posted
        after = (due[-1]["expires_at"], int(due[-1]["id"]))


async def _expire(lot_id: int, member_id: int) -> int:
    account = ledger.member_account(member_id)
    async with outbox.unit_of_work():
        await ledger.lock_account(account)
        rows = await db.fetch("SELECT remaining, expired, expires_at FROM ledger_lot "
                              "WHERE id = {}", lot_id)
        lot = rows[0]
        expires_at = as_datetime(lot["expires_at"])
        # Read again under the lock: a spend or new activity may have come first.
        if int(lot["remaining"]) <= 0 or expires_at is None or expires_at > clock.now():
            return 0
        held = await db.fetch("SELECT balance, held FROM ledger_account WHERE code = {}", account)
        amount = min(int(lot["remaining"]), int(held[0]["balance"]) - int(held[0]["held"]))
        if amount <= 0:
            return 0
        await ledger.post(
            key=f"expire:lot:{lot_id}:{lot['expired']}", kind="expiration",
            reason=f"Points expired on {expires_at.astimezone(dt.UTC).date().isoformat()}",
            source=f"lot:{lot_id}",
            postings=[(account, -amount), (ledger.ISSUANCE, amount)],
            hash_inputs={"lot": lot_id, "expired_before": int(lot["expired"])})
    return 1


async def send_notices() -> int:
    """Tell members what expires within 30 and 7 days, once per lot and threshold; how many
    notices this run sent."""
    sent = 0
    for days in NOTICE_DAYS:
        now = clock.now()
        due = await db.fetch(
            "SELECT DISTINCT member FROM ledger_lot WHERE remaining > 0 AND expires_at > {} "
            "AND expires_at <= {} AND (notified = 0 OR notified > {}) LIMIT {}",
            now, now + dt.timedelta(days=days), days, SWEEP_BATCH)
        for row in due:
            sent += await _notify(int(row["member"]), days)
    return sent


async def _notify(member_id: int, days: int) -> int:
    async with outbox.unit_of_work():
        await ledger.lock_account(ledger.member_account(member_id))
        now = clock.now()
        claimed = await db.fetch(
            "UPDATE ledger_lot SET notified = {} WHERE member = {} AND remaining > 0 "
            "AND expires_at > {} AND expires_at <= {} AND (notified = 0 OR notified > {}) "
            "RETURNING remaining, expires_at",
            days, member_id, now, now + dt.timedelta(days=days), days)
        by_day: dict[dt.date, int] = defaultdict(int)
        for lot in claimed:
            expires_at = as_datetime(lot["expires_at"])
            assert expires_at is not None
            by_day[expires_at.astimezone(dt.UTC).date()] += int(lot["remaining"])
        await outbox.emit_many([
            events.PointsExpiring(member_id=member_id, amount=amount, expires_on=day.isoformat(),
                                  days=days)
            for day, amount in sorted(by_day.items())])
    return len(by_day)


async def sweep() -> str:
    """The periodic job: expire what is due, then send the notices."""
    expired = await expire_due()
    return f"{expired} lots expired, {await send_notices()} notices sent"


async def upcoming(member_id: int) -> Expiries:
    """What of the member's points expires when, by UTC day, soonest first."""
    settings = get_settings()
    rows = await db.fetch("SELECT remaining, expires_at FROM ledger_lot WHERE member = {} "
                          "AND remaining > 0 AND expires_at IS NOT NULL", member_id)
    by_day: dict[dt.date, int] = defaultdict(int)
    for row in rows:
        expires_at = as_datetime(row["expires_at"])
        assert expires_at is not None
        by_day[expires_at.astimezone(dt.UTC).date()] += int(row["remaining"])
    policy = settings.points_expiry
    return Expiries(policy=policy,
                    months=None if policy == "never" else settings.points_expiry_months,
                    upcoming=[ExpiringPoints(date=day, amount=amount)
                              for day, amount in sorted(by_day.items())])
