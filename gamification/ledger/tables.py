"""Ledger tables. Transactions and postings are append-only; balances are a cache of the
postings, updated in the same transaction, and can be recomputed from them."""

from piccolo.columns import BigInt, BigSerial, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.tables import Brand, Member


class LedgerAccount(Table, tablename="ledger_account"):
    id = BigSerial(primary_key=True)
    # "member:12", "brand:3:budget", "issuance": one account per code.
    code = Varchar(length=80, unique=True)
    kind = Varchar(length=20)
    member = ForeignKey(references=Member, null=True, index=True)
    brand = ForeignKey(references=Brand, null=True)
    balance = BigInt(default=0)
    # The lowest balance allowed; None means unbounded (the issuance account).
    min_balance = BigInt(null=True, default=None)
    # Points reserved by pending holds (a cache of them, like balance): spendable is
    # balance - held, and no debit takes it below the floor.
    held = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class LedgerTransaction(Table, tablename="ledger_transaction"):
    id = BigSerial(primary_key=True)
    idempotency_key = Varchar(length=200, unique=True)
    # sha256 of the transaction's inputs: a replay with other inputs is refused.
    inputs_hash = Varchar(length=64)
    kind = Varchar(length=20)
    reason = Text()
    # What caused it, e.g. "post:12" or "post:12:reaction:7:like"; reversals find awards by it.
    source = Varchar(length=200, index=True)
    # The forum category that earned it, when there is one: category leaderboards use it.
    category_id = BigInt(null=True, default=None)
    reverses: ForeignKey["LedgerTransaction"] = ForeignKey(references="self", null=True)
    created_by = ForeignKey(references=Member, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # sha256(previous transaction's chain_hash + this one, canonical): see ledger/chain.py.
    chain_hash = Varchar(length=64, null=True, default=None)


class LedgerPosting(Table, tablename="ledger_posting"):
    id = BigSerial(primary_key=True)
    ledger_transaction = ForeignKey(references=LedgerTransaction, index=True)
    account = ForeignKey(references=LedgerAccount, index=True)
    # Credit positive, debit negative; a transaction's postings sum to zero.
    amount = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class LedgerChain(Table, tablename="ledger_chain"):
    """The hash chain's head: one row, which every append locks (the chain is a total order)
    and moves; a transaction removed from the end still breaks the chain."""

    id = BigSerial(primary_key=True)
    last_transaction = BigInt(default=0)
    chain_hash = Varchar(length=64, default="0" * 64)


class LedgerHold(Table, tablename="ledger_hold"):
    """Points reserved for a checkout (TigerBeetle's pending transfer): posted in full or in
    part as a redemption, voided, or expired by the sweep once expires_at has passed."""

    id = BigSerial(primary_key=True)
    idempotency_key = Varchar(length=200, unique=True)
    inputs_hash = Varchar(length=64)
    member = ForeignKey(references=Member, index=True)
    brand = ForeignKey(references=Brand, null=True)
    amount = BigInt()
    # What was posted (0 until then; at most amount).
    posted = BigInt(default=0)
    # pending, posted, voided, expired
    status = Varchar(length=10, default="pending", index=True)
    reason = Text()
    expires_at = Timestamptz()
    ledger_transaction = ForeignKey(references=LedgerTransaction, null=True)
    created_by = ForeignKey(references=Member, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None)


class LedgerLot(Table, tablename="ledger_lot"):
    """One credit to a member account, and what of it is left: debits take from the lots
    that expire soonest. The balance stays the postings' sum; lots only say which points
    go first and when the rest expire."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, index=True)
    # The credit; None for what a member held before lots existed (it never expires).
    ledger_transaction = ForeignKey(references=LedgerTransaction, null=True, index=True)
    amount = BigInt()
    remaining = BigInt()
    expires_at = Timestamptz(null=True, default=None, index=True)
    # Points of this lot taken by expirations so far (keys each expiration: exactly once).
    expired = BigInt(default=0)
    # The smallest advance notice (days) sent for the current expires_at; 0: none yet.
    notified = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
