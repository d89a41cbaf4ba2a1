"""What the gamification package adds to a Hearth process (see server.plugins), product
defaults included (seed steps `hearth migrate` applies once)."""

from gamification import demo, notices
from gamification.badges.controllers import BadgeController
from gamification.catalogue.controllers import BrandCatalogueController, CatalogueController
from gamification.challenges import services as challenges
from gamification.challenges.controllers import ChallengeController
from gamification.commands import ledger_check, ledger_verify
from gamification.hooks import services as hooks
from gamification.hooks.controllers import WebhookController
from gamification.inbound.controllers import (
    InboundConsoleController,
    IntegrationEventController,
)
from gamification.leaderboards.commands import leaderboards_rebuild
from gamification.leaderboards.controllers import LeaderboardController
from gamification.leaderboards.store import STORE
from gamification.ledger import chain, expiry
from gamification.ledger import holds as ledger_holds
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
        StandingController, CatalogueController, BrandCatalogueController, WebhookController,
        IntegrationEventController, InboundConsoleController,
    ],
    error_statuses={
        "POST /api/gamification/adjustments": frozenset({404, 409}),
        "POST /api/gamification/redemptions": frozenset({404, 409}),
        "POST /api/gamification/holds": frozenset({404, 409}),
        "GET /api/gamification/holds/{hold_id}": frozenset({404}),
        "POST /api/gamification/holds/{hold_id}/post": frozenset({404, 409}),
        "POST /api/gamification/holds/{hold_id}/void": frozenset({404, 409}),
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
        "GET /api/brands/{brand_id}/rewards": frozenset({404}),
        "POST /api/brands/{brand_id}/rewards": frozenset({404}),
        "PUT /api/brands/{brand_id}/rewards/{reward_id}": frozenset({404, 409}),
        "POST /api/brands/{brand_id}/rewards/{reward_id}/codes": frozenset({404, 409}),
        "GET /api/brands/{brand_id}/redemptions": frozenset({404}),
        "POST /api/brands/{brand_id}/redemptions/{redemption_id}/refund": frozenset({404, 409}),
        "POST /api/rewards/{reward_id}/redeem": frozenset({404, 409}),
        "POST /api/gamification/brands/{brand_id}/webhooks/{endpoint_id}/ping": frozenset({409}),
        "POST /api/gamification/brands/{brand_id}/webhooks/{endpoint_id}/replay":
            frozenset({409}),
        "POST /api/gamification/brands/{brand_id}/webhooks/{endpoint_id}/deliveries/"
        "{delivery_id}/replay": frozenset({409}),
        "POST /api/integrations/events": frozenset({409, 429}),
        "POST /api/integrations/events/batch": frozenset({409, 429}),
        "POST /api/brands/{brand_id}/inbound-types": frozenset({409}),
    },
    handler_modules=[
        "gamification.ledger.handlers", "gamification.rules.handlers",
        "gamification.badges.handlers", "gamification.tiers.handlers",
        "gamification.leaderboards.handlers", "gamification.challenges.handlers",
        "gamification.hooks.handlers",
    ],
    jobs=[
        # Holds past their timeout void themselves; due points expire; notices go out.
        Job("ledger.holds", get_settings().sweep_interval_seconds, ledger_holds.expire_due),
        Job("ledger.expiry", get_settings().sweep_interval_seconds, expiry.sweep),
        # Points age out of the tier window without any new event.
        Job("tiers.review", 3600, tiers.review_all),
        Job("challenges.lifecycle", get_settings().sweep_interval_seconds, challenges.advance),
        Job("challenges.rewards", get_settings().sweep_interval_seconds,
            challenges.pay_pending_rewards),
        # Retries that came due, and deliveries a dead sender held.
        Job("hooks.deliver", get_settings().sweep_interval_seconds, hooks.deliver_due),
        Job("hooks.prune", 3600, hooks.prune),
    ],
    backends=[STORE],
    register=challenges.register,
    cli_commands=[leaderboards_rebuild, ledger_check, ledger_verify],
    demo=DemoSteps(count=demo.DEMO_STEPS, seed=demo.seed_demo),
    notification_texts=notices.TEXTS,
    on_stop=[hooks.close],
    # Names are recorded once applied: renaming one applies it again.
    seed_steps=[
        ("gamification.default-rules", seed_default_rules),
        ("gamification.default-tier-ladder", seed_default_ladder),
        ("gamification.ledger-chain", chain.seal_unchained),
    ],
)
