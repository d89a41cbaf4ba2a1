from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T12:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "default rule for helpful replies"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def seed_helpful_rule() -> None:
        import datetime as dt

        from server.db import fetch

        await fetch(
            "INSERT INTO gamification_rule (name, event_types, condition, points, cap_day, "
            "cooldown_seconds, enabled, created_at) VALUES ({}, {}, '', '15', NULL, 0, {}, {})",
            "Reply marked helpful", "post.marked_helpful", True, dt.datetime.now(dt.timezone.utc),
        )

    manager.add_raw(seed_helpful_rule)
    return manager
