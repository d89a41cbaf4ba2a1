"""HTTP endpoints for points: a member's balance and history; staff adjustments and budgets."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Parameter

from gamification.ledger import services
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
from server.errors import Forbidden, Invalid
from server.types import MAX_ID

Cursor = Annotated[int, Parameter(ge=1, le=MAX_ID)]
PageSize = Annotated[int, Parameter(ge=1, le=100)]


def _may_see_points(actor: Actor, member_id: int) -> None:
    if actor.member() != member_id and not actor.is_admin and actor.role != "brand_staff":
        raise Forbidden("a member's points are visible to them and to staff")


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
        _may_see_points(actor, member_id)
        await get_member(member_id)
        return await services.balance(member_id)

    @get("/api/members/{member_id:int}/points/history")
    async def member_history(self, actor: Actor, member_id: int, before: Cursor | None = None,
                             limit: PageSize = 20) -> HistoryPage:
        _may_see_points(actor, member_id)
        await get_member(member_id)
        return await services.history(services.member_account(member_id), before, limit)


async def _acting_for(actor: Actor, brand_id: int | None, what: str) -> int | None:
    """The brand whose budget a staff act uses: the one named, else a brand staff member's
    own; None (issuance) for an admin naming none."""
    brand_id = brand_id if brand_id is not None else (
        actor.brand_id if actor.role == "brand_staff" else None)
    if brand_id is None:
        if not actor.is_admin:
            raise Forbidden(f"only admins and brand staff {what}")
        return None
    await get_brand(brand_id)
    if not actor.manages_brand(brand_id):
        raise Forbidden(f"only this brand's staff or an admin may {what} for it")
    return brand_id


class LedgerAdminController(Controller):
    path = "/api/gamification"
    tags = ["points"]

    @post("/adjustments", status_code=201)
    async def adjust(self, actor: Actor, data: AdjustmentIn) -> TransactionOut:
        """Goodwill credits or corrections, with a reason. Admins post against issuance (or a
        named brand's budget); brand staff against their brand's budget."""
        staff_id = actor.member()
        await get_member(data.member_id)
        brand_id = await _acting_for(actor, data.brand_id, "adjust points")
        counterpart = services.ISSUANCE if brand_id is None else \
            services.brand_budget_account(brand_id)
        if data.amount == 0:
            raise Invalid("an adjustment of 0 points changes nothing")
        return await services.post(
            key=f"adjust:{data.idempotency_key}", kind="adjustment", reason=data.reason,
            source=f"staff:{staff_id}", created_by=staff_id,
            postings=[(services.member_account(data.member_id), data.amount),
                      (counterpart, -data.amount)],
        )

    @post("/redemptions", status_code=201)
    async def redeem(self, actor: Actor, data: RedemptionIn) -> TransactionOut:
        """Spend a member's points (a brand's checkout or rewards catalogue calls this). The
        balance falls; lifetime points, tiers and leaderboards do not. 409 when the member
        has too few points."""
        staff_id = actor.member()
        await get_member(data.member_id)
        brand_id = await _acting_for(actor, data.brand_id, "redeem points")
        # Redeemed points leave circulation: they go back to the issuance account.
        return await services.post(
            # Per brand: two shops' order numbers may be the same.
            key=f"redeem:{brand_id or 'issuance'}:{data.idempotency_key}", kind="redemption",
            reason=data.reason,
            source=f"brand:{brand_id}:redemption" if brand_id else f"staff:{staff_id}",
            created_by=staff_id,
            postings=[(services.member_account(data.member_id), -data.amount),
                      (services.ISSUANCE, data.amount)],
        )

    @post("/brands/{brand_id:int}/budget", status_code=201)
    async def fund_budget(self, actor: Actor, brand_id: int, data: BudgetIn) -> TransactionOut:
        """Admins fund a brand's budget; a brand's awards and adjustments draw it down."""
        if not actor.is_admin:
            raise Forbidden("only admins fund brand budgets")
        await get_brand(brand_id)
        return await services.post(
            key=f"fund:{data.idempotency_key}", kind="funding", reason=data.reason,
            source=f"brand:{brand_id}", created_by=actor.member(),
            postings=[(services.brand_budget_account(brand_id), data.amount),
                      (services.ISSUANCE, -data.amount)],
        )

    @get("/brands/{brand_id:int}/budget")
    async def budget(self, actor: Actor, brand_id: int) -> dict[str, int]:
        await get_brand(brand_id)
        if not actor.manages_brand(brand_id):
            raise Forbidden("only this brand's staff or an admin may see its budget")
        return {"brand_id": brand_id, "balance": await services.account_balance(
            services.brand_budget_account(brand_id))}

    @get("/brands/{brand_id:int}/budget/history")
    async def budget_history(self, actor: Actor, brand_id: int, before: Cursor | None = None,
                             limit: PageSize = 20) -> HistoryPage:
        """Where the budget went: funding, the brand's rule awards, challenge rewards and
        adjustments, newest first."""
        await get_brand(brand_id)
        if not actor.manages_brand(brand_id):
            raise Forbidden("only this brand's staff or an admin may see its budget")
        return await services.history(services.brand_budget_account(brand_id), before, limit)

    @post("/transactions/{transaction_id:int}/reverse", status_code=201)
    async def reverse(self, actor: Actor, transaction_id: int, data: ReversalIn) -> TransactionOut:
        """Admins only. Posts a reversing transaction; the original stays."""
        if not actor.is_admin:
            raise Forbidden("only admins reverse ledger transactions")
        return await services.reverse(transaction_id, data.reason, created_by=actor.member())

    @get("/ledger/check")
    async def check(self, actor: Actor) -> Invariants:
        """Admins only: the ledger's invariants, recomputed from the postings."""
        if not actor.is_admin:
            raise Forbidden("only admins check the ledger")
        return await services.check_invariants()
