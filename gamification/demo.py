"""Gamification demo content: the brand's budget, two badges, a running challenge and two
rewards in the catalogue.

Seeded before the forum content, so the demo threads and replies count toward them once the
relay has handled their events. Conditions name the demo brand, so nothing else counts."""

from __future__ import annotations

import datetime as dt

from gamification.badges import services as badges
from gamification.badges.schemas import BadgeIn, CountCriteria, FirstCriteria, ManualCriteria
from gamification.catalogue import services as catalogue
from gamification.catalogue.schemas import RewardIn
from gamification.challenges import services as challenges
from gamification.challenges.schemas import ChallengeIn, TaskIn
from gamification.ledger import services as ledger
from server import clock
from server.demo import DemoContext

DEMO_STEPS = 4
BUDGET = 10_000


async def seed_demo(ctx: DemoContext) -> None:
    admin, staff = ctx.actors["admin"], ctx.actors["staff"]
    ours = f"brand_id == {ctx.brand_id}"
    await ledger.post(
        key=f"demo:budget:{ctx.brand_id}", kind="funding", reason="Winter season budget",
        source=f"brand:{ctx.brand_id}", created_by=admin.member_id,
        postings=[(ledger.brand_budget_account(ctx.brand_id), BUDGET), (ledger.ISSUANCE, -BUDGET)])
    ctx.tick(1)
    await badges.create_badge(admin, BadgeIn(
        slug="home-barista", name="Home barista", description="Started a thread of your own.",
        criteria=FirstCriteria(event_types=["thread.created"], condition=ours)))
    await badges.create_badge(admin, BadgeIn(
        slug="good-company", name="Good company", level="silver",
        description="Replied to five conversations.",
        criteria=CountCriteria(event_types=["post.created"], count=5,
                               condition=f"{ours} and post_number > 1")))
    finisher = await badges.create_badge(admin, BadgeIn(
        slug="winter-brew-off", name="Winter brew-off", level="gold", grouping="challenges",
        description="Finished the Winter brew-off challenge.", criteria=ManualCriteria()))
    ctx.tick(1)
    now = clock.now()
    made = await challenges.create(staff, ChallengeIn(
        brand_id=ctx.brand_id, title="Winter brew-off", time_zone="Europe/Lisbon",
        description="Share how you brew this winter and help two others dial theirs in.",
        starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=28),
        auto_enroll=True, reward_points=150, reward_badge_id=finisher.id,
        tasks=[
            TaskIn(name="Start a thread", event_types=["thread.created"], target=1,
                   condition=ours),
            TaskIn(name="Reply twice", event_types=["post.created"], target=2,
                   condition=f"{ours} and post_number > 1"),
        ]))
    await challenges.publish(staff, made.id)
    ctx.tick(1)
    espresso = await catalogue.create(staff, ctx.brand_id, RewardIn(
        title="Free espresso", price=50, per_member_limit=2, published=True,
        description="One espresso at any of our bars: show the code at the till."))
    await catalogue.upload_codes(staff, ctx.brand_id, espresso.id,
                                 "\n".join(f"ESPRESSO-{n:03d}" for n in range(1, 41)))
    await catalogue.create(staff, ctx.brand_id, RewardIn(
        title="Barista masterclass seat", price=400, stock=12, min_tier="Regular",
        fulfilment="webhook", published=True,
        description="Two hours with our head barista; we email you the date."))
    ctx.tick(1)
