"""Background work: in-process (embedded) or Celery on Redis (scaled).

The runner is told about newly committed outbox events and makes sure they get dispatched;
it also owns the periodic sweep that catches events whose dispatch was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from server import outbox
from server.settings import Settings

log = logging.getLogger("hearth.runner")


class Runner(Protocol):
    async def dispatch(self, event_ids: list[int]) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class InProcessRunner:
    def __init__(self, settings: Settings) -> None:
        self._interval = settings.sweep_interval_seconds
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def dispatch(self, event_ids: list[int]) -> None:
        task = asyncio.create_task(outbox.dispatch_many(list(event_ids)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="hearth-sweeper")

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await outbox.sweep(older_than_seconds=self._interval)
            except Exception:
                log.exception("outbox sweep failed")
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class CeleryRunner:
    """Hands dispatch to Celery workers; Celery beat runs the sweep."""

    def __init__(self, settings: Settings) -> None:
        from server.celery_app import make_celery

        self._celery = make_celery(settings)

    async def dispatch(self, event_ids: list[int]) -> None:
        # kombu's publish blocks on the socket; keep it off the event loop.
        await asyncio.to_thread(self._celery.send_task, "hearth.dispatch", args=[list(event_ids)])

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
