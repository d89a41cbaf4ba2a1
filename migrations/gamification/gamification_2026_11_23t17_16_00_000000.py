from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T17:16:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "find owed challenge rewards without scanning every entry"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def owed_index() -> None:
        from server.db import fetch

        await fetch("CREATE INDEX challenge_entry_reward_owed ON gamification_challenge_entry "
                    "(completed_at) WHERE reward_paid_at IS NULL AND completed_at IS NOT NULL")

    manager.add_raw(owed_index)
    return manager
