"""What committed forum events set off: live thread updates and members' notifications."""

from __future__ import annotations

from typing import Any

import msgspec

from community.forums import services
from server import events, outbox, runtime
from server.accounts.services import members_by_id
from server.auth import Actor
from server.errors import DomainError
from server.notifications import notify
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
    """Catch-up must not replay the text of posts deleted since they were published."""
    post_ids = {m.data["id"] for m in messages
                if m.event in ("post.created", "post.edited") and isinstance(m.data, dict)}
    live = await services.live_post_ids(post_ids)
    return [m for m in messages
            if m.event not in ("post.created", "post.edited") or m.data.get("id") in live]


@outbox.batch_handler(
    "forums.live",
    events.ThreadCreated, events.PostCreated, events.PostEdited, events.PostDeleted,
    events.ReactionAdded, events.ReactionRemoved, events.ThreadUpdated,
    events.PostMarkedHelpful, events.PostUnmarkedHelpful,
)
async def publish_thread_activity(batch: list[outbox.Delivery]) -> None:
    posts = await services.posts_out({d.event.post_id for d in batch
                                      if isinstance(d.event, events.PostCreated | events.PostEdited)})
    messages = []
    for delivery in batch:
        event = delivery.event
        data: Any
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


@outbox.handler("forums.notify", events.PostCreated, events.ReactionAdded)
async def notify_members(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.PostCreated):
        if event.reply_to_author_id is None or event.reply_to_author_id == event.author_id:
            return
        await notify(event.reply_to_author_id, "reply", event_id, {
            "thread_id": event.thread_id, "post_id": event.post_id,
            "post_number": event.post_number, **await _context(event.thread_id, event.author_id),
        })
    elif isinstance(event, events.ReactionAdded):
        if event.post_author_id == event.member_id:
            return
        await notify(event.post_author_id, "reaction", event_id, {
            "thread_id": event.thread_id, "post_id": event.post_id, "kind": event.kind,
            **await _context(event.thread_id, event.member_id),
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
