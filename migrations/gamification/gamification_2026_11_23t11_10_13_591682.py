from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-23T11:10:13:591682"
VERSION = "1.38.0"
DESCRIPTION = "award-category"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="gamification", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="LedgerTransaction",
        tablename="ledger_transaction",
        column_name="category_id",
        db_column_name="category_id",
        column_class_name="Integer",
        column_class=Integer,
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
