"""The forum's reviewable targets for the review queue (community.moderation): posts, threads
(through their first post) and members' profiles, registered in server.reviewables by the
community plugin. They live with the forum because they read its tables."""

from __future__ import annotations

from typing import Any

from community.forums import hiding
from community.forums import services as forums
from community.forums.tables import Category, Post, Thread
from server import events, outbox, reviewables
from server.accounts.services import (
    get_member,
    profiles_for_review,
    public_member,
    set_profile_hidden,
)
from server.auth import Actor
from server.reviewables import TargetInfo

EXCERPT = 300


def plain_excerpt(text: str, limit: int) -> str:
    """The text on one line, cut to `limit` characters: what a queue row shows."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


async def _brands(category_ids: set[int]) -> dict[int, int | None]:
    if not category_ids:
        return {}
    rows = await Category.select(Category.id, Category.brand).where(
        Category.id.is_in(sorted(category_ids)))
    return {int(r["id"]): r["brand"] for r in rows}


def _post_info(post: dict[str, Any], thread: dict[str, Any], brand_id: int | None) -> TargetInfo:
    return TargetInfo(
        kind="post", id=int(post["id"]), author_id=int(post["author"]), brand_id=brand_id,
        category_id=int(thread["category"]),
        label=f"post #{post['post_number']} in '{thread['title']}'",
        excerpt=plain_excerpt(post["markdown"], EXCERPT),
        url=f"#/t/{thread['id']}?post={post['id']}",
        hidden=post["hidden_at"] is not None, deleted=post["deleted_at"] is not None)


class PostTarget:
    async def describe(self, ids: list[int]) -> dict[int, TargetInfo]:
        if not ids:
            return {}
        posts = await Post.select().where(Post.id.is_in(sorted(set(ids))))
        threads = {int(t["id"]): t for t in await Thread.select().where(
            Thread.id.is_in(sorted({int(p["thread"]) for p in posts})))} if posts else {}
        brands = await _brands({int(t["category"]) for t in threads.values()})
        return {int(p["id"]): _post_info(p, threads[int(p["thread"])],
                                         brands.get(int(threads[int(p["thread"])]["category"])))
                for p in posts}

    async def readable(self, actor: Actor, target_id: int) -> TargetInfo:
        post, thread, category = await forums.readable_post(actor, target_id)
        return _post_info(post, thread, category["brand"])

    async def hide(self, by_member_id: int | None, target_id: int, reason: str) -> bool:
        return await hiding.hide_post(by_member_id, target_id, reason)

    async def restore(self, by_member_id: int | None, target_id: int) -> bool:
        return await hiding.restore_post(by_member_id, target_id)

    async def delete(self, by_member_id: int, target_id: int) -> bool:
        return await forums.remove_post(by_member_id, target_id)


def _thread_info(thread: dict[str, Any], first: dict[str, Any] | None,
                 brand_id: int | None) -> TargetInfo:
    return TargetInfo(
        kind="thread", id=int(thread["id"]), author_id=int(thread["author"]), brand_id=brand_id,
        category_id=int(thread["category"]), label=f"thread '{thread['title']}'",
        excerpt=plain_excerpt(first["markdown"], EXCERPT) if first else "",
        url=f"#/t/{thread['id']}",
        hidden=thread["hidden_at"] is not None, deleted=thread["deleted_at"] is not None)


async def _first_post_id(thread_id: int) -> int | None:
    rows = await Post.select(Post.id).where((Post.thread == thread_id) & (Post.post_number == 1))
    return int(rows[0]["id"]) if rows else None


class ThreadTarget:
    """A thread is hidden, restored and deleted through its first post, as the forum does."""

    async def describe(self, ids: list[int]) -> dict[int, TargetInfo]:
        if not ids:
            return {}
        threads = await Thread.select().where(Thread.id.is_in(sorted(set(ids))))
        if not threads:
            return {}
        firsts = {int(p["thread"]): p for p in await Post.select().where(
            Post.thread.is_in([t["id"] for t in threads]) & (Post.post_number == 1))}
        brands = await _brands({int(t["category"]) for t in threads})
        return {int(t["id"]): _thread_info(t, firsts.get(int(t["id"])),
                                           brands.get(int(t["category"]))) for t in threads}

    async def readable(self, actor: Actor, target_id: int) -> TargetInfo:
        thread, category = await forums.readable_thread(actor, target_id)
        first = await Post.select().where((Post.thread == target_id) & (Post.post_number == 1))
        return _thread_info(thread, first[0] if first else None, category["brand"])

    async def hide(self, by_member_id: int | None, target_id: int, reason: str) -> bool:
        first = await _first_post_id(target_id)
        return first is not None and await hiding.hide_post(by_member_id, first, reason)

    async def restore(self, by_member_id: int | None, target_id: int) -> bool:
        first = await _first_post_id(target_id)
        return first is not None and await hiding.restore_post(by_member_id, first)

    async def delete(self, by_member_id: int, target_id: int) -> bool:
        first = await _first_post_id(target_id)
        return first is not None and await forums.remove_post(by_member_id, first)


def _profile_info(member: dict[str, Any]) -> TargetInfo:
    return TargetInfo(
        kind="profile", id=int(member["id"]), author_id=int(member["id"]), brand_id=None,
        category_id=None, label=f"profile of @{member['handle']}",
        excerpt=plain_excerpt(f"{member['display_name']}: {member['bio']}", EXCERPT),
        url=f"#/u/{member['handle']}", hidden=member["profile_hidden_at"] is not None,
        deleted=not member["is_active"])


class ProfileTarget:
    """A profile's display name and bio: hiding leaves them out of public view. Profiles
    belong to no brand, so only moderators review them. Deleting a profile is not the
    queue's to do (suspend the member instead): delete hides it."""

    async def describe(self, ids: list[int]) -> dict[int, TargetInfo]:
        if not ids:
            return {}
        return {i: _profile_info(r) for i, r in (await profiles_for_review(ids)).items()}

    async def readable(self, actor: Actor, target_id: int) -> TargetInfo:
        await public_member(target_id)
        return _profile_info(await get_member(target_id))

    async def hide(self, by_member_id: int | None, target_id: int, reason: str) -> bool:
        if not await set_profile_hidden(target_id, True):
            return False
        await outbox.emit(events.ContentHidden(
            target_type="profile", target_id=target_id, author_id=target_id, reason=reason,
            by_member_id=by_member_id))
        return True

    async def restore(self, by_member_id: int | None, target_id: int) -> bool:
        if not await set_profile_hidden(target_id, False):
            return False
        await outbox.emit(events.ContentRestored(
            target_type="profile", target_id=target_id, author_id=target_id,
            by_member_id=by_member_id))
        return True

    async def delete(self, by_member_id: int, target_id: int) -> bool:
        return await self.hide(by_member_id, target_id, "moderator")


def register() -> None:
    reviewables.register("post", PostTarget())
    reviewables.register("thread", ThreadTarget())
    reviewables.register("profile", ProfileTarget())

