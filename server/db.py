"""The database engine for the current mode, and the one transaction helper services use."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory

from server.errors import unavailable
from server.settings import get_settings

T = TypeVar("T")


def for_loop(store: dict[int, tuple[asyncio.AbstractEventLoop, T]], make: Callable[[], T]) -> T:
    """The running event loop's own T, made on first use: loops come and go (tests, one-off
    commands) and a closed loop's id may be reused."""
    loop = asyncio.get_running_loop()
    held = store.get(id(loop))
    if held is None or held[0] is not loop:
        held = store[id(loop)] = (loop, make())
    return held[1]

READ_HERE_TIMEOUT_SECONDS = 0.005

# How long a PostgreSQL restart is waited out before requests get 503 (a restart takes
# about half a second; a failover, longer, and then failing fast is better than piling up).
RESTART_PATIENCE_SECONDS = 3.0


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a connection (and a thread) for every statement outside
    a transaction; this keeps a few autocommit connections open instead, per event loop.

    Writes (transactions, and statements outside one that are not SELECTs) also queue here,
    first come first served, for one write lock per event loop: SQLite lets one writer in at
    a time and makes the others poll with sleeps (its busy handler), which favours nobody and
    fails a writer with "database is locked" once the timeout passes. Queued in-process, only
    one of this process's writers asks SQLite at a time, and the wait is fair; the timeout is
    left for other processes' writers (a CLI command)."""

    POOL_SIZE = 4

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)
        self._pools: dict[int, asyncio.Queue[aiosqlite.Connection]] = {}
        self._opened: dict[int, int] = {}
        self._write_locks: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}
        self._writer: dict[int, asyncio.Task[Any] | None] = {}
        self._readers: dict[int, tuple[asyncio.AbstractEventLoop, sqlite3.Connection]] = {}

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """Hold this event loop's write lock (see the class)."""
        loop = asyncio.get_running_loop()
        async with for_loop(self._write_locks, asyncio.Lock):
            self._writer[id(loop)] = asyncio.current_task()
            try:
                yield
            finally:
                self._writer[id(loop)] = None

    def _writes_now(self) -> bool:
        """Whether this task holds the write lock (a write of its own must not queue behind
        itself: it goes to SQLite, whose timeout applies as before)."""
        return self._writer.get(id(asyncio.get_running_loop())) is asyncio.current_task()

    async def _acquire(self) -> aiosqlite.Connection:
        loop = id(asyncio.get_running_loop())
        pool = self._pools.setdefault(loop, asyncio.Queue())
        if pool.empty() and self._opened.get(loop, 0) < self.POOL_SIZE:
            self._opened[loop] = self._opened.get(loop, 0) + 1
            pending = aiosqlite.connect(**self.connection_kwargs)
            # Pooled connections live as long as the process: never let one hold exit up.
            pending._thread.daemon = True
            connection = await pending
            await connection.execute("PRAGMA foreign_keys = 1")
            connection.row_factory = dict_factory  # type: ignore[assignment]
            return connection
        return await pool.get()

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if query.lstrip()[:6].upper() == "SELECT" or self._writes_now():
            return await self._run_pooled(query, args)
        async with self.writing():
            return await self._run_pooled(query, args)

    async def _run_pooled(self, query: str, args: list[Any] | None) -> Any:
        connection = await self._acquire()
        try:
            async with connection.execute(query, args or []) as cursor:
                return await cursor.fetchall()
        finally:
            self._pools[id(asyncio.get_running_loop())].put_nowait(connection)

    def read_here(self, query: str, args: Sequence[Any]) -> list[dict[str, Any]] | None:
        """Run a short SELECT on the event loop's own thread, or None when SQLite is busy.

        A read that SQLite answers from its page cache in microseconds costs more in the
        handover to a connection's thread and back; in WAL mode a reader never waits for a
        writer, and the busy timeout bounds the rare wait (WAL recovery) to a few ms."""
        try:
            return for_loop(self._readers, self._open_reader).execute(query, list(args)).fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return None
            raise

    def _open_reader(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.connection_kwargs["database"],
                                     timeout=READ_HERE_TIMEOUT_SECONDS, check_same_thread=False)
        connection.execute("PRAGMA query_only = 1")
        connection.row_factory = dict_factory  # type: ignore[assignment]
        return connection

    async def close_pool(self) -> None:
        loop = id(asyncio.get_running_loop())
        reader = self._readers.pop(loop, None)
        if reader is not None:
            reader[1].close()
        pool = self._pools.pop(loop, None)
        self._opened.pop(loop, None)
        self._write_locks.pop(loop, None)
        self._writer.pop(loop, None)
        while pool is not None and not pool.empty():
            await pool.get_nowait().close()


