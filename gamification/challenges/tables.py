"""Challenges, their tasks, who entered, and how far each entry is on each task."""

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

from server.tables import Brand, Member


class Challenge(Table, tablename="gamification_challenge"):
    id = BigSerial(primary_key=True)
    brand = ForeignKey(references=Brand, index=True)
    title = Varchar(length=120)
    description = Text(default="")
    image_url = Varchar(length=500, default="")
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    # The IANA zone the brand wrote the dates in, kept for display.
    time_zone = Varchar(length=64, default="UTC")
    # draft -> scheduled -> active -> ended; any but ended may become cancelled
    status = Varchar(length=12, default="draft", index=True)
    # everyone | tier | badge
    eligibility = Varchar(length=10, default="everyone")
    eligibility_value = Varchar(length=60, default="")
    auto_enroll = Boolean(default=False)
    ordered = Boolean(default=False)
    reward_points = BigInt(default=0)
    reward_badge = BigInt(null=True, default=None)
    created_by = ForeignKey(references=Member)
    created_at = Timestamptz(default=TimestamptzNow())


class ChallengeTask(Table, tablename="gamification_challenge_task"):
    id = BigSerial(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    position = Integer()
    name = Varchar(length=120)
    event_types = Text()
    condition = Text(default="")
    target = Integer()


class ChallengeEntry(Table, tablename="gamification_challenge_entry"):
    id = BigSerial(primary_key=True)
    challenge = ForeignKey(references=Challenge, index=True)
    member = ForeignKey(references=Member, index=True)
    joined_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)
    # Null while reward points are owed (the brand's budget was short at completion).
    reward_paid_at = Timestamptz(null=True, default=None)
    # Sum of task progress: what the challenge's leaderboard ranks by.
    score = Integer(default=0)


class ChallengeProgress(Table, tablename="gamification_challenge_progress"):
    id = BigSerial(primary_key=True)
    entry = ForeignKey(references=ChallengeEntry, index=True)
    task = ForeignKey(references=ChallengeTask)
    amount = Integer(default=0)


class ChallengeAct(Table, tablename="gamification_challenge_act"):
    """Each act (by its source, e.g. "post:12") a task counted for an entry: a replayed
    event counts once, and removing the act takes its count back."""

    id = BigSerial(primary_key=True)
    entry = ForeignKey(references=ChallengeEntry, index=True)
    task = ForeignKey(references=ChallengeTask)
    source = Varchar(length=200)
    event_id = BigInt()
    counted_at = Timestamptz(default=TimestamptzNow())
