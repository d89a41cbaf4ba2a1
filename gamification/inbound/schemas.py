"""API shapes for inbound events and the custom types brands declare."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from server.types import Id

MAX_BATCH = 500

# Orders, reviews and referrals are the brand's own ids: they go into ledger sources
# ("order:<brand>:<id>"), where a colon would nest one under another.
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=100,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/#-]*$")]
# Not `Decimal`: a JSON number would arrive as a float and round; a string is exact.
Amount = Annotated[str, msgspec.Meta(min_length=1, max_length=24)]
FieldName = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
TypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


class MemberRef(msgspec.Struct, forbid_unknown_fields=True):
    """Who the event is about: a member id, or the email the member signed up with (what a
    shop knows). Exactly one."""

    id: Id | None = None
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=254)] | None = None


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """`type`: order.completed, order.refunded, review.posted, referral.converted, or a
    custom type the brand declared. `data` holds the type's fields."""

    type: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    member: MemberRef
    data: dict[str, Any] = {}


class BatchEventIn(msgspec.Struct, forbid_unknown_fields=True):
    """One event of a batch: its Idempotency-Key rides in the body."""

    idempotency_key: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    member: MemberRef
    data: dict[str, Any] = {}


class EventBatchIn(msgspec.Struct, forbid_unknown_fields=True):
    events: Annotated[list[BatchEventIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class OrderCompletedData(msgspec.Struct, forbid_unknown_fields=True):
    order_id: Reference
    # A decimal string such as "42.50", with at most the currency's minor-unit digits.
    amount: Amount
    # ISO 4217, e.g. "EUR".
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)]


class OrderRefundedData(msgspec.Struct, forbid_unknown_fields=True):
    order_id: Reference


class ReviewPostedData(msgspec.Struct, forbid_unknown_fields=True):
    review_id: Reference
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None


class ReferralConvertedData(msgspec.Struct, forbid_unknown_fields=True):
    referral_id: Reference


class InboundOut(msgspec.Struct):
    """The recorded outcome: the same for every request with this Idempotency-Key."""

    id: int
    type: str
    idempotency_key: str
    member_id: int
    reference: str
    summary: str
    received_at: dt.datetime
    outcome: str = "accepted"


class BatchResult(msgspec.Struct):
    event: InboundOut
    # Recorded by an earlier request (or earlier in this batch) with this key and body.
    replayed: bool


class EventBatchOut(msgspec.Struct):
    """In the order the events were sent."""

    results: list[BatchResult]


class InboundEventOut(msgspec.Struct):
    """One reported event as the brand's console lists it, with the points it moved."""

    id: int
    type: str
    idempotency_key: str
    member_id: int
    reference: str
    summary: str
    received_at: dt.datetime
    outcome: str
    # Points members were awarded for its order, review, referral or custom event so far,
    # and taken back since (a refund's row shows its order's).
    points_awarded: int
    points_reversed: int


class InboundEventPage(msgspec.Struct):
    items: list[InboundEventOut]
    next_cursor: int | None


class CustomField(msgspec.Struct, forbid_unknown_fields=True):
    name: FieldName
    type: Annotated[str, msgspec.Meta(pattern=r"^(text|integer|number|boolean)$")]
    required: bool = False
    # For text fields: the longest value accepted.
    max_length: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 200


class CustomTypeIn(msgspec.Struct, forbid_unknown_fields=True):
    name: TypeName
    fields: Annotated[list[CustomField], msgspec.Meta(max_length=20)] = []


class CustomTypeOut(msgspec.Struct):
    id: int
    brand_id: int
    name: str
    fields: list[CustomField]
    created_at: dt.datetime
