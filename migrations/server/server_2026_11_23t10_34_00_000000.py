from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T10:34:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="server", description=DESCRIPTION)

    async def composite_indexes() -> None:
        # Piccolo has no composite unique constraint; these keep concurrent writers honest.
        from server.db import fetch

        for statement in (
            'CREATE UNIQUE INDEX handler_receipt_once ON handler_receipt (event_id, handler)',
            'CREATE UNIQUE INDEX notification_once ON notification (event_id, member, kind)',
            'CREATE INDEX outbox_event_pending ON outbox_event (dispatched_at, id)',
        ):
            await fetch(statement)

    manager.add_raw(composite_indexes)

    return manager