class _PooledTransaction(PostgresTransaction):
    """Piccolo's transaction, ending cleanly whatever fails. When BEGIN, COMMIT or ROLLBACK
    raises, Piccolo neither gives the connection back to the pool (asyncpg frees it only if
    it closed: a COMMIT refused or a cancelled BEGIN leaks it, and an empty pool makes every
    later query wait forever) nor forgets the transaction (after PostgreSQL cut a connection
    mid-transaction, as a restart does, every later transaction in the same task would nest
    in the dead one)."""

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        assert isinstance(self.engine, HearthPostgresEngine)
        # Nothing has run before BEGIN succeeds: a restart's refusals can be waited out.
        await self.engine.patiently(self._begin)
        self.context = self.engine.current_transaction.set(self)
        return self

    async def _begin(self) -> None:
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back()
            raise

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    # On a cut connection the rollback fails too: the error that cut it is
                    # the one to report (PostgreSQL rolls back what it never saw committed).
                    with contextlib.suppress(Exception):
                        await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._give_back()
        return exception is None

    async def _give_back(self) -> None:
        # Returning a broken connection fails after the pool has dropped it (it opens a new
        # one on a later acquire); that must not turn a committed write into an error.
        with contextlib.suppress(Exception):
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()


class HearthPostgresEngine(PostgresEngine):
    """Rides out a PostgreSQL restart: it refuses connections for a moment and cuts the
    pool's idle ones. What has not run yet (opening a connection, BEGIN, a SELECT outside a
    transaction) is tried again, for at most RESTART_PATIENCE_SECONDS from when the database
    was first found gone; past that, callers fail at once (a 503) until it answers again."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gone_since: float | None = None
        self._gates: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Semaphore]] = {}

    def _gate(self) -> asyncio.Semaphore:
        """Statements outside a transaction queue here, first come first served, for one of
        POOL_SIZE places: asyncpg's pool hands a returned connection to whoever asks first,
        not to who has waited longest, and under load a few requests lost every race."""
        return for_loop(self._gates, lambda: asyncio.Semaphore(POOL_SIZE))

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PooledTransaction(engine=self, allow_nested=allow_nested)

    async def patiently(self, attempt: Callable[[], Awaitable[T]]) -> T:
        delay = 0.05
        while True:
            try:
                result = await attempt()
            except Exception as exc:
                if unavailable(exc) is None:
                    raise
                now = time.monotonic()
                if self._gone_since is None:
                    self._gone_since = now
                if now + delay - self._gone_since > RESTART_PATIENCE_SECONDS:
                    raise
                await asyncio.sleep(delay)
                delay = min(2 * delay, 0.5)
                continue
            self._gone_since = None
            return result

    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        async with self._gate():
            return await self._run_gated(query, args)

    async def _run_gated(self, query: str, args: Sequence[Any] | None) -> Any:
        if query.lstrip()[:6].upper() == "SELECT":
            return await self.patiently(lambda: super(HearthPostgresEngine, self)._run_in_pool(
                query, args))
        # A write is not repeated (it may have run before its connection was cut); only
        # getting a connection for it is.
        assert self.pool is not None
        connection = await self.patiently(self.pool.acquire)
        try:
            return await connection.fetch(query, *(args or []))
        finally:
            with contextlib.suppress(Exception):
                await self.pool.release(connection)


# Seconds to open a PostgreSQL connection (asyncpg waits 60 by default): a database that
# does not answer makes requests fail fast with a 503 rather than hang.
CONNECT_TIMEOUT_SECONDS = 5
POOL_SIZE = 20


def build_engine() -> Engine[Any]:
    settings = get_settings()
    # Settings allow a PostgreSQL URL only together with Redis: scaled mode.
    if settings.scaled:
        return HearthPostgresEngine(config={"dsn": settings.database_url,
                                            "timeout": CONNECT_TIMEOUT_SECONDS})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers proceed during a write; the timeout makes writers queue, not fail.
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    return PooledSQLiteEngine(path=str(path), timeout=30)


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
    if isinstance(db, PooledSQLiteEngine):
        async with db.writing(), db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


@functools.lru_cache(maxsize=1024)
def _compiled(sql: str, postgres: bool) -> str:
    if not postgres:
        return sql.replace("{}", "?")
    parts = sql.split("{}")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, 1))


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Raw SQL with {} placeholders, for queries the ORM cannot express and for the batch
    statements of the event pipeline (Piccolo's query builder costs more than the query)."""
    db = engine()
    current = db.current_transaction.get()
    if isinstance(db, PostgresEngine):
        query = _compiled(sql, True)
        if current is not None:
            return await current.connection.fetch(query, *args)  # type: ignore[no-any-return]
        if db.pool:
            return await db._run_in_pool(query, list(args))  # type: ignore[no-any-return]
        return await db._run_in_new_connection(query, list(args))  # type: ignore[no-any-return]
    assert isinstance(db, SQLiteEngine)
    query = _compiled(sql, False)
    if current is not None:
        return await db._run_in_existing_connection(  # type: ignore[no-any-return]
            current.connection, query, list(args))
    return await db._run_in_new_connection(query, list(args))  # type: ignore[no-any-return]


