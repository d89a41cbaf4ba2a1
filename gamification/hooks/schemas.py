"""API shapes of outbound webhooks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
EventTypes = Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]],
                       msgspec.Meta(min_length=1, max_length=50)]
Description = Annotated[str, msgspec.Meta(max_length=200)]


class EndpointIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    # Webhook event types (GET .../webhooks/event-types).
    event_types: EventTypes
    description: Description = ""


class EndpointPatch(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    # Enabling again clears the failure count; pending deliveries resume.
    enabled: bool | None = None


class EndpointOut(msgspec.Struct):
    id: int
    brand_id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str
    # "sha256:" and the first 8 hex digits of the secret's SHA-256, to tell secrets apart
    # without giving away any of it; the whole secret is shown once.
    secret_hint: str
    # Until then deliveries are also signed with the secret before the last rotation.
    previous_secret_until: dt.datetime | None
    consecutive_failures: int
    created_at: dt.datetime


class EndpointSecretOut(EndpointOut):
    """Returned once, on creation and rotation: keep the secret, it is not shown again."""

    secret: str = ""


class DeliveryOut(msgspec.Struct):
    id: int
    endpoint_id: int
    message_id: str
    event_type: str
    event_id: int | None
    # pending, delivered or dead.
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    last_status_code: int | None
    last_latency_ms: int | None
    last_response: str
    last_error: str


class DeliveryPage(msgspec.Struct):
    items: list[DeliveryOut]
    next_cursor: int | None


class AttemptOut(msgspec.Struct):
    id: int
    attempted_at: dt.datetime
    http_status: int | None
    latency_ms: int
    response_excerpt: str
    error: str


class DeliveryDetail(DeliveryOut):
    payload: str = ""
    attempt_log: list[AttemptOut] = msgspec.field(default_factory=list)


class ReplayIn(msgspec.Struct, forbid_unknown_fields=True):
    """Deliveries created in [since, until) are sent again, whatever their status."""

    since: dt.datetime
    until: dt.datetime


class ReplayOut(msgspec.Struct):
    replayed: int


class WebhookTypeOut(msgspec.Struct):
    type: str
    description: str
    scope: str
