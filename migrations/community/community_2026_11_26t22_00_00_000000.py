from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-26T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "full-text search over posts, kept current by triggers"

# The search index holds each live post's words (and, for a thread's first post, the
# thread's title), keyed by the post's id. Triggers keep it current in the transaction of
# every write to a post's text, its deletion or a thread's title, whichever code path makes
# it. Everything else a search filters on (category, author, date, hidden) is read from the
# forum tables at query time, so moving or hiding changes no index row.

# --- SQLite: an FTS5 table; its rowid is the post's id -------------------------------------

SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS forum_search USING fts5("
    "title, body, tokenize = 'porter unicode61 remove_diacritics 2')",
    """CREATE TRIGGER IF NOT EXISTS forum_search_post_insert AFTER INSERT ON forum_post
    WHEN NEW.deleted_at IS NULL BEGIN
        INSERT INTO forum_search (rowid, title, body) VALUES (NEW.id,
            CASE WHEN NEW.post_number = 1
                 THEN (SELECT title FROM forum_thread WHERE id = NEW.thread) ELSE '' END,
            NEW.markdown);
    END""",
    """CREATE TRIGGER IF NOT EXISTS forum_search_post_update
    AFTER UPDATE OF markdown, deleted_at ON forum_post BEGIN
        DELETE FROM forum_search WHERE rowid = OLD.id;
        INSERT INTO forum_search (rowid, title, body) SELECT NEW.id,
            CASE WHEN NEW.post_number = 1
                 THEN (SELECT title FROM forum_thread WHERE id = NEW.thread) ELSE '' END,
            NEW.markdown
        WHERE NEW.deleted_at IS NULL;
    END""",
    """CREATE TRIGGER IF NOT EXISTS forum_search_post_delete AFTER DELETE ON forum_post BEGIN
        DELETE FROM forum_search WHERE rowid = OLD.id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS forum_search_thread_title
    AFTER UPDATE OF title ON forum_thread BEGIN
        UPDATE forum_search SET title = NEW.title WHERE rowid IN (
            SELECT id FROM forum_post WHERE thread = NEW.id AND post_number = 1);
    END""",
    """INSERT INTO forum_search (rowid, title, body)
    SELECT p.id, CASE WHEN p.post_number = 1 THEN t.title ELSE '' END, p.markdown
    FROM forum_post p JOIN forum_thread t ON t.id = p.thread
    WHERE p.deleted_at IS NULL AND p.id NOT IN (SELECT rowid FROM forum_search)""",
]

# --- PostgreSQL: a side table of tsvectors with a GIN index ------------------------------

POSTGRES = [
    """CREATE TABLE IF NOT EXISTS forum_search (
        post_id BIGINT PRIMARY KEY REFERENCES forum_post (id) ON DELETE CASCADE,
        document TSVECTOR NOT NULL
    )""",
    # The title weighs more than the body (weight A against B) in the ranking.
    """CREATE OR REPLACE FUNCTION forum_search_document(title TEXT, body TEXT)
    RETURNS TSVECTOR LANGUAGE sql IMMUTABLE AS $$
        SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
            || setweight(to_tsvector('english'::regconfig, body), 'B')
    $$""",
    """CREATE OR REPLACE FUNCTION forum_search_post() RETURNS TRIGGER LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.deleted_at IS NOT NULL THEN
            DELETE FROM forum_search WHERE post_id = NEW.id;
        ELSE
            INSERT INTO forum_search (post_id, document) VALUES (NEW.id, forum_search_document(
                CASE WHEN NEW.post_number = 1
                     THEN (SELECT title FROM forum_thread WHERE id = NEW.thread) END,
                NEW.markdown))
            ON CONFLICT (post_id) DO UPDATE SET document = EXCLUDED.document;
        END IF;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS forum_search_post ON forum_post",
    """CREATE TRIGGER forum_search_post AFTER INSERT OR UPDATE OF markdown, deleted_at
    ON forum_post FOR EACH ROW EXECUTE FUNCTION forum_search_post()""",
    """CREATE OR REPLACE FUNCTION forum_search_thread() RETURNS TRIGGER LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE forum_search s SET document = forum_search_document(NEW.title, p.markdown)
        FROM forum_post p
        WHERE p.thread = NEW.id AND p.post_number = 1 AND s.post_id = p.id;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS forum_search_thread ON forum_thread",
    """CREATE TRIGGER forum_search_thread AFTER UPDATE OF title ON forum_thread
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title)
    EXECUTE FUNCTION forum_search_thread()""",
    # The triggers are in place first, so a post written meanwhile is indexed by one or the
    # other.
    """INSERT INTO forum_search (post_id, document)
    SELECT p.id, forum_search_document(CASE WHEN p.post_number = 1 THEN t.title END, p.markdown)
    FROM forum_post p JOIN forum_thread t ON t.id = p.thread
    WHERE p.deleted_at IS NULL
    ON CONFLICT (post_id) DO NOTHING""",
]

INDEXES = {
    "forum_search_document_gin": ("CREATE INDEX CONCURRENTLY IF NOT EXISTS "
                                  "forum_search_document_gin ON forum_search USING GIN (document)"),
    # The few posts out of view, newest first: the staff's status filter starts from these.
    "forum_post_hidden_id": ("CREATE INDEX CONCURRENTLY IF NOT EXISTS forum_post_hidden_id "
                             "ON forum_post (id) WHERE hidden_at IS NOT NULL"),
}

INVALID = ("SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "WHERE c.relname = '{name}' AND NOT i.indisvalid")


async def forwards():
    # Outside a transaction for the concurrent index build; every step can run again.
    manager = MigrationManager(migration_id=ID, app_name="community", description=DESCRIPTION,
                               wrap_in_transaction=False)

    async def search():
        engine = engine_finder()
        if engine.engine_type == "sqlite":
            for statement in SQLITE:
                await engine.run_ddl(statement)
            await engine.run_ddl(INDEXES["forum_post_hidden_id"].replace(" CONCURRENTLY", ""))
            return
        for statement in POSTGRES:
            await engine.run_ddl(statement)
        for name, statement in INDEXES.items():
            # A concurrent build that failed leaves an invalid index behind, which IF NOT
            # EXISTS would take for done: drop it and build again.
            if await engine.run_ddl(INVALID.format(name=name)):
                await engine.run_ddl(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            await engine.run_ddl(statement)

    manager.add_raw(search)
    return manager
