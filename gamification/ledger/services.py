"""The ledger's rules: every change of points is one immutable, zero-sum transaction.

- Each transaction has an idempotency key stored with a hash of its inputs: the same key with
  the same inputs returns the original transaction; with other inputs it is refused (409).
- Balances are checked against their floors under the accounts' locks (row locks taken in one
  order on PostgreSQL; SQLite's write transaction is serial), so concurrent debits can never
  take a member below zero.
- Corrections are reversing transactions, never edits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import msgspec

from gamification.ledger import chain, lots
from gamification.ledger.schemas import (
    Balance,
    HistoryEntry,
    HistoryPage,
    Invariants,
    PostingOut,
    TransactionOut,
)
from gamification.ledger.tables import LedgerAccount, LedgerPosting, LedgerTransaction
from server import clock, db, events, outbox, staff_log
from server.accounts.services import brands_staffed, get_brand, get_member
from server.auth import Actor
from server.errors import Conflict, Invalid, NotFound
from server.types import parse_id

log = logging.getLogger("hearth.ledger")

ISSUANCE = "issuance"
MAX_AMOUNT = 10**12
# Kinds that count toward what a member has earned; spending ("redemption") does not.
EARNING_KINDS = ("award", "reversal", "adjustment")
# Kinds that only take spendable points (an expiration too); undoing one is a "refund", not
# an earning.
SPENDING_KINDS = ("redemption", "deduction", "expiration")


def member_account(member_id: int) -> str:
    return f"member:{member_id}"


def brand_budget_account(brand_id: int) -> str:
    return f"brand:{brand_id}:budget"


def _account_spec(code: str) -> dict[str, Any]:
    """Kind, owner and floor of an account, from its code."""
    if code == ISSUANCE:
        return {"kind": "issuance", "min_balance": None}
    parts = code.split(":")
    owner = parse_id(parts[1]) if len(parts) > 1 else None
    if owner is not None and len(parts) == 2 and parts[0] == "member":
        return {"kind": "member", "member": owner, "min_balance": 0}
    if owner is not None and len(parts) == 3 and parts[0] == "brand" and parts[2] == "budget":
        return {"kind": "brand_budget", "brand": owner, "min_balance": 0}
    raise Invalid(f"{code!r} is not a ledger account")


async def _account_ids(codes: set[str]) -> dict[str, int]:
    """Ids of many accounts, opening the missing ones (race-safe: the code is unique)."""
    wanted = sorted(codes)
    match, args = db.values_in(wanted, "text")
    rows = await db.fetch("SELECT id, code FROM ledger_account WHERE code " + match, *args)
    ids = {str(r["code"]): int(r["id"]) for r in rows}
    missing = [code for code in wanted if code not in ids]
    if missing:
        await LedgerAccount.insert(
            *[LedgerAccount(code=code, **_account_spec(code)) for code in missing]
        ).on_conflict(action="DO NOTHING")
        rows = await LedgerAccount.select(LedgerAccount.id, LedgerAccount.code).where(
            LedgerAccount.code.is_in(missing))
        ids.update({str(r["code"]): int(r["id"]) for r in rows})
    return ids


# Every transaction takes account locks in this order (members first, then budgets and
# issuance, each by id), so concurrent writers cannot deadlock on PostgreSQL.
LOCK_ORDER = "CASE WHEN kind = 'member' THEN 0 ELSE 1 END, id"


def _hash(inputs: Any) -> str:
    return hashlib.sha256(msgspec.json.encode(inputs, order="sorted")).hexdigest()


async def _transaction_out(transaction_id: int) -> TransactionOut:
    rows = await LedgerTransaction.select().where(LedgerTransaction.id == transaction_id)
    if not rows:
        raise NotFound(f"ledger transaction {transaction_id} does not exist")
    row = rows[0]
    postings = await LedgerPosting.select(
        LedgerPosting.account.code, LedgerPosting.amount
    ).where(LedgerPosting.ledger_transaction == transaction_id).order_by(LedgerPosting.id)
    return TransactionOut(
        id=row["id"], idempotency_key=row["idempotency_key"], kind=row["kind"],
        reason=row["reason"], source=row["source"], reverses=row["reverses"],
        category_id=row["category_id"], created_at=row["created_at"],
        postings=[PostingOut(account=p["account.code"], amount=p["amount"]) for p in postings],
    )


async def find(key: str) -> TransactionOut | None:
    rows = await LedgerTransaction.select(LedgerTransaction.id).where(
        LedgerTransaction.idempotency_key == key
    )
    return await _transaction_out(int(rows[0]["id"])) if rows else None


async def recorded_keys(keys: list[str]) -> set[str]:
    """Which of these idempotency keys already have a transaction."""
    match, args = db.values_in(keys, "text")
    rows = await db.fetch(
        "SELECT idempotency_key FROM ledger_transaction WHERE idempotency_key " + match, *args)
    return {str(r["idempotency_key"]) for r in rows}


async def lock_account(code: str) -> None:
    """Serialise read-check-write sequences on one account (caps, cooldowns)."""
    await _lock_accounts({code})


async def _lock_accounts(codes: set[str]) -> dict[str, dict[str, Any]]:
    """Lock many accounts in the global order; returns id, balance and floor per code."""
    # The chain's head before any account: a transaction may write several times, and a
    # head taken after accounts could then wait on a writer waiting for it.
    await chain.lock()
    ids = await _account_ids(codes)
    rows = await db.lock_rows("ledger_account", "id, code, balance, min_balance, held",
                              list(ids.values()),
                              order_by=LOCK_ORDER)
    return {str(r["code"]): r for r in rows}


async def lock_members(member_ids: set[int]) -> None:
    """Take several members' locks at once, in the global order: a batch handler does this
    first, so that it never waits for a member while holding another account."""
    if member_ids:
        await _lock_accounts({member_account(m) for m in member_ids})


async def _existing(key: str, inputs_hash: str) -> TransactionOut | None:
    rows = await LedgerTransaction.select(LedgerTransaction.id, LedgerTransaction.inputs_hash).where(
        LedgerTransaction.idempotency_key == key
    )
    if not rows:
        return None
    if rows[0]["inputs_hash"] != inputs_hash:
        raise Conflict(f"idempotency key {key!r} was already used with different inputs")
    return await _transaction_out(int(rows[0]["id"]))


def _check(postings: list[tuple[str, int]]) -> None:
    if len(postings) < 2:
        raise Invalid("a transaction needs at least two postings")
    if sum(amount for _, amount in postings) != 0:
        raise Invalid("a transaction's postings must sum to zero")
    if any(amount == 0 or abs(amount) > MAX_AMOUNT for _, amount in postings):
        raise Invalid(f"each posting must be a non-zero whole number up to {MAX_AMOUNT}")
    if len({code for code, _ in postings}) != len(postings):
        raise Invalid("an account may appear once per transaction")


@dataclass(frozen=True)
class NewTransaction:
    key: str
    kind: str
    reason: str
    source: str
    postings: list[tuple[str, int]]
    category_id: int | None = None
    reverses: int | None = None
    created_by: int | None = None
    # What a replay must match, when not every field above (the default) is the identity.
    hash_inputs: Any = None

    def inputs_hash(self) -> str:
        return _hash(self.hash_inputs if self.hash_inputs is not None else {
            "kind": self.kind, "reason": self.reason, "source": self.source,
            "reverses": self.reverses, "postings": sorted(self.postings),
        })


async def post(
    *, key: str, kind: str, reason: str, source: str, postings: list[tuple[str, int]],
    created_by: int | None = None, reverses: int | None = None,
    category_id: int | None = None, hash_inputs: Any = None,
) -> TransactionOut:
    """Record one transaction, or return the one already recorded under `key`. 409 when an
    account would go below its floor or the key was used with other inputs."""
    found, _ = await post_recorded(
        key=key, kind=kind, reason=reason, source=source, postings=postings,
        created_by=created_by, reverses=reverses, category_id=category_id,
        hash_inputs=hash_inputs)
    return found


async def post_recorded(
    *, key: str, kind: str, reason: str, source: str, postings: list[tuple[str, int]],
    created_by: int | None = None, reverses: int | None = None,
    category_id: int | None = None, hash_inputs: Any = None,
) -> tuple[TransactionOut, bool]:
    """post(), and whether this call recorded the transaction (False: a replay)."""
    item = NewTransaction(key=key, kind=kind, reason=reason, source=source, postings=postings,
                          category_id=category_id, reverses=reverses, created_by=created_by,
                          hash_inputs=hash_inputs)
    recorded = await _record([item], strict=True)
    if key in recorded:
        return await _transaction_out(recorded[key]), True
    found = await _existing(key, item.inputs_hash())
    assert found is not None, "an unrecorded transaction is either refused or a replay"
    return found, False


async def post_many(batch: list[NewTransaction]) -> dict[str, int]:
    """post() for many transactions at once, in order, with a few statements for the whole
    batch (the award pipeline's hot path). Returns the ids of those newly recorded by key;
    replays are skipped, and so is a transaction that would take an account below its floor
    or reuse a key with other inputs (each logged)."""
    return await _record(batch, strict=False)


RACE_ATTEMPTS = 3


async def _record(batch: list[NewTransaction], strict: bool) -> dict[str, int]:
    """What post() and post_many() share. Strict: a refusal raises 409 (and records nothing);
    otherwise it is logged and the rest of the batch goes on."""
    for item in batch:
        _check(item.postings)
    hashes = {item.key: item.inputs_hash() for item in batch}
    for attempt in range(1, RACE_ATTEMPTS + 1):
        todo = await _not_to_own_staff(await _unrecorded(batch, hashes, strict), strict)
        if not todo:
            return {}
        try:
            return await _write(todo, hashes, strict)
        except Exception as exc:
            if not db.is_unique_violation(exc) or attempt == RACE_ATTEMPTS:
                raise
            # A concurrent writer recorded one of these keys first (its write rolled back
            # here): run again, and that one is now a replay.
    raise AssertionError("unreachable")


async def _unrecorded(batch: list[NewTransaction], hashes: dict[str, str],
                      strict: bool) -> list[NewTransaction]:
    """The batch without the keys already recorded (replays); a key recorded with other
    inputs is a conflict."""
    match, args = db.values_in(list(hashes), "text")
    seen = {
        str(r["idempotency_key"]): str(r["inputs_hash"])
        for r in await db.fetch("SELECT idempotency_key, inputs_hash FROM ledger_transaction "
                                "WHERE idempotency_key " + match, *args)
    }
    todo: list[NewTransaction] = []
    for item in batch:
        if item.key in seen:
            if seen[item.key] != hashes[item.key]:
                message = f"idempotency key {item.key!r} was already used with different inputs"
                if strict:
                    raise Conflict(message)
                log.warning(message)
            continue
        seen[item.key] = hashes[item.key]
        todo.append(item)
    return todo


def _paid_by_brand(item: NewTransaction) -> list[tuple[int, int]]:
    """(member, brand) for each member this transaction credits from a brand's budget."""
    specs = [(_account_spec(code), amount) for code, amount in item.postings]
    brands = [s["brand"] for s, amount in specs if s["kind"] == "brand_budget" and amount < 0]
    return [(s["member"], b) for s, amount in specs if s["kind"] == "member" and amount > 0
            for b in brands]


async def _not_to_own_staff(todo: list[NewTransaction], strict: bool) -> list[NewTransaction]:
    """A brand's budget never pays its own staff (by adjustment, rule or challenge): staff
    would be paying themselves."""
    paid = {item.key: _paid_by_brand(item) for item in todo}
    staff = await brands_staffed({m for pairs in paid.values() for m, _ in pairs})
    if not staff:
        return todo
    kept = []
    for item in todo:
        own = [m for m, brand in paid[item.key] if staff.get(m) == brand]
        if not own:
            kept.append(item)
            continue
        message = f"member {own[0]} is staff of the brand whose budget would pay them"
        if strict:
            raise Conflict(message)
        log.info("transaction %r refused: %s", item.key, message)
    return kept


async def _write(todo: list[NewTransaction], hashes: dict[str, str],
                 strict: bool) -> dict[str, int]:
    async with outbox.unit_of_work():
        accounts = await _lock_accounts({code for item in todo for code, _ in item.postings})
        balances = {code: int(a["balance"]) for code, a in accounts.items()}
        accepted: list[tuple[NewTransaction, dict[str, int]]] = []
        for item in todo:
            after = {code: balances[code] + amount for code, amount in item.postings}
            # Points pending holds reserve are not spendable.
            floor = [c for c, b in after.items() if accounts[c]["min_balance"] is not None
                     and b - int(accounts[c]["held"]) < int(accounts[c]["min_balance"])]
            if floor:
                if strict:
                    raise Conflict(f"not enough points: {floor[0]} cannot go below its minimum balance")
                log.info("transaction %r refused: %s cannot go below its minimum balance",
                         item.key, floor[0])
                continue
            balances.update(after)
            accepted.append((item, after))
        if not accepted:
            return {}
        posted_at = clock.now()
        values = [(item.key, hashes[item.key], item.kind, item.reason, item.source,
                   item.category_id, item.reverses, item.created_by, posted_at)
                  for item, _ in accepted]
        links = await chain.append([dict(zip(chain.COLUMNS, v, strict=True)) for v in values],
                                   [item.postings for item, _ in accepted])
        rows = await db.insert_rows(
            "ledger_transaction", ["id", *chain.COLUMNS, "chain_hash"],
            ["bigint", "text", "text", "text", "text", "text", "bigint", "bigint", "bigint",
             "timestamptz", "text"],
            [(i, *v, h) for (i, h), v in zip(links, values, strict=True)],
            "RETURNING id, idempotency_key")
        recorded = {str(r["idempotency_key"]): int(r["id"]) for r in rows}
        postings: list[tuple[int, int, int, dt.datetime]] = []
        moved: dict[str, int] = {}
        news: list[events.Event] = []
        for item, after in accepted:
            transaction_id = recorded[item.key]
            for code, amount in item.postings:
                postings.append((transaction_id, int(accounts[code]["id"]), amount, posted_at))
                moved[code] = moved.get(code, 0) + amount
                spec = _account_spec(code)
                if spec["kind"] == "member":
                    news.append(events.PointsPosted(
                        transaction_id=transaction_id, member_id=spec["member"], amount=amount,
                        balance=after[code], kind=item.kind, reason=item.reason,
                        posted_at=posted_at.isoformat(), category_id=item.category_id,
                    ))
        await db.insert_rows(
            "ledger_posting", ["ledger_transaction", "account", "amount", "created_at"],
            ["bigint", "bigint", "bigint", "timestamptz"], postings)
        await db.add_to_column("ledger_account", "balance",
                               sorted((int(accounts[c]["id"]), d) for c, d in moved.items() if d))
        await lots.apply([(recorded[item.key], item) for item, _ in accepted], posted_at)
        await outbox.emit_many(news)
    return recorded


async def get_transaction(transaction_id: int) -> TransactionOut:
    return await _transaction_out(transaction_id)


async def reverse(transaction_id: int, reason: str, created_by: int | None = None) -> TransactionOut:
    """Undo a transaction with a new one. A member's account is never taken below zero: if
    the points were already spent, the reversal recovers what is there."""
    return (await _reversal(transaction_id, reason, created_by))[0]


async def reverse_by_staff(actor: Actor, transaction_id: int, reason: str) -> TransactionOut:
    """reverse(), as a staff act: recorded in the staff log when it reverses anything."""
    async with outbox.unit_of_work():
        done, new = await _reversal(transaction_id, reason, actor.accountable())
        if new:
            original = await _transaction_out(transaction_id)
            brands = [s["brand"] for s in map(_account_spec, (p.account for p in original.postings))
                      if s["kind"] == "brand_budget"]
            await staff_log.record(
                actor, "points.reverse", "transaction", transaction_id,
                f"{original.kind} {transaction_id}: {original.reason}",
                before={"postings": _postings(original)},
                after={"reversal": done.id, "postings": _postings(done)}, reason=reason,
                brand_id=brands[0] if brands else staff_log.acting_brand(actor))
    return done


def _postings(transaction: TransactionOut) -> dict[str, int]:
    return {p.account: p.amount for p in transaction.postings}


async def _reversal(transaction_id: int, reason: str,
                    created_by: int | None) -> tuple[TransactionOut, bool]:
    """The reversal, and whether this call recorded it (False: it was already)."""
    original = await _transaction_out(transaction_id)
    if original.kind in ("reversal", "refund"):
        raise Invalid("a reversal cannot itself be reversed; post a new transaction instead")
    key = f"reverse:{transaction_id}"
    hash_inputs = {"reverses": transaction_id}
    found = await _existing(key, _hash(hash_inputs))
    if found is not None:
        return found, False
    postings = [(p.account, -p.amount) for p in original.postings]
    async with outbox.unit_of_work():
        # Read under the accounts' locks: a spend or an expiration may not come in between.
        accounts = await _lock_accounts({code for code, _ in postings})
        # What pending holds reserve is not recovered: the checkout holding it still may post.
        balances = {code: int(a["balance"]) - int(a["held"]) for code, a in accounts.items()}
        # Points of the credit that expired already left the member: not taken twice.
        expired_by_member = await lots.expired_of(transaction_id)
        expired = shortfall = 0
        clamped: list[tuple[str, int]] = []
        for code, amount in postings:
            spec = _account_spec(code)
            if spec["kind"] == "member" and amount < 0:
                gone = min(-amount, expired_by_member.get(spec["member"], 0))
                expired += gone
                amount += gone
                if balances[code] + amount < 0:
                    shortfall += -amount - balances[code]
                    amount = -balances[code]
            clamped.append((code, amount))
        if expired or shortfall:
            # Give the counterpart back only what was recovered, keeping the sum at zero.
            clamped = [(c, a - expired - shortfall if a > 0 else a) for c, a in clamped]
        if expired:
            reason = f"{reason} ({expired} points expired, not recovered)"
        if shortfall:
            reason = f"{reason} ({shortfall} points already spent, not recovered)"
        clamped = [(c, a) for c, a in clamped if a != 0]
        if len(clamped) < 2:
            raise Conflict("nothing left to reverse: the points were already spent or expired")
        # Undoing a spend gives spendable points back: a refund, not new earnings.
        kind = "refund" if original.kind in SPENDING_KINDS else "reversal"
        return await post_recorded(
            key=key, kind=kind, reason=reason, source=original.source, postings=clamped,
            created_by=created_by, reverses=transaction_id, category_id=original.category_id,
            hash_inputs=hash_inputs)


def adjustment_key(brand_id: int | None, key: str) -> str:
    # Per brand, like redemptions: one brand can neither find nor block another's keys.
    return f"adjust:{brand_id or 'issuance'}:{key}"


def redemption_key(brand_id: int | None, key: str) -> str:
    # Per brand: two shops' order numbers may be the same.
    return f"redeem:{brand_id or 'issuance'}:{key}"


async def adjust(actor: Actor, *, member_id: int, amount: int, reason: str, key: str,
                 brand_id: int | None) -> TransactionOut:
    """Credit a member from a brand's budget (issuance when None), or, negative, take
    spendable points away. A deduction does not lower what the member earned (lifetime,
    tiers, boards): that takes reversing the award."""
    if amount == 0:
        raise Invalid("an adjustment of 0 points changes nothing")
    by = actor.accountable()
    counterpart = ISSUANCE if brand_id is None else brand_budget_account(brand_id)
    member = await get_member(member_id)
    async with outbox.unit_of_work():
        done, new = await post_recorded(
            key=adjustment_key(brand_id, key), kind="adjustment" if amount > 0 else "deduction",
            reason=reason, source=f"staff:{by}", created_by=by,
            postings=[(member_account(member_id), amount), (counterpart, -amount)],
            # Who retries does not matter, what is asked does: any of the brand's staff or
            # tokens retrying the same request get the same transaction.
            hash_inputs={"member": member_id, "amount": amount, "reason": reason,
                         "brand": brand_id},
        )
        if new:
            await staff_log.record(
                actor, "points.adjust", "member", member_id, f"@{member['handle']}",
                after={"points": amount, "from": counterpart, "transaction": done.id},
                reason=reason, brand_id=brand_id)
    return done


async def redeem(*, member_id: int, amount: int, reason: str, key: str, brand_id: int | None,
                 by: int) -> TransactionOut:
    """Spend a member's points; they leave circulation, back to the issuance account."""
    return await post(
        key=redemption_key(brand_id, key), kind="redemption", reason=reason,
        source=f"brand:{brand_id}:redemption" if brand_id else f"staff:{by}", created_by=by,
        postings=[(member_account(member_id), -amount), (ISSUANCE, amount)],
    )


async def fund(actor: Actor, *, brand_id: int, amount: int, reason: str,
               key: str) -> TransactionOut:
    """Move points from issuance into a brand's budget."""
    brand = await get_brand(brand_id)
    async with outbox.unit_of_work():
        done, new = await post_recorded(
            key=f"fund:{key}", kind="funding", reason=reason, source=f"brand:{brand_id}",
            created_by=actor.accountable(),
            postings=[(brand_budget_account(brand_id), amount), (ISSUANCE, -amount)],
        )
        if new:
            await staff_log.record(
                actor, "budget.fund", "brand", brand_id, f"budget of brand '{brand.name}'",
                after={"points": amount, "transaction": done.id}, reason=reason,
                brand_id=brand_id)
    return done


async def reverse_source(source: str, reason: str,
                         only: Callable[[str], bool] | None = None) -> list[TransactionOut]:
    """Reverse every live award caused by `source` or anything under it (`source:...`);
    with `only`, just the awards whose idempotency key it accepts."""
    awards = await LedgerTransaction.select(
        LedgerTransaction.id, LedgerTransaction.idempotency_key
    ).where(
        (LedgerTransaction.kind == "award")
        & ((LedgerTransaction.source == source) | LedgerTransaction.source.like(source + ":%"))
    )
    award_ids = [int(r["id"]) for r in awards if only is None or only(str(r["idempotency_key"]))]
    if not award_ids:
        return []
    done = {
        int(r["reverses"])
        for r in await LedgerTransaction.select(LedgerTransaction.reverses).where(
            LedgerTransaction.reverses.is_in(award_ids)
        )
    }
    reversals = []
    for award_id in award_ids:
        if award_id in done:
            continue
        try:
            reversals.append(await reverse(award_id, reason))
        except Conflict as exc:
            # Spent to the last point: nothing can be recovered, and retrying will not help.
            log.info("award %s not reversed: %s", award_id, exc.message)
    return reversals


async def account_balance(code: str) -> int:
    rows = await LedgerAccount.select(LedgerAccount.balance).where(LedgerAccount.code == code)
    return int(rows[0]["balance"]) if rows else 0


async def account_balances(codes: Collection[str]) -> dict[str, int]:
    """Balances of the accounts that exist among these codes (one absent has none yet)."""
    if not codes:
        return {}
    rows = await LedgerAccount.select(LedgerAccount.code, LedgerAccount.balance).where(
        LedgerAccount.code.is_in(sorted(codes)))
    return {str(r["code"]): int(r["balance"]) for r in rows}


async def balance(member_id: int) -> Balance:
    code = member_account(member_id)
    rows = await LedgerAccount.select(
        LedgerAccount.id, LedgerAccount.balance, LedgerAccount.held
    ).where(LedgerAccount.code == code)
    if not rows:
        return Balance(member_id=member_id, balance=0, lifetime_earned=0, available=0, pending=0)
    earned = await db.fetch(
        "SELECT COALESCE(SUM(p.amount), 0) AS earned FROM ledger_posting p "
        "JOIN ledger_transaction t ON t.id = p.ledger_transaction "
        "WHERE p.account = {} AND t.kind IN ('award', 'reversal', 'adjustment')",
        rows[0]["id"],
    )
    posted, held = int(rows[0]["balance"]), int(rows[0]["held"])
    return Balance(member_id=member_id, balance=posted, lifetime_earned=int(earned[0]["earned"]),
                   available=posted - held, pending=held)


async def history(code: str, before: int | None, limit: int,
                  counterpart: str | None = None) -> HistoryPage:
    """An account's postings, newest first, with the reason for each; with a counterpart,
    only the transactions that also moved that account (what one brand's budget paid)."""
    rows = await LedgerAccount.select(LedgerAccount.id).where(LedgerAccount.code == code)
    if not rows:
        return HistoryPage(items=[], next_cursor=None)
    query = LedgerPosting.select(
        LedgerPosting.id, LedgerPosting.amount, LedgerPosting.created_at,
        LedgerPosting.ledger_transaction.id, LedgerPosting.ledger_transaction.kind,
        LedgerPosting.ledger_transaction.reason, LedgerPosting.ledger_transaction.source,
    ).where(LedgerPosting.account == rows[0]["id"])
    if counterpart is not None:
        other = await LedgerAccount.select(LedgerAccount.id).where(LedgerAccount.code == counterpart)
        if not other:
            return HistoryPage(items=[], next_cursor=None)
        query = query.where(LedgerPosting.ledger_transaction.is_in(
            LedgerPosting.select(LedgerPosting.ledger_transaction).where(
                LedgerPosting.account == other[0]["id"])))
    if before is not None:
        query = query.where(LedgerPosting.id < before)
    page = await query.order_by(LedgerPosting.id, ascending=False).limit(limit + 1)
    items = [
        HistoryEntry(id=r["id"], transaction_id=r["ledger_transaction.id"], amount=r["amount"],
                     kind=r["ledger_transaction.kind"], reason=r["ledger_transaction.reason"],
                     source=r["ledger_transaction.source"], created_at=r["created_at"])
        for r in page[:limit]
    ]
    return HistoryPage(items=items, next_cursor=items[-1].id if len(page) > limit else None)


# Earning postings on member accounts, with the transaction (t) and, for a reversal, the award
# it reverses (o): a reversal counts as earned when its award was.
_EARNING_POSTINGS = (
    "FROM ledger_posting p JOIN ledger_account a ON a.id = p.account "
    "JOIN ledger_transaction t ON t.id = p.ledger_transaction "
    "LEFT JOIN ledger_transaction o ON o.id = t.reverses AND t.kind = 'reversal' "
    "WHERE a.kind = 'member' AND t.kind IN ('award', 'reversal', 'adjustment')"
)
_EARNED_AT = "COALESCE(o.created_at, t.created_at)"


async def earnings(member_id: int | None = None) -> list[dict[str, Any]]:
    """Every earning posting on member accounts (for rebuilding derived views), oldest first:
    transaction id, member, amount, when it was earned, category. A reversal counts as
    earned when its award was: deleting last week's post takes from last week."""
    sql = ("SELECT t.id AS transaction_id, a.member AS member_id, p.amount AS amount, "
           f"{_EARNED_AT} AS earned_at, t.category_id AS category_id " + _EARNING_POSTINGS)
    args: list[Any] = []
    if member_id is not None:
        sql += " AND a.member = {}"
        args.append(member_id)
    return await db.fetch(sql + " ORDER BY t.id", *args)


def earned_totals(since: dt.datetime | None = None, until: dt.datetime | None = None,
                  category_id: int | None = None) -> tuple[str, list[Any]]:
    """A SELECT of (member, score): what each member earned (dated as `earnings()` dates
    postings) in [since, until) and in the category, when given; SQL with {} placeholders and
    its arguments, for the leaderboards to rank while their store cannot answer."""
    sql = "SELECT a.member AS member, SUM(p.amount) AS score " + _EARNING_POSTINGS
    args: list[Any] = []
    if since is not None:
        sql += f" AND {_EARNED_AT} >= {{}}"
        args.append(since)
    if until is not None:
        sql += f" AND {_EARNED_AT} < {{}}"
        args.append(until)
    if category_id is not None:
        sql += " AND t.category_id = {}"
        args.append(category_id)
    return sql + " GROUP BY a.member", args


async def first_transaction_at() -> dt.datetime | None:
    """When the ledger's first transaction was made (None while it has none): nothing is
    earned, or dated by `earnings()`, before it."""
    rows = await db.fetch("SELECT MIN(created_at) AS created_at FROM ledger_transaction")
    first = rows[0]["created_at"]
    if first is None or isinstance(first, dt.datetime):
        return first
    return dt.datetime.fromisoformat(first)


async def reversed_award_dates(reversals: Collection[int]) -> dict[int, dt.datetime]:
    """When the transaction each of these reversals undoes was made, by reversal id (the
    date `earnings()` gives a reversal)."""
    match, args = db.values_in(sorted(reversals), "bigint")
    rows = await db.fetch("SELECT r.id AS id, o.created_at AS created_at FROM ledger_transaction r "
                          "JOIN ledger_transaction o ON o.id = r.reverses "
                          "WHERE r.kind = 'reversal' AND r.id " + match, *args)
    return {int(r["id"]): r["created_at"] if isinstance(r["created_at"], dt.datetime)
            else dt.datetime.fromisoformat(r["created_at"]) for r in rows}


async def member_ids() -> set[int]:
    """Every member who has a points account."""
    rows = await LedgerAccount.select(LedgerAccount.member).where(LedgerAccount.kind == "member")
    return {int(r["member"]) for r in rows}


async def day_earnings(member_days: set[tuple[int, dt.date]]) -> dict[tuple[int, dt.date], int]:
    """What each member earned on each UTC day asked about (awards net of reversals, plus
    adjustments), read from those days' postings only."""
    if not member_days:
        return {}
    accounts = await _account_ids({member_account(m) for m, _ in member_days})
    first = min(day for _, day in member_days)
    last = max(day for _, day in member_days)
    match, args = db.values_in(sorted(accounts.values()), "bigint")
    rows = await db.fetch(
        "SELECT a.member AS member, p.created_at AS created_at, p.amount AS amount "
        "FROM ledger_posting p JOIN ledger_account a ON a.id = p.account "
        "JOIN ledger_transaction t ON t.id = p.ledger_transaction "
        "WHERE p.created_at >= {} AND p.created_at < {} "
        "AND t.kind IN ('award', 'reversal', 'adjustment') AND p.account " + match,
        dt.datetime.combine(first, dt.time(), dt.UTC),
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC), *args)
    totals = dict.fromkeys(member_days, 0)
    for row in rows:
        key = (int(row["member"]), row["created_at"].astimezone(dt.UTC).date())
        if key in totals:
            totals[key] += int(row["amount"])
    return totals


