"""HTTP endpoints for points: a member's balance, history and expiries; staff adjustments,
budgets, and holds for a brand's checkout."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import Parameter

from gamification.ledger import chain, expiry, guards, holds, liability, services
from gamification.ledger.schemas import (
    AdjustmentIn,
    Balance,
    BrandLiability,
    BudgetIn,
    ChainVerification,
    Expiries,
    HistoryPage,
    HoldIn,
    HoldOut,
    HoldPostIn,
    Invariants,
    LiabilityReport,
    RedemptionIn,
    ReversalIn,
    TransactionOut,
)
from server import clock
from server.accounts.services import get_brand, get_member
from server.auth import Actor
from server.types import MAX_ID

Cursor = Annotated[int, Parameter(ge=1, le=MAX_ID)]
PageSize = Annotated[int, Parameter(ge=1, le=100)]
Months = Annotated[int, Parameter(ge=1, le=36, description="UTC months, this one included")]


def _csv(content: str, name: str) -> Response[str]:
    return Response(content, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}-{clock.today().isoformat()}.csv"'})


class PointsController(Controller):
    tags = ["points"]

    @get("/api/me/points")
    async def my_points(self, actor: Actor) -> Balance:
        """Spendable balance and lifetime points earned."""
        return await services.balance(actor.member())

    @get("/api/me/points/history")
    async def my_history(self, actor: Actor, before: Cursor | None = None,
                         limit: PageSize = 20) -> HistoryPage:
        """Newest first, each with its reason; pass next_cursor back as `before`."""
        return await services.history(services.member_account(actor.member()), before, limit)

    @get("/api/me/points/expiries")
    async def my_expiries(self, actor: Actor) -> Expiries:
        """What of my points expires when, by day, soonest first, and the program's policy."""
        return await expiry.upcoming(actor.member())

    @get("/api/members/{member_id:int}/points")
    async def member_points(self, actor: Actor, member_id: int) -> Balance:
        guards.may_see_points(actor, member_id)
        await get_member(member_id)
        return await services.balance(member_id)

    @get("/api/members/{member_id:int}/points/history")
    async def member_history(self, actor: Actor, member_id: int, before: Cursor | None = None,
                             limit: PageSize = 20) -> HistoryPage:
        counterpart = guards.history_seen_by(actor, member_id)
        await get_member(member_id)
        return await services.history(services.member_account(member_id), before, limit,
                                      counterpart)