async def fetch_small(sql: str, *args: Any) -> list[dict[str, Any]]:
    """fetch() for a short indexed SELECT on a hot path: on SQLite, outside a transaction,
    it runs on the event loop's thread (PooledSQLiteEngine.read_here)."""
    db = engine()
    if isinstance(db, PooledSQLiteEngine) and db.current_transaction.get() is None:
        rows = db.read_here(_compiled(sql, False), args)
        if rows is not None:
            return rows
    return await fetch(sql, *args)


def values_in(values: Sequence[Any], pg_type: str) -> tuple[str, list[Any]]:
    """`column <fragment>` matching any of many values: one array parameter on PostgreSQL,
    so the statement text (and its prepared plan) is the same whatever the count; a list of
    parameters on SQLite. `values` must not be empty."""
    if is_sqlite():
        return "IN (" + ", ".join("{}" for _ in values) + ")", list(values)
    # Not `= ANY(array)`: in a cached generic plan that can become a sequential scan testing
    # every row against every value; a semi-join on the unnested array stays linear.
    return f"IN (SELECT unnest({{}}::{pg_type}[]))", [list(values)]


async def lock_rows(table: str, columns: str, ids: Sequence[int],
                    order_by: str = "id") -> list[dict[str, Any]]:
    """Read rows by id and hold them until the transaction ends, locked in `order_by` order
    so that concurrent writers cannot deadlock. SQLite's write transaction (taken up front by
    `transaction()`) already excludes every other writer: there this is a plain read."""
    match, args = values_in(sorted(ids), "bigint")
    lock = "" if is_sqlite() else f" ORDER BY {order_by} FOR UPDATE"
    return await fetch(f"SELECT {columns} FROM {table} WHERE id " + match + lock, *args)


async def add_to_column(table: str, column: str, deltas: Sequence[tuple[int, int]]) -> None:
    """Add each (id, delta) to `column` of its row, in one statement."""
    if not deltas:
        return
    if is_sqlite():
        await fetch(f"UPDATE {table} SET {column} = {column} + v.column2 FROM (VALUES "
                    + ", ".join("({}, {})" for _ in deltas) + f") AS v WHERE {table}.id = v.column1",
                    *[x for pair in deltas for x in pair])
        return
    await fetch(f"UPDATE {table} SET {column} = {column} + v.delta "
                f"FROM unnest({{}}::bigint[], {{}}::bigint[]) AS v(id, delta) WHERE {table}.id = v.id",
                [i for i, _ in deltas], [d for _, d in deltas])


SQLITE_MAX_VARIABLES = 32766


async def insert_rows(table: str, columns: Sequence[str], pg_types: Sequence[str],
                      rows: Sequence[Sequence[Any]], suffix: str = "") -> list[dict[str, Any]]:
    """A multi-row INSERT (with an ON CONFLICT / RETURNING suffix): column arrays unnested on
    PostgreSQL, one VALUES list on SQLite."""
    if not rows:
        return []
    names = ", ".join(columns)
    if is_sqlite():
        row = "(" + ", ".join("{}" for _ in columns) + ")"
        # SQLite takes at most 32,766 parameters per statement: wide batches go in chunks.
        per_statement = max(1, SQLITE_MAX_VARIABLES // len(columns))
        out: list[dict[str, Any]] = []
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            out += await fetch(f"INSERT INTO {table} ({names}) VALUES "
                               + ", ".join(row for _ in chunk) + " " + suffix,
                               *[value for r in chunk for value in r])
        return out
    arrays = ", ".join(f"{{}}::{t}[]" for t in pg_types)
    return await fetch(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {suffix}",
                       *[list(column) for column in zip(*rows, strict=True)])


async def _keep_session(connection: Any) -> None:
    """asyncpg's default reset costs a round trip per query; Hearth sets no session state
    (no SET, LISTEN or advisory locks), and open transactions are still rolled back."""


async def start() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=POOL_SIZE, reset=_keep_session)


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, PooledSQLiteEngine):
        await db.close_pool()


async def ping() -> None:
    await fetch("SELECT 1")


def is_unique_violation(exc: BaseException) -> bool:
    """True for a unique-constraint failure on either database."""
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
