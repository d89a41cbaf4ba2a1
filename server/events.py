"""Every domain event type, declared once here so that consumers (gamification, realtime)
never import the package that produced it. Payloads carry ids, not rows."""

from __future__ import annotations

import msgspec


class MemberRegistered(msgspec.Struct, tag="member.registered", frozen=True):
    member_id: int


class MemberVisited(msgspec.Struct, tag="member.visited", frozen=True):
    """The member's first signed-in request of a UTC day."""

    member_id: int
    day: str


class MemberRoleChanged(msgspec.Struct, tag="member.role_changed", frozen=True):
    member_id: int
    role: str


class ThreadCreated(msgspec.Struct, tag="thread.created", frozen=True):
    thread_id: int
    category_id: int
    author_id: int
    post_id: int
    # The category's brand, if it has one: a brand's rules pay only for its own categories.
    brand_id: int | None = None


class ThreadUpdated(msgspec.Struct, tag="thread.updated", frozen=True):
    thread_id: int
    category_id: int
    editor_id: int


class PostCreated(msgspec.Struct, tag="post.created", frozen=True):
    post_id: int
    thread_id: int
    category_id: int
    author_id: int
    post_number: int
    reply_to_post_id: int | None = None
    reply_to_author_id: int | None = None
    # The category's brand, if it has one: a brand's rules pay only for its own categories.
    brand_id: int | None = None


class PostEdited(msgspec.Struct, tag="post.edited", frozen=True):
    post_id: int
    thread_id: int
    category_id: int
    author_id: int
    editor_id: int
    revision: int


class PostDeleted(msgspec.Struct, tag="post.deleted", frozen=True):
    post_id: int
    thread_id: int
    category_id: int
    author_id: int
    deleted_by_id: int


class PostMarkedHelpful(msgspec.Struct, tag="post.marked_helpful", frozen=True):
    """The thread's author (or a moderator) marked a reply as the helpful answer."""

    post_id: int
    thread_id: int
    category_id: int
    post_author_id: int
    marked_by_id: int
    # The category's brand, if it has one: a brand's rules pay only for its own categories.
    brand_id: int | None = None


class PostUnmarkedHelpful(msgspec.Struct, tag="post.unmarked_helpful", frozen=True):
    post_id: int
    thread_id: int
    category_id: int
    post_author_id: int
    marked_by_id: int


class ReactionAdded(msgspec.Struct, tag="reaction.added", frozen=True):
    post_id: int
    thread_id: int
    category_id: int
    post_author_id: int
    member_id: int
    kind: str
    # The category's brand, if it has one: a brand's rules pay only for its own categories.
    brand_id: int | None = None


class ReactionRemoved(msgspec.Struct, tag="reaction.removed", frozen=True):
    post_id: int
    thread_id: int
    category_id: int
    post_author_id: int
    member_id: int
    kind: str


class PointsPosted(msgspec.Struct, tag="points.posted", frozen=True):
    """A ledger transaction changed a member's balance (award, reversal, adjustment)."""

    transaction_id: int
    member_id: int
    amount: int
    balance: int
    kind: str
    reason: str
    posted_at: str
    category_id: int | None = None


class PointsExpiring(msgspec.Struct, tag="points.expiring", frozen=True):
    """Some of a member's points expire on `expires_on` (a UTC day), within `days` days: the
    advance notice, once per lot and notice."""

    member_id: int
    amount: int
    expires_on: str
    days: int


class TierChanged(msgspec.Struct, tag="tier.changed", frozen=True):
    """A member moved on the tier ladder (VIP events gate on tiers)."""

    member_id: int
    from_tier: str | None
    to_tier: str | None
    promoted: bool


class BadgeGranted(msgspec.Struct, tag="badge.granted", frozen=True):
    member_id: int
    badge_id: int
    grant_id: int
    name: str
    number: int


class BadgeRevoked(msgspec.Struct, tag="badge.revoked", frozen=True):
    member_id: int
    badge_id: int
    grant_id: int
    name: str


class ChallengeCompleted(msgspec.Struct, tag="challenge.completed", frozen=True):
    member_id: int
    challenge_id: int


class RewardRedeemed(msgspec.Struct, tag="reward.redeemed", frozen=True):
    """A member spent points on a catalogue reward. A reward fulfilled "by webhook" is
    handed to the brand's systems through this event; a coupon code is never in it."""

    redemption_id: int
    reward_id: int
    brand_id: int
    member_id: int
    points: int
    fulfilment: str
    redeemed_at: str


class RewardRefunded(msgspec.Struct, tag="reward.refunded", frozen=True):
    """Staff refunded a redemption: the points and the stock came back, any code is void."""

    redemption_id: int
    reward_id: int
    brand_id: int
    member_id: int
    points: int
    refunded_at: str


class MailQueued(msgspec.Struct, tag="mail.queued", frozen=True):
    """A mail was queued (server.mail): the row holds it until it is sent."""

    mail_id: int


