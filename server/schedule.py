"""Periodic jobs, declared once: the in-process runner runs them when embedded, Celery beat
schedules them when scaled. Jobs must be safe to run twice (they check state, not time)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

JobFn = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    fn: JobFn


_jobs: dict[str, Job] = {}


def add(job: Job) -> None:
    """Register a periodic job (plugins declare theirs; see server.plugins)."""
    _jobs[job.name] = job


def every(seconds: float, name: str) -> Callable[[JobFn], JobFn]:
    def register(fn: JobFn) -> JobFn:
        add(Job(name, seconds, fn))
        return fn

    return register


TaskFn = Callable[..., Awaitable[object]]
_tasks: dict[str, TaskFn] = {}


def task(name: str) -> Callable[[TaskFn], TaskFn]:
    """A one-off background job, started with `runtime.current().runner.submit(name, ...)`."""

    def register(fn: TaskFn) -> TaskFn:
        _tasks[name] = fn
        return fn

    return register


def task_fn(name: str) -> TaskFn:
    return _tasks[name]


def jobs() -> list[Job]:
    return list(_jobs.values())


def job(name: str) -> Job:
    return _jobs[name]
