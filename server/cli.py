"""The `hearth` command: serve, migrate, worker, beat, create-admin, seed-demo, demo-logins,
relay-sweep, outbox-prune, backup, restore, run-job, sequences, openapi, and each installed plugin's
commands."""

from __future__ import annotations

import asyncio
import getpass
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from server.settings import SettingsError, get_settings, redact_url

T = TypeVar("T")


def _settings_or_exit() -> Any:
    try:
        return get_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def with_runtime(fn: Callable[[], Awaitable[T]]) -> T:
    """Run fn with the runtime started (database, stores) as a one-off process; plugins'
    commands use it too."""
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


class HearthGroup(click.Group):
    """The kernel's commands, then each installed plugin's."""

    def _plugin_commands(self) -> dict[str, click.Command]:
        from server import plugins

        try:
            installed = plugins.load()
        except (SettingsError, plugins.PluginError) as exc:
            raise click.ClickException(str(exc)) from None
        found: dict[str, click.Command] = {}
        for plugin in installed:
            for command in plugin.cli_commands:
                name = command.name or ""
                if name in self.commands or name in found:
                    raise click.ClickException(
                        f"plugin {plugin.name!r} adds a command {name!r} that already exists")
                found[name] = command
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # The kernel's own commands work even when a plugin cannot be loaded.
        return super().get_command(ctx, cmd_name) or self._plugin_commands().get(cmd_name)


@click.group(cls=HearthGroup)
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
    from server.realtime import MAX_FRAME_BYTES

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
    # On SIGTERM uvicorn stops accepting, closes websockets with 1012 ("service restart": the
    # clients reconnect elsewhere), lets requests in flight finish, then raises the signal
    # again for the handler found at start: this one makes a graceful stop exit 0, not "killed".
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.run(
        "server.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        # Hearth reads X-Forwarded-For itself (server.ratelimit) when told to trust it.
        proxy_headers=False,
        ws="websockets-sansio",
        ws_max_size=MAX_FRAME_BYTES,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def openapi(path: Path) -> None:
    """Write the OpenAPI document to PATH, as /schema/openapi.json serves it, without serving.

    The web app's API types are generated from it (`make api-types`)."""
    from litestar.serialization import encode_json

    from server.app import create_app

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_json(create_app(_settings_or_exit()).openapi_schema.to_schema()))


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


@main.command()
def migrate() -> None:
    """Apply pending migrations, then the product defaults not applied yet (idempotent)."""
    from server import backups, db, migrating, plugins, runtime

    settings = _settings_or_exit()
    data_hint = (f"drop and recreate the database {redact_url(settings.database_url)}"
                 if settings.scaled else f"delete {settings.sqlite_path} (by default: delete var/)")
    # It runs without a runtime, so it holds the data dir itself, as every runtime does.
    try:
        in_use = None if settings.scaled else backups.claim_serving(settings)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None

    async def run() -> list[str]:
        try:
            await runtime.check_services(settings)
        except runtime.StartupError as exc:
            raise click.ClickException(str(exc)) from None
        await db.start()
        try:
            await migrating.apply_schema(data_hint)
            return await migrating.apply_seed_steps(migrating.seed_steps(plugins.install()))
        except migrating.MigrationError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            await db.stop()

    try:
        seeded = asyncio.run(run())
    finally:
        if in_use is not None:
            in_use.close()
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
        "worker", "--loglevel", settings.celery_log_level, "--concurrency", str(concurrency),
        "--queues", f"{settings.redis_prefix}-tasks", "--without-gossip", "--without-mingle",
    ])


