"""Background work: in-process (embedded) or Celery on Redis (scaled).

The runner is told when outbox events were committed and wakes a relay to handle them; it
also owns the periodic sweep that catches events whose relay was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from typing import Any, Protocol

from server import outbox, schedule
from server.settings import Settings

log = logging.getLogger("hearth.runner")


class Runner(Protocol):
    async def wake(self) -> None:
        """Events were committed: have a relay take them."""
        ...
    async def submit(self, name: str, delay_seconds: float = 0, **kwargs: Any) -> None:
        """Run a registered one-off task (schedule.task) in the background, after a delay."""
        ...

    async def settle(self) -> None:
        """Wait until the wake-ups asked for so far have left (a Celery task's loop stops
        between tasks)."""
        ...

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


_background: set[asyncio.Task[None]] = set()


def run_here(name: str, kwargs: dict[str, Any], delay_seconds: float = 0) -> None:
    """Run a registered one-off task in this process's event loop, in the background."""
    # A fresh context: the task must not inherit the caller's open transaction.
    job = asyncio.create_task(_run_task(name, kwargs, delay_seconds), name=f"hearth-{name}",
                              context=contextvars.Context())
    _background.add(job)
    job.add_done_callback(_background.discard)


async def _run_task(name: str, kwargs: dict[str, Any], delay_seconds: float) -> None:
    try:
        if delay_seconds > 0:
            await asyncio.sleep(delay_seconds)
        await schedule.task_fn(name)(**kwargs)
    except Exception:
        log.exception("background task %s failed", name)


class InProcessRunner:
    """One relay loop per process, in commit order: SQLite serialises writers anyway, and
    live messages then follow the order things happened. A commit wakes it; so does the
    periodic sweep, for events another process committed or a crash left behind."""

    def __init__(self, settings: Settings) -> None:
        self._interval = settings.sweep_interval_seconds
        self._wake = asyncio.Event()
        self._stopping = False
        self._relayer: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def wake(self) -> None:
        self._wake.set()

    async def submit(self, name: str, delay_seconds: float = 0, **kwargs: Any) -> None:
        run_here(name, kwargs, delay_seconds)

    async def settle(self) -> None:
        return None

    async def start(self) -> None:
        self._relayer = asyncio.create_task(self._relay_forever(), name="hearth-relay")
        self._tasks = [
            asyncio.create_task(self._sweep_forever(), name="hearth-sweeper"),
            *(asyncio.create_task(self._repeat_forever(job), name=f"hearth-{job.name}")
              for job in schedule.jobs()),
        ]
        self._wake.set()

    async def _repeat_forever(self, job: schedule.Job) -> None:
        while True:
            await asyncio.sleep(job.every_seconds)
            try:
                await job.fn()
            except Exception:
                log.exception("scheduled job %s failed", job.name)

    async def _relay_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                while await outbox.relay():
                    pass
            except Exception:
                log.exception("relaying outbox events failed; the sweep will retry")
            if self._stopping:
                return

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self._wake.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._relayer is not None:
            # Finish what was committed before shutting down, within reason.
            self._stopping = True
            self._wake.set()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._relayer), timeout=10)
            self._relayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relayer


class CeleryRunner:
    """Hands dispatch to Celery workers; Celery beat runs the sweep."""

    def __init__(self, settings: Settings) -> None:
        from server.celery_app import make_celery

        self._celery = make_celery(settings)
        self._waker: asyncio.Task[None] | None = None
        self._again = False

    async def wake(self) -> None:
        """Wake a worker's relay, which takes whatever is pending. One wake-up is sent at a
        time: commits made while it is on its way are covered by one more after it, so a
        burst of commits costs a couple of messages, not one each. The committing request
        does not wait for the broker; if the message is lost, the sweep finds the events."""
        if self._waker is not None and not self._waker.done():
            self._again = True
            return
        self._waker = asyncio.create_task(self._wake(), name="hearth-wake-relay",
                                          context=contextvars.Context())

    async def _wake(self) -> None:
        while True:
            self._again = False
            try:
                # kombu's publish blocks on the socket; keep it off the event loop. One try:
                # with Redis down, retries would only hold this task (and a worker's task,
                # which settles its wake-ups) while the sweep finds the events anyway.
                await asyncio.to_thread(self._celery.send_task, "hearth.dispatch", args=[[]],
                                        retry=False)
            except Exception as exc:
                log.warning("waking a relay failed (%s: %s); the sweep will find the events",
                            type(exc).__name__, exc)
            if not self._again:
                return

    async def submit(self, name: str, delay_seconds: float = 0, **kwargs: Any) -> None:
        try:
            await asyncio.to_thread(self._celery.send_task, "hearth.task", args=[name, kwargs],
                                    countdown=delay_seconds or None, retry=False)
        except Exception as exc:
            # What asked for the task has usually committed (a badge, a season): failing the
            # request would tell its client to retry a write that succeeded. Tasks are
            # idempotent, so this process runs it instead.
            log.warning("handing task %s to a worker failed (%s: %s); running it here",
                        name, type(exc).__name__, exc)
            run_here(name, kwargs, delay_seconds)

    async def settle(self) -> None:
        if self._waker is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._waker), timeout=5)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.settle()