# --- moderation: content a moderator, the flags or a gate took out of view -----------------
# `target_type` names a reviewable kind (server.reviewables): "post", "thread", "profile", and
# later a contest entry. `author_id` is whoever the content belongs to.


class ContentHidden(msgspec.Struct, tag="content.hidden", frozen=True):
    """Hidden from everyone but its author and staff until a moderator decides. `reason` is
    "flags" (the score passed the threshold), "moderator" or "held" (pre-moderation)."""

    target_type: str
    target_id: int
    author_id: int
    reason: str
    by_member_id: int | None = None
    thread_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None


class ContentRestored(msgspec.Struct, tag="content.restored", frozen=True):
    """Hidden content shown again (a moderator disagreed with the flags, or approved a held
    post)."""

    target_type: str
    target_id: int
    author_id: int
    by_member_id: int | None = None
    thread_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None


class ContentHeld(msgspec.Struct, tag="content.held", frozen=True):
    """A new member's post, or one a watched word holds, waits for a moderator's approval."""

    target_type: str
    target_id: int
    author_id: int
    # Why, in words the moderator reads: "first post of a new account", "watched word 'x'".
    reason: str
    thread_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None


class ContentAutoFlagged(msgspec.Struct, tag="content.auto_flagged", frozen=True):
    """The system flagged content (a watched word set to "flag"): it joins the review queue
    like a member's flag."""

    target_type: str
    target_id: int
    author_id: int
    reason: str
    thread_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None


# --- the review queue (community.moderation): flags and their outcomes -----------------------


class FlagCreated(msgspec.Struct, tag="flag.created", frozen=True):
    """A member (or the system, flagger_id None) flagged a target; it joined review item
    `item_id`, whose score went up by `weight`."""

    flag_id: int
    item_id: int
    target_type: str
    target_id: int
    reason: str
    weight: int
    flagger_id: int | None = None
    author_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None


class FlagAgreed(msgspec.Struct, tag="flag.agreed", frozen=True):
    """A moderator agreed with the flag (one event per flag of the item): a rule can reward
    the flagger (`flagger_id`)."""

    flag_id: int
    item_id: int
    target_type: str
    target_id: int
    flagger_id: int
    by_member_id: int
    author_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None


class FlagDisagreed(msgspec.Struct, tag="flag.disagreed", frozen=True):
    """A moderator disagreed with the flag: the flagger's accuracy goes down."""

    flag_id: int
    item_id: int
    target_type: str
    target_id: int
    flagger_id: int
    by_member_id: int
    author_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None


class FlagIgnored(msgspec.Struct, tag="flag.ignored", frozen=True):
    """A moderator ignored the item: the flag is closed without a verdict."""

    flag_id: int
    item_id: int
    target_type: str
    target_id: int
    flagger_id: int
    by_member_id: int
    author_id: int | None = None
    category_id: int | None = None
    brand_id: int | None = None


class ReviewResolved(msgspec.Struct, tag="review.resolved", frozen=True):
    """A moderator decided a review item. `status` is agreed, disagreed, ignored, approved or
    rejected; `action` what was done (hide, delete, silence, restore, none)."""

    item_id: int
    target_type: str
    target_id: int
    status: str
    action: str
    by_member_id: int
    reason: str
    author_id: int | None = None
    brand_id: int | None = None
# --- sanctions (server.accounts.sanctions) -------------------------------------------------
# `ends_at` is ISO 8601 (UTC): when the sanction ends by itself unless lifted first.


class MemberSilenced(msgspec.Struct, tag="member.silenced", frozen=True):
    """The member can read but not post, react or vote until ends_at; earns nothing meanwhile."""

    sanction_id: int
    member_id: int
    ends_at: str
    by_member_id: int | None = None


class MemberSuspended(msgspec.Struct, tag="member.suspended", frozen=True):
    """The member cannot sign in until ends_at; their sessions ended and sockets closed."""

    sanction_id: int
    member_id: int
    ends_at: str
    by_member_id: int | None = None


class SanctionLifted(msgspec.Struct, tag="sanction.lifted", frozen=True):
    """Lifted before its end, by staff or by an overturned appeal."""

    sanction_id: int
    member_id: int
    kind: str
    by_member_id: int | None = None


class SanctionAppealed(msgspec.Struct, tag="sanction.appealed", frozen=True):
    appeal_id: int
    sanction_id: int
    member_id: int


class AppealDecided(msgspec.Struct, tag="appeal.decided", frozen=True):
    """`status` is "upheld" or "overturned" (which lifted the sanction)."""

    appeal_id: int
    sanction_id: int
    member_id: int
    status: str
    by_member_id: int | None = None


# Inbound events: a brand's own systems (its shop, review site, referral program) report what
# a member did there (gamification.inbound). Each names the brand it came from, so that only
# that brand's rules pay for it, from its budget; `tier` is the member's tier when it arrived
# ("double for VIP") and `inbound_id` the recorded request.


