"""Lots: each credit to a member's account, and what of it is left.

The balance is the postings' sum and nothing else; lots only decide which points a debit
takes and when the rest expire. They are kept in the ledger's write path, under the member
accounts' locks, so that they always add up to the balance:

- every credit to a member (an award, an adjustment, a refund) opens a lot, with an expiry
  from the program's policy (HEARTH_POINTS_EXPIRY);
- every debit takes from the lots that expire soonest (lots that never expire last, then
  oldest first). A reversal takes from its own award's lot first, and what that lot no
  longer has (spent) from the others in the same order, as the ledger recovers what is
  left; an expiration takes from the lot it expires;
- under the `activity` policy, an earning or a spend (award, adjustment, redemption,
  deduction) moves every open lot of the member to expire N months from then.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from server import db
from server.settings import get_settings
from server.types import parse_id

log = logging.getLogger("hearth.ledger.lots")

# What counts as a member's activity under the `activity` policy: earning or spending.
ACTIVITY_KINDS = frozenset({"award", "adjustment", "redemption", "deduction"})


class Posted(Protocol):
    """What lots need of a recorded transaction (ledger.services.NewTransaction)."""

    @property
    def kind(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def reverses(self) -> int | None: ...
    @property
    def postings(self) -> list[tuple[str, int]]: ...


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` later (the month's last day when it is shorter)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    return when.replace(year=year, month=month,
                        day=min(when.day, calendar.monthrange(year, month)[1]))


def expiry_from(when: dt.datetime) -> dt.datetime | None:
    """When points earned (or, under `activity`, last touched) at `when` expire."""
    settings = get_settings()
    if settings.points_expiry == "never":
        return None
    return add_months(when, settings.points_expiry_months)


def as_datetime(value: Any) -> dt.datetime | None:
    """A timestamp as read back (SQLite returns text)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def _member(code: str) -> int | None:
    parts = code.split(":")
    return parse_id(parts[1]) if len(parts) == 2 and parts[0] == "member" else None


def _lot_of(source: str) -> int | None:
    """The lot an expiration's source ("lot:12") names."""
    parts = source.split(":")
    return parse_id(parts[1]) if len(parts) == 2 and parts[0] == "lot" else None


async def apply(recorded: Sequence[tuple[int, Posted]], posted_at: dt.datetime) -> None:
    """Open and consume lots for these transactions (id, transaction), in order. The caller
    holds the locks of every member account they move."""
    expires_at = expiry_from(posted_at)
    opened: list[tuple[int, int, int, int, dt.datetime | None, dt.datetime, int, int]] = []
    active: set[int] = set()
    for transaction_id, item in recorded:
        for code, amount in item.postings:
            member = _member(code)
            if member is None:
                continue
            if item.kind in ACTIVITY_KINDS:
                active.add(member)
            if amount > 0:
                opened.append((member, transaction_id, amount, amount, expires_at, posted_at, 0, 0))
                continue
            # A debit may take from a lot opened earlier in this batch.
            await _open(opened)
            opened = []
            first = _lot_of(item.source) if item.kind == "expiration" else None
            await _consume(member, -amount, first=first,
                           own_credit=item.reverses if item.kind == "reversal" else None,
                           expiring=item.kind == "expiration")
    await _open(opened)
    if active and expires_at is not None and get_settings().points_expiry == "activity":
        match, args = db.values_in(sorted(active), "bigint")
        await db.fetch("UPDATE ledger_lot SET expires_at = {}, notified = 0 "
                       "WHERE remaining > 0 AND member " + match, expires_at, *args)


async def _open(
        rows: list[tuple[int, int, int, int, dt.datetime | None, dt.datetime, int, int]]) -> None:
    if rows:
        await db.insert_rows(
            "ledger_lot",
            ["member", "ledger_transaction", "amount", "remaining", "expires_at", "created_at",
             "expired", "notified"],
            ["bigint", "bigint", "bigint", "bigint", "timestamptz", "timestamptz", "bigint",
             "integer"], rows)


async def _consume(member: int, amount: int, *, first: int | None, own_credit: int | None,
                   expiring: bool) -> None:
    rows = await db.fetch("SELECT id, remaining, ledger_transaction, expires_at FROM ledger_lot "
                          "WHERE member = {} AND remaining > 0", member)

    def order(row: dict[str, Any]) -> tuple[bool, bool, dt.datetime, int]:
        mine = int(row["id"]) == first or (
            own_credit is not None and row["ledger_transaction"] == own_credit)
        expires = as_datetime(row["expires_at"])
        return (not mine, expires is None, expires or dt.datetime.max.replace(tzinfo=dt.UTC),
                int(row["id"]))

    taken: list[tuple[int, int]] = []
    left = amount
    for row in sorted(rows, key=order):
        if left == 0:
            break
        take = min(left, int(row["remaining"]))
        taken.append((int(row["id"]), -take))
        left -= take
    if left:
        # Cannot happen while lots add up to the balance (the debit passed its floor).
        log.warning("member %s: a debit of %s found only %s points in lots",
                    member, amount, amount - left)
    await db.add_to_column("ledger_lot", "remaining", taken)
    if expiring:
        await db.add_to_column("ledger_lot", "expired", [(i, -d) for i, d in taken])
