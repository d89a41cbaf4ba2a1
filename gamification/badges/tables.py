"""Badge definitions, grants, backfill progress, and the activity log criteria are read from.

The activity log is gamification's own record of what each member did (one row per scorable
event), so badge criteria never read another package's tables."""

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

from server.tables import Member


class Activity(Table, tablename="gamification_activity"):
    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, index=True)
    event_id = BigInt(unique=True)
    event_type = Varchar(length=40)
    # What the act is tied to ("post:12"); removing it sets removed_at.
    source = Varchar(length=200, index=True)
    fields = Text()
    occurred_at = Timestamptz(default=TimestamptzNow())
    removed_at = Timestamptz(null=True, default=None)


class Badge(Table, tablename="gamification_badge"):
    id = BigSerial(primary_key=True)
    slug = Varchar(length=60, unique=True)
    name = Varchar(length=80)
    description = Text(default="")
    icon = Varchar(length=200, default="")
    # bronze, silver or gold.
    level = Varchar(length=10, default="bronze")
    grouping = Varchar(length=40, default="community")
    enabled = Boolean(default=True)
    repeatable = Boolean(default=False)
    secret = Boolean(default=False)
    points = Integer(default=0)
    auto_revoke = Boolean(default=False)
    # JSON: {"type": "count"|"points"|"streak"|"first"|"manual", ...}
    criteria = Text()
    created_at = Timestamptz(default=TimestamptzNow())


class BadgeGrant(Table, tablename="gamification_badge_grant"):
    id = BigSerial(primary_key=True)
    badge = ForeignKey(references=Badge, index=True)
    member = ForeignKey(references=Member, index=True)
    # 1 for most badges; repeatable ones count up.
    number = Integer(default=1)
    reason = Text(default="")
    granted_by = ForeignKey(references=Member, null=True)
    granted_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Text(default="")
    # Null when the criteria stopped holding (auto-revoke) rather than staff taking it back.
    revoked_by = ForeignKey(references=Member, null=True)


class BadgeBackfill(Table, tablename="gamification_badge_backfill"):
    id = BigSerial(primary_key=True)
    badge = ForeignKey(references=Badge, index=True)
    total = Integer(default=0)
    done = Integer(default=0)
    granted = Integer(default=0)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class FeaturedBadge(Table, tablename="gamification_featured_badge"):
    """Up to three of the badges a member holds, which they chose to show first."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, index=True)
    badge = ForeignKey(references=Badge)
    # The member's order: 0 first.
    position = Integer()
