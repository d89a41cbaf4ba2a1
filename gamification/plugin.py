"""What the gamification package adds to a Hearth process (see server.plugins), product
defaults included (seed steps `hearth migrate` applies once)."""

from gamification import demo, notices
from gamification.badges.controllers import BadgeController
from gamification.challenges import services as challenges
from gamification.challenges.controllers import ChallengeController
from gamification.commands import ledger_check
from gamification.inbound.controllers import (
    InboundConsoleController,
    IntegrationEventController,
)
from gamification.leaderboards.commands import leaderboards_rebuild
from gamification.leaderboards.controllers import LeaderboardController
from gamification.leaderboards.store import STORE
from gamification.ledger.controllers import LedgerAdminController, PointsController
from gamification.rules.controllers import EventTypeController, RuleController
from gamification.rules.defaults import seed_default_rules
from gamification.standing import StandingController
from gamification.tiers import services as tiers
from gamification.tiers.controllers import TierController
from gamification.tiers.defaults import seed_default_ladder
from server.plugins import DemoSteps, Plugin
from server.schedule import Job
from server.settings import get_settings

plugin = Plugin(
    name="gamification",
    piccolo_app="gamification.piccolo_app",
    route_handlers=[
        PointsController, LedgerAdminController, RuleController, LeaderboardController,
        TierController, BadgeController, ChallengeController, EventTypeController,
        StandingController, IntegrationEventController, InboundConsoleController,
    ],
    error_statuses={
        "POST /api/gamification/adjustments": frozenset({404, 409}),
        "POST /api/gamification/redemptions": frozenset({404, 409}),
        "POST /api/gamification/brands/{brand_id}/budget": frozenset({409}),
        "POST /api/gamification/transactions/{transaction_id}/reverse": frozenset({409}),
        "POST /api/gamification/rules": frozenset({404}),
        "POST /api/gamification/badges": frozenset({404, 409}),
        "POST /api/gamification/badges/{badge_id}/grants": frozenset({409}),
        "POST /api/challenges": frozenset({404, 409}),
        "PUT /api/challenges/{challenge_id}": frozenset({409}),
        "DELETE /api/challenges/{challenge_id}": frozenset({409}),
        "POST /api/challenges/{challenge_id}/publish": frozenset({409}),
        "POST /api/challenges/{challenge_id}/cancel": frozenset({409}),
        "POST /api/challenges/{challenge_id}/join": frozenset({409}),
        "POST /api/integrations/events": frozenset({409, 429}),
        "POST /api/integrations/events/batch": frozenset({409, 429}),
        "POST /api/brands/{brand_id}/inbound-types": frozenset({409}),
    },
    handler_modules=[
        "gamification.ledger.handlers", "gamification.rules.handlers",
        "gamification.badges.handlers", "gamification.tiers.handlers",
        "gamification.leaderboards.handlers", "gamification.challenges.handlers",
    ],
    jobs=[
        # Points age out of the tier window without any new event.
        Job("tiers.review", 3600, tiers.review_all),
        Job("challenges.lifecycle", get_settings().sweep_interval_seconds, challenges.advance),
        Job("challenges.rewards", get_settings().sweep_interval_seconds,
            challenges.pay_pending_rewards),
    ],
    backends=[STORE],
    register=challenges.register,
    cli_commands=[leaderboards_rebuild, ledger_check],
    demo=DemoSteps(count=demo.DEMO_STEPS, seed=demo.seed_demo),
    notification_texts=notices.TEXTS,
    # Names are recorded once applied: renaming one applies it again.
    seed_steps=[
        ("gamification.default-rules", seed_default_rules),
        ("gamification.default-tier-ladder", seed_default_ladder),
    ],
)
