"""Review queue tables. Other packages read these only through community.moderation.services.

Targets are named by kind and id (server.reviewables), never by foreign key: the queue holds
posts, threads and profiles now and contest entries later, and an item keeps its label when
its target is deleted."""

from piccolo.columns import BigInt, BigSerial, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ReviewItem(Table, tablename="moderation_review_item"):
    """One per target while open (a partial unique index in the migration): it gathers the
    target's flags, or holds a post waiting for approval."""

    id = BigSerial(primary_key=True)
    target_type = Varchar(length=30)
    target_id = BigInt()
    # "flags" (members or the system flagged it) or "held" (pre-moderation: approve/reject).
    source = Varchar(length=10, default="flags")
    # open, then agreed | disagreed | ignored (flags) or approved | rejected (held).
    status = Varchar(length=12, default="open")
    # The sum of its flags' weights (community.moderation.scores).
    score = Integer(default=0)
    flag_count = Integer(default=0)
    brand_id = BigInt(null=True, default=None)
    category_id = BigInt(null=True, default=None)
    author_id = BigInt(null=True, default=None)
    # Copied in at creation, so the item reads after its target is gone.
    label = Varchar(length=200, default="")
    excerpt = Text(default="")
    url = Varchar(length=200, default="")
    # Why a held post waits ("first post of a new account").
    held_reason = Text(default="")
    # Set once, by the flag whose weight crossed the threshold (a conditional UPDATE).
    hidden_by_flags = Boolean(default=False)
    claimed_by = BigInt(null=True, default=None)
    claimed_until = Timestamptz(null=True, default=None)
    resolved_by = BigInt(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    resolution_action = Varchar(length=12, default="")
    resolution_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # Bumped by every change, so a live queue can tell a stale message from a fresh one.
    version = Integer(default=0)


class Flag(Table, tablename="moderation_flag"):
    """One member's flag on a target (flagger None: the system's). At most one open flag
    per member per target (a partial unique index in the migration)."""

    id = BigSerial(primary_key=True)
    item = BigInt(index=True)
    target_type = Varchar(length=30)
    target_id = BigInt()
    flagger = BigInt(null=True, default=None)
    # spam, harassment, inappropriate, off_topic, other, or system.
    reason = Varchar(length=20)
    text = Text(default="")
    weight = Integer()
    # JSON list of {"label", "points"}: why the flag weighs what it does, as at flag time.
    breakdown = Text(default="[]")
    # open, then agreed | disagreed | ignored with its item.
    status = Varchar(length=12, default="open")
    created_at = Timestamptz(default=TimestamptzNow())


class FlaggerRecord(Table, tablename="moderation_flagger_record"):
    """How a member's past flags were decided: their accuracy, read in one row."""

    id = BigSerial(primary_key=True)
    member = BigInt(unique=True)
    agreed = Integer(default=0)
    disagreed = Integer(default=0)
    ignored = Integer(default=0)
