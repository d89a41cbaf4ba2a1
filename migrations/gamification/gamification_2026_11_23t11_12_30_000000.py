from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T11:12:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "leaderboard indexes"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def composite_indexes() -> None:
        from server.db import fetch

        for statement in (
            "CREATE UNIQUE INDEX leaderboard_entry_once ON leaderboard_entry (board, member)",
            "CREATE INDEX leaderboard_entry_rank ON leaderboard_entry (board, score, member)",
            "CREATE INDEX rule_award_caps ON gamification_rule_award (rule, member, awarded_at)",
        ):
            await fetch(statement)

    manager.add_raw(composite_indexes)
    return manager
