"""HTTP endpoints for the forums: parse, authorise via the actor, call a service."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import Parameter

from community.forums import pages, services
from community.forums.schemas import (
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    CreatedThread,
    PostIn,
    PostOut,
    PostPage,
    PostPatch,
    PreviewIn,
    PreviewOut,
    ReactionIn,
    ReactionKind,
    ReactionsOut,
    RevisionOut,
    ThreadIn,
    ThreadOut,
    ThreadPage,
    ThreadPatch,
)
from server import ratelimit, runtime
from server.auth import Actor
from server.types import MAX_INT32

PostNumber = Annotated[int, Parameter(ge=0, le=MAX_INT32, description="return posts after this number")]
PageSize = Annotated[int, Parameter(ge=1, le=100, description="page size, 1 to 100")]


async def _write_limit(actor: Actor) -> None:
    await ratelimit.check("write", f"member:{actor.member()}",
                          runtime.current().settings.write_rate_limit)


class CategoryController(Controller):
    path = "/api/categories"
    tags = ["forums"]

    @get("/")
    async def list_categories(self, actor: Actor) -> list[CategoryOut]:
        """Categories the caller may read, in display order."""
        return await services.list_categories(actor)

    @post("/", status_code=201)
    async def create_category(self, actor: Actor, data: CategoryIn) -> CategoryOut:
        """Admins only."""
        return await services.create_category(actor, data)

    @patch("/{category_id:int}")
    async def update_category(self, actor: Actor, category_id: int, data: CategoryPatch) -> CategoryOut:
        return await services.update_category(actor, category_id, data)

    @get("/{category_id:int}/threads")
    async def list_threads(self, actor: Actor, category_id: int, cursor: str | None = None,
                           limit: PageSize = 20) -> ThreadPage:
        """Pinned first, then by last activity. Pass next_cursor back as `cursor`."""
        return await services.list_threads(actor, category_id, cursor, limit)

    @post("/{category_id:int}/threads", status_code=201)
    async def create_thread(self, actor: Actor, category_id: int, data: ThreadIn) -> CreatedThread:
        await _write_limit(actor)
        thread, first = await services.create_thread(actor, category_id, data)
        return CreatedThread(thread=thread, post=first)


class ThreadController(Controller):
    path = "/api/threads"
    tags = ["forums"]

    @get("/{thread_id:int}")
    async def get_thread(self, actor: Actor, thread_id: int, after: PostNumber = 0,
                         limit: PageSize = 20) -> PostPage:
        """Posts after post number `after`. Reading a page marks it read for the caller."""
        return await pages.read(actor, thread_id, after, limit)

    @patch("/{thread_id:int}")
    async def update_thread(self, actor: Actor, thread_id: int, data: ThreadPatch) -> ThreadOut:
        """Title: author or moderator. Pinned, locked and category (a move): moderators."""
        return await services.update_thread(actor, thread_id, data)

    @post("/{thread_id:int}/posts", status_code=201)
    async def reply(self, actor: Actor, thread_id: int, data: PostIn) -> PostOut:
        await _write_limit(actor)
        return await services.reply(actor, thread_id, data)


class PostController(Controller):
    path = "/api/posts"
    tags = ["forums"]

    @get("/{post_id:int}")
    async def get_post(self, actor: Actor, post_id: int) -> PostOut:
        return await services.get_post(actor, post_id)

    @patch("/{post_id:int}")
    async def edit_post(self, actor: Actor, post_id: int, data: PostPatch) -> PostOut:
        """Author or moderator; each edit is kept as a revision."""
        await _write_limit(actor)
        return await services.edit_post(actor, post_id, data)

    @delete("/{post_id:int}", status_code=204)
    async def delete_post(self, actor: Actor, post_id: int) -> Response[None]:
        """Soft delete by the author or a moderator."""
        await services.delete_post(actor, post_id)
        return Response(None, status_code=204)

    @put("/{post_id:int}/helpful")
    async def mark_helpful(self, actor: Actor, post_id: int) -> ThreadOut:
        """The thread's author or a moderator marks this reply as the helpful answer."""
        return await services.mark_helpful(actor, post_id, True)

    @delete("/{post_id:int}/helpful", status_code=200)
    async def unmark_helpful(self, actor: Actor, post_id: int) -> ThreadOut:
        return await services.mark_helpful(actor, post_id, False)

    @get("/{post_id:int}/revisions")
    async def revisions(self, actor: Actor, post_id: int) -> list[RevisionOut]:
        return await services.revisions(actor, post_id)

    @post("/{post_id:int}/reactions", status_code=201)
    async def add_reaction(self, actor: Actor, post_id: int, data: ReactionIn) -> ReactionsOut:
        """One reaction of each kind per member per post; a second is 409."""
        await _write_limit(actor)
        return await services.add_reaction(actor, post_id, data.kind)

    @delete("/{post_id:int}/reactions/{kind:str}", status_code=200)
    async def remove_reaction(self, actor: Actor, post_id: int, kind: ReactionKind) -> ReactionsOut:
        return await services.remove_reaction(actor, post_id, kind)


class PreviewController(Controller):
    path = "/api/community/preview"
    tags = ["forums"]

    @post("/", status_code=200)
    async def preview(self, actor: Actor, data: PreviewIn) -> PreviewOut:
        """What a post body will look like: the posts' renderer and sanitiser, nothing stored.
        Signed-in members only; counted apart from writes, under the same limit."""
        await ratelimit.check("preview", f"member:{actor.member()}",
                              runtime.current().settings.write_rate_limit)
        return services.preview(data.body)
