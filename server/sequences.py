"""How much of each id sequence is used. A sequence that runs out fails every insert into its
table, so `hearth sequences` and /health warn once any has used more than half its range,
long before.

PostgreSQL: every sequence in pg_sequences, last value against its maximum. SQLite: a table
declared AUTOINCREMENT counts in sqlite_sequence; any other table whose INTEGER PRIMARY KEY is
its rowid counts by its largest id (a max on the key: one index probe), out of 2^63 - 1.
"""

from __future__ import annotations

import asyncio
import logging
import time

import msgspec

from server import db
from server.types import MAX_ID

log = logging.getLogger("hearth.sequences")

WARN_FRACTION = 0.5
# /health reads the sequences at most this often per process: they move slowly.
READING_SECONDS = 60.0
READING_TIMEOUT_SECONDS = 3.0


class SequenceUsage(msgspec.Struct, frozen=True):
    # PostgreSQL: schema.sequence; SQLite: the table.
    name: str
    last_value: int
    max_value: int

    @property
    def used(self) -> float:
        return max(self.last_value, 0) / self.max_value

    @property
    def past_half(self) -> bool:
        return self.used > WARN_FRACTION

    def warning(self) -> str:
        return (f"id sequence {self.name} has used {self.used:.1%} of its range "
                f"({self.last_value} of {self.max_value})")


async def usage() -> list[SequenceUsage]:
    """Every id sequence of the database, most used first."""
    found = await (_sqlite_usage() if db.is_sqlite() else _postgres_usage())
    return sorted(found, key=lambda s: (-s.used, s.name))


async def _postgres_usage() -> list[SequenceUsage]:
    # last_value is NULL until the sequence is first used: nothing used yet.
    rows = await db.fetch(
        "SELECT schemaname || '.' || sequencename AS name, COALESCE(last_value, 0) AS last_value, "
        "max_value FROM pg_sequences WHERE increment_by > 0")
    return [SequenceUsage(r["name"], int(r["last_value"]), int(r["max_value"])) for r in rows]


async def _sqlite_usage() -> list[SequenceUsage]:
    keys = await db.fetch(
        "SELECT m.name AS tbl, p.name AS col, p.type AS type, "
        "COUNT(*) OVER (PARTITION BY m.name) AS key_columns "
        "FROM sqlite_master m JOIN pragma_table_info(m.name) p "
        "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND p.pk > 0")
    rowid_keys = {r["tbl"]: r["col"] for r in keys
                  if r["key_columns"] == 1 and str(r["type"]).upper() == "INTEGER"}
    counted: dict[str, int] = {}
    if await db.fetch("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"):
        counted = {r["name"]: int(r["seq"])
                   for r in await db.fetch("SELECT name, seq FROM sqlite_sequence")}
    plain = sorted(set(rowid_keys) - set(counted))
    if plain:
        # One statement for every table; names come from the schema, quoted as identifiers.
        maxima = await db.fetch(" UNION ALL ".join(
            f"SELECT {_literal(table)} AS tbl, MAX({_ident(rowid_keys[table])}) AS top "
            f"FROM {_ident(table)}" for table in plain))
        counted.update({r["tbl"]: int(r["top"] or 0) for r in maxima})
    return [SequenceUsage(table, last, MAX_ID) for table, last in counted.items()]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


class _Reading:
    """The last reading of this process, for /health: cheap however often it is asked."""

    def __init__(self) -> None:
        self.taken_at = float("-inf")
        self.warnings: list[str] = []
        self.refreshing = False

    async def warnings_now(self) -> list[str]:
        """The warnings as of a reading at most READING_SECONDS old. One caller at a time
        takes a new reading; the others get the last one meanwhile. A reading that fails
        (the database slow or gone) keeps the last one until the next reading is due."""
        if self.refreshing or time.monotonic() - self.taken_at < READING_SECONDS:
            return self.warnings
        self.refreshing = True
        try:
            found = await asyncio.wait_for(usage(), timeout=READING_TIMEOUT_SECONDS)
            self.warnings = [s.warning() for s in found if s.past_half]
        except Exception as exc:
            log.warning("reading the id sequences failed: %s: %s", type(exc).__name__, exc)
        finally:
            self.refreshing = False
            self.taken_at = time.monotonic()
        return self.warnings


_reading = _Reading()


async def warnings() -> list[str]:
    return await _reading.warnings_now()


def last_warnings() -> list[str]:
    return _reading.warnings
