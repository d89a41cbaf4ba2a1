from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T14:47:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "daily earnings: one row per member and day, filled from the ledger"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gamification", description=DESCRIPTION)

    async def index_and_fill() -> None:
        import datetime as dt

        from server.db import fetch

        await fetch("CREATE UNIQUE INDEX earning_day_once ON gamification_earning_day (member, day)")
        # Recounting one member's day reads that day's postings only.
        await fetch("CREATE INDEX ledger_posting_account_time ON ledger_posting (account, created_at)")
        rows = await fetch(
            "SELECT a.member AS member, p.created_at AS created_at, p.amount AS amount "
            "FROM ledger_posting p JOIN ledger_account a ON a.id = p.account "
            "JOIN ledger_transaction t ON t.id = p.ledger_transaction "
            "WHERE a.kind = 'member' AND t.kind IN ('award', 'reversal', 'adjustment')")
        totals: dict[tuple[int, dt.date], int] = {}
        for row in rows:
            when = row["created_at"]
            if isinstance(when, str):
                when = dt.datetime.fromisoformat(when)
            key = (int(row["member"]), when.astimezone(dt.timezone.utc).date())
            totals[key] = totals.get(key, 0) + int(row["amount"])
        for (member, day), points in totals.items():
            await fetch("INSERT INTO gamification_earning_day (member, day, points) "
                        "VALUES ({}, {}, {})", member, day, points)

    manager.add_raw(index_and_fill)
    return manager
