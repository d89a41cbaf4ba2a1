"""Demo data: the kernel's part (a brand and its people), then each plugin's demo steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server import runtime
from server.accounts import services
from server.accounts.schemas import RegisterIn
from server.auth import Actor
from server.security import new_secret
from server.tables import Brand

DEMO_BRAND_SLUG = "ember-coffee"
PEOPLE = [
    ("admin", "admin", "Ada Admin"),
    ("moderator", "mod", "Mo Derator"),
    ("brand_staff", "staff", "Sam Staff"),
    ("member", "alice", "Alice Brewer"),
    ("member", "bob", "Bob Roaster"),
    ("member", "carol", "Carol Crema"),
    ("member", "dave", "Dave Drip"),
]


@dataclass
class DemoContext:
    brand_id: int
    actors: dict[str, Actor] = field(default_factory=dict)
    tick: Callable[[int], None] = lambda _: None


async def seed(progress: Callable[[int], Any]) -> list[tuple[str, str, str]]:
    """Returns (role, handle, password) for each login created, or [] when already seeded."""
    if await Brand.exists().where(Brand.slug == DEMO_BRAND_SLUG):
        return []
    steps = [p.demo for p in runtime.current().plugins if p.demo is not None]
    total = len(PEOPLE) + 1 + sum(step.count for step in steps)
    fixed_password = runtime.current().settings.demo_password
    logins: list[tuple[str, str, str]] = []
    with progress(total) as bar:
        brand = await services.create_brand(Actor(role="admin"), _brand_in())
        bar.update(1)
        ctx = DemoContext(brand_id=brand.id, tick=bar.update)
        for role, handle, name in PEOPLE:
            password = fixed_password or new_secret(9)
            member = await services.register(
                RegisterIn(handle=handle, email=f"{handle}@demo.hearth.invalid",
                           password=password, display_name=name),
                role=role, brand_id=brand.id if role == "brand_staff" else None,
            )
            ctx.actors[handle] = Actor(member_id=member.id, handle=handle, role=role,
                                       brand_id=member.brand_id, via="session")
            logins.append((role, handle, password))
            bar.update(1)
        for step in steps:
            await step.seed(ctx)
    return logins


def _brand_in() -> Any:
    from server.accounts.schemas import BrandIn

    return BrandIn(name="Ember Coffee", slug=DEMO_BRAND_SLUG)
