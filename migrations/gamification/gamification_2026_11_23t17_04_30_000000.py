from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T17:04:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "one counted act per (entry, task, source)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def unique_act() -> None:
        from server.db import fetch

        await fetch("CREATE UNIQUE INDEX challenge_act_once "
                    "ON gamification_challenge_act (entry, task, source)")

    manager.add_raw(unique_act)
    return manager
