"""The `hearth` command: serve, migrate, worker, beat, create-admin, seed-demo, relay-sweep,
outbox-prune, leaderboards-rebuild, run-job."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from server.settings import SettingsError, get_settings, redact_url

T = TypeVar("T")


def _settings_or_exit() -> Any:
    try:
        return get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _with_runtime(fn: Callable[[], Awaitable[T]]) -> T:
    """Run fn with the runtime started (database, stores) as a one-off process."""
    from server import runtime

    settings = _settings_or_exit()

    async def main() -> T:
        try:
            await runtime.start(settings, role="cli")
        except runtime.StartupError as exc:
            raise click.ClickException(str(exc)) from None
        try:
            return await fn()
        finally:
            await runtime.stop()

    return asyncio.run(main())


@click.group()
def main() -> None:
    """Hearth: a community and gamification server."""


@main.command()
@click.option("--host", default=None, help="Interface to bind (HEARTH_HOST, default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (HEARTH_PORT, default 8000).")
@click.option("--workers", default=1, show_default=True, help="Uvicorn worker processes.")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the API, the websocket endpoint and the web app."""
    import uvicorn

    from server import runtime

    settings = _settings_or_exit()
    if workers > 1 and not settings.scaled:
        raise click.ClickException(
            "--workers above 1 needs scaled mode: embedded sessions, rate limits and live "
            "updates live in one process's memory"
        )
    try:
        asyncio.run(runtime.check_services(settings))
    except runtime.StartupError as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.run(
        "server.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        # Hearth reads X-Forwarded-For itself (server.ratelimit) when told to trust it.
        proxy_headers=False,
        ws="websockets-sansio",
    )


@main.command()
def migrate() -> None:
    """Apply pending migrations, then the product defaults not applied yet (idempotent)."""
    from server import db, migrating, runtime

    settings = _settings_or_exit()
    data_hint = (f"drop and recreate the database {redact_url(settings.database_url)}"
                 if settings.scaled else f"delete {settings.sqlite_path} (by default: delete var/)")

    async def run() -> list[str]:
        try:
            await runtime.check_services(settings)
        except runtime.StartupError as exc:
            raise click.ClickException(str(exc)) from None
        await db.start()
        try:
            await migrating.apply_schema(data_hint)
            return await migrating.apply_seed_steps(migrating.seed_steps(runtime.load_plugins()))
        except migrating.MigrationError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            await db.stop()

    seeded = asyncio.run(run())
    click.echo("migrations applied" + (f"; defaults seeded: {', '.join(seeded)}" if seeded else ""))


def _celery_or_exit() -> Any:
    settings = _settings_or_exit()
    if not settings.scaled:
        raise click.ClickException(
            "workers and beat run in scaled mode only: set HEARTH_DATABASE_URL and "
            "HEARTH_REDIS_URL (embedded mode runs background work inside `hearth serve`)"
        )
    from server.celery_app import celery

    return celery


@main.command()
@click.option("--concurrency", default=2, show_default=True)
def worker(concurrency: int) -> None:
    """Run a Celery worker that dispatches outbox events (scaled mode)."""
    celery = _celery_or_exit()
    settings = get_settings()
    celery.worker_main([
        "worker", "--loglevel", settings.log_level.upper(), "--concurrency", str(concurrency),
        "--queues", f"{settings.redis_prefix}-tasks", "--without-gossip", "--without-mingle",
    ])


@main.command()
def beat() -> None:
    """Run Celery beat, which schedules the outbox sweep (scaled mode)."""
    celery = _celery_or_exit()
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery.start([
        "beat", "--loglevel", settings.log_level.upper(),
        "--schedule", str(settings.data_dir / "celerybeat-schedule"),
    ])


@main.command("create-admin")
@click.option("--handle", required=True)
@click.option("--email", required=True)
@click.option("--password", default=None, help="Prompted for when omitted.")
def create_admin(handle: str, email: str, password: str | None) -> None:
    """Create an admin account."""
    import msgspec

    from server.accounts import services
    from server.accounts.schemas import RegisterIn
    from server.errors import DomainError

    password = password or getpass.getpass("Password (10+ characters): ")
    try:
        data = msgspec.convert({"handle": handle, "email": email, "password": password}, RegisterIn)
    except msgspec.ValidationError as exc:
        raise click.ClickException(f"invalid input: {exc}") from None

    async def run() -> Any:
        try:
            return await services.register(data, role="admin")
        except DomainError as exc:
            raise click.ClickException(exc.message) from None

    member = _with_runtime(run)
    click.echo(f"admin {member.handle} created (id {member.id})")


@main.command("seed-demo")
def seed_demo() -> None:
    """Load demo data (a brand, categories, threads, members); does nothing if present."""
    from server.demo import seed

    def progress(total: int) -> Any:
        return click.progressbar(length=total, label="Seeding demo data", file=sys.stderr)

    logins = _with_runtime(lambda: seed(progress))
    if not logins:
        click.echo("demo data already present (its logins were printed when it was loaded)")
        return
    click.echo("\nDemo logins (shown once):")
    for role, handle, password in logins:
        click.echo(f"  {role:<10} {handle:<10} {password}")


@main.command("relay-sweep")
def relay_sweep() -> None:
    """Dispatch every committed outbox event that has not been handled yet."""
    from server import outbox

    async def drain() -> int:
        total = 0
        while count := await outbox.relay():
            total += count
        return total

    count = _with_runtime(drain)
    click.echo(f"dispatched {count} pending events")


@main.command("outbox-prune")
def outbox_prune() -> None:
    """Delete dispatched outbox events older than HEARTH_OUTBOX_RETENTION_DAYS (hourly anyway)."""
    from server import outbox

    count = _with_runtime(outbox.prune)
    click.echo(f"pruned {count} dispatched events")


@main.command("leaderboards-rebuild")
def leaderboards_rebuild() -> None:
    """Recompute every leaderboard from the points ledger (after losing Redis, say)."""
    from gamification.leaderboards.services import rebuild

    count = _with_runtime(rebuild)
    click.echo(f"leaderboards rebuilt from {count} ledger postings")


@main.command("run-job")
@click.argument("name")
def run_job(name: str) -> None:
    """Run a scheduled job once, now (e.g. tiers.review); it still runs on its schedule."""
    from server import schedule

    async def run() -> object:
        # Jobs register as their plugins load, which the runtime's start does.
        known = {job.name for job in schedule.jobs()}
        if name not in known:
            raise click.ClickException(f"no job {name!r}; jobs: {', '.join(sorted(known))}")
        return await schedule.job(name).fn()

    result = _with_runtime(run)
    click.echo(f"{name} done: {result}")


if __name__ == "__main__":
    main()
