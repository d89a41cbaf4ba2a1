"""The ledger's hash chain: each transaction stores
`chain_hash = sha256(previous transaction's chain_hash + canonical(transaction))`, so editing,
removing or reordering a recorded transaction or posting breaks every later link.

- Appends are serialised by the chain's head row (ledger_chain), locked in the writing
  transaction before any account (`lock()`): a transaction that writes more than once (a
  batch of awards and reversals) then never waits for an account while holding the head.
  Ids are taken under that lock, so id order is chain order; a batch (post_many) takes the
  lock once.
- The head keeps the last transaction and its hash: removing the newest transaction breaks
  the chain too.
- `verify()` walks the chain in pages of ids, never the whole ledger in memory, up to the head
  it read first (writes committing meanwhile come after it).
- Transactions recorded before the chain existed are chained once, oldest first, by a seed
  step (`hearth migrate`): `seal_unchained()`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import msgspec

from gamification.ledger.schemas import ChainBreak, ChainVerification
from server import clock, db

GENESIS = "0" * 64
# Beyond any id: "every transaction after the head".
MAX_ID = 2**63 - 1
PAGE = 500

# The columns of a transaction the hash covers, in the order _write inserts them.
COLUMNS = ("idempotency_key", "inputs_hash", "kind", "reason", "source", "category_id",
           "reverses", "created_by", "created_at")


def _utc(when: dt.datetime | str) -> str:
    # SQLite hands timestamps back as text; both databases keep microseconds.
    moment = when if isinstance(when, dt.datetime) else dt.datetime.fromisoformat(when)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(transaction_id: int, row: dict[str, Any],
              postings: Sequence[tuple[str, int, dt.datetime | str]]) -> bytes:
    """A transaction and its postings (account code, amount, time) as bytes that depend on
    nothing but their values: sorted keys, integers, UTC ISO times, postings sorted."""
    body = {name: row[name] for name in COLUMNS if name != "created_at"}
    body["id"] = transaction_id
    body["created_at"] = _utc(row["created_at"])
    body["postings"] = sorted([code, int(amount), _utc(when)] for code, amount, when in postings)
    return msgspec.json.encode(body, order="sorted")


def link(previous: str, transaction: bytes) -> str:
    return hashlib.sha256(previous.encode() + transaction).hexdigest()


async def lock() -> None:
    """Take the head's lock until the transaction ends: first, before any account's (see
    the module). SQLite's write transaction is exclusive already."""
    if not db.is_sqlite():
        await db.fetch("SELECT 1 FROM ledger_chain WHERE id = 1 FOR UPDATE")


async def _lock_head() -> tuple[int, str]:
    """The head, locked until the transaction ends (SQLite's write transaction is already
    exclusive). On PostgreSQL, FOR UPDATE reads the head as the writer before left it."""
    lock = "" if db.is_sqlite() else " FOR UPDATE"
    rows = await db.fetch("SELECT last_transaction, chain_hash FROM ledger_chain WHERE id = 1"
                          + lock)
    return _head(rows)


def _head(rows: list[dict[str, Any]]) -> tuple[int, str]:
    if not rows:
        raise RuntimeError("the ledger chain has no head row: run `hearth migrate`")
    return int(rows[0]["last_transaction"]), str(rows[0]["chain_hash"])


# Locks the head, then (a subquery on the locked row, so only once the lock is held) takes
# the ids: one round trip, and ids taken in chain order.
_LOCK_AND_NUMBER = (
    "WITH head AS (SELECT last_transaction, chain_hash FROM ledger_chain WHERE id = 1 "
    "FOR UPDATE) SELECT h.last_transaction, h.chain_hash, ARRAY(SELECT nextval("
    "pg_get_serial_sequence('ledger_transaction', 'id')) FROM generate_series(1, {}) "
    "WHERE h.last_transaction IS NOT NULL) AS ids FROM head h")


async def _lock_and_number(count: int) -> tuple[int, str, list[int]]:
    """The head, locked, and ids for `count` new transactions."""
    if not db.is_sqlite():
        rows = await db.fetch(_LOCK_AND_NUMBER, count)
        return (*_head(rows), [int(i) for i in rows[0]["ids"]])
    last, previous = await _lock_head()
    rows = await db.fetch("SELECT COALESCE(MAX(id), 0) AS id FROM ledger_transaction")
    # Past the head too: were the newest transaction removed, its id is not taken again.
    start = max(int(rows[0]["id"]), last) + 1
    return last, previous, list(range(start, start + count))


