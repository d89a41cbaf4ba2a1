from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-26T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "watch levels for threads and categories; bookmarks"

# Keyed by what they are looked up by, as forum_read_mark is: a watch is set with an upsert,
# which would spend a surrogate id's sequence on every change. The thread or category comes
# first: a new post finds its watchers by it; a reader's own level is the full key.
WATCHES = """
CREATE TABLE forum_{what}_watch (
    {what} {id} NOT NULL REFERENCES forum_{what} (id) ON DELETE CASCADE ON UPDATE CASCADE,
    member {id} NOT NULL REFERENCES member (id) ON DELETE CASCADE ON UPDATE CASCADE,
    level VARCHAR(10) NOT NULL,
    PRIMARY KEY ({what}, member)
){options}
"""

# The id orders a member's bookmarks newest first and pages them; (member, post) is unique.
# A new table: its constraint's index is built before any row exists.
BOOKMARKS = """
CREATE TABLE forum_bookmark (
    id {serial} PRIMARY KEY,
    member {id} NOT NULL REFERENCES member (id) ON DELETE CASCADE ON UPDATE CASCADE,
    post {id} NOT NULL REFERENCES forum_post (id) ON DELETE CASCADE ON UPDATE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (member, post)
)
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="community", description=DESCRIPTION)

    async def create():
        engine = engine_finder()
        sqlite = engine.engine_type == "sqlite"
        for what in ("thread", "category"):
            await engine.run_ddl(WATCHES.format(what=what, id="INTEGER" if sqlite else "BIGINT",
                                                options=" WITHOUT ROWID" if sqlite else ""))
        await engine.run_ddl(BOOKMARKS.format(
            serial="INTEGER" if sqlite else "BIGSERIAL", id="INTEGER" if sqlite else "BIGINT"))

    manager.add_raw(create)
    return manager
