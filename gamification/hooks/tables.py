"""Outbound webhooks: a brand's endpoints, one delivery per (event, endpoint), and the log of
each attempt to send one."""

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


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    id = BigSerial(primary_key=True)
    brand = ForeignKey(references=Brand, index=True)
    url = Varchar(length=2000)
    description = Varchar(length=200, default="")
    # Space-separated webhook event types (gamification.hooks.types).
    event_types = Text()
    # "whsec_" + base64; kept in the clear because every delivery is signed with it.
    secret = Varchar(length=100)
    # The secret before the last rotation, still signed with until previous_until.
    previous_secret = Varchar(length=100, null=True, default=None)
    previous_until = Timestamptz(null=True, default=None)
    enabled = Boolean(default=True)
    disabled_reason = Text(default="")
    # Failed attempts in a row, across its deliveries: past the setting, it is disabled.
    consecutive_failures = Integer(default=0)
    created_by = ForeignKey(references=Member, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table, tablename="webhook_delivery"):
    id = BigSerial(primary_key=True)
    endpoint = ForeignKey(references=WebhookEndpoint, index=True)
    # "<outbox event id>:<endpoint id>": one delivery per event and endpoint, however often
    # the event is handed over. Null for test pings.
    dedupe_key = Varchar(length=60, null=True, default=None, unique=True)
    event_id = BigInt(null=True, default=None)
    # The webhook-id header: the same on every attempt and replay, for receivers to dedupe.
    message_id = Varchar(length=40)
    event_type = Varchar(length=40)
    # The JSON body sent, fixed at creation so every attempt signs the same bytes.
    payload = Text()
    # pending, delivered or dead (retries used up).
    status = Varchar(length=10, default="pending", index=True)
    attempts = Integer(default=0)
    # Attempts in the current round (a replay starts a new round of the retry schedule).
    round_attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=TimestamptzNow(), index=True)
    # A sender holds it until then; a dead sender's delivery is taken over after.
    claimed_until = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    last_status_code = Integer(null=True, default=None)
    last_latency_ms = Integer(null=True, default=None)
    last_response = Text(default="")
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class WebhookAttempt(Table, tablename="webhook_attempt"):
    id = BigSerial(primary_key=True)
    delivery = ForeignKey(references=WebhookDelivery, index=True)
    attempted_at = Timestamptz(default=TimestamptzNow())
    status_code = Integer(null=True, default=None)
    latency_ms = Integer(default=0)
    # The first characters of the response body (capped), or empty.
    response_excerpt = Text(default="")
    # Why it failed without a response (refused address, timeout, connection), or empty.
    error = Text(default="")
