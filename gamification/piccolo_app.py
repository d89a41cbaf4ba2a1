from pathlib import Path

from piccolo.conf.apps import AppConfig

from gamification.badges.tables import (
    Activity,
    Badge,
    BadgeBackfill,
    BadgeGrant,
    FeaturedBadge,
)
from gamification.catalogue.tables import Redemption, Reward, RewardCode
from gamification.challenges.tables import (
    Challenge,
    ChallengeAct,
    ChallengeEntry,
    ChallengeProgress,
    ChallengeTask,
)
from gamification.hooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from gamification.inbound.tables import InboundEvent, InboundType
from gamification.leaderboards.tables import (
    LeaderboardEntry,
    LeaderboardExclusion,
    LeaderboardState,
    Season,
)
from gamification.ledger.tables import (
    LedgerAccount,
    LedgerChain,
    LedgerHold,
    LedgerLot,
    LedgerPosting,
    LedgerTransaction,
)
from gamification.rules.tables import Removal, Rule, RuleAward
from gamification.tiers.tables import EarningDay, MemberTier, Tier, TierSettings

APP_CONFIG = AppConfig(
    app_name="gamification",
    migrations_folder_path=Path(__file__).resolve().parent.parent / "migrations" / "gamification",
    table_classes=[
        LedgerAccount, LedgerTransaction, LedgerPosting, Rule, RuleAward, LeaderboardEntry,
        LeaderboardState, LeaderboardExclusion, Tier, TierSettings, MemberTier, Activity, Badge,
        BadgeGrant, BadgeBackfill, Challenge, ChallengeTask, ChallengeEntry, ChallengeProgress,
        ChallengeAct, Season, EarningDay, Removal, FeaturedBadge, Reward, RewardCode, Redemption,
        LedgerChain, LedgerHold, LedgerLot, WebhookEndpoint, WebhookDelivery, WebhookAttempt,
        InboundType, InboundEvent,
    ],
    migration_dependencies=["server.piccolo_app"],
)
