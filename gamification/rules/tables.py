"""Rules are data (editable through the API); awards remember which rule paid what, so caps
and cooldowns can be checked without scanning the ledger."""

from piccolo.columns import (
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from gamification.ledger.tables import LedgerTransaction
from server.tables import Brand, Member


class Rule(Table, tablename="gamification_rule"):
    id = BigSerial(primary_key=True)
    name = Varchar(length=100)
    # Space-separated event types, e.g. "post.created thread.created".
    event_types = Text()
    # A safe expression over the event's fields; empty means every event.
    condition = Text(default="")
    # A whole number, or an expression giving one.
    points = Text()
    cap_day = Integer(null=True, default=None)
    cap_week = Integer(null=True, default=None)
    cap_month = Integer(null=True, default=None)
    cooldown_seconds = Integer(default=0)
    active_from = Timestamptz(null=True, default=None)
    active_until = Timestamptz(null=True, default=None)
    # A brand's rule pays from that brand's budget; others from issuance.
    brand = ForeignKey(references=Brand, null=True)
    category_id = BigInt(null=True, default=None)
    enabled = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class RuleAward(Table, tablename="gamification_rule_award"):
    id = BigSerial(primary_key=True)
    rule = ForeignKey(references=Rule, index=True)
    member = ForeignKey(references=Member)
    ledger_transaction = ForeignKey(references=LedgerTransaction, unique=True)
    points = BigInt()
    awarded_at = Timestamptz(default=TimestamptzNow())
    reversed_at = Timestamptz(null=True, default=None)


class Removal(Table, tablename="gamification_removal"):
    """A source taken back (a post deleted, a reaction withdrawn) and the event that did it:
    an act handled after its own removal (relays running batches side by side) is then not
    credited."""

    id = BigSerial(primary_key=True)
    source = Varchar(length=200, index=True)
    event_id = BigInt()
    removed_at = Timestamptz(default=TimestamptzNow())
