from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T17:03:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rewards already paid are marked paid"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def mark_paid() -> None:
        from server.db import fetch

        # A completed entry was paid if its reward transaction exists (same key as the service).
        await fetch(
            "UPDATE gamification_challenge_entry SET reward_paid_at = completed_at "
            "WHERE completed_at IS NOT NULL AND EXISTS (SELECT 1 FROM ledger_transaction t "
            "WHERE t.idempotency_key = 'challenge:' || CAST(gamification_challenge_entry.challenge "
            "AS TEXT) || ':member:' || CAST(gamification_challenge_entry.member AS TEXT))")

    manager.add_raw(mark_paid)
    return manager
