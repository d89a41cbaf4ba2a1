"""The point rules a new Hearth starts with; `hearth migrate` applies them once (seed step)."""

from __future__ import annotations

from gamification.rules import services
from gamification.rules.schemas import RuleIn
from gamification.rules.tables import Rule
from server.auth import Actor

DEFAULT_RULES = [
    RuleIn(name="Started a thread", event_types=["thread.created"], points=10, cap_day=50),
    RuleIn(name="Posted a reply", event_types=["post.created"], condition="post_number > 1",
           points=5, cap_day=50),
    RuleIn(name="Received a reaction", event_types=["reaction.added"],
           points='5 if kind == "insightful" else 2', cap_day=100),
    RuleIn(name="First visit of the day", event_types=["member.visited"], points=1, cap_day=1),
    RuleIn(name="Reply marked helpful", event_types=["post.marked_helpful"], points=15),
]


async def seed_default_rules() -> None:
    """Creates each default rule not present by name, through the service, so the defaults
    pass the same validation as any rule an admin writes."""
    existing = {r["name"] for r in await Rule.select(Rule.name)}
    for rule in DEFAULT_RULES:
        if rule.name not in existing:
            await services.create_rule(Actor(role="admin"), rule)