async def live_awards() -> dict[int, tuple[str, str]]:
    """The source and idempotency key of each award that no transaction reverses, by
    transaction id."""
    rows = await db.fetch(
        "SELECT t.id AS id, t.source AS source, t.idempotency_key AS idempotency_key "
        "FROM ledger_transaction t WHERE t.kind = 'award' "
        "AND NOT EXISTS (SELECT 1 FROM ledger_transaction r WHERE r.reverses = t.id)")
    return {int(r["id"]): (str(r["source"]), str(r["idempotency_key"])) for r in rows}


async def lifetime_earned() -> dict[int, int]:
    """What each member with a points account has earned, all time (Balance.lifetime_earned
    for everyone at once)."""
    rows = await db.fetch(
        "SELECT a.member AS member, COALESCE(SUM(CASE WHEN t.kind IN "
        "('award', 'reversal', 'adjustment') THEN p.amount ELSE 0 END), 0) AS earned "
        "FROM ledger_account a LEFT JOIN ledger_posting p ON p.account = a.id "
        "LEFT JOIN ledger_transaction t ON t.id = p.ledger_transaction "
        "WHERE a.kind = 'member' GROUP BY a.member")
    return {int(r["member"]): int(r["earned"]) for r in rows}


async def check_invariants() -> Invariants:
    """What must always hold; the concurrency tests assert it after hammering the ledger."""
    total = await db.fetch("SELECT COALESCE(SUM(amount), 0) AS total FROM ledger_posting")
    unbalanced = await db.fetch(
        "SELECT ledger_transaction FROM ledger_posting GROUP BY ledger_transaction "
        "HAVING SUM(amount) <> 0"
    )
    drifted = await db.fetch(
        "SELECT a.code FROM ledger_account a LEFT JOIN ledger_posting p ON p.account = a.id "
        "GROUP BY a.id, a.code, a.balance HAVING a.balance <> COALESCE(SUM(p.amount), 0)"
    )
    negative = await db.fetch(
        "SELECT code FROM ledger_account WHERE min_balance IS NOT NULL "
        "AND balance - held < min_balance"
    )
    # Lots always add up to the balance, and `held` to the pending holds.
    lots_off = await db.fetch(
        "SELECT a.code FROM ledger_account a WHERE a.kind = 'member' AND a.balance <> "
        "(SELECT COALESCE(SUM(l.remaining), 0) FROM ledger_lot l WHERE l.member = a.member)")
    held_off = await db.fetch(
        "SELECT a.code FROM ledger_account a WHERE a.kind = 'member' AND a.held <> "
        "(SELECT COALESCE(SUM(h.amount), 0) FROM ledger_hold h "
        "WHERE h.member = a.member AND h.status = 'pending')")
    thin = await db.fetch(
        "SELECT ledger_transaction FROM ledger_posting GROUP BY ledger_transaction "
        "HAVING COUNT(*) < 2"
    )
    return Invariants(
        postings_sum=int(total[0]["total"]),
        unbalanced_transactions=[int(r["ledger_transaction"]) for r in unbalanced + thin],
        balances_not_matching_postings=[str(r["code"]) for r in drifted],
        accounts_below_minimum=[str(r["code"]) for r in negative],
        lots_or_holds_not_matching=[str(r["code"]) for r in lots_off + held_off],
        checked_at=clock.now(),
    )


async def awarded_by_source(sources: Collection[str]) -> dict[str, tuple[int, int]]:
    """Per source: points members were awarded for it, and points taken back since (by its
    reversals), as two positive figures."""
    if not sources:
        return {}
    match, args = db.values_in(sorted(sources), "text")
    rows = await db.fetch(
        "SELECT t.source AS source, t.kind AS kind, COALESCE(SUM(p.amount), 0) AS points "
        "FROM ledger_transaction t JOIN ledger_posting p ON p.ledger_transaction = t.id "
        "JOIN ledger_account a ON a.id = p.account "
        "WHERE t.kind IN ('award', 'reversal') AND a.kind = 'member' AND t.source " + match
        + " GROUP BY t.source, t.kind", *args)
    out: dict[str, tuple[int, int]] = {}
    for row in rows:
        earned, taken = out.get(str(row["source"]), (0, 0))
        if row["kind"] == "award":
            earned += int(row["points"])
        else:
            taken -= int(row["points"])
        out[str(row["source"])] = (earned, taken)
    return out
