from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.indexes import IndexMethod
from piccolo.engine.finder import engine_finder

# Read marks keyed by (member, thread) alone. Piccolo tables need a surrogate id, and
# `INSERT ... ON CONFLICT` takes a value from its sequence even when it only updates: at a
# few hundred reads a second that ran a sequence toward its end. A natural key has none.
READ_MARKS = """
CREATE TABLE forum_read_mark (
    member {id} NOT NULL REFERENCES member (id) ON DELETE CASCADE ON UPDATE CASCADE,
    thread {id} NOT NULL REFERENCES forum_thread (id) ON DELETE CASCADE ON UPDATE CASCADE,
    last_read_post_number INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (member, thread)
){options}
"""
COPY = ("INSERT INTO forum_read_mark (member, thread, last_read_post_number) "
        "SELECT member, thread, MAX(last_read_post_number) FROM forum_thread_read "
        "GROUP BY member, thread")

ID = "2026-11-26T13:41:10:018872"
VERSION = "1.38.0"
DESCRIPTION = "read marks by natural key; thread versions"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="community", description=DESCRIPTION
    )

    async def read_marks():
        # Piccolo runs this before its own operations: the old table is still there to copy.
        engine = engine_finder()
        sqlite = engine.engine_type == "sqlite"
        await engine.run_ddl(READ_MARKS.format(id="INTEGER" if sqlite else "BIGINT",
                                               options=" WITHOUT ROWID" if sqlite else ""))
        await engine.run_ddl(COPY)

    manager.add_raw(read_marks)

    manager.drop_table(
        class_name="ThreadRead", tablename="forum_thread_read", schema=None
    )

    manager.add_column(
        table_class_name="Thread",
        tablename="forum_thread",
        column_name="version",
        db_column_name="version",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
