from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T11:49:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "default tier ladder"

DEFAULT_LADDER = [("Member", 0), ("Regular", 100), ("Insider", 500), ("VIP", 2000)]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def seed_default_ladder() -> None:
        from server.db import fetch

        for name, threshold in DEFAULT_LADDER:
            await fetch("INSERT INTO gamification_tier (name, threshold) VALUES ({}, {})",
                        name, threshold)
        await fetch("INSERT INTO gamification_tier_settings (window_days, grace_days) "
                    "VALUES (365, 30)")

    manager.add_raw(seed_default_ladder)
    return manager
