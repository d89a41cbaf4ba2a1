from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T00:50:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "rewards catalogue indexes"

# Built CONCURRENTLY on PostgreSQL like every later index (the tables are new, so it is quick).
INDEXES = (
    # A code is in a reward's pool once.
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS reward_code_once "
    "ON gamification_reward_code (reward, code)",
    # Redeeming takes the first available code without reading past the issued ones.
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS reward_code_available "
    "ON gamification_reward_code (reward, id) WHERE status = 'available'",
    # A refund voids its redemption's code.
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS reward_code_redemption "
    "ON gamification_reward_code (redemption) WHERE redemption IS NOT NULL",
    # A member's idempotency key names one redemption (a double click is one).
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS redemption_key_once "
    "ON gamification_redemption (member, idempotency_key)",
    # The per-member limit counts a member's standing redemptions of a reward.
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS redemption_member_reward "
    "ON gamification_redemption (member, reward, status)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION,
                               wrap_in_transaction=False)

    async def indexes():
        engine = engine_finder()
        for statement in INDEXES:
            if engine.engine_type == "sqlite":
                statement = statement.replace(" CONCURRENTLY", "")
            await engine.run_ddl(statement)

    manager.add_raw(indexes)
    return manager
