"""What the gamification package adds to a Hearth process: routes, event handlers, product
defaults (seed steps `hearth migrate` applies once), demo data."""

from gamification.badges import handlers as badge_handlers
from gamification.badges.controllers import BadgeController
from gamification.challenges import handlers as challenge_handlers
from gamification.challenges.controllers import ChallengeController
from gamification.demo import DEMO_STEPS, seed_demo
from gamification.leaderboards import handlers as leaderboard_handlers
from gamification.leaderboards.controllers import LeaderboardController
from gamification.ledger import handlers as ledger_handlers
from gamification.ledger.controllers import LedgerAdminController, PointsController
from gamification.rules import handlers as rule_handlers
from gamification.rules.controllers import RuleController
from gamification.rules.defaults import seed_default_rules
from gamification.tiers import handlers as tier_handlers
from gamification.tiers.controllers import TierController
from gamification.tiers.defaults import seed_default_ladder
from server.migrating import SeedFunction

ROUTE_HANDLERS = [
    PointsController, LedgerAdminController, RuleController, LeaderboardController, TierController,
    BadgeController, ChallengeController,
]
# Names are recorded once applied: renaming one applies it again.
SEED_STEPS: list[tuple[str, SeedFunction]] = [
    ("gamification.default-rules", seed_default_rules),
    ("gamification.default-tier-ladder", seed_default_ladder),
]
# Importing the handler modules registers their outbox handlers.
__all__ = [
    "DEMO_STEPS", "ROUTE_HANDLERS", "badge_handlers", "challenge_handlers", "leaderboard_handlers",
    "ledger_handlers",
    "rule_handlers", "seed_demo", "tier_handlers",
]
