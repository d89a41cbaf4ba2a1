from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-26T21:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "review queue indexes"

# Built CONCURRENTLY on PostgreSQL like every later index (the tables are new, so it is quick).
# One open item per target, and one open flag per member per target: partial unique indexes
# that the concurrent inserts race on. The queue's first page reads an index in its order
# (score or age) within its filter (status, then kind, category or brand), and stops there.
INDEXES = (
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS moderation_item_open_target "
    "ON moderation_review_item (target_type, target_id) WHERE status = 'open'",
    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS moderation_flag_open_flagger "
    "ON moderation_flag (target_type, target_id, flagger) WHERE status = 'open'",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS moderation_item_score "
    "ON moderation_review_item (status, score, id)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS moderation_item_age ON moderation_review_item (status, id)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS moderation_item_kind_score "
    "ON moderation_review_item (status, target_type, score, id)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS moderation_item_category_score "
    "ON moderation_review_item (status, category_id, score, id)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS moderation_item_brand_score "
    "ON moderation_review_item (status, brand_id, score, id)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS moderation_item_kind_age "
    "ON moderation_review_item (status, target_type, id)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS moderation_item_category_age "
    "ON moderation_review_item (status, category_id, id)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS moderation_item_brand_age "
    "ON moderation_review_item (status, brand_id, id)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="community", description=DESCRIPTION,
                               wrap_in_transaction=False)

    async def indexes():
        engine = engine_finder()
        for statement in INDEXES:
            if engine.engine_type == "sqlite":
                statement = statement.replace(" CONCURRENTLY", "")
            await engine.run_ddl(statement)

    manager.add_raw(indexes)
    return manager
