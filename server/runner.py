"""Background work: in-process (embedded) or Celery on Redis (scaled).

The runner is told about newly committed outbox events and makes sure they get dispatched;
it also owns the periodic sweep that catches events whose dispatch was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from server import outbox, schedule
from server.settings import Settings

log = logging.getLogger("hearth.runner")


class Runner(Protocol):
    async def dispatch(self, event_ids: list[int]) -> None: ...
    async def submit(self, name: str, **kwargs: Any) -> None:
        """Run a registered one-off task (schedule.task) in the background."""
        ...

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class InProcessRunner:
    """One consumer, in commit order: SQLite serialises writers anyway, and live messages
    then follow the order things happened."""

    def __init__(self, settings: Settings) -> None:
        self._interval = settings.sweep_interval_seconds
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()

    async def dispatch(self, event_ids: list[int]) -> None:
        for event_id in event_ids:
            self._queue.put_nowait(event_id)

    async def submit(self, name: str, **kwargs: Any) -> None:
        job = asyncio.create_task(self._run_task(name, kwargs), name=f"hearth-{name}")
        self._background.add(job)
        job.add_done_callback(self._background.discard)

    async def _run_task(self, name: str, kwargs: dict[str, Any]) -> None:
        try:
            await schedule.task_fn(name)(**kwargs)
        except Exception:
            log.exception("background task %s failed", name)

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._consume_forever(), name="hearth-dispatcher"),
            asyncio.create_task(self._sweep_forever(), name="hearth-sweeper"),
            *(asyncio.create_task(self._repeat_forever(job), name=f"hearth-{job.name}")
              for job in schedule.jobs()),
        ]

    async def _repeat_forever(self, job: schedule.Job) -> None:
        while True:
            await asyncio.sleep(job.every_seconds)
            try:
                await job.fn()
            except Exception:
                log.exception("scheduled job %s failed", job.name)

    async def _consume_forever(self) -> None:
        while True:
            event_id = await self._queue.get()
            try:
                await outbox.dispatch(event_id)
            except Exception:
                log.exception("dispatching event %s failed; the sweep will retry", event_id)
            finally:
                self._queue.task_done()

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await outbox.sweep(older_than_seconds=outbox.sweep_cutoff(self._interval))
            except Exception:
                log.exception("outbox sweep failed")
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._tasks:
            # Finish what was committed before shutting down, within reason.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=10)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class CeleryRunner:
    """Hands dispatch to Celery workers; Celery beat runs the sweep."""

    def __init__(self, settings: Settings) -> None:
        from server.celery_app import make_celery

        self._celery = make_celery(settings)

    async def dispatch(self, event_ids: list[int]) -> None:
        # kombu's publish blocks on the socket; keep it off the event loop.
        await asyncio.to_thread(self._celery.send_task, "hearth.dispatch", args=[list(event_ids)])

    async def submit(self, name: str, **kwargs: Any) -> None:
        await asyncio.to_thread(self._celery.send_task, "hearth.task", args=[name, kwargs])

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
