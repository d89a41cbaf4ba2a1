"""What committed forum events set off: live thread updates and members' notifications."""

from __future__ import annotations

from typing import Any

import msgspec

from community.forums import services, watching
from server import events, outbox, runtime
from server.accounts.services import active_member_ids_by_handle, members_by_id
from server.auth import Actor
from server.errors import DomainError
from server.markup import mentions
from server.notifications import notify, notify_many
from server.pubsub import Delivered, Message
from server.realtime import channel_rule, history_filter


@channel_rule("thread", numeric=True)
async def may_follow_thread(actor: Actor, key: str) -> bool:
    try:
        await services.readable_thread(actor, int(key))
    except DomainError:
        return False
    return True


@channel_rule("category", numeric=True)
async def may_follow_category(actor: Actor, key: str) -> bool:
    try:
        await services.readable_category(actor, int(key))
    except DomainError:
        return False
    return True


@history_filter("thread")
async def drop_deleted_posts(key: str, messages: list[Delivered]) -> list[Delivered]:
    """Catch-up must not replay the text of posts deleted or hidden since they were
    published."""
    post_ids = {m.data["id"] for m in messages
                if m.event in CARRY_TEXT and isinstance(m.data, dict)}
    live = await services.live_post_ids(post_ids)
    return [m for m in messages if m.event not in CARRY_TEXT or m.data.get("id") in live]


# Live messages that carry a post's text.
CARRY_TEXT = ("post.created", "post.edited", "post.restored")


@outbox.batch_handler(
    "forums.live",
    events.ThreadCreated, events.PostCreated, events.PostEdited, events.PostDeleted,
    events.ReactionAdded, events.ReactionRemoved, events.ThreadUpdated,
    events.PostMarkedHelpful, events.PostUnmarkedHelpful, events.ThreadCreated,
    events.ContentHidden, events.ContentRestored,
)
async def publish_thread_activity(batch: list[outbox.Delivery]) -> None:
    """Each change on its thread's channel; a new thread on its category's, where a thread
    list counts arrivals (a "3 new threads" bar) and fetches them when asked."""
    posts = await services.posts_out(
        {d.event.post_id for d in batch if isinstance(d.event, events.PostCreated | events.PostEdited)}
        | {d.event.target_id for d in batch
           if isinstance(d.event, events.ContentRestored) and d.event.target_type == "post"})
    messages = []
    for delivery in batch:
        event = delivery.event
        data: Any
        if isinstance(event, events.ContentHidden | events.ContentRestored):
            # Out of view for everyone but its author and moderators, whose pages refetch.
            if event.target_type != "post" or event.thread_id is None:
                continue
            channel = f"thread:{event.thread_id}"
            if isinstance(event, events.ContentHidden):
                messages.append(Message(channel, "post.hidden", {
                    "post_id": event.target_id, "reason": event.reason}, str(delivery.event_id)))
            elif (post := posts.get(event.target_id)) is not None:
                messages.append(Message(channel, "post.restored", msgspec.to_builtins(post),
                                        str(delivery.event_id)))
            continue
        if isinstance(event, events.PostCreated | events.PostEdited):
            post = posts.get(event.post_id)
            if post is None:
                continue
            data = msgspec.to_builtins(post)
        elif isinstance(event, events.PostDeleted):
            data = {"post_id": event.post_id}
        elif isinstance(event, events.ReactionAdded | events.ReactionRemoved):
            summary = await services.reaction_summary(event.post_id)
            data = {"post_id": event.post_id, "kind": event.kind, "member_id": event.member_id,
                    "reactions": summary.reactions}
        elif isinstance(event, events.PostMarkedHelpful | events.PostUnmarkedHelpful):
            data = {"post_id": event.post_id,
                    "helpful": isinstance(event, events.PostMarkedHelpful)}
        elif isinstance(event, events.ThreadUpdated):
            thread = await services.thread_out(event.thread_id)
            if thread is None:
                continue
            data = msgspec.to_builtins(thread)
        elif isinstance(event, events.ThreadCreated):
            # A category's readers are told a thread started, not shown it: the list is
            # theirs to reload (it is ordered and paged by the server).
            messages.append(Message(f"category:{event.category_id}", events.event_type(event), {
                "thread_id": event.thread_id, "category_id": event.category_id,
                "author_id": event.author_id,
            }, str(delivery.event_id)))
            continue
        else:
            continue
        messages.append(Message(f"thread:{event.thread_id}", events.event_type(event), data,
                                str(delivery.event_id)))
    await outbox.after_commit(lambda: runtime.current().broker.publish_many(messages))


