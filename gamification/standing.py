"""A member's public standing for their profile: their tier (from tiers) and all-time points
(from the ledger), the points only when the leaderboards show the member anyway."""

from __future__ import annotations

import msgspec
from litestar import Controller, get

from gamification.leaderboards import services as leaderboards
from gamification.ledger import services as ledger
from gamification.tiers import services as tiers
from server.accounts.services import public_member


class MemberStanding(msgspec.Struct):
    member_id: int
    # Their tier on the ladder; None below the first.
    tier: str | None
    # Points earned all time, as the all-time board counts them; None for members the boards
    # leave out (staff, excluded members), whose points stay theirs and staff's.
    points: int | None


async def standing(member_id: int) -> MemberStanding:
    await public_member(member_id)
    tier = (await tiers.mine(member_id)).tier
    points = None
    if await leaderboards.on_boards(member_id):
        points = (await ledger.balance(member_id)).lifetime_earned
    return MemberStanding(member_id=member_id, tier=tier.name if tier else None, points=points)


class StandingController(Controller):
    tags = ["leaderboards"]

    @get("/api/members/{member_id:int}/standing")
    async def standing(self, member_id: int) -> MemberStanding:
        """Public: a member's tier, and their all-time points unless the leaderboards leave
        them out (staff, excluded members: then null). 404 for unknown or suspended members."""
        return await standing(member_id)
