"""HTTP endpoints for badges."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post, put
from litestar.params import Parameter

from gamification.badges import services
from gamification.badges.schemas import (
    BackfillOut,
    BadgeIn,
    BadgeOut,
    BadgePatch,
    EarnedBadge,
    FeaturedIn,
    GrantIn,
    GrantOut,
    GrantPage,
    MyBadges,
    RevokeIn,
)
from server.accounts.services import get_member
from server.auth import Actor
from server.types import MAX_ID


class BadgeController(Controller):
    tags = ["badges"]

    @get("/api/gamification/badges")
    async def list_badges(self, actor: Actor) -> list[BadgeOut]:
        """Enabled, non-secret badges; admins see all."""
        return await services.list_badges(actor)

    @post("/api/gamification/badges", status_code=201)
    async def create_badge(self, actor: Actor, data: BadgeIn) -> BadgeOut:
        """Admins only. Criteria: count, points, streak, first or manual. Everyone who already
        qualifies is granted it in the background (see .../backfill)."""
        return await services.create_badge(actor, data)

    @patch("/api/gamification/badges/{badge_id:int}")
    async def update_badge(self, actor: Actor, badge_id: int, data: BadgePatch) -> BadgeOut:
        return await services.update_badge(actor, badge_id, data)

    @get("/api/gamification/badges/{badge_id:int}/backfill")
    async def backfill(self, actor: Actor, badge_id: int) -> BackfillOut:
        return await services.backfill_progress(actor, badge_id)

    @post("/api/gamification/badges/{badge_id:int}/grants", status_code=201)
    async def grant(self, actor: Actor, badge_id: int, data: GrantIn) -> GrantOut:
        """Staff grant a badge by hand, with a reason (logged)."""
        return await services.grant_manually(actor, badge_id, data.member_id, data.reason)

    @get("/api/gamification/badges/{badge_id:int}/grants")
    async def list_grants(self, actor: Actor, badge_id: int,
                          before: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
                          limit: Annotated[int, Parameter(ge=1, le=100)] = 50) -> GrantPage:
        """Newest first, revoked ones too: admins see every grant, brand staff the grants
        their brand's staff made. Pass next_cursor back as `before`."""
        return await services.grants(actor, badge_id, before, limit)

    @post("/api/gamification/badges/{badge_id:int}/grants/{grant_id:int}/revoke", status_code=200)
    async def revoke(self, actor: Actor, badge_id: int, grant_id: int, data: RevokeIn) -> GrantOut:
        """Admins revoke any grant; brand staff the grants their brand's staff made."""
        return await services.revoke_manually(actor, badge_id, grant_id, data.reason)

    @get("/api/me/badges")
    async def my_badges(self, actor: Actor) -> MyBadges:
        """Earned badges, and visible unearned ones with progress."""
        return await services.mine(actor.member())

    @put("/api/me/badges/featured")
    async def feature(self, actor: Actor, data: FeaturedIn) -> list[EarnedBadge]:
        """Choose up to three badges you hold to show first on your profile, in order ([]:
        none). 422 for more than three, one listed twice, or one you do not hold. A badge
        taken back stops being featured."""
        return await services.feature(actor.member(), data.badge_ids)

    @get("/api/members/{member_id:int}/badges")
    async def member_badges(self, member_id: int) -> list[EarnedBadge]:
        """A member's earned badges, as their profile shows them: featured ones first."""
        await get_member(member_id)
        return await services.earned(member_id)
