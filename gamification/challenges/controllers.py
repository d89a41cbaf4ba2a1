"""HTTP endpoints for challenges."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.params import Parameter

from gamification.challenges import services
from gamification.challenges.schemas import (
    ChallengeIn,
    ChallengeOut,
    EntriesPage,
    MyChallenge,
    StandingOut,
)
from server.auth import Actor
from server.types import MAX_ID


class ChallengeController(Controller):
    path = "/api/challenges"
    tags = ["challenges"]

    @get("/")
    async def list_challenges(self, actor: Actor) -> list[ChallengeOut]:
        """Published challenges; a brand's staff also see its drafts."""
        return await services.list_challenges(actor)

    @post("/", status_code=201)
    async def create(self, actor: Actor, data: ChallengeIn) -> ChallengeOut:
        """Brand staff (of that brand) or admins. Starts as a draft."""
        return await services.create(actor, data)

    @get("/{challenge_id:int}")
    async def get_challenge(self, actor: Actor, challenge_id: int) -> ChallengeOut:
        return await services.get(actor, challenge_id)

    @put("/{challenge_id:int}")
    async def update(self, actor: Actor, challenge_id: int, data: ChallengeIn) -> ChallengeOut:
        """Rewrite a draft or scheduled challenge (its tasks too); 409 once it has started."""
        return await services.update(actor, challenge_id, data)

    @delete("/{challenge_id:int}", status_code=204)
    async def delete_draft(self, actor: Actor, challenge_id: int) -> Response[None]:
        """Drafts only: a published challenge is cancelled instead, so members' entries stay."""
        await services.delete_draft(actor, challenge_id)
        return Response(None, status_code=204)

    @post("/{challenge_id:int}/cancel", status_code=200)
    async def cancel(self, actor: Actor, challenge_id: int) -> ChallengeOut:
        """Stop it for good: members can no longer join or progress; completions stand."""
        return await services.cancel(actor, challenge_id)

    @post("/{challenge_id:int}/publish", status_code=200)
    async def publish(self, actor: Actor, challenge_id: int) -> ChallengeOut:
        """draft -> scheduled; the scheduler makes it active at starts_at and ends it at ends_at."""
        return await services.publish(actor, challenge_id)

    @post("/{challenge_id:int}/join", status_code=200)
    async def join(self, actor: Actor, challenge_id: int) -> MyChallenge:
        return await services.join(actor, challenge_id)

    @get("/{challenge_id:int}/me")
    async def my_progress(self, actor: Actor, challenge_id: int) -> MyChallenge:
        member_id = actor.member()
        await services.get(actor, challenge_id)
        return await services.mine(member_id, challenge_id)

    @get("/{challenge_id:int}/leaderboard")
    async def leaderboard(self, actor: Actor, challenge_id: int,
                          limit: Annotated[int, Parameter(ge=1, le=100)] = 20) -> list[StandingOut]:
        """Ranked by task progress with competition ranking (1, 2, 2, 4); staff left out."""
        return await services.standings(actor, challenge_id, limit)

    @get("/{challenge_id:int}/entries")
    async def entries(self, actor: Actor, challenge_id: int,
                      before: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
                      limit: Annotated[int, Parameter(ge=1, le=100)] = 50) -> EntriesPage:
        """The brand's staff or an admin: every entry with its task progress, newest first
        (pass next_cursor back as `before`), and how many entered and completed."""
        return await services.entries(actor, challenge_id, before, limit)
