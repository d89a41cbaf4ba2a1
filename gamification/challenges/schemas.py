"""API shapes for challenges."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from server.text import require_plain
from server.types import Id

EventTypes = Annotated[list[str], msgspec.Meta(min_length=1, max_length=10)]


class TaskIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    event_types: EventTypes
    target: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    condition: Annotated[str, msgspec.Meta(max_length=500)] = ""

    def __post_init__(self) -> None:
        require_plain(name=self.name)


class ChallengeIn(msgspec.Struct, forbid_unknown_fields=True):
    brand_id: Id
    title: Annotated[str, msgspec.Meta(min_length=3, max_length=120)]
    starts_at: dt.datetime
    ends_at: dt.datetime
    tasks: Annotated[list[TaskIn], msgspec.Meta(min_length=1, max_length=20)]
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    image_url: Annotated[str, msgspec.Meta(max_length=500, pattern=r"^(https://\S*)?$")] = ""
    time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "UTC"
    eligibility: Annotated[str, msgspec.Meta(pattern=r"^(everyone|tier|badge)$")] = "everyone"
    eligibility_value: Annotated[str, msgspec.Meta(max_length=60)] = ""
    auto_enroll: bool = False
    ordered: bool = False
    reward_points: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    reward_badge_id: Id | None = None

    def __post_init__(self) -> None:
        require_plain(title=self.title)


class TaskOut(msgspec.Struct):
    id: int
    position: int
    name: str
    event_types: list[str]
    condition: str
    target: int


class ChallengeOut(msgspec.Struct):
    id: int
    brand_id: int
    title: str
    description: str
    image_url: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str
    status: str
    eligibility: str
    eligibility_value: str
    auto_enroll: bool
    ordered: bool
    reward_points: int
    reward_badge_id: int | None
    tasks: list[TaskOut]


class TaskProgress(msgspec.Struct):
    task_id: int
    name: str
    count: int
    target: int
    done: bool


class MyChallenge(msgspec.Struct):
    challenge_id: int
    joined: bool
    joined_at: dt.datetime | None
    completed_at: dt.datetime | None
    # Completed, but the reward points wait for the brand to top up its budget.
    reward_pending: bool
    tasks: list[TaskProgress]


class StandingOut(msgspec.Struct):
    rank: int
    member_id: int
    handle: str
    score: int
    completed: bool


class EntryOut(msgspec.Struct):
    """One member's entry, as the brand's staff follow it."""

    id: int
    member_id: int
    handle: str
    joined_at: dt.datetime
    completed_at: dt.datetime | None
    reward_pending: bool
    tasks: list[TaskProgress]


class EntriesPage(msgspec.Struct):
    # Over the whole challenge, not this page.
    entered: int
    completed: int
    items: list[EntryOut]
    next_cursor: int | None
