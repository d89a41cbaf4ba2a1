from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-23T17:02:50:938711"
VERSION = "1.38.0"
DESCRIPTION = "challenge rewards owed"


async def forwards() -> MigrationManager:
    manager = MigrationManager(
        migration_id=ID, app_name="gamification", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="ChallengeEntry",
        tablename="gamification_challenge_entry",
        column_name="reward_paid_at",
        db_column_name="reward_paid_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
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
