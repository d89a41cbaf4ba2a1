from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T12:00:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "challenge indexes"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def indexes() -> None:
        from server.db import fetch

        for statement in (
            "CREATE UNIQUE INDEX challenge_entry_once ON gamification_challenge_entry "
            "(challenge, member)",
            "CREATE UNIQUE INDEX challenge_progress_once ON gamification_challenge_progress "
            "(entry, task)",
        ):
            await fetch(statement)

    manager.add_raw(indexes)
    return manager
