"""The ladder, its settings, and where each member stands on it."""

from piccolo.columns import BigInt, BigSerial, Date, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.tables import Member


class Tier(Table, tablename="gamification_tier"):
    id = BigSerial(primary_key=True)
    name = Varchar(length=40, unique=True)
    # Points earned within the window needed to reach this tier.
    threshold = BigInt()


class TierSettings(Table, tablename="gamification_tier_settings"):
    id = BigSerial(primary_key=True)
    window_days = Integer(default=365)
    grace_days = Integer(default=30)


class MemberTier(Table, tablename="gamification_member_tier"):
    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, unique=True)
    tier_name = Varchar(length=40, null=True, default=None)
    since = Timestamptz(default=TimestamptzNow())
    # When the member first fell below their tier; demotion waits out the grace period.
    below_since = Timestamptz(null=True, default=None)


class EarningDay(Table, tablename="gamification_earning_day"):
    """What a member earned on one UTC day (awards net of reversals, plus adjustments),
    recounted from the ledger: the tier window adds up at most window_days of these rather
    than every posting of the member's history."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, index=True)
    day = Date()
    points = BigInt(default=0)
