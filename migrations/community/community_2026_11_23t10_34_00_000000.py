from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T10:34:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="community", description=DESCRIPTION)

    async def composite_indexes() -> None:
        # Piccolo has no composite unique constraint; these keep concurrent writers honest.
        from server.db import fetch

        for statement in (
            'CREATE UNIQUE INDEX forum_post_number ON forum_post (thread, post_number)',
            'CREATE UNIQUE INDEX forum_reaction_once ON forum_reaction (post, member, kind)',
            'CREATE UNIQUE INDEX forum_thread_read_once ON forum_thread_read (member, thread)',
            'CREATE INDEX forum_thread_activity ON forum_thread (category, pinned, last_post_id)',
        ):
            await fetch(statement)

    manager.add_raw(composite_indexes)

    return manager
