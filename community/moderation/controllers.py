"""HTTP endpoints for flags and the review queue: parse, authorise via the actor, call a
service. Everything here is about a person (a flagger, a moderator): API tokens are refused."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.params import Parameter

from community.moderation import services
from community.moderation.schemas import (
    STATUSES,
    ActionIn,
    BulkIn,
    BulkOut,
    FlagIn,
    FlagOut,
    ItemDetail,
    ItemOut,
    ItemPage,
)
from server import ratelimit, runtime
from server.auth import PEOPLE_ONLY_OPT, Actor
from server.types import MAX_ID

Status = Annotated[str, Parameter(pattern="^(" + "|".join(STATUSES) + ")$",
                                  description="open (the default) or a decision")]
Sort = Annotated[str, Parameter(pattern="^(score|age)$",
                                description="score: highest first; age: oldest first")]
Kind = Annotated[str | None, Parameter(pattern=r"^[a-z_]{1,30}$",
                                       description="post, thread, profile...")]
OptionalId = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]
PageSize = Annotated[int, Parameter(ge=1, le=100, description="page size, 1 to 100")]
Cursor = Annotated[str | None, Parameter(max_length=100, description="next_cursor of the "
                                                                     "page before")]


class FlagController(Controller):
    path = "/api/flags"
    tags = ["moderation"]
    opt = {PEOPLE_ONLY_OPT: True}

    @post("/", status_code=201)
    async def create_flag(self, actor: Actor, data: FlagIn) -> FlagOut:
        """Flag a post, thread or profile for the moderators. One open flag per member and
        target (409); never one's own content (403); deleted or unknown targets are 404;
        rate-limited (429). The flag's weight and why are in the answer."""
        await ratelimit.check("flag", f"member:{actor.member()}",
                              runtime.current().settings.flag_rate_limit)
        return await services.flag(actor, data)


class ReviewController(Controller):
    path = "/api/moderation/items"
    tags = ["moderation"]
    opt = {PEOPLE_ONLY_OPT: True}

    @get("/")
    async def list_items(self, actor: Actor, status: Status = "open", kind: Kind = None,
                         category_id: OptionalId = None, brand_id: OptionalId = None,
                         sort: Sort = "score", cursor: Cursor = None,
                         limit: PageSize = 25) -> ItemPage:
        """Staff: the review queue. Brand staff see their own brand's items only. Pass
        next_cursor back as `cursor` for the next page."""
        return await services.list_items(actor, status, kind, category_id, brand_id, sort,
                                         cursor, limit)

    @get("/{item_id:int}")
    async def get_item(self, actor: Actor, item_id: int) -> ItemDetail:
        """Staff: the item, its flags, and its score line by line."""
        return await services.item_detail(actor, item_id)

    @post("/{item_id:int}/claim", status_code=200)
    async def claim(self, actor: Actor, item_id: int) -> ItemOut:
        """Hold the item so no other moderator acts on it for a while (409 when another
        holds it, or it is decided)."""
        return await services.claim(actor, item_id)

    @delete("/{item_id:int}/claim", status_code=200)
    async def release(self, actor: Actor, item_id: int) -> ItemOut:
        return await services.release(actor, item_id)

    @post("/{item_id:int}/actions", status_code=200)
    async def act(self, actor: Actor, item_id: int, data: ActionIn) -> ItemOut:
        """Decide the item: agree_hide, agree_delete, disagree, ignore or silence (flags;
        silencing is for moderators); approve or reject (a held post). 409 when it is
        decided, or claimed by another."""
        return await services.act(actor, item_id, data)

    @post("/bulk", status_code=200)
    async def act_in_bulk(self, actor: Actor, data: BulkIn) -> BulkOut:
        """One action on up to 100 items, each on its own: the answer says, item by item,
        what acting on it alone would have answered."""
        return await services.act_in_bulk(actor, data)

