from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T11:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "badge indexes"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def indexes() -> None:
        from server.db import fetch

        for statement in (
            # One live grant per number: concurrent checks cannot grant a badge twice.
            "CREATE UNIQUE INDEX badge_grant_once ON gamification_badge_grant "
            "(badge, member, number) WHERE revoked_at IS NULL",
            "CREATE INDEX activity_member_type ON gamification_activity "
            "(member, event_type, occurred_at)",
        ):
            await fetch(statement)

    manager.add_raw(indexes)
    return manager
