from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-26T17:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "member prefix indexes"

# The admins' member lookup and handle autocomplete match prefixes as ranges compared code
# point by code point (server.accounts.services). PostgreSQL's unique indexes on handle_key
# and email use the database's collation, which orders differently; these use "C". SQLite's
# unique indexes compare bytes already (BINARY). The lookup counts and pages by id, and lists
# email matches in handle order, from the indexes alone: they carry id (SQLite's carry the
# rowid, which is id) and the email one handle_key.
INDEXES = {
    "member_handle_key_bytewise": 'ON member (handle_key COLLATE "C") INCLUDE (id)',
    "member_email_bytewise": 'ON member (email COLLATE "C") INCLUDE (handle_key, id)',
}
SQLITE_INDEX = ("CREATE INDEX CONCURRENTLY IF NOT EXISTS member_email_bytewise "
                "ON member (email, handle_key)")

INVALID = ("SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "WHERE c.relname = '{}' AND NOT i.indisvalid")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="server", description=DESCRIPTION,
                               wrap_in_transaction=False)

    async def indexes():
        engine = engine_finder()
        if engine.engine_type == "sqlite":
            await engine.run_ddl(SQLITE_INDEX.replace(" CONCURRENTLY", ""))
            return
        for name, target in INDEXES.items():
            # A concurrent build that failed leaves an invalid index behind, which IF NOT
            # EXISTS would take for done: drop it and build again.
            if await engine.run_ddl(INVALID.format(name)):
                await engine.run_ddl(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            await engine.run_ddl(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {target}")

    manager.add_raw(indexes)
    return manager
