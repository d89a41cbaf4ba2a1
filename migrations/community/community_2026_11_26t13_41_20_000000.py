from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-26T13:41:20:000000"
VERSION = "1.38.0"
DESCRIPTION = "deleted posts by thread"

# Unread counts are a subtraction: the thread's highest post number, less the member's mark,
# less the deleted posts after it. This partial index holds only deleted posts, so counting
# them reads as many entries as there are deletions, never the thread.
STATEMENT = ("CREATE INDEX CONCURRENTLY IF NOT EXISTS forum_post_deleted "
             "ON forum_post (thread, post_number) WHERE deleted_at IS NOT NULL")

INVALID = ("SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "WHERE c.relname = 'forum_post_deleted' AND NOT i.indisvalid")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="community", description=DESCRIPTION,
                               wrap_in_transaction=False)

    async def index():
        engine = engine_finder()
        if engine.engine_type == "sqlite":
            await engine.run_ddl(STATEMENT.replace(" CONCURRENTLY", ""))
            return
        # A concurrent build that failed leaves an invalid index behind, which IF NOT EXISTS
        # would take for done: drop it and build again.
        if await engine.run_ddl(INVALID):
            await engine.run_ddl("DROP INDEX CONCURRENTLY IF EXISTS forum_post_deleted")
        await engine.run_ddl(STATEMENT)

    manager.add_raw(index)
    return manager
