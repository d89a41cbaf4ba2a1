"""Kernel tables: members and roles, their sessions, brands, API tokens, the outbox and
notifications."""

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


class Brand(Table, tablename="brand"):
    id = BigSerial(primary_key=True)
    name = Varchar(length=100)
    slug = Varchar(length=60, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Member(Table, tablename="member"):
    id = BigSerial(primary_key=True)
    handle = Varchar(length=32)
    # Lower-cased handle: uniqueness and lookup ignore case, display keeps it.
    handle_key = Varchar(length=32, unique=True)
    email = Varchar(length=254, unique=True)
    password_hash = Text()
    display_name = Varchar(length=80)
    bio = Text(default="")
    role = Varchar(length=20, default="member")
    brand = ForeignKey(references=Brand, null=True)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # Set while flags or a moderator hide the profile (community.moderation): its display
    # name and bio are then left out of public view.
    profile_hidden_at = Timestamptz(null=True, default=None)
    # The end of the member's longest running suspension (server.accounts.sanctions), kept
    # beside the row every sign-in and session lookup reads anyway; past it, it means nothing.
    suspended_until = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="api_token"):
    id = BigSerial(primary_key=True)
    brand = ForeignKey(references=Brand)
    created_by = ForeignKey(references=Member)
    name = Varchar(length=80)
    # The public half of the token, used to find the row; the secret is only stored hashed.
    lookup = Varchar(length=24, unique=True)
    secret_hash = Varchar(length=64)
    scopes = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class MemberSession(Table, tablename="member_session"):
    """A signed-in browser. The cookie holds the secret; only its sha256 is stored, so the
    table (or a backup of it) signs nobody in."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, null=False, index=True)
    secret_hash = Varchar(length=64, unique=True)
    csrf = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(default=TimestamptzNow(), index=True)
    # What the member would recognise on a "your sessions" page, trimmed.
    user_agent = Varchar(length=200, default="")
    ip = Varchar(length=45, default="")


class OutboxEvent(Table, tablename="outbox_event"):
    id = BigSerial(primary_key=True)
    type = Varchar(length=60)
    payload = Text()
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    dispatched_at = Timestamptz(null=True, default=None, index=True)
    attempts = Integer(default=0)
    # A relay working on the event holds it until then; other relays skip it meanwhile.
    claimed_until = Timestamptz(null=True, default=None)
    # What the last failed attempt raised, for the operator's view of failing events.
    last_error = Text(null=True, default=None)


class HandlerReceipt(Table, tablename="handler_receipt"):
    """One row per (event, handler) that has run; makes handlers idempotent by event id."""

    id = BigSerial(primary_key=True)
    event_id = BigInt()
    handler = Varchar(length=60)
    handled_at = Timestamptz(default=TimestamptzNow())


class Notification(Table, tablename="notification"):
    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, index=True)
    kind = Varchar(length=40)
    event_id = BigInt()
    data = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class SeedStep(Table, tablename="seed_step"):
    """A product default `hearth migrate` has applied: it is never applied again, so
    deleting what it made (the default rules, say) is for good."""

    id = BigSerial(primary_key=True)
    name = Varchar(length=100, unique=True)
    applied_at = Timestamptz(default=TimestamptzNow())


class MailMessage(Table, tablename="mail_message"):
    """A mail waiting to be sent (server.mail): written with what caused it, sent by the
    outbox's handler, at least once. Once sent its body is blanked (it may hold a
    single-use link) and the row kept a while, so that sending the same message again is a
    no-op."""

    id = BigSerial(primary_key=True)
    # Unique per message: a notification mail's is derived from its event, so a replay
    # queues nothing new; it also names the .eml file and the Message-ID header.
    key = Varchar(length=100, unique=True)
    recipient = Varchar(length=254)
    subject = Varchar(length=200)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None, index=True)


class AccountToken(Table, tablename="account_token"):
    """A single-use link sent by mail (password reset, new email confirmation). Only the
    sha256 of its secret is stored."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, index=True)
    purpose = Varchar(length=20)
    token_hash = Varchar(length=64, unique=True)
    # The address an email change moves to once confirmed.
    new_email = Varchar(length=254, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(default=TimestamptzNow(), index=True)
    used_at = Timestamptz(null=True, default=None)


class NotificationPreferences(Table, tablename="notification_preferences"):
    """A member's choices per notification kind, as JSON {kind: {"in_app": b, "email": b}};
    kinds not named take the defaults (server.notifications)."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, unique=True)
    data = Text(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())


class StaffLogEntry(Table, tablename="staff_log"):
    """One staff act (server.staff_log), written in the act's own transaction. Append-only:
    no code path updates or deletes a row. Labels are copied in, so an entry still reads
    after its actor or target is gone; ids carry no foreign keys for the same reason."""

    id = BigSerial(primary_key=True)
    actor_id = BigInt(null=True, default=None)
    # "@ana", "API token 'Shop sync' of @ben", or "system".
    actor_label = Varchar(length=120)
    # A dotted verb: "post.hide", "member.silence", "badge.grant", "token.revoke".
    action = Varchar(length=60)
    target_type = Varchar(length=30)
    target_id = Varchar(length=40, default="")
    target_label = Varchar(length=200, default="")
    # The brand whose staff may read the entry (None: admins only).
    brand_id = BigInt(null=True, default=None)
    # JSON of what changed, before and after (null when nothing existed or remains).
    before = Text(null=True, default=None)
    after = Text(null=True, default=None)
    reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class MemberSanction(Table, tablename="member_sanction"):
    """A silence (reads, cannot post, react or vote) or a suspension (cannot sign in) of a
    member, from starts_at until ends_at or until lifted (server.accounts.sanctions)."""

    id = BigSerial(primary_key=True)
    member = ForeignKey(references=Member, null=False, index=True)
    kind = Varchar(length=10)
    reason = Text()
    # What it answers, e.g. "review item 5"; empty when imposed from the member's page.
    source = Varchar(length=100, default="")
    # The member's offence count when imposed: its place on the escalation ladder.
    step = Integer(default=1)
    starts_at = Timestamptz(default=TimestamptzNow())
    ends_at = Timestamptz(default=TimestamptzNow(), index=True)
    # None: the system (an automatic action), else the staff member.
    imposed_by = BigInt(null=True, default=None)
    lifted_at = Timestamptz(null=True, default=None)
    lifted_by = BigInt(null=True, default=None)
    lift_reason = Text(default="")


class SanctionAppeal(Table, tablename="sanction_appeal"):
    """A member's one appeal of a sanction, decided by a moderator other than its imposer."""

    id = BigSerial(primary_key=True)
    sanction = ForeignKey(references=MemberSanction, null=False, unique=True)
    text = Text()
    # open | upheld | overturned
    status = Varchar(length=12, default="open", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by = BigInt(null=True, default=None)
    decision_reason = Text(default="")


class WatchedWord(Table, tablename="watched_word"):
    """A word or phrase moderators watch for (server.watched_words), stored normalized (lower
    case, single spaces), so the same pattern cannot be listed twice."""

    id = BigSerial(primary_key=True)
    pattern = Varchar(length=100, unique=True)
    # "block", "hold", "flag" or "replace".
    action = Varchar(length=10)
    replacement = Varchar(length=100, default="")
    created_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class WatchedWordList(Table, tablename="watched_word_list"):
    """One row: the list's version, bumped by every change in the change's transaction, so
    each process knows when to compile its matcher again."""

    id = BigInt(primary_key=True)
    version = BigInt(default=0)
