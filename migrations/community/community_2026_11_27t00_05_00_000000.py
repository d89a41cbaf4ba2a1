from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T00:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "covering indexes for checking a search match is readable"

# PostgreSQL only: a search checks each candidate post, and its thread, for what the searcher
# may read. These indexes hold every column that check reads, so it never fetches the post
# from a table far larger than memory. SQLite searches another way and has no INCLUDE.
INDEXES = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS forum_post_readable "
    "ON forum_post (id) INCLUDE (thread, author, deleted_at, hidden_at)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS forum_thread_readable "
    "ON forum_thread (id) INCLUDE (category, author, deleted_at, hidden_at)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="community", description=DESCRIPTION,
                               wrap_in_transaction=False)

    async def indexes():
        engine = engine_finder()
        if engine.engine_type == "sqlite":
            return
        for statement in INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(indexes)
    return manager
