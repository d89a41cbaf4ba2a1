from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T15:24:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "one removal row per (source, event)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def unique_removal() -> None:
        from server.db import fetch

        await fetch("CREATE UNIQUE INDEX removal_once ON gamification_removal (source, event_id)")

    manager.add_raw(unique_removal)
    return manager
