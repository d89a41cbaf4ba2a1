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
        # Not a lot already past due: activity after its expiry does not bring it back,
        # whether or not the sweep has posted the expiration yet.
        await db.fetch("UPDATE ledger_lot SET expires_at = {}, notified = 0 "
                       "WHERE remaining > 0 AND (expires_at IS NULL OR expires_at > {}) "
                       "AND member " + match, expires_at, posted_at, *args)


async def _open(
        rows: list[tuple[int, int, int, int, dt.datetime | None, dt.datetime, int, int]]) -> None:
    if rows:
        await db.insert_rows(
            "ledger_lot",
            ["member", "ledger_transaction", "amount", "remaining", "expires_at", "created_at",
             "expired", "notified"],
            ["bigint", "bigint", "bigint", "bigint", "timestamptz", "timestamptz", "bigint",
             "integer"], rows)


# Lots a debit reads at a time, in the order it takes them.
PAGE = 200


async def _consume(member: int, amount: int, *, first: int | None, own_credit: int | None,
                   expiring: bool) -> None:
    # Its own lot first (the lot expiring, the award reversed), then soonest expiry first.
    own = await db.fetch("SELECT id, remaining FROM ledger_lot WHERE member = {} "
                         "AND remaining > 0 AND (id = {} OR ledger_transaction = {})",
                         member, first or 0, own_credit or 0)
    taken: list[tuple[int, int]] = []
    left = amount
    after: tuple[int, Any, int] | None = None
    rows, more = own, True
    while left:
        for row in rows:
            take = min(left, int(row["remaining"]))
            taken.append((int(row["id"]), -take))
            left -= take
            if not left:
                break
        if not left or not more:
            break
        rows, after, more = await _next_page(member, {i for i, _ in taken}, after)
    if left:
        # Cannot happen while lots add up to the balance (the debit passed its floor).
        log.warning("member %s: a debit of %s found only %s points in lots",
                    member, amount, amount - left)
    await db.add_to_column("ledger_lot", "remaining", taken)
    if expiring:
        await db.add_to_column("ledger_lot", "expired", [(i, -d) for i, d in taken])


async def _next_page(member: int, skip: set[int], after: tuple[int, Any, int] | None
                     ) -> tuple[list[dict[str, Any]], tuple[int, Any, int] | None, bool]:
    """The member's next open lots in spending order (expiring ones by date, then those that
    never expire, each by id), after the position `after`; the new position; whether more
    may follow."""
    sql = ("SELECT id, remaining, expires_at, CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END "
           "AS never FROM ledger_lot WHERE member = {} AND remaining > 0")
    args: list[Any] = [member]
    if after is not None:
        never, expires, last = after
        if never:
            sql += " AND expires_at IS NULL AND id > {}"
            args.append(last)
        else:
            sql += (" AND (expires_at IS NULL OR expires_at > {} "
                    "OR (expires_at = {} AND id > {}))")
            # The value as read, passed back as is: compared in its stored form.
            args += [expires, expires, last]
    rows = await db.fetch(sql + " ORDER BY never, expires_at, id LIMIT {}", *args, PAGE)
    if not rows:
        return [], after, False
    tail = rows[-1]
    position = (int(tail["never"]), tail["expires_at"], int(tail["id"]))
    return [r for r in rows if int(r["id"]) not in skip], position, len(rows) == PAGE


async def expired_of(credit: int) -> dict[int, int]:
    """Points of the lots this credit opened that expired and were not given back since, by
    member (an expiration's source names its lot, and its refund keeps that source)."""
    opened = await db.fetch("SELECT id FROM ledger_lot WHERE ledger_transaction = {}", credit)
    if not opened:
        return {}
    match, args = db.values_in(sorted(f"lot:{r['id']}" for r in opened), "text")
    rows = await db.fetch(
        "SELECT a.member AS member, SUM(p.amount) AS points FROM ledger_transaction t "
        "JOIN ledger_posting p ON p.ledger_transaction = t.id "
        "JOIN ledger_account a ON a.id = p.account "
        "WHERE a.kind = 'member' AND t.source " + match + " GROUP BY a.member", *args)
    return {int(r["member"]): -int(r["points"]) for r in rows if int(r["points"]) < 0}
