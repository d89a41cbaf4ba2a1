"""The ladder, its settings, and where each member stands on it."""

from piccolo.columns import BigInt, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.tables import Member


class Tier(Table, tablename="gamification_tier"):
    id = Serial(primary_key=True)
    name = Varchar(length=40, unique=True)
    # Points earned within the window needed to reach this tier.
    threshold = BigInt()


class TierSettings(Table, tablename="gamification_tier_settings"):
    id = Serial(primary_key=True)
    window_days = Integer(default=365)
    grace_days = Integer(default=30)


class MemberTier(Table, tablename="gamification_member_tier"):
    id = Serial(primary_key=True)
    member = ForeignKey(references=Member, unique=True)
    tier_name = Varchar(length=40, null=True, default=None)
    since = Timestamptz(default=TimestamptzNow())
    # When the member first fell below their tier; demotion waits out the grace period.
    below_since = Timestamptz(null=True, default=None)
