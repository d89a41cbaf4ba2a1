"""Who may read a category, asked by packages that do not own categories (a category's
leaderboard follows the category) and answered by the one that does, which registers its
rule here from its plugin's `register`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from server.auth import Actor
from server.errors import NotFound

# Returns when the actor may read the category's threads; raises NotFound or Forbidden
# exactly as reading them would.
CategoryRule = Callable[[Actor, int], Awaitable[None]]
_rule: CategoryRule | None = None


def category_rule(fn: CategoryRule) -> CategoryRule:
    global _rule
    _rule = fn
    return fn


async def require_category_readable(actor: Actor, category_id: int) -> None:
    if _rule is None:
        raise NotFound(f"category {category_id} does not exist")
    await _rule(actor, category_id)
