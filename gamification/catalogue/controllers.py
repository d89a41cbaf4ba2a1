"""HTTP endpoints for the rewards catalogue: members browse and redeem; brand staff publish
rewards, fill code pools, and refund redemptions."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import Parameter

from gamification.catalogue import services
from gamification.catalogue.schemas import (
    CatalogueItem,
    CodesIn,
    CodesOut,
    RedeemIn,
    RedemptionOut,
    RedemptionPage,
    RefundIn,
    RewardIn,
    RewardOut,
)
from server.auth import Actor
from server.types import MAX_ID

Cursor = Annotated[int, Parameter(ge=1, le=MAX_ID)]
PageSize = Annotated[int, Parameter(ge=1, le=100)]


class CatalogueController(Controller):
    tags = ["rewards"]

    @get("/api/rewards")
    async def catalogue(self, actor: Actor,
                        brand_id: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
                        ) -> list[CatalogueItem]:
        """Published rewards, cheapest first, each with whether you may redeem it now and, if
        not, why (not yet open, closed, tier or badge, sold out, your limit, your balance)."""
        return await services.catalogue(actor, brand_id)

    @post("/api/rewards/{reward_id:int}/redeem", status_code=201)
    async def redeem(self, actor: Actor, reward_id: int, data: RedeemIn) -> RedemptionOut:
        """Spend your points on it: one transaction debits the points and takes one code. The
        same idempotency key returns the same redemption. 403 when you are not eligible; 409
        when it is not on offer now, sold out, over your limit or you are short of points."""
        return await services.redeem(actor, reward_id, data.idempotency_key)

    @get("/api/me/redemptions")
    async def my_redemptions(self, actor: Actor, before: Cursor | None = None,
                             limit: PageSize = 20) -> RedemptionPage:
        """Your redemptions with their codes, newest first; pass next_cursor back as `before`."""
        return await services.my_redemptions(actor, before, limit)


class BrandCatalogueController(Controller):
    path = "/api/brands/{brand_id:int}"
    tags = ["rewards"]

    @get("/rewards")
    async def rewards(self, actor: Actor, brand_id: int) -> list[RewardOut]:
        """The brand's rewards, unpublished ones included (its staff and admins)."""
        return await services.staff_list(actor, brand_id)

    @post("/rewards", status_code=201)
    async def create(self, actor: Actor, brand_id: int, data: RewardIn) -> RewardOut:
        return await services.create(actor, brand_id, data)

    @put("/rewards/{reward_id:int}")
    async def update(self, actor: Actor, brand_id: int, reward_id: int,
                     data: RewardIn) -> RewardOut:
        """Rewrite it (publish or withdraw with `published`); redemptions made stand."""
        return await services.update(actor, brand_id, reward_id, data)

    @post("/rewards/{reward_id:int}/codes", status_code=201)
    async def upload_codes(self, actor: Actor, brand_id: int, reward_id: int,
                           data: CodesIn) -> CodesOut:
        """Add a CSV of codes (one per line, optional "code" header) to the pool. Any bad
        line, a duplicate in the file or a code already in the pool refuses the whole file:
        422 with each line in `details`."""
        return await services.upload_codes(actor, brand_id, reward_id, data.csv)

    @get("/redemptions")
    async def redemptions(self, actor: Actor, brand_id: int,
                          reward_id: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
                          before: Cursor | None = None, limit: PageSize = 20) -> RedemptionPage:
        return await services.brand_redemptions(actor, brand_id, reward_id, before, limit)

    @post("/redemptions/{redemption_id:int}/refund", status_code=200)
    async def refund(self, actor: Actor, brand_id: int, redemption_id: int,
                     data: RefundIn) -> RedemptionOut:
        """Points and stock come back; the code is void, never issued again. 409 if refunded."""
        return await services.refund(actor, brand_id, redemption_id, data.reason)
