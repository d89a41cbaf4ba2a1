"""API shapes for the rewards catalogue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from gamification.ledger.schemas import IdempotencyKey, Reason
from server.text import require_plain
from server.types import Id

# A CSV upload is at most this long (the request body cap is 1 MiB; codes are short).
MAX_CSV_CHARS = 500_000


class RewardIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=3, max_length=120)]
    price: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)]
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    image_url: Annotated[str, msgspec.Meta(max_length=500, pattern=r"^(https://\S*)?$")] = ""
    # None: unlimited.
    stock: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] | None = None
    per_member_limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    # The lowest tier that may redeem ("" anyone); and/or a badge they must hold.
    min_tier: Annotated[str, msgspec.Meta(max_length=60)] = ""
    badge_id: Id | None = None
    # With a UTC offset or zone.
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    fulfilment: Annotated[str, msgspec.Meta(pattern=r"^(codes|webhook)$")] = "codes"
    published: bool = False

    def __post_init__(self) -> None:
        require_plain(title=self.title)


class RewardOut(msgspec.Struct):
    id: int
    brand_id: int
    title: str
    description: str
    image_url: str
    price: int
    stock: int | None
    per_member_limit: int | None
    min_tier: str
    badge_id: int | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    fulfilment: str
    published: bool
    # Codes left in the pool (0 for webhook fulfilment).
    codes_available: int
    redeemed: int


class CatalogueItem(msgspec.Struct):
    reward: RewardOut
    # Whether the member may redeem it now, and if not, why (price above balance included).
    available: bool
    why_not: str | None
    # The member's redemptions of it that stand (not refunded).
    mine: int


class RedeemIn(msgspec.Struct, forbid_unknown_fields=True):
    # From the client, once per intent: a double click or a retry is one redemption.
    idempotency_key: IdempotencyKey


class RedemptionOut(msgspec.Struct):
    id: int
    reward_id: int
    brand_id: int
    member_id: int
    title: str
    points: int
    # The coupon code, for its owner only ("" for webhook fulfilment).
    code: str
    fulfilment: str
    status: str
    transaction_id: int
    created_at: dt.datetime
    refunded_at: dt.datetime | None
    refund_reason: str
    # Staff views name the member.
    member_handle: str = ""


class RedemptionPage(msgspec.Struct):
    items: list[RedemptionOut]
    next_cursor: int | None


class CodesIn(msgspec.Struct, forbid_unknown_fields=True):
    # One code per line; a first line "code" is a header. Blank lines are skipped.
    # At most MAX_CSV_CHARS characters (checked by the service, to name the field in a 422).
    csv: str


class CodesOut(msgspec.Struct):
    imported: int
    codes_available: int


class RefundIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
