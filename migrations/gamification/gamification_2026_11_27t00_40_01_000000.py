from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T00:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger hash chain: its head row"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def head() -> None:
        # The one row every append locks and moves (raw SQL runs before a migration's tables
        # are made, hence a migration of its own). Transactions recorded before the chain are
        # chained from it by a seed step.
        await engine_finder().run_ddl(
            "INSERT INTO ledger_chain (id, last_transaction, chain_hash) "
            f"VALUES (1, 0, '{'0' * 64}')")

    manager.add_raw(head)
    return manager
