"""The per-process runtime: the backends the settings chose, started and stopped together.

One instance per process (web server or worker). Services reach the broker, key/value
store, runner and their plugins' backends through `current()`; none of them knows which
implementation it got.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar, cast

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from server import backups, db, mail, outbox, security
from server.kv import KeyValue, MemoryKeyValue, RedisKeyValue
from server.plugins import Backend, Plugin, install
from server.pubsub import Broker, MemoryBroker, RedisBroker
from server.runner import CeleryRunner, InProcessRunner, Runner
from server.settings import Settings, redact_url

log = logging.getLogger("hearth.runtime")


class StartupError(RuntimeError):
    """A backing service is unreachable or misconfigured; the message names it."""


T = TypeVar("T")

# Seconds a command waits for Redis to connect or answer: a Redis that went silent costs a
# request this long, not a hang. Generous enough for a leaderboard rebuild's pipelines.
REDIS_CONNECT_TIMEOUT = 2
REDIS_TIMEOUT = 3


def redis_client(url: str, retries: int = 2) -> aioredis.Redis:
    """A Redis client that fails fast while Redis is down and recovers by itself after: a
    command that finds its pooled connection cut by a restart ("Connection closed by server")
    reconnects and runs again, and a connection idle for a while is checked before use.
    Timeouts are not retried: they would multiply the wait."""
    return aioredis.from_url(
        url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT,
        # Reconnecting at once is what a cut connection needs; a short pause more would only
        # slow every call while Redis is down.
        retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), retries,
                    supported_errors=(RedisConnectionError,)),
        health_check_interval=30)


def mailer_for(settings: Settings) -> mail.Mailer:
    """Embedded: .eml files in the data dir. Scaled: the SMTP server; without one, mail
    waits (failing visibly in the outbox) until HEARTH_SMTP_URL is set, since scaled
    processes share no disk."""
    if not settings.scaled:
        if settings.smtp_url:
            # The relay sends inside its transaction, which on SQLite holds the one write
            # lock: a slow SMTP server would hold up every write.
            log.warning("HEARTH_SMTP_URL is ignored in embedded mode: mail is written to %s",
                        settings.mail_dir)
        return mail.EmlDirectoryMailer(settings.mail_dir, settings.mail_from)
    if settings.smtp_url:
        return mail.SmtpMailer(settings.smtp_url, settings.mail_from)
    log.warning("HEARTH_SMTP_URL is not set: mail (password resets, email changes) waits in "
                "the outbox unsent")
    return mail.UnconfiguredMailer()


@dataclass
class Runtime:
    settings: Settings
    kv: KeyValue
    broker: Broker
    runner: Runner
    mailer: mail.Mailer
    redis: aioredis.Redis | None = None
    plugins: tuple[Plugin, ...] = ()
    backends: dict[str, Any] = field(default_factory=dict)
    # Held while this process uses an embedded data dir; `hearth restore` refuses meanwhile.
    serving_lock: IO[bytes] | None = None

    def backend(self, backend: Backend[T]) -> T:
        return cast(T, self.backends[backend.name])


_current: Runtime | None = None


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the Hearth runtime has not been started in this process")
    return _current


async def check_services(settings: Settings) -> None:
    """Fail fast, naming the service, when a backing service cannot be reached."""
    try:
        await asyncio.wait_for(db.ping(), timeout=10)
    except Exception as exc:
        target = redact_url(settings.database_url) if settings.database_url else settings.sqlite_path
        raise StartupError(f"cannot reach the database at {target}: {exc}") from exc
    if settings.redis_url:
        client = redis_client(settings.redis_url)
        try:
            await asyncio.wait_for(client.ping(), timeout=5)
        except Exception as exc:
            raise StartupError(
                f"cannot reach Redis at {redact_url(settings.redis_url)}: {exc}"
            ) from exc
        finally:
            await client.aclose()


async def start(settings: Settings, role: str) -> Runtime:
    """role is "web" (serves requests, runs the in-process runner when embedded), "worker"
    (a Celery worker process: publishes, never schedules) or "cli" (a one-off command)."""
    serving = None
    if not settings.scaled:
        # Every role, one-off commands too: a restore swapping the database under a process
        # that still writes the old file would lose those writes, and its log with them.
        try:
            serving = backups.claim_serving(settings)
        except backups.BackupError as exc:
            raise StartupError(str(exc)) from None
    try:
        return await _start(settings, role, serving)
    except BaseException:
        if serving is not None:
            serving.close()
        raise


async def _start(settings: Settings, role: str, serving: IO[bytes] | None) -> Runtime:
    global _current
    if settings.test_light_password_hashes:
        security.use_light_hashes()
        log.warning("HEARTH_TEST_LIGHT_PASSWORD_HASHES is set: passwords are hashed at "
                    "argon2id's lightest cost, which protects them far less. It is for tests "
                    "only: unset it in production.")
    await check_services(settings)
    await db.start()
    # The kernel's own outbox handlers beyond mail's: sanction notices.
    importlib.import_module("server.accounts.sanctions")
    installed = install()
    declared = [backend for plugin in installed for backend in plugin.backends]
    if settings.scaled:
        client = redis_client(settings.redis_url)
        rt = Runtime(
            settings=settings,
            kv=RedisKeyValue(client, prefix=f"{settings.redis_prefix}:kv:"),
            # The subscriber's client does not retry: the broker must see every lost
            # connection, since messages published meanwhile never reach it.
            broker=RedisBroker(client, settings.redis_prefix, settings.realtime_history,
                               subscriber=redis_client(settings.redis_url, retries=0)),
            runner=CeleryRunner(settings),
            mailer=mailer_for(settings),
            redis=client,
            plugins=installed,
            backends={b.name: b.scaled(client, settings.redis_prefix) for b in declared},
        )
    else:
        rt = Runtime(
            settings=settings,
            kv=MemoryKeyValue(),
            broker=MemoryBroker(settings.realtime_history),
            runner=InProcessRunner(settings),
            mailer=mailer_for(settings),
            plugins=installed,
            backends={b.name: b.embedded() for b in declared},
            serving_lock=serving,
        )
    if role == "web":
        await rt.broker.start()
    outbox.on_commit(rt.runner.wake)
    if role == "web":
        await rt.runner.start()
    _current = rt
    # What is alive now (the app, its tables, schemas and plugins) lives as long as the
    # process: out of the collector's sight, a full collection no longer walks it, which under
    # load stalled every request in flight for tens of milliseconds.
    gc.collect()
    gc.freeze()
    log.info("hearth %s runtime started in %s mode", role, settings.mode)
    if settings.test_clock_file:
        # Days, periods, deadlines and demotions would follow a file whoever may write it
        # can change: say so at every start, in every process.
        log.warning("HEARTH_TEST_CLOCK_FILE is set (%s): this process's clock follows the "
                    "offset in that file. It is for tests only: unset it in production.",
                    settings.test_clock_file)
    return rt


async def stop() -> None:
    global _current
    rt = _current
    if rt is None:
        return
    await rt.runner.stop()
    for plugin in rt.plugins:
        for stopping in plugin.on_stop:
            try:
                await stopping()
            except Exception:
                log.exception("plugin %s could not finish stopping", plugin.name)
    _current = None
    await rt.broker.stop()
    await rt.kv.close()
    if rt.redis is not None:
        await rt.redis.aclose()
    await db.stop()
    if rt.serving_lock is not None:
        rt.serving_lock.close()
