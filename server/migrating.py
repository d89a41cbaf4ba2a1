"""What `hearth migrate` does: refuse a database migrated by migrations that no longer exist,
apply the pending schema migrations, then the product defaults (seed steps) not applied yet.

A seed step is a named, idempotent async function a plugin lists in its `seed_steps`. Each is
recorded once applied and never run again, so deleting what it made is for good."""

from __future__ import annotations

from collections.abc import Iterable

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import Finder

from server import db
from server.plugins import Plugin, Seeding
from server.tables import SeedStep


class MigrationError(RuntimeError):
    """The database cannot be brought up to date; the message says why and what to do."""


def known_migrations() -> dict[str, set[str]]:
    """Migration ids on disk, per app."""
    manager = BaseMigrationManager()
    known: dict[str, set[str]] = {}
    for app_config in Finder().get_app_registry().app_configs.values():
        modules = manager.get_migration_modules(app_config.resolved_migrations_folder_path)
        known[app_config.app_name] = set(modules)
    return known


async def unknown_applied() -> list[tuple[str, str]]:
    """(app, migration id) recorded as applied but absent from migrations/: what a database
    migrated before the migrations were squashed has."""
    if not await Migration.table_exists():
        return []
    known = known_migrations()
    rows = await Migration.select(Migration.app_name, Migration.name).order_by(Migration.ran_on)
    return [(r["app_name"], r["name"]) for r in rows
            if r["app_name"] in known and r["name"] not in known[r["app_name"]]]


async def apply_schema(data_hint: str) -> None:
    stale = await unknown_applied()
    if stale:
        listed = ", ".join(f"{app} {name}" for app, name in stale[:3])
        more = f" and {len(stale) - 3} more" if len(stale) > 3 else ""
        raise MigrationError(
            f"this database was migrated by an earlier Hearth whose migrations no longer exist "
            f"(applied: {listed}{more}); the migrations were squashed before any release, so "
            f"it cannot be migrated forward. Start from an empty database: {data_hint}, "
            f"then run `hearth migrate` again")
    result = await run_forwards("all")
    if not result.success:
        raise MigrationError(f"migration failed: {result.message}")


def seed_steps(plugins: Iterable[Plugin]) -> list[Seeding]:
    return [step for plugin in plugins for step in plugin.seed_steps]


async def apply_seed_steps(steps: Iterable[Seeding]) -> list[str]:
    """Runs each step not recorded yet, with its record, in one transaction; returns the names
    of the steps it ran. A concurrent `hearth migrate` waits on the record and skips the step."""
    ran = []
    for name, step in steps:
        async with db.transaction():
            claimed = await SeedStep.insert(SeedStep(name=name)).on_conflict(
                target=SeedStep.name, action="DO NOTHING").returning(SeedStep.id)
            if not claimed:
                continue
            await step()
        ran.append(name)
    return ran