@main.command()
def beat() -> None:
    """Run Celery beat, which schedules the outbox sweep (scaled mode)."""
    celery = _celery_or_exit()
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery.start([
        "beat", "--loglevel", settings.celery_log_level,
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
    except (msgspec.ValidationError, DomainError) as exc:
        raise click.ClickException(f"invalid input: {exc}") from None

    async def run() -> Any:
        try:
            return await services.register(data, role="admin")
        except DomainError as exc:
            raise click.ClickException(exc.message) from None

    member = with_runtime(run)
    click.echo(f"admin {member.handle} created (id {member.id})")


@main.command("seed-demo")
def seed_demo() -> None:
    """Load demo data (a brand, categories, threads, members); does nothing if present."""
    from server.demo import seed

    def progress(total: int) -> Any:
        return click.progressbar(length=total, label="Seeding demo data", file=sys.stderr)

    logins = with_runtime(lambda: seed(progress))
    if not logins:
        click.echo("demo data already present (its logins were printed when it was loaded)")
        return
    click.echo("\nDemo logins (shown once):")
    for role, handle, password in logins:
        click.echo(f"  {role:<10} {handle:<10} {password}")


@main.command("demo-logins")
@click.option("--reset", is_flag=True,
              help="Give each demo login a new password (HEARTH_DEMO_PASSWORD, or random) and print it.")
def demo_logins(reset: bool) -> None:
    """List the demo logins; only hashes are stored, so passwords show when they are
    HEARTH_DEMO_PASSWORD, or after --reset."""
    from server import demo

    rows: list[tuple[str, str, str | None]] = list(
        with_runtime(demo.reset_passwords if reset else demo.logins))
    if not rows:
        raise click.ClickException("no demo logins: load them with `hearth seed-demo`")
    click.echo("Demo logins (new passwords):" if reset else "Demo logins:")
    for role, handle, password in rows:
        click.echo(f"  {role:<11} {handle:<10} {password or '(password not shown)'}")
    if not all(password for _, _, password in rows):
        click.echo("Only password hashes are stored: a password shows here when it is "
                   "HEARTH_DEMO_PASSWORD.\n`hearth demo-logins --reset` sets new ones "
                   "(HEARTH_DEMO_PASSWORD when set, random otherwise) and prints them.")


@main.command("relay-sweep")
def relay_sweep() -> None:
    """Dispatch every committed outbox event that has not been handled yet."""
    from server import outbox

    async def drain() -> int:
        total = 0
        while count := await outbox.relay():
            total += count
        return total

    count = with_runtime(drain)
    click.echo(f"dispatched {count} pending events")


@main.command("outbox-prune")
def outbox_prune() -> None:
    """Delete dispatched outbox events older than HEARTH_OUTBOX_RETENTION_DAYS (hourly anyway)."""
    from server import outbox

    count = with_runtime(outbox.prune)
    click.echo(f"pruned {count} dispatched events")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
def backup(path: Path) -> None:
    """Write a backup of the embedded database and media to PATH (a new .tar file), while
    servers keep running (scaled mode: use pg_dump)."""
    from server import backups

    try:
        summary = backups.backup(_settings_or_exit(), path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {summary.path}: database {summary.database_bytes} bytes, "
               f"{summary.media_files} media files, as of {summary.created_at}")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
def restore(path: Path) -> None:
    """Replace the embedded database and media with the backup at PATH, signing everyone out
    (stop the server and other commands first; scaled mode: use pg_restore)."""
    from server import backups

    try:
        summary = backups.restore(_settings_or_exit(), path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored the backup of {summary.created_at} from {summary.path}: database "
               f"{summary.database_bytes} bytes, {summary.media_files} media files. Run "
               "`hearth migrate` if this Hearth is newer than the backup.")


@main.command()
def sequences() -> None:
    """Print how much of each id sequence is used; exits 1 naming each past half its range."""
    from server import sequences as ids

    found = with_runtime(ids.usage)
    for sequence in found:
        click.echo(f"{sequence.used:>9.4%}  {sequence.name}  "
                   f"({sequence.last_value} of {sequence.max_value})")
    past_half = [s for s in found if s.past_half]
    for sequence in past_half:
        click.echo(f"warning: {sequence.warning()}")
    if past_half:
        raise click.exceptions.Exit(1)
    click.echo(f"sequences: none past {ids.WARN_FRACTION:.0%} of its range")


@main.command("run-job")
@click.argument("name")
def run_job(name: str) -> None:
    """Run a scheduled job once, now (e.g. tiers.review); it still runs on its schedule."""
    from server import schedule

    async def run() -> object:
        # Jobs register as the plugins install, which the runtime's start does.
        known = {job.name for job in schedule.jobs()}
        if name not in known:
            raise click.ClickException(f"no job {name!r}; jobs: {', '.join(sorted(known))}")
        return await schedule.job(name).fn()

    result = with_runtime(run)
    click.echo(f"{name} done: {result}")


if __name__ == "__main__":
    main()
