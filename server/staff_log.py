"""The staff audit log: every staff act, with who, on what, before and after, and why.

Services call `record` inside the unit of work of the act itself, so an act and its entry
commit together or not at all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from server import clock
from server.auth import Actor
from server.tables import StaffLogEntry

_encoder = msgspec.json.Encoder()


def actor_label(actor: Actor | None) -> str:
    if actor is None or actor.member_id is None:
        return "system"
    if actor.via == "token":
        return f"API token {actor.token_id} of @{actor.handle}"
    return f"@{actor.handle}"


def acting_brand(actor: Actor) -> int | None:
    """The brand whose staff see an act in their log: the actor's, when brand staff or one of
    the brand's API tokens does it."""
    return actor.brand_id if actor.role == "brand_staff" else None


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any],
                                                                           dict[str, Any]]:
    """Only the fields whose values differ, as they were and as they became: an entry shows
    what the act changed, not the whole record."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _json(value: Any) -> str | None:
    return None if value is None else _encoder.encode(value).decode()


async def record(actor: Actor | None, action: str, target_type: str,
                 target_id: int | str | None, target_label: str, *, before: Any = None,
                 after: Any = None, reason: str = "", brand_id: int | None = None) -> None:
    """Inside the act's unit of work. `actor` None is the system (an automatic hide)."""
    await StaffLogEntry.insert(StaffLogEntry(
        actor_id=actor.member_id if actor is not None else None,
        actor_label=actor_label(actor)[:120], action=action, target_type=target_type,
        target_id="" if target_id is None else str(target_id), target_label=target_label[:200],
        brand_id=brand_id, before=_json(before), after=_json(after), reason=reason,
        created_at=clock.now(),
    ))
