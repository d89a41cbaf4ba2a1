"""HTTP endpoints for tiers."""

from __future__ import annotations

from litestar import Controller, get, put

from gamification.tiers import services
from gamification.tiers.schemas import LadderIn, LadderOut, MyTier
from server.auth import Actor


class TierController(Controller):
    tags = ["tiers"]

    @get("/api/gamification/tiers")
    async def ladder(self) -> LadderOut:
        """The ladder: thresholds are points earned within the rolling window."""
        return await services.ladder()

    @put("/api/gamification/tiers")
    async def set_ladder(self, actor: Actor, data: LadderIn) -> LadderOut:
        """Admins only: replace the ladder, its window and its grace period."""
        return await services.set_ladder(actor, data)

    @get("/api/me/tier")
    async def my_tier(self, actor: Actor) -> MyTier:
        """Your tier, points earned in the window, progress to the next, any pending demotion."""
        return await services.mine(actor.member())
