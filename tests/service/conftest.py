"""The service tier: Hearth's services called in-process, on a SQLite file of each test's own,
with a clock that moves only when the test moves it. Rules, ledger and badge logic are
tested here, exactly and fast; the end-to-end tests keep what needs servers."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from server import clock, db, runtime
from server.settings import get_settings
from tests.service.support import START, Hearth, ManualClock, register


def _use_database(path: Path, env: pytest.MonkeyPatch) -> None:
    """Point the settings, the engine and every table at the SQLite file `path`."""
    from piccolo.table import Table

    # The settings come from here alone, not from whatever HEARTH_* the shell has.
    for key in list(os.environ):
        if key.startswith("HEARTH_") and not key.startswith("HEARTH_TEST_"):
            env.delenv(key)
    env.setenv("HEARTH_DATABASE_URL", f"sqlite:///{path}")
    env.setenv("HEARTH_DATA_DIR", str(path.parent))
    get_settings.cache_clear()
    # Imported only now: on import it builds the engine the settings name.
    from server import piccolo_conf

    piccolo_conf.DB = db.build_engine()
    pending: list[type[Table]] = [Table]
    while pending:
        table = pending.pop()
        pending.extend(table.__subclasses__())
        if table is not Table:
            table._meta.refresh_db()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database with every migration applied, the way `hearth migrate` applies them; each
    test works on a copy."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    path = tmp_path_factory.mktemp("service") / "migrated.db"

    async def migrate() -> None:
        try:
            result = await run_forwards("all")
        finally:
            await db.stop()
        assert result.success, result.message

    with pytest.MonkeyPatch.context() as env:
        _use_database(path, env)
        asyncio.run(migrate())
    get_settings.cache_clear()
    yield path


@pytest.fixture
async def hearth(migrated: Path, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hearth]:
    from gamification.rules import services as rules
    from gamification.rules.schemas import RulePatch

    path = tmp_path / "hearth.db"
    shutil.copyfile(migrated, path)
    _use_database(path, monkeypatch)
    manual = ManualClock(START)
    clock.use(manual)
    # The "cli" role runs no relay loop and no scheduled jobs: tests relay when they choose.
    await runtime.start(get_settings(), role="cli")
    try:
        admin = await register(role="admin")
        # The seeded rules (a point a visit, ten a thread...) would pay for the events the
        # tests stage; each test makes the rules it means.
        for rule in await rules.list_rules(admin):
            await rules.update_rule(admin, rule.id, RulePatch(enabled=False))
        yield Hearth(clock=manual, admin=admin)
    finally:
        # Delayed background work (a throttled leaderboard push, say) ends with the test.
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            if task.get_name().startswith("hearth-"):
                task.cancel()
        await runtime.stop()
        clock.use(None)
        get_settings.cache_clear()
