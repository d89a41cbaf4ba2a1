"""API shapes for badges, their criteria, grants and progress."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from server.errors import Invalid
from server.text import require_plain
from server.types import Id

EventTypes = Annotated[list[str], msgspec.Meta(min_length=1, max_length=10)]
Condition = Annotated[str, msgspec.Meta(max_length=500)]
Level = Annotated[str, msgspec.Meta(pattern=r"^(bronze|silver|gold)$")]
Slug = Annotated[str, msgspec.Meta(min_length=2, max_length=60, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class CountCriteria(msgspec.Struct, tag="count", tag_field="type", forbid_unknown_fields=True):
    """At least `count` qualifying events (within the last `window_days`, if set)."""

    event_types: EventTypes
    count: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    condition: Condition = ""
    window_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None


class PointsCriteria(msgspec.Struct, tag="points", tag_field="type", forbid_unknown_fields=True):
    """Lifetime points earned reach `threshold`."""

    threshold: Annotated[int, msgspec.Meta(ge=1, le=10**12)]


class StreakCriteria(msgspec.Struct, tag="streak", tag_field="type", forbid_unknown_fields=True):
    """A qualifying event on `length` consecutive days (or ISO weeks)."""

    event_types: EventTypes
    length: Annotated[int, msgspec.Meta(ge=2, le=3650)]
    unit: Annotated[str, msgspec.Meta(pattern=r"^(day|week)$")] = "day"
    condition: Condition = ""


class FirstCriteria(msgspec.Struct, tag="first", tag_field="type", forbid_unknown_fields=True):
    """The first time a member does something."""

    event_types: EventTypes
    condition: Condition = ""


class ChallengeCriteria(msgspec.Struct, tag="challenge", tag_field="type", forbid_unknown_fields=True):
    """Completed a given challenge."""

    challenge_id: Id


class ManualCriteria(msgspec.Struct, tag="manual", tag_field="type", forbid_unknown_fields=True):
    """Only staff grant it, with a reason."""


Criteria = (
    CountCriteria | PointsCriteria | StreakCriteria | FirstCriteria | ChallengeCriteria
    | ManualCriteria
)


class BadgeIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    criteria: Criteria
    description: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    icon: Annotated[str, msgspec.Meta(max_length=200)] = ""
    level: Level = "bronze"
    grouping: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = "community"
    enabled: bool = True
    repeatable: bool = False
    secret: bool = False
    points: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 0
    auto_revoke: bool = False

    def __post_init__(self) -> None:
        require_plain(name=self.name)


class BadgePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    icon: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    level: Level | None = None
    grouping: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    criteria: Criteria | None = None
    enabled: bool | None = None
    repeatable: bool | None = None
    secret: bool | None = None
    points: Annotated[int, msgspec.Meta(ge=0, le=100_000)] | None = None
    auto_revoke: bool | None = None

    def __post_init__(self) -> None:
        require_plain(name=self.name)


class BadgeOut(msgspec.Struct):
    id: int
    slug: str
    name: str
    description: str
    icon: str
    level: str
    grouping: str
    enabled: bool
    repeatable: bool
    secret: bool
    points: int
    auto_revoke: bool
    criteria: Criteria


class Progress(msgspec.Struct):
    current: int
    needed: int


class EarnedBadge(msgspec.Struct):
    badge: BadgeOut
    times: int
    first_granted_at: dt.datetime
    # One the member chose to show first; featured badges lead the list, in their order.
    featured: bool = False


FEATURED_LIMIT = 3


class FeaturedIn(msgspec.Struct, forbid_unknown_fields=True):
    """The badges to show first, in order; [] features none."""

    badge_ids: Annotated[list[Id], msgspec.Meta(max_length=100)]

    def __post_init__(self) -> None:
        if len(self.badge_ids) > FEATURED_LIMIT:
            raise Invalid(f"badge_ids: feature at most {FEATURED_LIMIT} badges",
                          [{"key": "badge_ids", "message": f"at most {FEATURED_LIMIT}"}])
        if len(set(self.badge_ids)) != len(self.badge_ids):
            raise Invalid("badge_ids: a badge is listed twice",
                          [{"key": "badge_ids", "message": "listed twice"}])


class UnearnedBadge(msgspec.Struct):
    badge: BadgeOut
    progress: Progress | None


class MyBadges(msgspec.Struct):
    earned: list[EarnedBadge]
    unearned: list[UnearnedBadge]


class GrantIn(msgspec.Struct, forbid_unknown_fields=True):
    member_id: Id
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class RevokeIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class GrantOut(msgspec.Struct):
    id: int
    badge_id: int
    member_id: int
    number: int
    reason: str
    granted_by: int | None
    granted_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_reason: str
    revoked_by: int | None


class GrantListed(GrantOut):
    handle: str


class GrantPage(msgspec.Struct):
    items: list[GrantListed]
    next_cursor: int | None


class BackfillOut(msgspec.Struct):
    badge_id: int
    total: int
    done: int
    granted: int
    finished: bool
    # Which run this is (each change to a badge starts a new one, with a higher number), so a
    # client that saw run N waits for a later one; null before the first run has started.
    run: int | None
