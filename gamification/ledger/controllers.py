"""HTTP endpoints for points: a member's balance and history; staff adjustments and budgets."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Parameter

from gamification.ledger import guards, services
from gamification.ledger.schemas import (
    AdjustmentIn,
    Balance,
    BudgetIn,
    HistoryPage,
    Invariants,
    RedemptionIn,
    ReversalIn,
    TransactionOut,
)
from server.accounts.services import get_brand, get_member
from server.auth import Actor
from server.types import MAX_ID

Cursor = Annotated[int, Parameter(ge=1, le=MAX_ID)]
PageSize = Annotated[int, Parameter(ge=1, le=100)]


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

    @get("/ledger/check")
    async def check(self, actor: Actor) -> Invariants:
        """Admins only: the ledger's invariants, recomputed from the postings."""
        guards.may_check(actor)
        return await services.check_invariants()
