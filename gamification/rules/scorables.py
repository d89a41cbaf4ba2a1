"""Which events can earn points, who earns, and what an award is tied to (for reversal).

Modelled on discourse-gamification's scorables. Gamification knows events only through
server.events, never through the package that emitted them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from server import events


@dataclass(frozen=True)
class Scorable:
    beneficiary: str
    actor: str
    # When the actor is also this member, the act is on their own content and earns nothing.
    target_owner: str | None
    source: Callable[[Any], str]
    sample: events.Event


SCORABLES: dict[str, Scorable] = {
    "member.registered": Scorable(
        "member_id", "member_id", None, lambda e: f"member:{e.member_id}",
        events.MemberRegistered(member_id=1)),
    "member.visited": Scorable(
        "member_id", "member_id", None, lambda e: f"visit:{e.member_id}:{e.day}",
        events.MemberVisited(member_id=1, day="2026-01-01")),
    "thread.created": Scorable(
        "author_id", "author_id", None, lambda e: f"post:{e.post_id}",
        events.ThreadCreated(thread_id=1, category_id=1, author_id=1, post_id=1)),
    "post.created": Scorable(
        "author_id", "author_id", "reply_to_author_id", lambda e: f"post:{e.post_id}",
        events.PostCreated(post_id=2, thread_id=1, category_id=1, author_id=1, post_number=2,
                           reply_to_post_id=1, reply_to_author_id=2)),
    "post.marked_helpful": Scorable(
        "post_author_id", "marked_by_id", "post_author_id", lambda e: f"post:{e.post_id}:helpful",
        events.PostMarkedHelpful(post_id=2, thread_id=1, category_id=1, post_author_id=2,
                                 marked_by_id=1)),
    "reaction.added": Scorable(
        "post_author_id", "member_id", "post_author_id",
        lambda e: f"post:{e.post_id}:reaction:{e.member_id}:{e.kind}",
        events.ReactionAdded(post_id=1, thread_id=1, category_id=1, post_author_id=2,
                             member_id=1, kind="like")),
    # A moderator agreed with a member's flag: rules can reward accurate flaggers.
    "flag.agreed": Scorable(
        "flagger_id", "by_member_id", None, lambda e: f"flag:{e.flag_id}:agreed",
        events.FlagAgreed(flag_id=1, item_id=1, target_type="post", target_id=1, flagger_id=2,
                          by_member_id=1)),
    # Reported by a brand's own systems (inbound events): its rules pay for them.
    "order.completed": Scorable(
        "member_id", "member_id", None, lambda e: f"order:{e.brand_id}:{e.order_id}",
        events.OrderCompleted(brand_id=1, member_id=1, order_id="A-1", amount=42.5,
                              amount_minor=4250, currency="EUR", order_number=1, inbound_id=1,
                              tier="Gold")),
    "review.posted": Scorable(
        "member_id", "member_id", None, lambda e: f"review:{e.brand_id}:{e.review_id}",
        events.ReviewPosted(brand_id=1, member_id=1, review_id="R-1", inbound_id=1, rating=5,
                            tier="Gold")),
    "referral.converted": Scorable(
        "member_id", "member_id", None, lambda e: f"referral:{e.brand_id}:{e.referral_id}",
        events.ReferralConverted(brand_id=1, member_id=1, referral_id="F-1", inbound_id=1,
                                 tier="Gold")),
    "custom.received": Scorable(
        "member_id", "member_id", None, lambda e: f"custom:{e.brand_id}:{e.inbound_id}",
        events.CustomEventReceived(brand_id=1, member_id=1, name="store_visit", inbound_id=1,
                                   fields=(("minutes", 30),), tier="Gold")),
}

# Events only a brand reports: a rule paying for them must be that brand's, so that one
# brand's purchases never draw on issuance or on another brand's budget.
# What a brand's systems report (inbound events): the handlers that count acts take these too.
INBOUND: tuple[type[events.Event], ...] = (
    events.OrderCompleted, events.ReviewPosted, events.ReferralConverted,
    events.CustomEventReceived)
# Events whose fields a brand declared (custom types).
CUSTOM = frozenset({"custom.received"})
BRAND_ONLY = frozenset({"order.completed", "review.posted", "referral.converted",
                        "custom.received"})


def names(event: events.Event) -> dict[str, Any]:
    """The event's fields, as rule expressions see them (plus `event`, its type)."""
    fields = msgspec.to_builtins(event)
    fields["event"] = fields.pop("type")
    if isinstance(event, events.CustomEventReceived):
        # A declared type's own fields, by name (declarations refuse names that clash).
        fields.update(event.fields)
        del fields["fields"]
    return dict(fields)


@dataclass(frozen=True)
class Credit:
    """Who an event credits, with the event's fields as expressions see them."""

    event_type: str
    member_id: int
    fields: dict[str, Any]
    scorable: Scorable


@functools.lru_cache(maxsize=4096)
def credit(event: events.Event) -> Credit | None:
    """None when the event cannot earn, or when it is an act on one's own content. Cached:
    rules, badges and challenges each ask about the same events of a batch (callers must
    not change the fields)."""
    event_type = events.event_type(event)
    scorable = SCORABLES.get(event_type)
    if scorable is None:
        return None
    fields = names(event)
    if scorable.target_owner and fields.get(scorable.target_owner) == fields[scorable.actor]:
        return None
    return Credit(event_type, int(fields[scorable.beneficiary]), fields, scorable)


# Events that take back what earlier events earned (awards are reversed, activity removed).
REMOVALS: tuple[type[events.Event], ...] = (
    events.PostDeleted, events.ReactionRemoved, events.PostUnmarkedHelpful, events.ContentHidden,
    events.OrderRefunded)


@dataclass(frozen=True)
class Removal:
    """What a removal takes back: everything tied to `source` (or under it), all of it
    earned by `member_id`."""

    source: str
    member_id: int
    reason: str


def removal(event: events.Event) -> Removal | None:
    if isinstance(event, events.PostDeleted):
        return Removal(f"post:{event.post_id}", event.author_id, "post removed")
    if isinstance(event, events.ContentHidden) and event.target_type == "post":
        # Hidden content earns nothing; a post restored later keeps what it lost.
        return Removal(f"post:{event.target_id}", event.author_id, "post hidden")
    if isinstance(event, events.PostUnmarkedHelpful):
        return Removal(f"post:{event.post_id}:helpful", event.post_author_id,
                       "helpful mark taken back")
    if isinstance(event, events.ReactionRemoved):
        return Removal(f"post:{event.post_id}:reaction:{event.member_id}:{event.kind}",
                       event.post_author_id, "reaction withdrawn")
    if isinstance(event, events.OrderRefunded):
        return Removal(f"order:{event.brand_id}:{event.order_id}", event.member_id,
                       "order refunded")
    return None
