from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-26T18:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "posts by author, newest first"

# A member's activity (their posts, newest first, a page at a time) reads this index in
# order and stops at the page's end, however many posts the member has written.
STATEMENT = ("CREATE INDEX CONCURRENTLY IF NOT EXISTS forum_post_author_id "
             "ON forum_post (author, id)")

INVALID = ("SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "WHERE c.relname = 'forum_post_author_id' AND NOT i.indisvalid")


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
            await engine.run_ddl("DROP INDEX CONCURRENTLY IF EXISTS forum_post_author_id")
        await engine.run_ddl(STATEMENT)

    manager.add_raw(index)
    return manager
