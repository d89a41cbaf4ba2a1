"""HTTP endpoints for leaderboards."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.params import Parameter

from gamification.leaderboards import services
from gamification.leaderboards.services import (
    AroundPage,
    BoardPage,
    ExclusionOut,
    SeasonIn,
    SeasonOut,
)
from server.auth import Actor

PageSize = Annotated[int, Parameter(ge=1, le=100)]
Offset = Annotated[int, Parameter(ge=0, le=1_000_000)]
Neighbours = Annotated[int, Parameter(ge=0, le=50)]


class LeaderboardController(Controller):
    path = "/api/leaderboards"
    tags = ["leaderboards"]

    @get("/seasons")
    async def seasons(self) -> list[SeasonOut]:
        """Seasons and the board name of each (`season:ID`)."""
        return await services.list_seasons()

    @post("/seasons", status_code=201)
    async def create_season(self, actor: Actor, data: SeasonIn) -> SeasonOut:
        """Admins only. Points already earned inside its dates are counted (boards rebuild)."""
        return await services.create_season(actor, data)

    @get("/{board:str}")
    async def top(self, actor: Actor, board: str, limit: PageSize = 20,
                  offset: Offset = 0) -> BoardPage:
        """Boards: all-time, week, month (current), week:YYYY-Www, month:YYYY-MM,
        category:ID (readable by whoever may read the category), season:ID. Staff and
        excluded members are left out."""
        return await services.top(actor, board, limit, offset)

    @get("/{board:str}/around-me")
    async def around_me(self, actor: Actor, board: str, n: Neighbours = 5) -> AroundPage:
        """Your rank with n members above and below; `me` is null when you are not ranked."""
        return await services.around(actor, board, actor.member(), n)

    @get("/{board:str}/members/{member_id:int}")
    async def around_member(self, actor: Actor, board: str, member_id: int,
                            n: Neighbours = 5) -> AroundPage:
        return await services.around_member(actor, board, member_id, n)

    @get("/exclusions")
    async def exclusions(self, actor: Actor) -> list[ExclusionOut]:
        """Admins only: the members kept off every board."""
        return await services.list_exclusions(actor)

    @put("/exclusions/{member_id:int}", status_code=204)
    async def exclude(self, actor: Actor, member_id: int) -> Response[None]:
        """Admins only: keep a member off every board."""
        await services.set_excluded(actor, member_id, True)
        return Response(None, status_code=204)

    @delete("/exclusions/{member_id:int}", status_code=204)
    async def include(self, actor: Actor, member_id: int) -> Response[None]:
        await services.set_excluded(actor, member_id, False)
        return Response(None, status_code=204)
