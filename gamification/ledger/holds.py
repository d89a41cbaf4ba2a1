"""Holds: points reserved for a checkout, as TigerBeetle's pending transfers.

A brand's checkout holds points at the cart, posts the hold when the order is placed (all of
it or less, the rest released) and voids it on cancellation; a hold neither posted nor voided
by its expiry voids itself (the sweep, exactly once). Other packages (the rewards catalogue,
VIP seats paid in points) call create/post/void here.

- A hold reserves points: `ledger_account.held` sums a member's pending holds and no debit
  takes the balance below it (available = balance - held), under the account's lock, so
  concurrent holds and spends can never overdraw the member.
- Every change of a hold's status happens under its member's account lock and checks the
  status it changes from: a hold is posted, voided or expired once.
- Posting records a redemption (member -> issuance) under the key `hold:<id>:post`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import msgspec

from gamification.ledger import services as ledger
from gamification.ledger.lots import as_datetime
from gamification.ledger.schemas import HoldOut
from gamification.ledger.tables import LedgerHold
from server import clock, db, outbox, runtime
from server.errors import Conflict, Invalid, NotFound

# Pending holds the sweep expires per run (the rest wait for the next run).
SWEEP_BATCH = 500


def hold_key(brand_id: int | None, key: str) -> str:
    # Per brand, like redemptions: two shops' cart ids may be the same.
    return f"hold:{brand_id or 'issuance'}:{key}"


def _out(row: dict[str, Any]) -> HoldOut:
    expires_at = as_datetime(row["expires_at"])
    created_at = as_datetime(row["created_at"])
    assert expires_at is not None and created_at is not None
    return HoldOut(
        id=int(row["id"]), member_id=int(row["member"]),
        brand_id=None if row["brand"] is None else int(row["brand"]), amount=int(row["amount"]),
        posted=int(row["posted"]), status=str(row["status"]), reason=str(row["reason"]),
        expires_at=expires_at, created_at=created_at,
        resolved_at=as_datetime(row["resolved_at"]),
        transaction_id=None if row["ledger_transaction"] is None
        else int(row["ledger_transaction"]))


async def _row(hold_id: int) -> dict[str, Any]:
    rows = await LedgerHold.select().where(LedgerHold.id == hold_id)
    if not rows:
        raise NotFound(f"hold {hold_id} does not exist")
    return rows[0]


async def get(hold_id: int) -> HoldOut:
    return _out(await _row(hold_id))


async def _lock_member(member_id: int) -> tuple[int, int]:
    """Lock the member's account; its balance and held points."""
    await ledger.lock_account(ledger.member_account(member_id))
    rows = await db.fetch("SELECT balance, held FROM ledger_account WHERE code = {}",
                          ledger.member_account(member_id))
    return int(rows[0]["balance"]), int(rows[0]["held"])


async def _move_held(member_id: int, delta: int, hold_id: int, status: str) -> None:
    """Change the member's held points, and tell their open pages once committed (a
    posted hold says so with its points.posted)."""
    rows = await db.fetch("UPDATE ledger_account SET held = held + {} WHERE code = {} "
                          "RETURNING balance, held", delta, ledger.member_account(member_id))
    balance, held = int(rows[0]["balance"]), int(rows[0]["held"])
    if status == "posted":
        return

    async def push() -> None:
        await runtime.current().broker.publish(
            f"user:{member_id}", "points.held",
            {"hold_id": hold_id, "status": status, "available": balance - held, "pending": held},
            message_id=f"h{hold_id}:{status}")

    await outbox.after_commit(push)


