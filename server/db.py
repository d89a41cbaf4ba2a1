"""The database engine for the current mode, and the one transaction helper services use."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from server.settings import get_settings


def build_engine() -> Engine[Any]:
    settings = get_settings()
    if settings.database_url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers proceed during a write; the timeout makes writers queue, not fail.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    return SQLiteEngine(path=str(path), timeout=30)


def engine() -> Engine[Any]:
    from server.piccolo_conf import DB

    return DB


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


@asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """A write transaction. SQLite takes its write lock up front so that concurrent
    read-modify-write sequences serialise instead of failing on upgrade. Inside another
    transaction this is a savepoint: a failure undoes only its own writes."""
    db = engine()
    current = db.current_transaction.get()
    if current is not None:
        savepoint = await current.savepoint()
        try:
            yield
        except BaseException:
            await savepoint.rollback_to()
            raise
        await savepoint.release()
        return
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Raw SQL with {} placeholders, for the few queries the ORM cannot express."""
    from piccolo.querystring import QueryString

    return await engine().run_querystring(QueryString(sql, *args))  # type: ignore[no-any-return]


async def start() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=20)


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()


async def ping() -> None:
    await fetch("SELECT 1")


def is_unique_violation(exc: BaseException) -> bool:
    """True for a unique-constraint failure on either database."""
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
