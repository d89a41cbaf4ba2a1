"""Demo data: the kernel's part (a brand and its people), then each plugin's demo steps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server import runtime
from server.accounts import services
from server.accounts.schemas import RegisterIn
from server.auth import Actor
from server.security import new_secret, verify_password
from server.tables import Brand, Member

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
                RegisterIn(handle=handle, email=_email(handle),
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


def _email(handle: str) -> str:
    return f"{handle}@demo.hearth.invalid"


async def _demo_members() -> list[dict[str, Any]]:
    """The demo people still present, in PEOPLE's order (matched by their demo email, so a
    real account that took a handle like "admin" is never touched)."""
    rows = await Member.select(Member.id, Member.handle, Member.role, Member.email,
                               Member.password_hash).where(
        Member.email.is_in([_email(handle) for _, handle, _ in PEOPLE]))
    by_email = {r["email"]: r for r in rows}
    return [by_email[_email(h)] for _, h, _ in PEOPLE if _email(h) in by_email]


async def logins() -> list[tuple[str, str, str | None]]:
    """(role, handle, password) of each demo login; the password is HEARTH_DEMO_PASSWORD when
    that is what the login uses, otherwise None (only its hash is stored)."""
    fixed = runtime.current().settings.demo_password
    result: list[tuple[str, str, str | None]] = []
    for row in await _demo_members():
        known = bool(fixed) and await asyncio.to_thread(verify_password, row["password_hash"], fixed)
        result.append((row["role"], row["handle"], fixed if known else None))
    return result


async def reset_passwords() -> list[tuple[str, str, str]]:
    """A new password for each demo login: HEARTH_DEMO_PASSWORD when set (as seeding does),
    otherwise a random one each. Returns (role, handle, password)."""
    fixed = runtime.current().settings.demo_password
    result = []
    for row in await _demo_members():
        password = fixed or new_secret(9)
        await services.set_password(row["id"], password)
        result.append((row["role"], row["handle"], password))
    return result


def _brand_in() -> Any:
    from server.accounts.schemas import BrandIn

    return BrandIn(name="Ember Coffee", slug=DEMO_BRAND_SLUG)
