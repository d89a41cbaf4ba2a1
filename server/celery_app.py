"""Celery for scaled mode: workers dispatch outbox events, beat schedules the sweep.

Each worker process keeps one event loop and one started runtime (database pool, Redis
publisher), so the async services run unchanged inside sync Celery tasks.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from multiprocessing.synchronize import Event
from typing import Any

from celery import Celery
from celery.signals import (
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_shutting_down,
)
from celery.worker.consumer import Consumer
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

from server.settings import Settings, get_settings

_loop: asyncio.AbstractEventLoop | None = None
# Set by the worker's main process when it is told to stop (SIGTERM: a warm shutdown); its
# pool processes, forked after it was made, see it and claim no more events.
_stopping: Event | None = None

# Seconds a broker socket may take to connect or answer: a Redis that went away must not hold
# a publisher (a request's wake-up, beat) for the OS's minutes-long TCP timeout.
BROKER_SOCKET_TIMEOUT = 5


class _RedisChannel(kombu_redis.Channel):  # type: ignore[misc]
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        # kombu 5.7 on a lost connection: closing the channel stops at the in-flight BRPOP
        # reply (the socket is gone), the connection then detaches its transport, and the
        # second close restores the unacknowledged messages through a new pool built from a
        # transport with no client: AttributeError("'NoneType' object has no attribute
        # 'hostname'"), which Celery takes for a bug and exits (celery/kombu#970,
        # celery/celery#10205). Late acks of tasks that outlived the connection take the
        # same path. The broker is unreachable through this channel: say so with the error
        # every caller already recovers from (the consumer reconnects, an ack is logged as
        # lost and the message comes back after the visibility timeout).
        if self.connection.client is None:
            raise RedisConnectionError("this channel's broker connection was closed")
        return super()._connparams(asynchronous)  # type: ignore[no-any-return]


class RedisTransport(kombu_redis.Transport):  # type: ignore[misc]
    """kombu's Redis transport, whose channels survive losing the broker (above)."""

    Channel = _RedisChannel


# Seconds between a worker's tries to reach the broker again.
RECONNECT_MAX_SECONDS = 2


class ReconnectingConsumer(Consumer):  # type: ignore[misc]
    """Celery's consumer, trying to reconnect every couple of seconds: kombu's back-off grows
    to 30 s between tries, and committed events wait for a worker that long after Redis is
    back. A try against a Redis that is down costs one refused connection."""

    def ensure_connected(self, conn: Any) -> Any:
        conn.ensure_connection = functools.partial(
            conn.ensure_connection, interval_start=1, interval_step=1,
            interval_max=RECONNECT_MAX_SECONDS)
        return super().ensure_connected(conn)


def make_celery(settings: Settings) -> Celery:
    from server import plugins, schedule

    plugins.install()
    app = Celery("hearth", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_default_queue=f"{settings.redis_prefix}-tasks",
        broker_transport=f"{__name__}:RedisTransport",
        broker_transport_options={
            "socket_timeout": BROKER_SOCKET_TIMEOUT,
            "socket_connect_timeout": BROKER_SOCKET_TIMEOUT,
        },
        # A worker waits out any outage of Redis (the default gives up after 100 tries).
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_consumer=f"{__name__}:ReconnectingConsumer",
        # A task that outlives the broker connection finishes rather than being killed:
        # what it does is idempotent, and the outbox, not the message, says what is left.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # Acknowledged on receipt (see the tasks below). One message per process at a
        # time: a busy worker does not sit on wake-ups an idle one could take.
        task_acks_late=False,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        beat_schedule={
            "sweep-outbox": {
                "task": "hearth.sweep",
                "schedule": settings.sweep_interval_seconds,
            },
            **{
                job.name: {"task": "hearth.job", "schedule": job.every_seconds, "args": [job.name]}
                for job in schedule.jobs()
            },
        },
    )

    def dispatch(event_ids: list[int]) -> int:
        """The ids say there is work; the relay takes whatever is pending, oldest first."""
        return _relay(app)

    def sweep() -> int:
        return _relay(app)

    # Their messages carry nothing that matters: the outbox table says what is pending and
    # beat sends jobs again on schedule, so a lost or redelivered one costs nothing.
    app.task(name="hearth.dispatch")(dispatch)
    app.task(name="hearth.sweep")(sweep)
    app.task(name="hearth.job")(_job)
    # A one-off task (a badge backfill) is named only by its message: acknowledged once done,
    # and given back if its process dies, so that it runs again (they are idempotent).
    app.task(name="hearth.task", acks_late=True, reject_on_worker_lost=True)(_task)
    return app


def _run(coro: Any) -> Any:
    global _loop
    from server import runtime

    if _loop is None:
        _start_runtime()
    assert _loop is not None

    async def then_settle() -> Any:
        result = await coro
        # The loop only runs during a task: let this task's wake-ups leave before it ends.
        await runtime.current().runner.settle()
        return result

    return _loop.run_until_complete(then_settle())


def _relay(app: Celery) -> int:
    from server import outbox

    async def ask_for_help() -> None:
        app.send_task("hearth.dispatch", args=[[]])

    return int(_run(outbox.relay(backlog=ask_for_help, stopping=_stopping_now)))


def _stopping_now() -> bool:
    return _stopping is not None and _stopping.is_set()


def _prepare_stop(**_: Any) -> None:
    global _stopping
    _stopping = multiprocessing.Event()


def _announce_stop(**_: Any) -> None:
    if _stopping is not None:
        _stopping.set()


def _job(name: str) -> None:
    from server import schedule

    _run(schedule.job(name).fn())


def _task(name: str, kwargs: dict[str, Any]) -> None:
    from server import schedule

    _run(schedule.task_fn(name)(**kwargs))


def _start_runtime(**_: Any) -> None:
    global _loop
    from server import runtime

    _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)
    _loop.run_until_complete(runtime.start(get_settings(), role="worker"))


def _stop_runtime(**_: Any) -> None:
    from server import runtime

    if _loop is not None:
        _loop.run_until_complete(runtime.stop())


worker_init.connect(_prepare_stop)
worker_shutting_down.connect(_announce_stop)
worker_process_init.connect(_start_runtime)
worker_process_shutdown.connect(_stop_runtime)

# The module-level app that `celery -A server.celery_app worker|beat` finds.
celery = make_celery(get_settings()) if get_settings().scaled else Celery("hearth")
