"""The embedded store's rows, and who is kept off every board."""

from piccolo.columns import BigInt, BigSerial, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.tables import Member


class LeaderboardEntry(Table, tablename="leaderboard_entry"):
    id = BigSerial(primary_key=True)
    board = Varchar(length=60)
    member = ForeignKey(references=Member)
    score = BigInt(default=0)


class LeaderboardState(Table, tablename="leaderboard_state"):
    """Named values, e.g. the last ledger transaction a rebuild included."""

    id = BigSerial(primary_key=True)
    name = Varchar(length=60, unique=True)
    value = BigInt(default=0)


class LeaderboardExclusion(Table, tablename="leaderboard_exclusion"):
    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, unique=True)
    excluded_at = Timestamptz(default=TimestamptzNow())


class Season(Table, tablename="leaderboard_season"):
    """A named stretch of time with a board of its own (`season:{id}`)."""

    id = BigSerial(primary_key=True)
    name = Varchar(length=80)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