@outbox.handler("forums.notify", events.PostCreated, events.PostEdited, events.ReactionAdded)
async def notify_members(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.PostCreated):
        await _post_created(event_id, event)
    elif isinstance(event, events.PostEdited):
        await _post_edited(event_id, event)
        if event.editor_id != event.author_id:
            await _edited_by_moderator(event_id, event)
    elif isinstance(event, events.ReactionAdded):
        if event.post_author_id == event.member_id:
            return
        await notify(event.post_author_id, "reaction", event_id, {
            "thread_id": event.thread_id, "post_id": event.post_id, "kind": event.kind,
            **await _context(event.thread_id, event.member_id),
        })


async def _post_created(event_id: int, event: events.PostCreated) -> None:
    """One notification per member a new post concerns, the most particular reason first:
    a reply to their post, then a mention, then watching the thread (or, for its first
    post, the category). Muting the thread, or its category with no level for the thread,
    silences all of them."""
    if not await services.live_post_ids({event.post_id}):
        return
    levels = await watching.notable_levels(event.thread_id, event.category_id)
    news = "new_thread" if event.post_number == 1 else "posted"
    kinds = {member: news for member, level in levels.items() if level == "watching"}
    mentioned = await _mentioned(event.post_id, 1)
    kinds.update(dict.fromkeys(mentioned, "mention"))
    if event.reply_to_author_id is not None:
        kinds[event.reply_to_author_id] = "reply"
    await _send(event_id, event, event.author_id, event.post_number, kinds, levels)


async def _post_edited(event_id: int, event: events.PostEdited) -> None:
    """An edit tells only members mentioned for the first time in this post."""
    if event.revision < 2 or not await services.live_post_ids({event.post_id}):
        return
    mentioned = await _mentioned(event.post_id, event.revision)
    if not mentioned:
        return
    levels = await watching.notable_levels(event.thread_id, event.category_id)
    kinds = dict.fromkeys(mentioned, "mention")
    kinds.pop(event.author_id, None)
    await _send(event_id, event, event.editor_id, await services.post_number(event.post_id),
                kinds, levels)


async def _edited_by_moderator(event_id: int, event: events.PostEdited) -> None:
    """The author is told that a moderator edited their post, and why."""
    if not await services.live_post_ids({event.post_id}):
        return
    await notify(event.author_id, "moderator_edit", event_id, {
        "thread_id": event.thread_id, "post_id": event.post_id,
        "post_number": await services.post_number(event.post_id),
        "revision": event.revision,
        "reason": await services.revision_reason(event.post_id, event.revision),
        **await _context(event.thread_id, event.editor_id),
    })


# An edit is compared with this many revisions before it, not all of them: each edit then
# costs the same however often a post was edited (a member re-mentioned after that many
# edits is told again).
MENTION_LOOKBACK = 20


async def _mentioned(post_id: int, revision: int) -> set[int]:
    """Members this revision of the post mentions that the MENTION_LOOKBACK revisions before
    it did not."""
    texts = await services.revision_texts(post_id, revision, since=revision - MENTION_LOOKBACK)
    if revision not in texts:
        return set()
    earlier = {handle for number, text in texts.items() if number < revision
               for handle in mentions(text)}
    handles = [handle for handle in mentions(texts[revision]) if handle not in earlier]
    return set((await active_member_ids_by_handle(handles)).values())


async def _send(event_id: int, event: events.PostCreated | events.PostEdited, by_member_id: int,
                post_number: int, kinds: dict[int, str], levels: dict[int, str]) -> None:
    kinds = {member: kind for member, kind in kinds.items()
             if member != by_member_id and levels.get(member) != "muted"}
    readers = await services.readers(event.category_id, set(kinds))
    kinds = {member: kind for member, kind in kinds.items() if member in readers}
    if not kinds:
        return
    await notify_many(event_id, kinds, {
        "thread_id": event.thread_id, "post_id": event.post_id,
        "post_number": post_number,
        **await _context(event.thread_id, by_member_id),
    })


async def _context(thread_id: int, by_member_id: int) -> dict[str, Any]:
    """What a notification needs to be shown without more requests."""
    thread = await services.thread_out(thread_id)
    by = (await members_by_id({by_member_id})).get(by_member_id)
    return {
        "thread_title": thread.title if thread else "",
        "by_member_id": by_member_id,
        "by_handle": by.handle if by else "",
    }