class OrderCompleted(msgspec.Struct, tag="order.completed", frozen=True):
    brand_id: int
    member_id: int
    order_id: str
    # In the currency's major unit, for rules ("1 point per euro": `amount`); exact in
    # amount_minor (cents for EUR, yen for JPY).
    amount: float
    amount_minor: int
    currency: str
    # The member's nth order reported by this brand (1: their first).
    order_number: int
    inbound_id: int
    tier: str | None = None


class OrderRefunded(msgspec.Struct, tag="order.refunded", frozen=True):
    """Takes back everything the order earned."""

    brand_id: int
    member_id: int
    order_id: str
    inbound_id: int


class ReviewPosted(msgspec.Struct, tag="review.posted", frozen=True):
    brand_id: int
    member_id: int
    review_id: str
    inbound_id: int
    rating: int | None = None
    tier: str | None = None


class ReferralConverted(msgspec.Struct, tag="referral.converted", frozen=True):
    """The member's referral became a customer: the referrer (member_id) earns."""

    brand_id: int
    member_id: int
    referral_id: str
    inbound_id: int
    tier: str | None = None


class CustomEventReceived(msgspec.Struct, tag="custom.received", frozen=True):
    """A type the brand declared (`name`), with its declared fields, which rules see by name."""

    brand_id: int
    member_id: int
    name: str
    inbound_id: int
    # (name, value) pairs: events are hashable (rules cache what each one credits).
    fields: tuple[tuple[str, str | int | float | bool], ...] = ()
    tier: str | None = None


Event = (
    MemberRegistered
    | MemberVisited
    | MemberRoleChanged
    | ThreadCreated
    | ThreadUpdated
    | PostCreated
    | PostEdited
    | PostDeleted
    | PostMarkedHelpful
    | PostUnmarkedHelpful
    | ReactionAdded
    | ReactionRemoved
    | PointsPosted
    | PointsExpiring
    | TierChanged
    | BadgeGranted
    | BadgeRevoked
    | ChallengeCompleted
    | RewardRedeemed
    | RewardRefunded
    | MailQueued
    | ContentHidden
    | ContentRestored
    | ContentHeld
    | ContentAutoFlagged
    | FlagCreated
    | FlagAgreed
    | FlagDisagreed
    | FlagIgnored
    | ReviewResolved
    | MemberSilenced
    | MemberSuspended
    | SanctionLifted
    | SanctionAppealed
    | AppealDecided
    | OrderCompleted
    | OrderRefunded
    | ReviewPosted
    | ReferralConverted
    | CustomEventReceived
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (
        MemberRegistered,
        MemberVisited,
        MemberRoleChanged,
        ThreadCreated,
        ThreadUpdated,
        PostCreated,
        PostEdited,
        PostDeleted,
        PostMarkedHelpful,
        PostUnmarkedHelpful,
        ReactionAdded,
        ReactionRemoved,
        PointsPosted,
        PointsExpiring,
        TierChanged,
        BadgeGranted,
        BadgeRevoked,
        ChallengeCompleted,
        RewardRedeemed,
        RewardRefunded,
        MailQueued,
        ContentHidden,
        ContentRestored,
        ContentHeld,
        ContentAutoFlagged,
        FlagCreated,
        FlagAgreed,
        FlagDisagreed,
        FlagIgnored,
        ReviewResolved,
        MemberSilenced,
        MemberSuspended,
        SanctionLifted,
        SanctionAppealed,
        AppealDecided,
        OrderCompleted,
        OrderRefunded,
        ReviewPosted,
        ReferralConverted,
        CustomEventReceived,
    )
}

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)  # type: ignore[arg-type]


def event_type(event: Event) -> str:
    return str(type(event).__struct_config__.tag)


def encode(event: Event) -> str:
    return _encoder.encode(event).decode()


def decode(payload: str) -> Event:
    return _decoder.decode(payload)


class FieldInfo(msgspec.Struct):
    name: str
    # JSON-ish type names: "integer", "text", "integer or null"...
    type: str
    required: bool


_TYPE_NAMES: dict[type[msgspec.inspect.Type], str] = {
    msgspec.inspect.IntType: "integer",
    msgspec.inspect.StrType: "text",
    msgspec.inspect.BoolType: "boolean",
    msgspec.inspect.FloatType: "number",
    msgspec.inspect.NoneType: "null",
}


def _type_name(info: msgspec.inspect.Type) -> str:
    if isinstance(info, msgspec.inspect.UnionType):
        return " or ".join(_type_name(t) for t in info.types)
    return _TYPE_NAMES.get(type(info), "value")


def fields_of(event_class: type[Event]) -> list[FieldInfo]:
    """An event type's payload fields with their types, read from its declaration (so a
    console's condition helper never drifts from what events carry)."""
    info = msgspec.inspect.type_info(event_class)
    assert isinstance(info, msgspec.inspect.StructType)
    return [FieldInfo(name=f.name, type=_type_name(f.type), required=f.required)
            for f in info.fields]
