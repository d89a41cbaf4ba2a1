"""HTTP endpoints for the forums: parse, authorise via the actor, call a service."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import Parameter

from community.forums import activity, bookmarks, hiding, pages, services
from community.forums.schemas import (
    ActivityPage,
    BookmarkOut,
    BookmarkPage,
    CategoryIn,
    CategoryOrder,
    CategoryOut,
    CategoryPatch,
    CreatedThread,
    ModerationNote,
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
    WatchIn,
    WatchOut,
)
from server import ratelimit, runtime
from server.auth import Actor
from server.text import require_plain
from server.types import MAX_ID, MAX_INT32

PostNumber = Annotated[int, Parameter(ge=0, le=MAX_INT32, description="return posts after this number")]
PageSize = Annotated[int, Parameter(ge=1, le=100, description="page size, 1 to 100")]
# Optional inside Annotated: outside it, Litestar drops the bounds.
DeleteReason = Annotated[str | None, Parameter(max_length=500, description=(
    "why a moderator deleted someone else's post (kept in the staff log)"))]
Before = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="return items older than this")]


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

    @put("/order")
    async def arrange_categories(self, actor: Actor, data: CategoryOrder) -> list[CategoryOut]:
        """Admins only: move several categories at once (position, parent), all or nothing;
        returns every category in its new order."""
        return await services.arrange_categories(actor, data)

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

    @get("/{category_id:int}/watch")
    async def category_watch(self, actor: Actor, category_id: int) -> WatchOut:
        """The signed-in member's watch level for the category."""
        return await services.category_watch(actor, category_id)

    @put("/{category_id:int}/watch")
    async def watch_category(self, actor: Actor, category_id: int, data: WatchIn) -> WatchOut:
        """watching: told of every new thread and post in it; tracking, normal: of replies
        to them and mentions of them; muted: of nothing, replies and mentions included.
        A thread's own level overrides this."""
        return await services.set_category_watch(actor, category_id, data.level)

    @delete("/{category_id:int}/watch", status_code=200)
    async def unwatch_category(self, actor: Actor, category_id: int) -> WatchOut:
        """Back to the default level (normal)."""
        return await services.set_category_watch(actor, category_id, None)


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
        """Title: author or moderator. Pinned, locked and category (a move): moderators of
        the thread's category, and for a move of the target category too. Moderators' changes
        are in the staff log with the optional `reason`."""
        return await services.update_thread(actor, thread_id, data)

    @post("/{thread_id:int}/posts", status_code=201)
    async def reply(self, actor: Actor, thread_id: int, data: PostIn) -> PostOut:
        await _write_limit(actor)
        return await services.reply(actor, thread_id, data)

    @get("/{thread_id:int}/watch")
    async def thread_watch(self, actor: Actor, thread_id: int) -> WatchOut:
        """The signed-in member's watch level for the thread, and where it comes from."""
        return await services.thread_watch(actor, thread_id)

    @put("/{thread_id:int}/watch")
    async def watch_thread(self, actor: Actor, thread_id: int, data: WatchIn) -> WatchOut:
        """Levels as for categories; this one overrides the category's. A thread's author
        watches it from the start."""
        return await services.set_thread_watch(actor, thread_id, data.level)

    @delete("/{thread_id:int}/watch", status_code=200)
    async def unwatch_thread(self, actor: Actor, thread_id: int) -> WatchOut:
        """Back to the category's level."""
        return await services.set_thread_watch(actor, thread_id, None)


class PostController(Controller):
    path = "/api/posts"
    tags = ["forums"]

    @get("/{post_id:int}")
    async def get_post(self, actor: Actor, post_id: int) -> PostOut:
        return await services.get_post(actor, post_id)

    @patch("/{post_id:int}")
    async def edit_post(self, actor: Actor, post_id: int, data: PostPatch) -> PostOut:
        """The author, or a moderator of the post's category with a `reason` (422 without
        one); each edit is kept as a revision with its editor and reason, and the author is
        told of a moderator's edit."""
        await _write_limit(actor)
        return await services.edit_post(actor, post_id, data)

    @delete("/{post_id:int}", status_code=204)
    async def delete_post(self, actor: Actor, post_id: int, reason: DeleteReason = None
                          ) -> Response[None]:
        """Soft delete by the author or a moderator of the post's category; deleting the
        first post deletes the thread. A moderator's deletion is in the staff log."""
        require_plain(reason=reason)
        await services.delete_post(actor, post_id, reason or "")
        return Response(None, status_code=204)

    @put("/{post_id:int}/helpful")
    async def mark_helpful(self, actor: Actor, post_id: int) -> ThreadOut:
        """The thread's author or a moderator marks this reply as the helpful answer."""
        return await services.mark_helpful(actor, post_id, True)

    @delete("/{post_id:int}/helpful", status_code=200)
    async def unmark_helpful(self, actor: Actor, post_id: int) -> ThreadOut:
        return await services.mark_helpful(actor, post_id, False)

    @put("/{post_id:int}/bookmark")
    async def bookmark(self, actor: Actor, post_id: int) -> BookmarkOut:
        """Bookmark the post for the signed-in member (again is harmless)."""
        return await bookmarks.bookmark(actor, post_id)

    @delete("/{post_id:int}/bookmark", status_code=200)
    async def unbookmark(self, actor: Actor, post_id: int) -> BookmarkOut:
        return await bookmarks.unbookmark(actor, post_id)

    @post("/{post_id:int}/hide", status_code=200)
    async def hide(self, actor: Actor, post_id: int, data: ModerationNote) -> PostOut:
        """A moderator of its category takes the post out of view for everyone but its author
        and moderators; 409 when it is already hidden."""
        return await hiding.moderate(actor, post_id, True, data.reason)

    @post("/{post_id:int}/unhide", status_code=200)
    async def unhide(self, actor: Actor, post_id: int, data: ModerationNote) -> PostOut:
        """Brings a hidden or held post back into view (a held one is published then)."""
        return await hiding.moderate(actor, post_id, False, data.reason)

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


class BookmarkController(Controller):
    path = "/api/me/bookmarks"
    tags = ["forums"]

    @get("/")
    async def list_bookmarks(
        self, actor: Actor,
        # Optional inside the annotation: `Annotated[int, ...] | None` would drop the bounds.
        before: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None, limit: PageSize = 20,
    ) -> BookmarkPage:
        """The signed-in member's bookmarked posts they may still read, newest bookmark
        first; pass next_cursor back as `before` for older ones."""
        return await bookmarks.page(actor, before, limit)


class ActivityController(Controller):
    tags = ["forums"]

    @get("/api/members/{member_id:int}/activity")
    async def member_activity(self, actor: Actor, member_id: int, before: Before = None,
                              limit: PageSize = 20) -> ActivityPage:
        """A member's threads and posts, newest first, in categories the caller may read;
        deleted ones left out. Pass next_cursor back as `before`. 404 for unknown or
        suspended members."""
        return await activity.member_activity(actor, member_id, before, limit)


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
