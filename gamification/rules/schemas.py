"""API shapes for rules."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from server.events import FieldInfo
from server.text import require_plain
from server.types import Id

Cap = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
Expression = Annotated[str, msgspec.Meta(max_length=500)]
EventTypes = Annotated[list[str], msgspec.Meta(min_length=1, max_length=10)]


class RuleIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=3, max_length=100)]
    event_types: EventTypes
    points: Expression | int
    condition: Expression = ""
    cap_day: Cap | None = None
    cap_week: Cap | None = None
    cap_month: Cap | None = None
    cooldown_seconds: Annotated[int, msgspec.Meta(ge=0, le=31 * 86400)] = 0
    active_from: dt.datetime | None = None
    active_until: dt.datetime | None = None
    brand_id: Id | None = None
    category_id: Id | None = None
    enabled: bool = True

    def __post_init__(self) -> None:
        require_plain(name=self.name)


class RulePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=3, max_length=100)] | None = None
    event_types: EventTypes | None = None
    points: Expression | int | None = None
    condition: Expression | None = None
    cap_day: Cap | msgspec.UnsetType | None = msgspec.UNSET
    cap_week: Cap | msgspec.UnsetType | None = msgspec.UNSET
    cap_month: Cap | msgspec.UnsetType | None = msgspec.UNSET
    cooldown_seconds: Annotated[int, msgspec.Meta(ge=0, le=31 * 86400)] | None = None
    active_from: dt.datetime | msgspec.UnsetType | None = msgspec.UNSET
    active_until: dt.datetime | msgspec.UnsetType | None = msgspec.UNSET
    category_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    enabled: bool | None = None

    def __post_init__(self) -> None:
        require_plain(name=self.name)


class RuleOut(msgspec.Struct):
    id: int
    name: str
    event_types: list[str]
    points: str
    condition: str
    cap_day: int | None
    cap_week: int | None
    cap_month: int | None
    cooldown_seconds: int
    active_from: dt.datetime | None
    active_until: dt.datetime | None
    brand_id: int | None
    category_id: int | None
    enabled: bool


class EventTypeOut(msgspec.Struct):
    """An event that rules, badges and challenge tasks can count, with the fields their
    expressions see (`event` is the type itself)."""

    type: str
    fields: list[FieldInfo]
    # Whether a brand's rule may pay for it (it happens in a category, which has a brand).
    brand_rules: bool
    # A plausible event of this type, to start a trial from.
    sample: dict[str, Any]


class RuleTryIn(msgspec.Struct, forbid_unknown_fields=True):
    rule: RuleIn
    # The event's type and fields, as expressions see them: {"event": "post.created", ...}.
    event: Annotated[dict[str, Any], msgspec.Meta(max_length=30)]


class RuleCheck(msgspec.Struct):
    # What was checked, e.g. "condition `kind == 'like'`".
    check: str
    passed: bool
    # Why it passed or not: the value an expression came to, or its error.
    detail: str


class RuleTryOut(msgspec.Struct):
    # Points the rule would pay for this event, before caps and cooldowns (which depend on
    # the member's earlier awards).
    points: int
    checks: list[RuleCheck]
