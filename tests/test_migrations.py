"""The migrations stay honest: they describe exactly the table classes (Piccolo would write
no new migration), they build an empty database of the mode's kind into that schema with the
product defaults seeded once, they import nothing of the application, and on PostgreSQL an
index added to an existing table after the initial migration is built CONCURRENTLY."""

from __future__ import annotations

import ast
import json
import os
import re
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import BIN, MODE, PG_ADMIN_URL, REDIS_URL, ROOT, services_reachable

APPS = ("server", "community", "gamification")
MIGRATIONS = ROOT / "migrations"
APPLICATION_PACKAGES = {"server", "community", "gamification", "ugc", "tests", "migrations"}


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "PICCOLO_"))}
    return {**env, "HEARTH_DATA_DIR": str(data_dir), "PICCOLO_CONF": "server.piccolo_conf",
            "HEARTH_LOG_LEVEL": "warning", **extra}


def _python(code: str, env: dict[str, str], *args: str) -> Any:
    """Runs code in a fresh interpreter with env (Piccolo reads its configuration once per
    process) and returns what it printed last, as JSON."""
    result = subprocess.run([str(BIN / "python"), "-c", code, *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- 1. Piccolo would write no new migration ------------------------------------------------

PENDING = """
import asyncio, json, sys
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.columns import Varchar
from piccolo.conf.apps import Finder
from piccolo.table import Table

async def pending(app):
    config = Finder().get_app_config(app)
    if sys.argv[1:] == ["drift"]:
        # A table class nobody wrote a migration for: what the check must catch.
        class Drift(Table, tablename="drift"):
            name = Varchar(length=20)
        config.table_classes.append(Drift)
    # auto_input answers Piccolo's rename questions ("no"), so nothing waits on a prompt.
    found = await AutoMigrationManager(auto_input="n").get_alter_statements(app_config=config)
    return [s for alter in found for s in alter.statements]

async def main():
    return {app: await pending(app) for app in %r}

print(json.dumps(asyncio.run(main())))
"""


def _pending(tmp_path: Path, *args: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = _python(PENDING % (APPS,), _env(tmp_path), *args)
    return result


@pytest.fixture(scope="module")
def pending(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    return _pending(tmp_path_factory.mktemp("pending"))


@pytest.mark.parametrize("app", APPS)
def test_piccolo_would_write_no_new_migration(pending: dict[str, list[str]], app: str) -> None:
    assert pending[app] == [], (
        f"the {app} tables differ from its migrations; write the migration with "
        f"`PICCOLO_CONF=server.piccolo_conf piccolo migrations new {app} --auto`:\n"
        + "\n".join(pending[app]))


def test_the_no_new_migration_check_sees_a_table_without_a_migration(tmp_path: Path) -> None:
    drifted = _pending(tmp_path, "drift")
    assert any("Drift" in statement for statement in drifted["server"]), drifted["server"]


# --- 2. An empty database migrates into the schema of the table classes ---------------------

EXPECTED = """
import json
from piccolo.columns import ForeignKey, Serial
from piccolo.conf.apps import Finder

tables = {}
for config in Finder().get_app_registry().app_configs.values():
    for table in config.table_classes:
        tables[table._meta.tablename] = {
            c._meta.db_column_name: {
                "type": c.column_type, "not_null": not c._meta.null,
                "id": isinstance(c, (Serial, ForeignKey)),
            } for c in table._meta.columns}
print(json.dumps(tables))
"""

PG_TYPES = {"BIGSERIAL": "bigint", "SERIAL": "integer", "BIGINT": "bigint", "INTEGER": "integer",
            "TEXT": "text", "BOOLEAN": "boolean", "TIMESTAMPTZ": "timestamp with time zone",
            "DATE": "date"}


def _pg_type(piccolo_type: str) -> str:
    varchar = re.fullmatch(r"VARCHAR\((\d+)\)", piccolo_type)
    return f"character varying({varchar[1]})" if varchar else PG_TYPES[piccolo_type]


class Database:
    """An empty database of the mode's kind, and how to read it."""

    def __init__(self, env: dict[str, str], query: Callable[[str], list[tuple[Any, ...]]],
                 kind: str) -> None:
        self.env, self.query, self.kind = env, query, kind

    def migrate(self, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(BIN / "hearth"), "migrate"], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=180)
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def columns(self) -> dict[str, dict[str, tuple[str, bool]]]:
        """table -> column -> (type as Piccolo writes it for this database, not null)."""
        found: dict[str, dict[str, tuple[str, bool]]] = {}
        if self.kind == "sqlite":
            tables = [r[0] for r in self.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                found[table] = {r[1]: (r[2], bool(r[3]))
                                for r in self.query(f"PRAGMA table_info({table})")}
            return found
        for table, column, kind, not_null in self.query(
                "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
                "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                "AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"):
            found.setdefault(table, {})[column] = (kind, not_null in (True, "t"))
        return found

    def indexes(self) -> set[str]:
        if self.kind == "sqlite":
            return {r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
        return {r[0] for r in self.query("SELECT indexname FROM pg_indexes "
                                         "WHERE schemaname = 'public'")}


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[Database]:
    """SQLite in embedded mode, PostgreSQL in scaled mode: `make test` migrates both."""
    if MODE != "scaled":
        path = tmp_path / "data" / "hearth.db"

        def sqlite_query(statement: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(path) as db:
                return db.execute(statement).fetchall()

        yield Database(_env(tmp_path / "data"), sqlite_query, "sqlite")
        return
    missing = services_reachable()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"scaled mode needs {missing} (CI is set: missing services are a failure)")
        pytest.skip(f"scaled mode needs {missing}")
    name = f"hearth_migr_{uuid.uuid4().hex[:10]}"
    subprocess.run(["psql", PG_ADMIN_URL, "-q", "-c", f"CREATE DATABASE {name}"], check=True,
                   capture_output=True)
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"

    def pg_query(statement: str) -> list[tuple[Any, ...]]:
        out = subprocess.run(["psql", url, "-qAt", "-F", "\t", "-c", statement],
                             capture_output=True, text=True, check=True).stdout
        return [tuple(line.split("\t")) for line in out.splitlines()]

    try:
        yield Database(_env(tmp_path / "data", HEARTH_DATABASE_URL=url,
                            HEARTH_REDIS_URL=REDIS_URL,
                            HEARTH_REDIS_PREFIX=f"t{uuid.uuid4().hex[:10]}"), pg_query, "postgres")
    finally:
        subprocess.run(["psql", PG_ADMIN_URL, "-q", "-c",
                        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


def _raw_index_names(kind: str) -> set[str]:
    """The indexes the migrations create in raw SQL (Piccolo's columns cannot), less those on
    tables a later migration drops, and on SQLite less PostgreSQL's GIN indexes (SQLite's
    full-text search is a virtual table instead) and covering ones (SQLite has no INCLUDE)."""
    names: dict[str, str] = {}
    dropped = set()
    for path in MIGRATIONS.glob("*/*.py"):
        source = path.read_text()
        for text in _strings(ast.parse(source)):
            if kind == "sqlite" and re.search(r"\bUSING\s+GIN\b|\bINCLUDE\s*\(", text,
                                              re.IGNORECASE):
                continue
            names.update(re.findall(
                r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
                r"(\w+)\s+ON\s+(\w+)", text, re.IGNORECASE))
        dropped.update(re.findall(r"drop_table\([^)]*tablename=\"(\w+)\"", source))
    return {name for name, table in names.items() if table not in dropped}


def test_an_empty_database_migrates_into_the_table_classes(empty_database: Database) -> None:
    empty_database.migrate()
    expected = _python(EXPECTED, empty_database.env)
    found = empty_database.columns()
    for table, columns in expected.items():
        assert table in found, f"{table} was not created"
        want = {name: (c["type"] if empty_database.kind == "sqlite" else _pg_type(c["type"]),
                       c["not_null"]) for name, c in columns.items()}
        assert found[table] == want, table
    raw = _raw_index_names(empty_database.kind)
    assert len(raw) >= 19 and raw <= empty_database.indexes(), raw - empty_database.indexes()
    assert "forum_post_deleted" in raw and "forum_thread_read_once" not in raw


def test_read_marks_are_keyed_by_member_and_thread_alone(empty_database: Database) -> None:
    """Upserting a read mark spends no sequence value: the table has no surrogate id."""
    empty_database.migrate()
    if empty_database.kind == "sqlite":
        columns = empty_database.query("PRAGMA table_info(forum_read_mark)")
        key = [r[1] for r in sorted(columns, key=lambda r: int(r[5])) if int(r[5])]
    else:
        key = [r[0] for r in empty_database.query(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'forum_read_mark'::regclass "
            "AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)")]
        assert empty_database.query("SELECT count(*) FROM pg_sequences "
                                    "WHERE sequencename LIKE 'forum_read_mark%'") == [("0",)]
    assert key == ["member", "thread"]
    assert "forum_thread_read" not in empty_database.columns()


def test_ids_and_references_to_them_are_64_bit(empty_database: Database) -> None:
    empty_database.migrate()
    expected = _python(EXPECTED, empty_database.env)
    ids = [(table, column) for table, columns in expected.items()
           for column, c in columns.items() if c["id"]]
    assert len(ids) > 60
    if empty_database.kind == "sqlite":
        # SQLite integers (and rowids) are 64-bit whatever the declared type.
        assert all(expected[t][c]["type"] == "INTEGER" for t, c in ids)
        return
    found = empty_database.columns()
    assert [(t, c) for t, c in ids if found[t][c][0] != "bigint"] == []


def test_defaults_are_seeded_once_and_stay_deleted(empty_database: Database) -> None:
    first = empty_database.migrate()
    assert "gamification.default-rules" in first.stdout
    rules = [r[0] for r in empty_database.query("SELECT name FROM gamification_rule ORDER BY id")]
    assert rules == ["Started a thread", "Posted a reply", "Received a reaction",
                     "First visit of the day", "Reply marked helpful"]
    ladder = [(r[0], int(r[1])) for r in empty_database.query(
        "SELECT name, threshold FROM gamification_tier ORDER BY threshold")]
    assert ladder == [("Member", 0), ("Regular", 100), ("Insider", 500), ("VIP", 2000)]
    settings = [tuple(int(v) for v in r) for r in empty_database.query(
        "SELECT window_days, grace_days FROM gamification_tier_settings")]
    assert settings == [(365, 30)]

    empty_database.query("DELETE FROM gamification_rule WHERE name = 'Posted a reply'")
    again = empty_database.migrate()
    assert "seeded" not in again.stdout
    assert int(empty_database.query("SELECT COUNT(*) FROM gamification_rule")[0][0]) == 4
    assert int(empty_database.query("SELECT COUNT(*) FROM gamification_tier")[0][0]) == 4


def test_a_database_from_before_the_squash_is_refused_with_advice(
        empty_database: Database) -> None:
    empty_database.migrate()
    empty_database.query("INSERT INTO migration (name, app_name, ran_on) "
                         "VALUES ('2026-11-23T10:34:00:000000', 'server', CURRENT_TIMESTAMP)")
    result = empty_database.migrate(check=False)
    assert result.returncode == 1
    assert "server 2026-11-23T10:34:00:000000" in result.stderr
    assert "cannot be migrated forward" in result.stderr
    advice = "delete" if empty_database.kind == "sqlite" else "drop and recreate the database"
    assert advice in result.stderr and "Traceback" not in result.stderr


# --- 3. Migrations import nothing of the application ----------------------------------------


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""


def application_imports(source: str) -> list[str]:
    """Modules of the application a migration file imports, anywhere in it (functions too),
    including importlib.import_module("...") and __import__("...") with a literal name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else ["(relative import)"]
        elif isinstance(node, ast.Call) and _called(node) in ("__import__", "import_module"):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = [first.value]
        found += [n for n in names
                  if n.split(".")[0] in APPLICATION_PACKAGES or n == "(relative import)"]
    return found


def test_migrations_import_nothing_of_the_application() -> None:
    files = sorted(MIGRATIONS.glob("**/*.py"))
    assert len(files) >= 4
    offenders = {str(p.relative_to(ROOT)): application_imports(p.read_text()) for p in files}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_import_scan_finds_imports_hidden_in_functions() -> None:
    source = '''
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
import datetime

async def forwards():
    from server.db import fetch
    import gamification.rules.services as rules
    import importlib
    importlib.import_module("community.forums.tables")
    from . import sibling
'''
    assert sorted(application_imports(source)) == [
        "(relative import)", "community.forums.tables", "gamification.rules.services",
        "server.db"]


# --- 4. Later migrations build indexes CONCURRENTLY on PostgreSQL ---------------------------

CREATE_INDEX = re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b", re.IGNORECASE)


def _strings(tree: ast.AST) -> list[str]:
    """String literals, with implicitly concatenated parts already joined by the parser."""
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _indexing_params(params: ast.expr | None) -> list[str]:
    """'index' / 'unique' set true in a Piccolo params dict literal."""
    if not isinstance(params, ast.Dict):
        return []
    return [k.value for k, v in zip(params.keys, params.values, strict=True)
            if isinstance(k, ast.Constant) and k.value in ("index", "unique")
            and isinstance(v, ast.Constant) and v.value is True]


def blocking_indexes(source: str) -> list[str]:
    """What a migration after the initial one does that would build an index on an existing
    PostgreSQL table while holding writes off: CREATE INDEX without CONCURRENTLY, Piccolo
    adding or altering a column to be indexed or unique (its DDL is never concurrent), and
    CONCURRENTLY inside the migration's transaction (which PostgreSQL refuses)."""
    tree = ast.parse(source)
    problems = []
    concurrently = False
    for text in _strings(tree):
        if CREATE_INDEX.search(text):
            if re.search(r"\bCONCURRENTLY\b", text, re.IGNORECASE):
                concurrently = True
            else:
                problems.append(f"CREATE INDEX without CONCURRENTLY: {' '.join(text.split())}")
    calls = [(n.func.attr, n, _keyword(n, "tablename")) for n in ast.walk(tree)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
    new_tables = {table.value for method, _, table in calls
                  if method == "add_table" and isinstance(table, ast.Constant)}
    for method, call, table in calls:
        where = table.value if isinstance(table, ast.Constant) else "?"
        if method not in ("add_column", "alter_column") or where in new_tables:
            continue
        for flag in _indexing_params(_keyword(call, "params")):
            problems.append(f"{method}(... {flag}=True) on {where}")
    if concurrently:
        managers = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Name) and n.func.id.endswith("MigrationManager")]
        outside = any(isinstance(w := _keyword(m, "wrap_in_transaction"), ast.Constant)
                      and w.value is False for m in managers)
        if not outside:
            problems.append("CONCURRENTLY needs MigrationManager(..., wrap_in_transaction=False)")
    return problems


def _later_migrations() -> list[Path]:
    later = []
    for app in APPS:
        files = sorted((MIGRATIONS / app).glob(f"{app}_*.py"))
        assert files, f"no migrations for {app}"
        later += files[1:]
    return later


def test_later_migrations_build_indexes_concurrently() -> None:
    offenders = {str(p.relative_to(ROOT)): blocking_indexes(p.read_text())
                 for p in _later_migrations()}
    assert {path: problems for path, problems in offenders.items() if problems} == {}


def test_only_the_initial_migration_of_each_app_may_build_indexes_in_a_transaction() -> None:
    initial = [sorted((MIGRATIONS / app).glob(f"{app}_*.py"))[0] for app in APPS]
    # Were these later migrations, the scan would refuse their plain CREATE INDEX.
    assert all(blocking_indexes(p.read_text()) for p in initial)


LATER_GOOD = '''
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

STATEMENT = ("CREATE INDEX CONCURRENTLY IF NOT EXISTS thread_author_time "
             "ON forum_thread (author, created_at)")

async def forwards():
    manager = MigrationManager(migration_id="x", app_name="community", wrap_in_transaction=False)

    async def index():
        engine = engine_finder()
        sqlite = engine.engine_type == "sqlite"
        await engine.run_ddl(STATEMENT.replace(" CONCURRENTLY", "") if sqlite else STATEMENT)

    manager.add_raw(index)
    manager.add_table(class_name="Fresh", tablename="fresh")
    manager.add_column(table_class_name="Fresh", tablename="fresh", column_name="n",
                       params={"index": True, "unique": False})
    return manager
'''


@pytest.mark.parametrize(("change", "problem"), [
    (("CREATE INDEX CONCURRENTLY IF NOT EXISTS", "CREATE INDEX IF NOT EXISTS"),
     "CREATE INDEX without CONCURRENTLY"),
    (("CREATE INDEX CONCURRENTLY IF NOT EXISTS thread_author_time",
      "create unique index if not exists thread_author_time"), "CREATE INDEX without CONCURRENTLY"),
    ((", wrap_in_transaction=False", ""), "wrap_in_transaction=False"),
    (('tablename="fresh", column_name="n"', 'tablename="forum_post", column_name="n"'),
     "add_column(... index=True) on forum_post"),
    (('params={"index": True, "unique": False}', 'params={"index": False, "unique": True}'),
     None),
])
def test_the_concurrently_scan_on_a_synthetic_later_migration(
        change: tuple[str, str], problem: str | None) -> None:
    assert blocking_indexes(LATER_GOOD) == []
    source = LATER_GOOD.replace(*change)
    assert source != LATER_GOOD
    problems = blocking_indexes(source)
    if problem is None:
        # A new table's columns may be indexed or unique: nobody is writing to it yet.
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_alter_column_to_unique_on_an_existing_table_is_caught() -> None:
    source = LATER_GOOD + '''
async def more(manager):
    manager.alter_column(table_class_name="Member", tablename="member", column_name="email",
                         params={"unique": True}, old_params={"unique": False})
'''
    assert blocking_indexes(source) == ["alter_column(... unique=True) on member"]


# --- Ids past 32 bits ------------------------------------------------------------------------


def test_ids_past_32_bits_are_served(stack: Any, member: Any, anon: Any, thread: dict) -> None:
    thread_id = thread["thread"]["id"]
    if MODE == "scaled":
        # SQLite ids are 64-bit by nature; PostgreSQL's are as wide as the column.
        stack.sql("SELECT setval('forum_post_id_seq', 3000000000)")
        reply = member.post(f"/api/threads/{thread_id}/posts", {"body": "far along"})
        assert reply.status_code == 201, reply.text
        post_id = reply.json()["id"]
        assert post_id > 2**31
        assert anon.get(f"/api/posts/{post_id}").json()["id"] == post_id
    assert anon.get(f"/api/posts/{2**62}").status_code == 404
    # Post numbers stay 32-bit: a larger one is refused before it reaches the database.
    assert anon.get(f"/api/threads/{thread_id}?after={2**31}").status_code == 400
