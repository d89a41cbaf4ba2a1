"""API shapes for points, history and adjustments."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from server.types import Id

Amount = Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=500)]
IdempotencyKey = Annotated[str, msgspec.Meta(min_length=8, max_length=120, pattern=r"^[A-Za-z0-9_.:-]+$")]


class PostingOut(msgspec.Struct):
    account: str
    amount: int


class TransactionOut(msgspec.Struct):
    id: int
    idempotency_key: str
    kind: str
    reason: str
    source: str
    reverses: int | None
    category_id: int | None
    created_at: dt.datetime
    postings: list[PostingOut]


class Balance(msgspec.Struct):
    member_id: int
    # Spendable now.
    balance: int
    # Everything earned, net of reversals; spending never lowers it.
    lifetime_earned: int
    # Spendable now: the balance less what pending holds reserve for checkouts.
    available: int
    # Reserved by pending holds.
    pending: int


class HistoryEntry(msgspec.Struct):
    id: int
    transaction_id: int
    amount: int
    kind: str
    reason: str
    source: str
    created_at: dt.datetime


class HistoryPage(msgspec.Struct):
    items: list[HistoryEntry]
    next_cursor: int | None


class AdjustmentIn(msgspec.Struct, forbid_unknown_fields=True):
    member_id: Id
    amount: Amount
    reason: Reason
    # Retrying with the same key never adjusts twice.
    idempotency_key: IdempotencyKey
    # Brand staff adjust from their brand's budget; admins from issuance unless a brand is named.
    brand_id: Id | None = None


class RedemptionIn(msgspec.Struct, forbid_unknown_fields=True):
    member_id: Id
    # Points taken from the member's balance: a reward, a discount, an order.
    amount: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)]
    reason: Reason
    # Retrying with the same key never redeems twice (an order id makes a good key).
    idempotency_key: IdempotencyKey
    # Where they were redeemed; brand staff and brand API tokens redeem at their own brand.
    brand_id: Id | None = None


class BudgetIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)]
    reason: Reason
    idempotency_key: IdempotencyKey


class ReversalIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class Invariants(msgspec.Struct):
    postings_sum: int
    unbalanced_transactions: list[int]
    balances_not_matching_postings: list[str]
    accounts_below_minimum: list[str]
    # Member accounts whose lots do not add up to the balance, or whose held points to
    # their pending holds.
    lots_or_holds_not_matching: list[str]
    checked_at: dt.datetime

    @property
    def ok(self) -> bool:
        return not (self.postings_sum or self.unbalanced_transactions
                    or self.balances_not_matching_postings or self.accounts_below_minimum
                    or self.lots_or_holds_not_matching)


class ChainBreak(msgspec.Struct):
    # The first transaction whose link does not hold.
    transaction_id: int
    # The hash its contents and its predecessor give, and the one stored (None: none).
    expected: str
    stored: str | None
    problem: str


class ChainVerification(msgspec.Struct):
    ok: bool
    # Transactions whose links held, from the first on.
    checked: int
    # The newest chained transaction and its hash when the walk began: writing that hash
    # down elsewhere makes a rewrite of the whole chain up to it detectable too.
    head_transaction: int
    head_hash: str
    broken: ChainBreak | None
    verified_at: dt.datetime


class MonthFigures(msgspec.Struct):
    # A UTC month, "2026-11".
    month: str
    # Points paid to members (net of reversals) and redeemed (net of refunds) that month.
    issued: int
    redeemed: int
    # redeemed / issued; None when nothing was issued.
    redemption_rate: float | None


class Expiring(msgspec.Struct):
    within_30_days: int
    within_60_days: int
    within_90_days: int


class BrandLiability(msgspec.Struct):
    brand_id: int
    brand: str
    # Funded and not yet given out.
    budget_balance: int
    # What the budget paid members, net of reversals, and what was redeemed at the brand,
    # net of refunds, all time; their difference less what expired of the points it paid is
    # the brand's share of member balances (attributed: points are one currency, spendable
    # anywhere).
    issued: int
    redeemed: int
    net_outstanding: int
    expiring: Expiring
    months: list[MonthFigures]


class LiabilityReport(msgspec.Struct):
    generated_at: dt.datetime
    # Every member balance, and every brand budget.
    members_outstanding: int
    budgets_outstanding: int
    issued: int
    redeemed: int
    expiring: Expiring
    months: list[MonthFigures]
    brands: list[BrandLiability]




HoldTimeout = Annotated[int, msgspec.Meta(ge=1, le=30 * 86400)]


class HoldIn(msgspec.Struct, forbid_unknown_fields=True):
    member_id: Id
    # Points reserved from the member's available balance (a cart's price in points).
    amount: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)]
    reason: Reason
    # Retrying with the same key never holds twice (a cart id makes a good key).
    idempotency_key: IdempotencyKey
    # Seconds until the hold voids itself if neither posted nor voided (at most 30 days).
    timeout_seconds: HoldTimeout = 900
    # Brand staff and brand API tokens hold at their own brand.
    brand_id: Id | None = None


class HoldPostIn(msgspec.Struct, forbid_unknown_fields=True):
    # Points to take, at most the amount held (the rest is released); omitted: all of it.
    amount: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] | None = None


class HoldOut(msgspec.Struct):
    id: int
    member_id: int
    brand_id: int | None
    amount: int
    posted: int
    # pending, posted, voided or expired
    status: str
    reason: str
    expires_at: dt.datetime
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    # The redemption a post recorded.
    transaction_id: int | None


class ExpiringPoints(msgspec.Struct):
    # The UTC day these points expire.
    date: dt.date
    amount: int


class Expiries(msgspec.Struct):
    # never, earning or activity (see HEARTH_POINTS_EXPIRY)
    policy: str
    months: int | None
    upcoming: list[ExpiringPoints]
