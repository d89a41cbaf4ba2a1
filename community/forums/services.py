"""Forum rules: who may read and write what, and how threads, posts and reactions change.

Every write runs in a unit of work that also records its outbox event, so realtime updates,
notifications and (later) points follow from committed changes only.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from piccolo.query.functions.aggregate import Count

from community.forums import cache, readmarks, watching
from community.forums.schemas import (
    Author,
    CategoryIn,
    CategoryOrder,
    CategoryOut,
    CategoryPatch,
    PostIn,
    PostOut,
    PostPatch,
    PreviewOut,
    ReactionsOut,
    RevisionOut,
    ThreadIn,
    ThreadOut,
    ThreadPage,
    ThreadPatch,
    WatchOut,
)
from community.forums.tables import Category, Post, PostRevision, Reaction, Thread
from community.moderation import gates
from server import clock, db, events, outbox, staff_log, visibility
from server.accounts.sanctions import require_may_participate
from server.accounts.services import active_member_roles, get_brand, members_by_id
from server.auth import Actor
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.markup import render
from server.types import MAX_ID

# --- reading rules -----------------------------------------------------------------------


async def _category_row(category_id: int) -> dict[str, Any]:
    rows = await Category.select().where(Category.id == category_id)
    if not rows:
        raise NotFound(f"category {category_id} does not exist")
    return rows[0]


def readable_visibilities(actor: Actor) -> tuple[str, ...]:
    """The category visibilities whose threads the actor may read."""
    return ("public", "members") if actor.signed_in else ("public",)


def check_readable(actor: Actor, category: dict[str, Any]) -> None:
    if category["visibility"] not in readable_visibilities(actor):
        raise Forbidden("this category is for signed-in members; sign in to read it")


async def readers(category_id: int, member_ids: set[int]) -> set[int]:
    """Those of these members who may read the category's threads now (their accounts
    active): whom news of a post in it may reach."""
    rows = await Category.select(Category.visibility).where(Category.id == category_id)
    if not rows:
        return set()
    return {member_id for member_id, role in (await active_member_roles(member_ids)).items()
            if rows[0]["visibility"] in readable_visibilities(
                Actor(member_id=member_id, role=role, via="session"))}


async def readable_category(actor: Actor, category_id: int) -> None:
    check_readable(actor, await _category_row(category_id))


def register() -> None:
    """Packages below this one (a category's leaderboard) ask server.visibility who may read
    a category: this rule answers."""
    visibility.category_rule(readable_category)


def sees_hidden(actor: Actor, author_id: int, category: dict[str, Any]) -> bool:
    """Whether content out of view (hidden, held) is in view for this reader: its author's
    and its moderators' (community.forums.hiding)."""
    return author_id == actor.person_id or (actor.person_id is not None
                                            and actor.moderates(category["brand"]))


async def readable_thread(actor: Actor, thread_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = await Thread.select().where((Thread.id == thread_id) & Thread.deleted_at.is_null())
    if not rows:
        raise NotFound(f"thread {thread_id} does not exist")
    category = await _category_row(rows[0]["category"])
    check_readable(actor, category)
    if rows[0]["hidden_at"] is not None and not sees_hidden(actor, rows[0]["author"], category):
        raise NotFound(f"thread {thread_id} does not exist")
    return rows[0], category


async def readable_post(
        actor: Actor, post_id: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The post, its thread and its category."""
    rows = await Post.select().where((Post.id == post_id) & Post.deleted_at.is_null())
    if not rows:
        raise NotFound(f"post {post_id} does not exist")
    thread, category = await readable_thread(actor, rows[0]["thread"])
    if rows[0]["hidden_at"] is not None and not sees_hidden(actor, rows[0]["author"], category):
        raise NotFound(f"post {post_id} does not exist")
    return rows[0], thread, category


def _may_write(actor: Actor, thread: dict[str, Any], category: dict[str, Any]) -> int:
    member_id = actor.member()
    if thread["locked"] and not moderates(actor, category):
        raise Forbidden("this thread is locked; it takes no new replies or edits")
    return member_id


def moderates(actor: Actor, category: dict[str, Any]) -> bool:
    """Whether the actor moderates this category's content: moderators and admins
    everywhere, brand staff in their own brand's categories only."""
    return actor.moderates(category["brand"])


def _thread_label(thread: dict[str, Any]) -> str:
    """How the staff log names a thread, readable after it is gone."""
    return f"thread {thread['id']}: {thread['title']}"


def _post_label(post: dict[str, Any], thread: dict[str, Any]) -> str:
    return f"post #{post['post_number']} in {_thread_label(thread)}"


# --- shaping -----------------------------------------------------------------------------


async def authors_by_id(ids: set[int]) -> dict[int, Author]:
    members = await members_by_id(ids)
    return {i: Author(id=m.id, handle=m.handle, display_name=m.display_name)
            for i, m in members.items()}


def thread_from_row(row: dict[str, Any], author: Author, unread: int | None = None) -> ThreadOut:
    return ThreadOut(
        id=row["id"], category_id=row["category"], title=row["title"], author=author,
        pinned=bool(row["pinned"]), locked=bool(row["locked"]), created_at=row["created_at"],
        last_activity_at=row["last_activity_at"], post_count=row["post_count"],
        highest_post_number=row["highest_post_number"], helpful_post_id=row["helpful_post_id"],
        unread_count=unread,
    )


async def _reactions(post_ids: list[int], member_id: int | None
                     ) -> tuple[dict[int, dict[str, int]], dict[int, list[str]]]:
    counts: dict[int, dict[str, int]] = {i: {} for i in post_ids}
    mine: dict[int, list[str]] = {i: [] for i in post_ids}
    if not post_ids:
        return counts, mine
    rows = await Reaction.select(Reaction.post, Reaction.kind, Count(alias="n")).where(
        Reaction.post.is_in(post_ids)
    ).group_by(Reaction.post, Reaction.kind)
    for r in rows:
        counts[r["post"]][r["kind"]] = int(r["n"])
    if member_id is not None:
        own = await Reaction.select(Reaction.post, Reaction.kind).where(
            Reaction.post.is_in(post_ids) & (Reaction.member == member_id)
        )
        for r in own:
            mine[r["post"]].append(r["kind"])
    return counts, mine


async def posts_from_rows(rows: list[dict[str, Any]], member_id: int | None) -> list[PostOut]:
    authors = await authors_by_id({r["author"] for r in rows})
    counts, mine = await _reactions([r["id"] for r in rows], member_id)
    return [
        PostOut(
            id=r["id"], thread_id=r["thread"], post_number=r["post_number"],
            author=authors[r["author"]], reply_to_post_id=r["reply_to"], raw=r["markdown"],
            html=r["html"], revision=r["revision"], created_at=r["created_at"],
            edited_at=r["edited_at"], reactions=counts[r["id"]], my_reactions=sorted(mine[r["id"]]),
            hidden=r["hidden_reason"] if r["hidden_at"] is not None else None,
        )
        for r in rows
    ]


async def post_out(post_id: int, member_id: int | None = None) -> PostOut | None:
    """A live post as any reader sees it; None once deleted."""
    rows = await Post.select().where((Post.id == post_id) & Post.deleted_at.is_null())
    return (await posts_from_rows(rows, member_id))[0] if rows else None


async def posts_out(post_ids: set[int]) -> dict[int, PostOut]:
    """The posts every reader sees, as they see them: deleted, hidden and held ones are left
    out."""
    if not post_ids:
        return {}
    rows = await Post.select().where(Post.id.is_in(sorted(post_ids)) & Post.deleted_at.is_null()
                                     & Post.hidden_at.is_null())
    return {p.id: p for p in await posts_from_rows(rows, None)}


async def live_post_ids(post_ids: set[int]) -> set[int]:
    """Those of these posts every reader sees: neither they nor their threads deleted,
    hidden or held."""
    if not post_ids:
        return set()
    match, args = db.values_in(sorted(post_ids), "bigint")
    rows = await db.fetch(
        "SELECT p.id AS id FROM forum_post p JOIN forum_thread t ON t.id = p.thread "
        "WHERE p.id " + match + " AND p.deleted_at IS NULL AND p.hidden_at IS NULL "
        "AND t.deleted_at IS NULL AND t.hidden_at IS NULL", *args)
    return {int(r["id"]) for r in rows}


async def post_number(post_id: int) -> int:
    rows = await Post.select(Post.post_number).where(Post.id == post_id)
    return int(rows[0]["post_number"]) if rows else 0


async def revision_texts(post_id: int, upto: int, since: int = 1) -> dict[int, str]:
    """The post's Markdown by revision number, from `since` to `upto`."""
    rows = await PostRevision.select(PostRevision.revision, PostRevision.markdown).where(
        (PostRevision.post == post_id) & (PostRevision.revision <= upto)
        & (PostRevision.revision >= since))
    return {int(r["revision"]): r["markdown"] for r in rows}


async def revision_reason(post_id: int, revision: int) -> str:
    """Why the post's revision was made ("" when no reason was given)."""
    rows = await PostRevision.select(PostRevision.reason).where(
        (PostRevision.post == post_id) & (PostRevision.revision == revision))
    return str(rows[0]["reason"]) if rows else ""


async def thread_out(thread_id: int) -> ThreadOut | None:
    """A live thread as an anonymous reader sees it; None once deleted."""
    rows = await Thread.select().where((Thread.id == thread_id) & Thread.deleted_at.is_null())
    if not rows:
        return None
    authors = await authors_by_id({rows[0]["author"]})
    return thread_from_row(rows[0], authors[rows[0]["author"]])


async def reaction_summary(post_id: int, member_id: int | None = None) -> ReactionsOut:
    counts, mine = await _reactions([post_id], member_id)
    return ReactionsOut(post_id=post_id, reactions=counts[post_id], my_reactions=sorted(mine[post_id]))


# --- categories ----------------------------------------------------------------------------


async def list_categories(actor: Actor) -> list[CategoryOut]:
    rows = await Category.select().order_by(Category.position).order_by(Category.id)
    counts = {
        r["category"]: int(r["n"])
        for r in await Thread.select(Thread.category, Count(alias="n"))
        .where(Thread.deleted_at.is_null())
        .group_by(Thread.category)
    }
    shown = [r for r in rows if r["visibility"] in readable_visibilities(actor)]
    levels: dict[int, str] = {}
    if actor.person_id is not None:
        levels = await watching.category_levels(actor.person_id, [r["id"] for r in shown])
    return [
        _category_out(r, counts.get(r["id"], 0),
                      None if actor.person_id is None else levels.get(r["id"], watching.DEFAULT))
        for r in shown
    ]


def _category_out(row: dict[str, Any], thread_count: int,
                  watch_level: str | None = None) -> CategoryOut:
    return CategoryOut(
        id=row["id"], name=row["name"], slug=row["slug"], description=row["description"],
        parent_id=row["parent"], position=row["position"], visibility=row["visibility"],
        brand_id=row["brand"], thread_count=thread_count, watch_level=watch_level,
    )


async def create_category(actor: Actor, data: CategoryIn) -> CategoryOut:
    if not actor.is_admin:
        raise Forbidden("only admins manage categories")
    if data.parent_id is not None:
        parent = await _category_row(data.parent_id)
        if parent["parent"] is not None:
            raise Invalid("categories nest one level deep: the parent has a parent already")
    if data.brand_id is not None:
        await get_brand(data.brand_id)
    try:
        async with outbox.unit_of_work():
            rows = await Category.insert(
                Category(name=data.name, slug=data.slug, description=data.description,
                         parent=data.parent_id, position=data.position,
                         visibility=data.visibility, brand=data.brand_id)
            ).returning(Category.id)
            created = _category_out(await _category_row(int(rows[0]["id"])), 0)
            await staff_log.record(
                actor, "category.create", "category", created.id, f"category '{data.name}'",
                after=_audited_category(created), brand_id=data.brand_id)
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict(f"a category with slug '{data.slug}' exists") from None
        raise
    return created


def _audited_category(category: CategoryOut) -> dict[str, Any]:
    return {"name": category.name, "slug": category.slug, "description": category.description,
            "parent_id": category.parent_id, "position": category.position,
            "visibility": category.visibility, "brand_id": category.brand_id}


async def arrange_categories(actor: Actor, data: CategoryOrder) -> list[CategoryOut]:
    """Move several categories at once (reorder, nest, un-nest): all of it or none of it, so
    the tree is never seen half moved. Categories nest one level deep."""
    if not actor.is_admin:
        raise Forbidden("only admins manage categories")
    ids = [place.id for place in data.items]
    if len(set(ids)) != len(ids):
        raise Invalid("each category may be listed once")
    async with outbox.unit_of_work():
        rows = {r["id"]: r for r in await Category.select(
            Category.id, Category.parent, Category.position, Category.name)}
        missing = sorted(set(ids) - set(rows))
        if missing:
            raise NotFound(f"there is no category {missing[0]}")
        parents = {i: r["parent"] for i, r in rows.items()}
        parents.update({place.id: place.parent_id for place in data.items})
        for place in data.items:
            if place.parent_id is None:
                continue
            if place.parent_id not in rows:
                raise NotFound(f"there is no category {place.parent_id}")
            if place.parent_id == place.id or parents[place.parent_id] is not None:
                raise Invalid("categories nest one level deep: the parent has a parent already")
            if any(parent == place.id for parent in parents.values()):
                raise Invalid("categories nest one level deep: this category has children")
        for place in data.items:
            await Category.update({Category.position: place.position,
                                   Category.parent: place.parent_id}).where(Category.id == place.id)
        label = {i: f"'{r['name']}' ({i})" for i, r in rows.items()}
        before, after = staff_log.changes(
            {label[i]: {"position": r["position"], "parent_id": r["parent"]}
             for i, r in rows.items()},
            {label[p.id]: {"position": p.position, "parent_id": p.parent_id}
             for p in data.items})
        if after:
            await staff_log.record(actor, "category.arrange", "category", None,
                                   "the category order", before=before, after=after)
    await cache.changed(None)
    return await list_categories(actor)


async def update_category(actor: Actor, category_id: int, data: CategoryPatch) -> CategoryOut:
    if not actor.is_admin:
        raise Forbidden("only admins manage categories")
    row = await _category_row(category_id)
    changes: dict[Any, Any] = {
        column: value
        for column, value in (
            (Category.name, data.name), (Category.description, data.description),
            (Category.position, data.position), (Category.visibility, data.visibility),
        )
        if value is not None
    }
    if changes:
        async with outbox.unit_of_work():
            await Category.update(changes).where(Category.id == category_id)
            before, after = staff_log.changes(
                row, {c._meta.name: value for c, value in changes.items()})
            if after:
                await staff_log.record(
                    actor, "category.update", "category", category_id,
                    f"category '{data.name or row['name']}'", before=before, after=after,
                    brand_id=row["brand"])
        await cache.changed(None)
    count = await Thread.count().where(
        (Thread.category == category_id) & Thread.deleted_at.is_null()
    )
    return _category_out(await _category_row(category_id), int(count))


# --- watching ------------------------------------------------------------------------------


async def thread_watch(actor: Actor, thread_id: int) -> WatchOut:
    member_id = actor.member()
    await readable_thread(actor, thread_id)
    return await watching.thread_level(member_id, thread_id)


async def set_thread_watch(actor: Actor, thread_id: int, level: str | None) -> WatchOut:
    """Set the member's level for the thread; None goes back to the category's."""
    member_id = actor.member()
    await readable_thread(actor, thread_id)
    await watching.set_thread_level(member_id, thread_id, level)
    return await watching.thread_level(member_id, thread_id)


async def category_watch(actor: Actor, category_id: int) -> WatchOut:
    member_id = actor.member()
    await readable_category(actor, category_id)
    levels = await watching.category_levels(member_id, [category_id])
    return watching.out(None, levels.get(category_id))


async def set_category_watch(actor: Actor, category_id: int, level: str | None) -> WatchOut:
    """Set the member's level for the category; None goes back to the default."""
    member_id = actor.member()
    await readable_category(actor, category_id)
    await watching.set_category_level(member_id, category_id, level)
    return watching.out(None, level)


# --- threads -------------------------------------------------------------------------------


def _encode_cursor(pinned: bool, last_post_id: int) -> str:
    return base64.urlsafe_b64encode(f"{int(pinned)}:{last_post_id}".encode()).decode()


_CURSOR = re.compile(r"([01]):([0-9]{1,19})")


def _decode_cursor(cursor: str) -> tuple[bool, int]:
    """The inverse of _encode_cursor; anything else (a number, `null`, stray base64) is 422."""
    try:
        text = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True).decode("ascii")
    except (ValueError, binascii.Error):
        text = ""
    match = _CURSOR.fullmatch(text)
    if match is None or int(match[2]) > MAX_ID:
        raise Invalid("the cursor is not one this API handed out")
    return match[1] == "1", int(match[2])


async def list_threads(actor: Actor, category_id: int, cursor: str | None, limit: int) -> ThreadPage:
    """Pinned first, then by last activity (newest post), newest first."""
    category = await _category_row(category_id)
    check_readable(actor, category)
    query = Thread.select().where((Thread.category == category_id) & Thread.deleted_at.is_null())
    if actor.person_id is None:
        query = query.where(Thread.hidden_at.is_null())
    elif not actor.moderates(category["brand"]):
        # Threads out of view are listed for their authors (and moderators) only.
        query = query.where(Thread.hidden_at.is_null() | (Thread.author == actor.person_id))
    if cursor:
        pinned, last = _decode_cursor(cursor)
        unpinned = Thread.pinned == False  # noqa: E712
        older = Thread.last_post_id < last
        # After a pinned thread come older pinned ones, then every unpinned one.
        query = query.where(((Thread.pinned == True) & older) | unpinned if pinned  # noqa: E712
                            else unpinned & older)
    rows = await query.order_by(Thread.pinned, Thread.last_post_id, ascending=False).limit(limit + 1)
    page = rows[:limit]
    authors = await authors_by_id({r["author"] for r in page})
    unread: dict[int, int] | None = None
    if actor.person_id is not None:
        unread = await readmarks.unread_counts(
            actor.person_id, {r["id"]: r["highest_post_number"] for r in page})
    items = [thread_from_row(r, authors[r["author"]], None if unread is None else unread.get(r["id"], 0))
             for r in page]
    next_cursor = None
    if len(rows) > limit:
        last_row = page[-1]
        next_cursor = _encode_cursor(bool(last_row["pinned"]), last_row["last_post_id"])
    return ThreadPage(items=items, next_cursor=next_cursor)


async def _insert_post(thread: dict[str, Any], brand_id: int | None, author_id: int, body: str,
                       reply_to: dict[str, Any] | None, may_bypass_lock: bool,
                       held_reason: str | None = None) -> tuple[int, int]:
    """Inside a unit of work: take the next post number atomically and write the post. The
    numbering UPDATE itself refuses a locked or deleted thread, so a lock that commits
    concurrently wins on either database. A post written held (`held_reason`, why) waits
    for a moderator's approval: it is announced as content.held, and as post.created only
    once approved (community.forums.hiding)."""
    now = clock.now()
    open_thread = (Thread.id == thread["id"]) & Thread.deleted_at.is_null()
    if not may_bypass_lock:
        open_thread = open_thread & (Thread.locked == False)  # noqa: E712
    counted: dict[Any, Any] = {} if held_reason else {Thread.post_count: Thread.post_count + 1}
    numbered = await Thread.update({
        Thread.highest_post_number: Thread.highest_post_number + 1,
        **counted,
        Thread.last_activity_at: now,
        Thread.version: Thread.version + 1,
    }).where(open_thread).returning(Thread.highest_post_number)
    if not numbered:
        current = await Thread.select(Thread.deleted_at).where(Thread.id == thread["id"])
        if not current or current[0]["deleted_at"] is not None:
            raise NotFound(f"thread {thread['id']} does not exist")
        raise Forbidden("this thread is locked; it takes no new replies or edits")
    post_number = int(numbered[0]["highest_post_number"])
    rows = await Post.insert(
        Post(thread=thread["id"], author=author_id, post_number=post_number,
             reply_to=reply_to["id"] if reply_to else None, markdown=body, html=render(body),
             created_at=now, hidden_at=now if held_reason else None,
             hidden_reason="held" if held_reason else None)
    ).returning(Post.id)
    post_id = int(rows[0]["id"])
    await PostRevision.insert(
        PostRevision(post=post_id, revision=1, markdown=body, editor=author_id, created_at=now)
    )
    await Thread.update({Thread.last_post_id: post_id}).where(Thread.id == thread["id"])
    await readmarks.write(author_id, thread["id"], post_number)
    if held_reason:
        if post_number == 1:
            await Thread.update({Thread.hidden_at: now}).where(Thread.id == thread["id"])
        await outbox.emit(events.ContentHeld(
            target_type="post", target_id=post_id, author_id=author_id, reason=held_reason,
            thread_id=thread["id"], category_id=thread["category"], brand_id=brand_id))
        return post_id, post_number
    await announce_post(events.PostCreated(
        post_id=post_id, thread_id=thread["id"], category_id=thread["category"],
        author_id=author_id, post_number=post_number,
        reply_to_post_id=reply_to["id"] if reply_to else None,
        reply_to_author_id=reply_to["author"] if reply_to else None,
        brand_id=brand_id,
    ))
    return post_id, post_number


async def announce_post(created: events.PostCreated) -> None:
    """Inside a unit of work: a post comes into view for everyone, when it is written or,
    held, when it is approved. A thread's first post announces the thread too."""
    await outbox.emit(created)
    if created.post_number == 1:
        await outbox.emit(events.ThreadCreated(
            thread_id=created.thread_id, category_id=created.category_id,
            author_id=created.author_id, post_id=created.post_id, brand_id=created.brand_id,
        ))


async def create_thread(actor: Actor, category_id: int, data: ThreadIn) -> tuple[ThreadOut, PostOut]:
    member_id = actor.member()
    category = await _category_row(category_id)
    check_readable(actor, category)
    await require_may_participate(actor)
    title = data.title.strip()
    if len(title) < 3:
        raise Invalid("the title needs at least 3 visible characters")
    async with outbox.unit_of_work():
        admission = await gates.admit_post(actor, data.body, title)
        rows = await Thread.insert(
            Thread(category=category_id, author=member_id, title=admission.title)
        ).returning(Thread.id)
        thread = (await Thread.select().where(Thread.id == rows[0]["id"]))[0]
        post_id, _ = await _insert_post(thread, category["brand"], member_id, admission.body,
                                        None, may_bypass_lock=True,
                                        held_reason=admission.held_reason)
        await watching.watch_new_thread(member_id, thread["id"])
        await admission.report(author_id=member_id, thread_id=thread["id"], post_id=post_id,
                               category_id=category_id, brand_id=category["brand"])
    thread_row, _ = await readable_thread(actor, thread["id"])
    authors = await authors_by_id({member_id})
    post = await post_out(post_id, member_id)
    assert post is not None
    return thread_from_row(thread_row, authors[member_id], 0), post


async def update_thread(actor: Actor, thread_id: int, data: ThreadPatch) -> ThreadOut:
    """Retitle (author or moderator), pin, lock or move (moderators of the category; a move
    also of the target's). Each moderator's change is in the staff log, under the brand of
    the category it happened in."""
    thread, category = await readable_thread(actor, thread_id)
    member_id = actor.member()
    mod = moderates(actor, category)
    await require_may_participate(actor)
    if (data.pinned is not None or data.locked is not None) and not mod:
        raise Forbidden("only moderators of this category pin or lock its threads")
    if data.category_id is not None and not mod:
        raise Forbidden("only moderators of this category move its threads")
    changes: dict[Any, Any] = {}
    admission = None
    # Staff log entries: (action, before, after, brand).
    logged: list[tuple[str, Any, Any, int | None]] = []
    if data.title is not None and data.title.strip() != thread["title"]:
        if thread["author"] != member_id and not mod:
            raise Forbidden("only the author or a moderator can retitle a thread")
        if thread["locked"] and not mod:
            raise Forbidden("this thread is locked")
        if len(data.title.strip()) < 3:
            raise Invalid("the title needs at least 3 visible characters")
        admission = await gates.admit_edit(actor, title=data.title.strip())
        changes[Thread.title] = admission.title
        if thread["author"] != member_id:
            logged.append(("thread.retitle", {"title": thread["title"]},
                           {"title": admission.title}, category["brand"]))
    for column, field, value in ((Thread.pinned, "pinned", data.pinned),
                                 (Thread.locked, "locked", data.locked)):
        if value is not None and value != bool(thread[field]):
            changes[column] = value
            action = {"pinned": ("thread.pin", "thread.unpin"),
                      "locked": ("thread.lock", "thread.unlock")}[field][0 if value else 1]
            logged.append((action, {field: not value}, {field: value}, category["brand"]))
    category_id = thread["category"]
    where = category
    if data.category_id is not None and data.category_id != thread["category"]:
        where = target = await _category_row(data.category_id)  # 404 when there is none
        if not moderates(actor, target):
            raise Forbidden("you may move threads only into categories you moderate")
        changes[Thread.category] = category_id = data.category_id
        logged.append(("thread.move", {"category_id": thread["category"],
                                       "category": category["name"]},
                       {"category_id": target["id"], "category": target["name"]},
                       category["brand"]))
    if changes:
        changes[Thread.version] = Thread.version + 1
        async with outbox.unit_of_work():
            await Thread.update(changes).where(Thread.id == thread_id)
            for action, before, after, brand_id in logged:
                await staff_log.record(actor, action, "thread", thread_id, _thread_label(thread),
                                       before=before, after=after, reason=(data.reason or "").strip(),
                                       brand_id=brand_id)
            await outbox.emit(events.ThreadUpdated(
                thread_id=thread_id, category_id=category_id, editor_id=member_id,
            ))
            if admission is not None:
                await admission.report(author_id=thread["author"], thread_id=thread_id,
                                       post_id=None, category_id=category_id,
                                       brand_id=where["brand"])
        await cache.changed(thread_id)
    thread, _ = await readable_thread(actor, thread_id)
    authors = await authors_by_id({thread["author"]})
    return thread_from_row(thread, authors[thread["author"]])


async def _touch(thread_id: int) -> None:
    """Inside a unit of work: the thread's pages change when it commits (see cache)."""
    await Thread.update({Thread.version: Thread.version + 1}).where(Thread.id == thread_id)


# --- posts ---------------------------------------------------------------------------------


async def reply(actor: Actor, thread_id: int, data: PostIn) -> PostOut:
    thread, category = await readable_thread(actor, thread_id)
    member_id = _may_write(actor, thread, category)
    await require_may_participate(actor)
    reply_to = None
    if data.reply_to_post_id is not None:
        rows = await Post.select().where(
            (Post.id == data.reply_to_post_id) & Post.deleted_at.is_null()
            & Post.hidden_at.is_null()
        )
        if not rows or rows[0]["thread"] != thread_id:
            raise Invalid(f"post {data.reply_to_post_id} is not a live post in thread {thread_id}")
        reply_to = rows[0]
    async with outbox.unit_of_work():
        admission = await gates.admit_post(actor, data.body)
        held_reason = admission.held_reason
        if held_reason is None and thread["hidden_at"] is not None \
                and not moderates(actor, category):
            # The thread is out of view, its title too: a reply (and the notices it would
            # send) waits for a moderator as well.
            held_reason = "a reply in a thread that is out of view"
        post_id, _ = await _insert_post(thread, category["brand"], member_id, admission.body,
                                        reply_to, may_bypass_lock=moderates(actor, category),
                                        held_reason=held_reason)
        await admission.report(author_id=member_id, thread_id=thread_id, post_id=post_id,
                               category_id=thread["category"], brand_id=category["brand"])
    await cache.changed(thread_id)
    post = await post_out(post_id, member_id)
    assert post is not None
    return post


async def get_post(actor: Actor, post_id: int) -> PostOut:
    await readable_post(actor, post_id)
    post = await post_out(post_id, actor.person_id)
    if post is None:
        raise NotFound(f"post {post_id} does not exist")
    return post


async def edit_post(actor: Actor, post_id: int, data: PostPatch) -> PostOut:
    """The author edits their post; a moderator of its category edits anyone's, with a
    reason, which the revision keeps, the staff log records and the author is told."""
    post, thread, category = await readable_post(actor, post_id)
    member_id = _may_write(actor, thread, category)
    await require_may_participate(actor)
    by_moderator = post["author"] != member_id
    if by_moderator and not moderates(actor, category):
        raise Forbidden("only the author or a moderator can edit this post")
    if post["hidden_reason"] == "held" and not moderates(actor, category):
        # A moderator approves the text they read in the queue, not a later one.
        raise Conflict("your post is waiting for a moderator's approval; you can edit it once "
                       "it is approved")
    reason = (data.reason or "").strip()
    if by_moderator and not reason:
        raise Invalid("say why you are editing someone else's post: reason is required")
    if data.body == post["markdown"]:
        return await get_post(actor, post_id)
    now = clock.now()
    async with outbox.unit_of_work():
        admission = await gates.admit_edit(actor, body=data.body)
        updated = await Post.update({
            Post.markdown: admission.body, Post.html: render(admission.body),
            Post.revision: Post.revision + 1, Post.edited_at: now,
        }).where(
            (Post.id == post_id) & (Post.revision == post["revision"]) & Post.deleted_at.is_null()
        ).returning(Post.revision)
        if not updated:
            raise Conflict("the post changed while you were editing it; reload and try again")
        revision = int(updated[0]["revision"])
        await PostRevision.insert(PostRevision(
            post=post_id, revision=revision, markdown=admission.body, editor=member_id,
            reason=reason, created_at=now,
        ))
        if by_moderator:
            await staff_log.record(actor, "post.edit", "post", post_id, _post_label(post, thread),
                                   before={"revision": revision - 1, "raw": post["markdown"]},
                                   after={"revision": revision, "raw": admission.body},
                                   reason=reason, brand_id=category["brand"])
        await _touch(thread["id"])
        await outbox.emit(events.PostEdited(
            post_id=post_id, thread_id=thread["id"], category_id=thread["category"],
            author_id=post["author"], editor_id=member_id, revision=revision,
        ))
        await admission.report(author_id=post["author"], thread_id=thread["id"],
                               post_id=post_id, category_id=thread["category"],
                               brand_id=category["brand"])
    await cache.changed(thread["id"])
    return await get_post(actor, post_id)


async def delete_post(actor: Actor, post_id: int, reason: str = "") -> None:
    """Soft delete; deleting the first post deletes the thread. A moderator's deletion of
    someone else's post is in the staff log, with the reason given."""
    post, thread, category = await readable_post(actor, post_id)
    member_id = actor.member()
    by_moderator = post["author"] != member_id
    if by_moderator and not moderates(actor, category):
        raise Forbidden("only the author or a moderator can delete this post")
    async with outbox.unit_of_work():
        if not await remove_post(member_id, post_id):
            raise NotFound(f"post {post_id} does not exist")
        if by_moderator:
            whole = post["post_number"] == 1
            await staff_log.record(
                actor, "thread.delete" if whole else "post.delete", "thread" if whole else "post",
                thread["id"] if whole else post_id,
                _thread_label(thread) if whole else _post_label(post, thread),
                before={"author_id": post["author"], "raw": post["markdown"]},
                reason=reason.strip(), brand_id=category["brand"])


async def remove_post(by_member_id: int, post_id: int) -> bool:
    """Inside the caller's unit of work: soft-delete the post (its first post takes the
    thread with it). False when it was deleted already, so a racing second caller changes
    nothing. The thread's pages refresh once the unit commits."""
    rows = await Post.select(Post.thread, Post.author, Post.post_number).where(Post.id == post_id)
    if not rows:
        return False
    post = rows[0]
    now = clock.now()
    deleted = await Post.update({Post.deleted_at: now, Post.deleted_by: by_member_id}).where(
        (Post.id == post_id) & Post.deleted_at.is_null()
    ).returning(Post.id, Post.hidden_at)
    if not deleted:
        return False
    changes: dict[Any, Any] = {Thread.version: Thread.version + 1}
    if deleted[0]["hidden_at"] is None:
        # One out of view is no longer counted (community.forums.hiding).
        changes[Thread.post_count] = Thread.post_count - 1
    if post["post_number"] == 1:
        changes[Thread.deleted_at] = now
    threads = await Thread.update(changes).where(Thread.id == post["thread"]).returning(
        Thread.category)
    await outbox.emit(events.PostDeleted(
        post_id=post_id, thread_id=post["thread"], category_id=threads[0]["category"],
        author_id=post["author"], deleted_by_id=by_member_id,
    ))
    thread_id = int(post["thread"])
    await outbox.after_commit(lambda: cache.changed(thread_id))
    return True


async def revisions(actor: Actor, post_id: int) -> list[RevisionOut]:
    await readable_post(actor, post_id)
    rows = await PostRevision.select().where(PostRevision.post == post_id).order_by(
        PostRevision.revision
    )
    editors = await authors_by_id({r["editor"] for r in rows})
    return [RevisionOut(revision=r["revision"], raw=r["markdown"], editor=editors[r["editor"]],
                        created_at=r["created_at"], reason=r["reason"]) for r in rows]


def preview(body: str) -> PreviewOut:
    """A post body as it would be shown, stored nowhere."""
    return PreviewOut(html=render(body))


# --- reactions -----------------------------------------------------------------------------


async def add_reaction(actor: Actor, post_id: int, kind: str) -> ReactionsOut:
    member_id = actor.member()
    post, thread, category = await readable_post(actor, post_id)
    await require_may_participate(actor)
    try:
        async with outbox.unit_of_work():
            await Reaction.insert(Reaction(post=post_id, member=member_id, kind=kind))
            await _touch(thread["id"])
            await outbox.emit(events.ReactionAdded(
                post_id=post_id, thread_id=thread["id"], category_id=thread["category"],
                post_author_id=post["author"], member_id=member_id, kind=kind,
                brand_id=category["brand"],
            ))
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict(f"you already reacted to this post with '{kind}'") from None
        raise
    await cache.changed(thread["id"])
    return await reaction_summary(post_id, member_id)


async def remove_reaction(actor: Actor, post_id: int, kind: str) -> ReactionsOut:
    member_id = actor.member()
    post, thread, _ = await readable_post(actor, post_id)
    async with outbox.unit_of_work():
        removed = await Reaction.delete().where(
            (Reaction.post == post_id) & (Reaction.member == member_id) & (Reaction.kind == kind)
        ).returning(Reaction.id)
        if not removed:
            raise NotFound(f"you have no '{kind}' reaction on this post")
        await _touch(thread["id"])
        await outbox.emit(events.ReactionRemoved(
            post_id=post_id, thread_id=thread["id"], category_id=thread["category"],
            post_author_id=post["author"], member_id=member_id, kind=kind,
        ))
    await cache.changed(thread["id"])
    return await reaction_summary(post_id, member_id)


# --- helpful answers -----------------------------------------------------------------------


async def mark_helpful(actor: Actor, post_id: int, helpful: bool) -> ThreadOut:
    """The thread's author or a moderator marks one reply as the helpful answer (marking
    another moves the mark); unmarking takes it away."""
    post, thread, category = await readable_post(actor, post_id)
    member_id = actor.member()
    if thread["author"] != member_id and not moderates(actor, category):
        raise Forbidden("only the thread's author or a moderator marks the helpful reply")
    await require_may_participate(actor)
    if post["post_number"] == 1:
        raise Invalid("the first post asks the question; mark a reply")
    current = thread["helpful_post_id"]
    if helpful == (current == post_id):
        return await _thread_now(thread["id"])
    async with outbox.unit_of_work():
        if current is not None:
            previous = await Post.select(Post.author).where(Post.id == current)
            await outbox.emit(events.PostUnmarkedHelpful(
                post_id=current, thread_id=thread["id"], category_id=thread["category"],
                post_author_id=previous[0]["author"] if previous else 0, marked_by_id=member_id))
        await Thread.update({Thread.helpful_post_id: post_id if helpful else None,
                             Thread.version: Thread.version + 1}).where(Thread.id == thread["id"])
        if helpful:
            await outbox.emit(events.PostMarkedHelpful(
                post_id=post_id, thread_id=thread["id"], category_id=thread["category"],
                post_author_id=post["author"], marked_by_id=member_id,
                brand_id=category["brand"]))
    await cache.changed(thread["id"])
    return await _thread_now(thread["id"])


async def _thread_now(thread_id: int) -> ThreadOut:
    thread = await thread_out(thread_id)
    if thread is None:
        raise NotFound(f"thread {thread_id} does not exist")
    return thread