class LedgerAdminController(Controller):
    path = "/api/gamification"
    tags = ["points"]

    @post("/adjustments", status_code=201)
    async def adjust(self, actor: Actor, data: AdjustmentIn) -> TransactionOut:
        """Goodwill credits, with a reason: admins from issuance (or a named brand's budget),
        brand staff from their brand's budget. Taking points away is for admins, and lowers
        only the spendable balance (kind `deduction`); lifetime points fall only by reversing
        what was earned. Keys are per brand."""
        await get_member(data.member_id)
        brand_id = await guards.may_adjust(actor, data.member_id, data.amount, data.brand_id)
        return await services.adjust(actor, member_id=data.member_id, amount=data.amount,
                                     reason=data.reason, key=data.idempotency_key,
                                     brand_id=brand_id)

    @post("/redemptions", status_code=201)
    async def redeem(self, actor: Actor, data: RedemptionIn) -> TransactionOut:
        """Spend a member's points (a brand's checkout or rewards catalogue calls this). The
        balance falls; lifetime points, tiers and leaderboards do not. 409 when the member
        has too few points."""
        await get_member(data.member_id)
        brand_id = await guards.may_redeem(actor, data.member_id, data.brand_id)
        return await services.redeem(member_id=data.member_id, amount=data.amount,
                                     reason=data.reason, key=data.idempotency_key,
                                     brand_id=brand_id, by=actor.accountable())

    @post("/brands/{brand_id:int}/budget", status_code=201)
    async def fund_budget(self, actor: Actor, brand_id: int, data: BudgetIn) -> TransactionOut:
        """Admins fund a brand's budget; a brand's awards and adjustments draw it down."""
        guards.may_fund(actor)
        await get_brand(brand_id)
        return await services.fund(actor, brand_id=brand_id, amount=data.amount,
                                   reason=data.reason, key=data.idempotency_key)

    @get("/brands/{brand_id:int}/budget")
    async def budget(self, actor: Actor, brand_id: int) -> dict[str, int]:
        await get_brand(brand_id)
        guards.may_see_budget(actor, brand_id)
        return {"brand_id": brand_id, "balance": await services.account_balance(
            services.brand_budget_account(brand_id))}

    @get("/brands/{brand_id:int}/budget/history")
    async def budget_history(self, actor: Actor, brand_id: int, before: Cursor | None = None,
                             limit: PageSize = 20) -> HistoryPage:
        """Where the budget went: funding, the brand's rule awards, challenge rewards and
        adjustments, newest first."""
        await get_brand(brand_id)
        guards.may_see_budget(actor, brand_id)
        return await services.history(services.brand_budget_account(brand_id), before, limit)

    @post("/transactions/{transaction_id:int}/reverse", status_code=201)
    async def reverse(self, actor: Actor, transaction_id: int, data: ReversalIn) -> TransactionOut:
        """Posts a reversing transaction; the original stays. Admins reverse anything, brand
        staff what their brand's budget paid. A member's balance never goes below zero: spent
        points are not recovered, and 409 when none are left."""
        guards.may_reverse(actor, await services.get_transaction(transaction_id))
        return await services.reverse_by_staff(actor, transaction_id, data.reason)

    @post("/holds", status_code=201)
    async def create_hold(self, actor: Actor, data: HoldIn) -> HoldOut:
        """A checkout reserves a member's points at the cart: they leave the available
        balance (still in the balance, as pending) until the hold is posted, voided, or
        voids itself after timeout_seconds. 409 when fewer points are available."""
        await get_member(data.member_id)
        brand_id = await guards.may_hold(actor, data.member_id, data.brand_id)
        return await holds.create(member_id=data.member_id, amount=data.amount,
                                  reason=data.reason, key=data.idempotency_key,
                                  brand_id=brand_id, timeout_seconds=data.timeout_seconds,
                                  by=actor.accountable())

    @get("/holds/{hold_id:int}")
    async def get_hold(self, actor: Actor, hold_id: int) -> HoldOut:
        hold = await holds.get(hold_id)
        guards.may_act_on_hold(actor, hold)
        return hold

    @post("/holds/{hold_id:int}/post", status_code=200)
    async def post_hold(self, actor: Actor, hold_id: int, data: HoldPostIn) -> HoldOut:
        """The order is placed: the hold becomes a redemption of `amount` (all of it when
        omitted; at most what is held, the rest released). 409 once it expired or was voided."""
        guards.may_act_on_hold(actor, await holds.get(hold_id))
        return await holds.post(hold_id, data.amount, actor.accountable())

    @post("/holds/{hold_id:int}/void", status_code=200)
    async def void_hold(self, actor: Actor, hold_id: int) -> HoldOut:
        """The cart is abandoned or the order cancelled: the held points are available again."""
        guards.may_act_on_hold(actor, await holds.get(hold_id))
        return await holds.void(hold_id)

    @get("/ledger/check")
    async def check(self, actor: Actor) -> Invariants:
        """Admins only: the ledger's invariants, recomputed from the postings."""
        guards.may_check(actor)
        return await services.check_invariants()

    @get("/ledger/verify")
    async def verify(self, actor: Actor) -> ChainVerification:
        """Admins only: walk the hash chain; the first transaction whose hash does not hold
        (expected and stored), or ok with the count."""
        guards.may_check(actor)
        return await chain.verify()

    @get("/brands/{brand_id:int}/liability")
    async def brand_liability(self, actor: Actor, brand_id: int,
                              months: Months = 12) -> BrandLiability:
        """A brand's points liability: its budget, what it issued and what was redeemed at it
        (all time and per month, with the redemption rate), and what expires within 30, 60
        and 90 days. This brand's staff and admins."""
        await get_brand(brand_id)
        guards.may_see_budget(actor, brand_id)
        return await liability.brand_liability(brand_id, months)

    @get("/brands/{brand_id:int}/liability.csv", media_type="text/csv")
    async def brand_liability_csv(self, actor: Actor, brand_id: int,
                                  months: Months = 12) -> Response[str]:
        """The brand's liability as CSV, one figure per line."""
        await get_brand(brand_id)
        guards.may_see_budget(actor, brand_id)
        return _csv(liability.to_csv(await liability.brand_liability(brand_id, months)),
                    f"liability-brand-{brand_id}")

    @get("/liability")
    async def liability_report(self, actor: Actor, months: Months = 12) -> LiabilityReport:
        """Admins only: the whole program's liability (member balances, budgets) and each
        brand's."""
        guards.may_see_all_liability(actor)
        return await liability.report(months)

    @get("/liability.csv", media_type="text/csv")
    async def liability_csv(self, actor: Actor, months: Months = 12) -> Response[str]:
        """Admins only: the liability report as CSV, one figure per line."""
        guards.may_see_all_liability(actor)
        return _csv(liability.to_csv(await liability.report(months)), "liability")
