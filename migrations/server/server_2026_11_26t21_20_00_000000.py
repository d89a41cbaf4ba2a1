from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-26T21:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "staff log: append-only, and indexed for its filters"

# The staff log is evidence: the database itself refuses to change or remove an entry, so no
# code path, console or stray script can. Restores swap whole database files and never touch
# rows, so they are unaffected.
SQLITE_TRIGGERS = {
    "staff_log_no_update": "BEFORE UPDATE ON staff_log BEGIN "
    "SELECT RAISE(ABORT, 'staff_log is append-only'); END",
    "staff_log_no_delete": "BEFORE DELETE ON staff_log BEGIN "
    "SELECT RAISE(ABORT, 'staff_log is append-only'); END",
}
PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION staff_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'staff_log is append-only'; END $$")
# TRUNCATE bypasses row triggers on PostgreSQL, so it has a statement trigger of its own.
PG_TRIGGERS = {
    "staff_log_no_update": "BEFORE UPDATE ON staff_log FOR EACH ROW",
    "staff_log_no_delete": "BEFORE DELETE ON staff_log FOR EACH ROW",
    "staff_log_no_truncate": "BEFORE TRUNCATE ON staff_log FOR EACH STATEMENT",
}

# Newest first, a page at a time, by each filter the log is read with. The action filter
# compares code point by code point (a prefix range), so on PostgreSQL that column is indexed
# in the "C" collation the query names.
INDEXES = {
    "staff_log_brand_id": "CREATE INDEX CONCURRENTLY IF NOT EXISTS staff_log_brand_id "
                          "ON staff_log (brand_id, id)",
    "staff_log_actor_id": "CREATE INDEX CONCURRENTLY IF NOT EXISTS staff_log_actor_id "
                          "ON staff_log (actor_id, id)",
    "staff_log_target_id": "CREATE INDEX CONCURRENTLY IF NOT EXISTS staff_log_target_id "
                           "ON staff_log (target_type, target_id, id)",
    "staff_log_action_id": "CREATE INDEX CONCURRENTLY IF NOT EXISTS staff_log_action_id "
                           'ON staff_log (action COLLATE "C", id)',
}

INVALID = ("SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "WHERE c.relname = '{}' AND NOT i.indisvalid")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="server", description=DESCRIPTION,
                               wrap_in_transaction=False)

    async def append_only_and_indexes():
        engine = engine_finder()
        if engine.engine_type == "sqlite":
            for name, body in SQLITE_TRIGGERS.items():
                await engine.run_ddl(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
            for statement in INDEXES.values():
                # SQLite compares text bytewise already, and has no "C" collation.
                await engine.run_ddl(statement.replace(" CONCURRENTLY", "")
                                     .replace(' COLLATE "C"', ""))
            return
        await engine.run_ddl(PG_FUNCTION)
        for name, when in PG_TRIGGERS.items():
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {name} ON staff_log")
            await engine.run_ddl(f"CREATE TRIGGER {name} {when} "
                                 "EXECUTE FUNCTION staff_log_append_only()")
        for name, statement in INDEXES.items():
            # A concurrent build that failed leaves an invalid index behind, which IF NOT
            # EXISTS would take for done: drop it and build again.
            if await engine.run_ddl(INVALID.format(name)):
                await engine.run_ddl(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            await engine.run_ddl(statement)

    manager.add_raw(append_only_and_indexes)
    return manager