async def create(*, member_id: int, amount: int, reason: str, key: str, brand_id: int | None,
                 timeout_seconds: int, by: int | None) -> HoldOut:
    """Reserve `amount` of the member's available points until posted, voided or expired.
    The same key with the same inputs returns the same hold; with others, 409; 409 when the
    member has fewer points available."""
    full_key = hold_key(brand_id, key)
    inputs = hashlib.sha256(msgspec.json.encode(
        {"member": member_id, "amount": amount, "reason": reason, "brand": brand_id,
         "timeout": timeout_seconds}, order="sorted")).hexdigest()
    async with outbox.unit_of_work():
        balance, held = await _lock_member(member_id)
        found = await LedgerHold.select().where(LedgerHold.idempotency_key == full_key)
        if found:
            if found[0]["inputs_hash"] != inputs:
                raise Conflict(f"idempotency key {key!r} was already used with different inputs")
            return _out(found[0])
        if balance - held < amount:
            raise Conflict(f"not enough points: {balance - held} available, {amount} asked")
        now = clock.now()
        try:
            rows = await LedgerHold.insert(LedgerHold(
                idempotency_key=full_key, inputs_hash=inputs, member=member_id, brand=brand_id,
                amount=amount, reason=reason,
                expires_at=now + dt.timedelta(seconds=timeout_seconds), created_by=by,
                created_at=now,
            )).returning(LedgerHold.id)
        except Exception as exc:
            # The same key, for another member, at the same moment.
            if db.is_unique_violation(exc):
                raise Conflict(f"idempotency key {key!r} was already used with different "
                               "inputs") from exc
            raise
        await _move_held(member_id, amount, int(rows[0]["id"]), "pending")
        return await get(int(rows[0]["id"]))


async def post(hold_id: int, amount: int | None, by: int | None) -> HoldOut:
    """Turn the hold into a redemption of `amount` (all of it when None), releasing the
    rest. Posting again with the same amount returns the posted hold. 409 when it expired,
    was voided or was posted for another amount; 422 when more than held is asked."""
    member_id = int((await _row(hold_id))["member"])
    async with outbox.unit_of_work():
        await _lock_member(member_id)
        row = await _row(hold_id)
        take = int(row["amount"]) if amount is None else amount
        if take > int(row["amount"]):
            raise Invalid(f"amount: {take} is more than the {row['amount']} points held")
        if row["status"] == "posted":
            if take != int(row["posted"]):
                raise Conflict(f"hold {hold_id} was already posted for {row['posted']} points")
            return _out(row)
        _still_pending(row)
        await _move_held(member_id, -int(row["amount"]), hold_id, "posted")
        done = await ledger.post(
            key=f"hold:{hold_id}:post", kind="redemption", reason=str(row["reason"]),
            source=f"hold:{hold_id}", created_by=by,
            postings=[(ledger.member_account(member_id), -take), (ledger.ISSUANCE, take)])
        await db.fetch("UPDATE ledger_hold SET status = 'posted', posted = {}, "
                       "ledger_transaction = {}, resolved_at = {} WHERE id = {}",
                       take, done.id, clock.now(), hold_id)
        return await get(hold_id)


def _still_pending(row: dict[str, Any]) -> None:
    if row["status"] == "voided":
        raise Conflict(f"hold {row['id']} was voided")
    expires_at = as_datetime(row["expires_at"])
    if row["status"] == "expired" or (expires_at is not None and expires_at <= clock.now()):
        raise Conflict(f"hold expired at {row['expires_at']}")


async def void(hold_id: int) -> HoldOut:
    """Release the hold's points. Voiding a voided or expired hold returns it as it is; a
    posted one is 409 (reverse its redemption to give the points back)."""
    member_id = int((await _row(hold_id))["member"])
    async with outbox.unit_of_work():
        await _lock_member(member_id)
        row = await _row(hold_id)
        if row["status"] in ("voided", "expired"):
            return _out(row)
        if row["status"] == "posted":
            raise Conflict(f"hold {hold_id} was already posted; reverse its transaction "
                           f"{row['ledger_transaction']} instead")
        await _release(row, "voided")
        return await get(hold_id)


async def _release(row: dict[str, Any], status: str) -> None:
    await db.fetch("UPDATE ledger_hold SET status = {}, resolved_at = {} WHERE id = {}",
                   status, clock.now(), row["id"])
    await _move_held(int(row["member"]), -int(row["amount"]), int(row["id"]), status)


async def expire_due() -> int:
    """Void every pending hold past its expiry, each exactly once (however many sweeps run
    at once); how many this run expired."""
    due = await db.fetch("SELECT id, member FROM ledger_hold WHERE status = 'pending' "
                         "AND expires_at <= {} ORDER BY id LIMIT {}", clock.now(), SWEEP_BATCH)
    expired = 0
    for hold in due:
        async with outbox.unit_of_work():
            await _lock_member(int(hold["member"]))
            row = await _row(int(hold["id"]))
            if row["status"] != "pending":
                continue
            await _release(row, "expired")
            expired += 1
    return expired
