"""Rewards, their code pools, and redemptions. A redemption row is written in the same
transaction as the ledger debit, the code it took and the stock it used."""

from piccolo.columns import BigInt, BigSerial, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.tables import Brand, Member


class Reward(Table, tablename="gamification_reward"):
    id = BigSerial(primary_key=True)
    brand = ForeignKey(references=Brand, index=True)
    title = Varchar(length=120)
    description = Text(default="")
    image_url = Varchar(length=500, default="")
    price = BigInt()
    # What is left to redeem; None: unlimited (a code pool still bounds it).
    stock = BigInt(null=True, default=None)
    # Redemptions per member that are not refunded; None: no limit.
    per_member_limit = Integer(null=True, default=None)
    # Eligibility: this tier or a higher one, and/or holding this badge ("" / None: anyone).
    min_tier = Varchar(length=60, default="")
    badge = BigInt(null=True, default=None)
    starts_at = Timestamptz(null=True, default=None)
    ends_at = Timestamptz(null=True, default=None)
    # "codes": one code from the pool per redemption; "webhook": the brand's systems fulfil it.
    fulfilment = Varchar(length=10, default="codes")
    published = Boolean(default=False)
    created_by = ForeignKey(references=Member)
    created_at = Timestamptz(default=TimestamptzNow())


class RewardCode(Table, tablename="gamification_reward_code"):
    id = BigSerial(primary_key=True)
    reward = ForeignKey(references=Reward, index=True)
    code = Varchar(length=100)
    # available -> issued -> void (a refunded redemption's code is never issued again)
    status = Varchar(length=10, default="available")
    redemption = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Redemption(Table, tablename="gamification_redemption"):
    id = BigSerial(primary_key=True)
    reward = ForeignKey(references=Reward, index=True)
    brand = ForeignKey(references=Brand, index=True)
    member = ForeignKey(references=Member, index=True)
    # The member's own key: a double click is one redemption.
    idempotency_key = Varchar(length=120)
    points = BigInt()
    code = Varchar(length=100, default="")
    # redeemed | refunded
    status = Varchar(length=10, default="redeemed")
    transaction_id = BigInt()
    refund_transaction_id = BigInt(null=True, default=None)
    refund_reason = Text(default="")
    refunded_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
