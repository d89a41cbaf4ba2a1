"""The tier ladder a new Hearth starts with; `hearth migrate` applies it once (seed step)."""

from __future__ import annotations

from gamification.tiers import services
from gamification.tiers.schemas import LadderIn, TierIn
from gamification.tiers.tables import Tier
from server.auth import Actor

DEFAULT_LADDER = LadderIn(
    tiers=[TierIn(name="Member", threshold=0), TierIn(name="Regular", threshold=100),
           TierIn(name="Insider", threshold=500), TierIn(name="VIP", threshold=2000)],
    window_days=365, grace_days=30,
)


async def seed_default_ladder() -> None:
    """Sets the default ladder unless one is already set (setting it replaces the whole)."""
    if not await Tier.exists():
        await services.set_ladder(Actor(role="admin"), DEFAULT_LADDER)
