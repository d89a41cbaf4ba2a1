"""Forum tables. Other packages read these only through community.forums.services."""

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


class Category(Table, tablename="forum_category"):
    id = BigSerial(primary_key=True)
    name = Varchar(length=80)
    slug = Varchar(length=80, unique=True)
    description = Text(default="")
    parent: ForeignKey["Category"] = ForeignKey(references="self", null=True)
    position = Integer(default=0)
    # "public": anyone may read; "members": signed-in members only.
    visibility = Varchar(length=10, default="public")
    brand = ForeignKey(references=Brand, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Thread(Table, tablename="forum_thread"):
    id = BigSerial(primary_key=True)
    category = ForeignKey(references=Category, index=True)
    author = ForeignKey(references=Member)
    title = Varchar(length=200)
    pinned = Boolean(default=False)
    locked = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_activity_at = Timestamptz(default=TimestamptzNow())
    # Id of the newest post: a monotonic integer to order and page threads by activity.
    last_post_id = BigInt(default=0)
    post_count = Integer(default=0)
    # Post numbers are handed out from here, atomically, so replies never collide.
    highest_post_number = Integer(default=0)
    deleted_at = Timestamptz(null=True, default=None)
    # The reply its author (or a moderator) marked as the helpful answer.
    helpful_post_id = BigInt(null=True, default=None)
    # Set while its first post is hidden or held (community.moderation): the thread is then
    # listed only for its author and staff.
    hidden_at = Timestamptz(null=True, default=None)
    # Bumped in the same transaction as every change to what the thread's pages show (posts,
    # edits, deletions, reactions, the helpful mark, title, pin, lock): a member's read
    # compares it with the cached page's, in the one query it makes.
    version = BigInt(default=0)


class Post(Table, tablename="forum_post"):
    id = BigSerial(primary_key=True)
    thread = ForeignKey(references=Thread, index=True)
    author = ForeignKey(references=Member, index=True)
    post_number = Integer()
    reply_to: ForeignKey["Post"] = ForeignKey(references="self", null=True)
    markdown = Text()
    html = Text()
    revision = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    edited_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    deleted_by = ForeignKey(references=Member, null=True)
    # Set while the post is out of view for everyone but its author and staff: "flags" (its
    # score passed the threshold), "moderator", or "held" (waiting for approval).
    hidden_at = Timestamptz(null=True, default=None)
    hidden_reason = Varchar(length=20, null=True, default=None)


class PostRevision(Table, tablename="forum_post_revision"):
    id = BigSerial(primary_key=True)
    post = ForeignKey(references=Post, index=True)
    revision = Integer()
    markdown = Text()
    editor = ForeignKey(references=Member)
    # Why it was edited: required of whoever edits someone else's post (a moderator).
    reason = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Reaction(Table, tablename="forum_reaction"):
    id = BigSerial(primary_key=True)
    post = ForeignKey(references=Post, index=True)
    member = ForeignKey(references=Member)
    kind = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow())


# How far each member has read each thread lives in `forum_read_mark`, keyed by (member,
# thread) alone: Piccolo tables need a surrogate id, whose sequence an upsert would spend on
# every read, so that table is created in raw SQL by its migration and used through
# community.forums.readmarks.
