"""Celery for scaled mode: workers dispatch outbox events, beat schedules the sweep.

Each worker process keeps one event loop and one started runtime (database pool, Redis
publisher), so the async services run unchanged inside sync Celery tasks.
"""

from __future__ import annotations

import asyncio
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from server.settings import Settings, get_settings

_loop: asyncio.AbstractEventLoop | None = None


def make_celery(settings: Settings) -> Celery:
    from server import plugins, schedule

    plugins.install()
    app = Celery("hearth", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_default_queue=f"{settings.redis_prefix}-tasks",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=8,
        broker_connection_retry_on_startup=True,
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

    app.task(name="hearth.dispatch")(dispatch)
    app.task(name="hearth.sweep")(sweep)
    app.task(name="hearth.job")(_job)
    app.task(name="hearth.task")(_task)
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

    return int(_run(outbox.relay(backlog=ask_for_help)))


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


worker_process_init.connect(_start_runtime)
worker_process_shutdown.connect(_stop_runtime)

# The module-level app that `celery -A server.celery_app worker|beat` finds.
celery = make_celery(get_settings()) if get_settings().scaled else Celery("hearth")
