"""Ledger tables. Transactions and postings are append-only; balances are a cache of the
postings, updated in the same transaction, and can be recomputed from them."""

from piccolo.columns import BigInt, BigSerial, ForeignKey, Text, Timestamptz, Varchar
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