async def append(rows: Sequence[dict[str, Any]],
                 postings: Sequence[Sequence[tuple[str, int]]]) -> list[tuple[int, str]]:
    """Ids and chain hashes for new transactions (their COLUMNS, and each one's postings,
    posted at its created_at), in order, with the head moved past them. Call inside the
    writing transaction, just before inserting them with these ids."""
    _, previous, ids = await _lock_and_number(len(rows))
    out: list[tuple[int, str]] = []
    for transaction_id, row, moves in zip(ids, rows, postings, strict=True):
        when = row["created_at"]
        previous = link(previous, canonical(transaction_id, row,
                                            [(code, amount, when) for code, amount in moves]))
        out.append((transaction_id, previous))
    await db.fetch("UPDATE ledger_chain SET last_transaction = {}, chain_hash = {} WHERE id = 1",
                   out[-1][0], out[-1][1])
    return out


_SELECT = ("SELECT id, " + ", ".join(COLUMNS) + ", chain_hash FROM ledger_transaction "
           "WHERE id > {} AND id <= {} ORDER BY id LIMIT {}")


async def _page(after: int, upto: int) -> tuple[list[dict[str, Any]], dict[int, list[Any]]]:
    """The next page of transactions after `after` (up to `upto`), with their postings."""
    rows = await db.fetch(_SELECT, after, upto, PAGE)
    postings: dict[int, list[Any]] = {}
    if rows:
        for p in await db.fetch(
                "SELECT p.ledger_transaction AS t, a.code AS code, p.amount AS amount, "
                "p.created_at AS created_at FROM ledger_posting p "
                "JOIN ledger_account a ON a.id = p.account "
                "WHERE p.ledger_transaction > {} AND p.ledger_transaction <= {}",
                after, int(rows[-1]["id"])):
            postings.setdefault(int(p["t"]), []).append((p["code"], p["amount"], p["created_at"]))
    return rows, postings


async def verify() -> ChainVerification:
    """Walk the chain from genesis to the head; the first transaction whose stored hash is
    not what its contents and its predecessor give, or ok with the count."""
    head = await db.fetch("SELECT last_transaction, chain_hash FROM ledger_chain WHERE id = 1")
    head_id = int(head[0]["last_transaction"]) if head else 0
    head_hash = str(head[0]["chain_hash"]) if head else GENESIS
    previous, after, checked = GENESIS, 0, 0

    def result(broken: ChainBreak | None) -> ChainVerification:
        return ChainVerification(ok=broken is None, checked=checked, head_transaction=head_id,
                                 head_hash=head_hash, broken=broken, verified_at=clock.now())

    while True:
        rows, postings = await _page(after, head_id)
        if not rows:
            break
        for row in rows:
            transaction_id = int(row["id"])
            expected = link(previous, canonical(transaction_id, row,
                                                postings.get(transaction_id, [])))
            if row["chain_hash"] != expected:
                return result(ChainBreak(
                    transaction_id=transaction_id, expected=expected, stored=row["chain_hash"],
                    problem="its stored hash does not follow from its contents and the "
                            "transaction before it: one of them was changed or removed"))
            previous, after, checked = expected, transaction_id, checked + 1
    if after != head_id or previous != head_hash:
        return result(ChainBreak(
            transaction_id=head_id, expected=head_hash, stored=previous if after else None,
            problem=f"the chain ends at transaction {after} but its head names {head_id}: "
                    "the newest transactions were removed or changed"))
    return result(None)


async def seal_unchained() -> None:
    """Chain the transactions recorded before the chain existed, oldest first, once (a seed
    step: later transactions are chained as they are written). Those are the ones after the
    head: every chained transaction is at or before it."""
    while True:
        async with db.transaction():
            last, previous = await _lock_head()
            rows, postings = await _page(last, MAX_ID)
            if not rows:
                return
            for row in rows:
                transaction_id = int(row["id"])
                previous = link(previous, canonical(transaction_id, row,
                                                    postings.get(transaction_id, [])))
                await db.fetch("UPDATE ledger_transaction SET chain_hash = {} WHERE id = {}",
                               previous, transaction_id)
            await db.fetch("UPDATE ledger_chain SET last_transaction = {}, chain_hash = {} "
                           "WHERE id = 1", transaction_id, previous)
