"""Inbound events a brand's systems reported (the request recorded once per idempotency key)
and the custom event types brands declared."""

from piccolo.columns import BigInt, BigSerial, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.tables import Brand, Member


class InboundType(Table, tablename="gamification_inbound_type"):
    id = BigSerial(primary_key=True)
    brand = ForeignKey(references=Brand, index=True)
    # "<brand id>:<name>": a brand declares a name once.
    scoped_name = Varchar(length=80, unique=True)
    name = Varchar(length=40)
    # JSON: the declared fields, [{"name", "type", "required", "max_length"}].
    fields = Text()
    created_by = ForeignKey(references=Member, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class InboundEvent(Table, tablename="gamification_inbound_event"):
    id = BigSerial(primary_key=True)
    brand = ForeignKey(references=Brand, index=True)
    # "<brand id>:<Idempotency-Key>": keys are the brand's own, so unique per brand.
    scoped_key = Varchar(length=220, unique=True)
    idempotency_key = Varchar(length=200)
    # sha256 of the canonical request body: a key reused with another body is refused.
    request_hash = Varchar(length=64)
    type = Varchar(length=60)
    member = ForeignKey(references=Member, index=True)
    # "<brand id>:<type>:<order, review or referral id>": each is reported once (None: custom).
    subject = Varchar(length=200, null=True, default=None, unique=True)
    reference = Varchar(length=100, default="")
    summary = Varchar(length=200, default="")
    # The ledger source its awards carry (a refund: its order's).
    source = Varchar(length=200)
    token_id = BigInt(null=True, default=None)
    received_at = Timestamptz(default=TimestamptzNow())
