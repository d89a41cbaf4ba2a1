"""What can be flagged and reviewed, registered by the package that owns it.

The review queue works over a target type and id, never over one package's tables: the
forum registers posts, threads and profiles, and photo contests will register their entries
the same way, from their plugin's `register`. Any package can register here, whatever it
depends on, because the registry lives in the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from server.auth import Actor
from server.errors import Invalid


@dataclass(frozen=True)
class TargetInfo:
    """A target as the queue shows and scopes it."""

    kind: str
    id: int
    author_id: int | None
    # Whose staff may moderate it (None: moderators only) and where it lives, for filters.
    brand_id: int | None
    category_id: int | None
    # Readable even after the target is deleted: "post #3 in 'Espresso tips'".
    label: str
    # Plain text, short: what the moderator reads in the queue.
    excerpt: str
    # The web app's address of the target in its context, e.g. "#/t/5?post=12".
    url: str
    hidden: bool = False
    deleted: bool = False


class TargetType(Protocol):
    """One kind of reviewable content. The changing methods run inside the caller's unit of
    work, emit their own events (content.hidden, content.restored, ...) and answer False when
    there was nothing to change (already hidden, already deleted), so a racing second caller
    changes nothing."""

    async def describe(self, ids: list[int]) -> dict[int, TargetInfo]:
        """The targets that exist (deleted ones included, marked); unknown ids are absent."""
        ...

    async def readable(self, actor: Actor, target_id: int) -> TargetInfo:
        """The target if the actor may see it; NotFound or Forbidden exactly as reading it
        would (a deleted target is NotFound)."""
        ...

    async def hide(self, by_member_id: int | None, target_id: int, reason: str) -> bool: ...

    async def restore(self, by_member_id: int | None, target_id: int) -> bool: ...

    async def delete(self, by_member_id: int, target_id: int) -> bool: ...


_types: dict[str, TargetType] = {}


def register(kind: str, target_type: TargetType) -> None:
    _types[kind] = target_type


def kinds() -> list[str]:
    return sorted(_types)


def get(kind: str) -> TargetType:
    try:
        return _types[kind]
    except KeyError:
        raise Invalid(f"'{kind}' is not something that can be flagged; "
                      f"choose one of: {', '.join(kinds())}") from None
