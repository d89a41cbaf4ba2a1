"""API shapes for the tier ladder and a member's standing on it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec


class TierIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    threshold: Annotated[int, msgspec.Meta(ge=0, le=10**12)]


class LadderIn(msgspec.Struct, forbid_unknown_fields=True):
    tiers: Annotated[list[TierIn], msgspec.Meta(min_length=1, max_length=20)]
    window_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 365
    grace_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 30


class TierOut(msgspec.Struct):
    name: str
    threshold: int


class LadderOut(msgspec.Struct):
    tiers: list[TierOut]
    window_days: int
    grace_days: int


class NextTier(msgspec.Struct):
    name: str
    threshold: int
    points_needed: int


class MyTier(msgspec.Struct):
    tier: TierOut | None
    since: dt.datetime | None
    # Points earned in the rolling window: what the ladder looks at (spending never counts).
    earned_in_window: int
    window_days: int
    next: NextTier | None
    # Set while below the current tier's threshold: the date demotion would take effect.
    demotes_at: dt.datetime | None
