"""API shapes for flags and the review queue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from community.moderation.scores import Line
from server.types import Id

FLAG_REASONS = ("spam", "harassment", "inappropriate", "off_topic", "other")
# Flag items: agree and hide, agree and delete, disagree (restore), ignore, silence the
# author (and hide). Held items: approve (show it) or reject (delete it).
ACTIONS = ("agree_hide", "agree_delete", "disagree", "ignore", "silence", "approve", "reject")
STATUSES = ("open", "agreed", "disagreed", "ignored", "approved", "rejected")

TargetKind = Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,30}$")]
FlagReason = Annotated[str, msgspec.Meta(pattern="^(" + "|".join(FLAG_REASONS) + ")$")]
Action = Annotated[str, msgspec.Meta(pattern="^(" + "|".join(ACTIONS) + ")$")]
Reason = Annotated[str, msgspec.Meta(max_length=1000)]


class FlagIn(msgspec.Struct, forbid_unknown_fields=True):
    target_type: TargetKind
    target_id: Id
    reason: FlagReason
    # Required for "other": what is wrong, in the flagger's words.
    text: Reason = ""


class FlagOut(msgspec.Struct):
    id: int
    item_id: int
    target_type: str
    target_id: int
    reason: str
    text: str
    weight: int
    # Why the flag weighs what it does; the lines add up to the weight.
    breakdown: list[Line]
    status: str
    created_at: dt.datetime


class Flagger(msgspec.Struct):
    id: int
    handle: str


class ItemFlag(msgspec.Struct):
    id: int
    # None: the system flagged it (a watched word).
    flagger: Flagger | None
    reason: str
    text: str
    weight: int
    breakdown: list[Line]
    status: str
    created_at: dt.datetime


class ItemOut(msgspec.Struct):
    id: int
    target_type: str
    target_id: int
    # "flags" or "held" (a post waiting for approval: approve or reject).
    source: str
    status: str
    score: int
    # The auto-hide threshold (HEARTH_FLAG_HIDE_THRESHOLD) the score is measured against.
    threshold: int
    hidden_by_flags: bool
    flag_count: int
    # How many of its flags give each reason.
    reasons: dict[str, int]
    label: str
    excerpt: str
    url: str
    author: Flagger | None
    brand_id: int | None
    category_id: int | None
    held_reason: str
    claimed_by: Flagger | None
    claimed_until: dt.datetime | None
    resolved_by: Flagger | None
    resolved_at: dt.datetime | None
    resolution_action: str
    resolution_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    # The actions the item takes now (none once resolved).
    actions: list[str]


class ItemDetail(msgspec.Struct):
    item: ItemOut
    flags: list[ItemFlag]
    # The score line by line: each flag's lines, prefixed by who flagged.
    score_lines: list[Line]
    # The target now: hidden, deleted.
    target_hidden: bool
    target_deleted: bool


class ItemPage(msgspec.Struct):
    items: list[ItemOut]
    next_cursor: str | None


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    action: Action
    # Told to the flaggers and the author, and kept in the staff log.
    reason: Reason = ""
    # For "silence": how long; none for the escalation ladder's step (sanctions check it).
    duration_seconds: Annotated[int, msgspec.Meta(ge=1, le=10**9)] | None = None


class BulkIn(msgspec.Struct, forbid_unknown_fields=True):
    item_ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=100)]
    action: Action
    reason: Reason = ""


class BulkResult(msgspec.Struct):
    item_id: int
    # The HTTP status acting on this item alone would have had.
    status: int
    message: str
    item: ItemOut | None


class BulkOut(msgspec.Struct):
    results: list[BulkResult]

