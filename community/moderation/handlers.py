"""What committed moderation events set off: items for held and auto-flagged content, the
outcome told to flaggers and authors, and who may follow the staff channels."""

from __future__ import annotations

from community.moderation import services
from community.moderation.tables import Flag, ReviewItem
from server import events, outbox, reviewables
from server.auth import Actor
from server.notifications import notify, notify_many
from server.realtime import channel_rule
from server.types import parse_id


@channel_rule("moderation")
async def may_follow_queue(actor: Actor, key: str) -> bool:
    """`moderation:all` for moderators; `moderation:{brand_id}` for that brand's staff (and
    moderators). People only: an API token never follows the queue."""
    if actor.via != "session":
        return False
    if key == services.ALL:
        return actor.is_moderator
    brand_id = parse_id(key)
    return brand_id is not None and actor.moderates(brand_id)


@outbox.handler("moderation.intake", events.ContentHeld, events.ContentAutoFlagged)
async def take_in(event_id: int, event: events.Event) -> None:
    """A held post waits in the queue for approval; content the system flagged joins it
    with a system flag."""
    assert isinstance(event, events.ContentHeld | events.ContentAutoFlagged)
    info = (await reviewables.get(event.target_type).describe([event.target_id])).get(
        event.target_id)
    if info is None or info.deleted:
        return
    if isinstance(event, events.ContentHeld):
        await services.hold(info, event.reason)
    else:
        await services.system_flag(info, event.reason)


@outbox.handler("moderation.notify", events.ReviewResolved, events.ContentHidden)
async def tell_outcome(event_id: int, event: events.Event) -> None:
    if isinstance(event, events.ContentHidden):
        # The author of content the flags hid is told at once (a moderator's hide is told
        # with the item's outcome, or by the moderator).
        if event.reason == "flags":
            await notify(event.author_id, "content_hidden", event_id, {
                "target_type": event.target_type, "target_id": event.target_id,
                "label": await _label(event.target_type, event.target_id),
            })
        return
    assert isinstance(event, events.ReviewResolved)
    rows = await ReviewItem.select(ReviewItem.label, ReviewItem.url).where(
        ReviewItem.id == event.item_id)
    if not rows:
        return
    data = {"item_id": event.item_id, "target_type": event.target_type,
            "target_id": event.target_id, "label": rows[0]["label"], "status": event.status,
            "action": event.action, "reason": event.reason}
    flaggers = {int(r["flagger"]) for r in await Flag.select(Flag.flagger).where(
        (Flag.item == event.item_id) & Flag.flagger.is_not_null())}
    flaggers.discard(event.by_member_id)
    kinds = dict.fromkeys(flaggers, "flag_outcome")
    # The author hears of what changed their content; an ignored flag changed nothing.
    if event.author_id is not None and event.action != "none" \
            and event.author_id != event.by_member_id:
        kinds[event.author_id] = "moderation_outcome"
    await notify_many(event_id, kinds, data)


async def _label(kind: str, target_id: int) -> str:
    info = (await reviewables.get(kind).describe([target_id])).get(target_id)
    return info.label if info else f"{kind} {target_id}"
