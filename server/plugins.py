"""The plugin contract: what a domain package adds to a Hearth process, and how the kernel
finds the packages without naming any of them.

A package exports one `Plugin` object and lists it under the `hearth.plugins` entry-point
group in pyproject.toml. The kernel loads every plugin so listed, orders them by their
declared dependencies, and collects their routes, handlers, jobs, backends, commands and
data steps.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from server import schedule

if TYPE_CHECKING:
    import click
    import redis.asyncio as aioredis
    from litestar.types import ControllerRouterHandler

    from server.demo import DemoContext

ENTRY_POINT_GROUP = "hearth.plugins"

# A product default (a rule, the tier ladder): a name for logs and an idempotent coroutine.
Seeding = tuple[str, Callable[[], Awaitable[None]]]


class PluginError(RuntimeError):
    """The installed plugins cannot be loaded as declared; the message says which and why."""


T = TypeVar("T")


@dataclass(frozen=True)
class Backend(Generic[T]):
    """A package's own concern with one implementation per mode (a leaderboard store, say).
    The runtime builds the one the settings call for, as it does the kernel's, and services
    get it with `runtime.current().backend(...)`."""

    name: str
    embedded: Callable[[], T]
    # Given the shared Redis client and the deployment's key prefix.
    scaled: Callable[[aioredis.Redis, str], T]


@dataclass(frozen=True)
class DemoSteps:
    """A package's demo data: `seed` reports `count` steps of progress through ctx.tick."""

    count: int
    seed: Callable[[DemoContext], Awaitable[None]]


@dataclass(frozen=True)
class Plugin:
    """Everything a domain package adds to a Hearth process."""

    name: str
    # Dotted path of the package's Piccolo app module (its tables and migrations folder).
    piccolo_app: str
    route_handlers: Sequence[ControllerRouterHandler] = ()
    # Error statuses of its routes that only their services know (conflicts, rate limits, ids
    # looked up from the body), by "METHOD /path" as the OpenAPI document writes it.
    error_statuses: Mapping[str, frozenset[int]] = field(default_factory=dict)
    # Modules whose import registers outbox handlers, channel rules and one-off tasks.
    handler_modules: Sequence[str] = ()
    # Periodic jobs: the in-process runner runs them embedded, Celery beat when scaled.
    jobs: Sequence[schedule.Job] = ()
    # Its own concerns with one implementation per mode; the runtime builds the one it needs.
    backends: Sequence[Backend[Any]] = ()
    # Called once per process after every plugin's handler modules are imported: for
    # registrations a module makes with a lower one (a board source, a lookup).
    register: Callable[[], None] | None = None
    # Called as the process stops, before the database closes: to write what it buffered.
    on_stop: Sequence[Callable[[], Awaitable[None]]] = ()
    # Added to the `hearth` command.
    cli_commands: Sequence[click.Command] = ()
    demo: DemoSteps | None = None
    seed_steps: Sequence[Seeding] = ()
    # How each notification kind it sends reads, from the notification's data, e.g.
    # {"badge": lambda data: f"You earned {data['name']}"} (see server.notifications).
    notification_texts: Mapping[str, Callable[[dict[str, Any]], str]] = field(default_factory=dict)
    # Plugins that must be installed, and are loaded first.
    requires: Sequence[str] = ()
    # Plugins loaded first when they are installed (demo data that counts toward theirs).
    after: Sequence[str] = ()


def ordered(plugins: Iterable[Plugin]) -> list[Plugin]:
    """Dependencies first, otherwise by name (a stable order for every process)."""
    by_name: dict[str, Plugin] = {}
    for plugin in plugins:
        if plugin.name in by_name:
            raise PluginError(f"two plugins are named {plugin.name!r}")
        by_name[plugin.name] = plugin
    before: dict[str, set[str]] = {}
    for plugin in by_name.values():
        missing = [name for name in plugin.requires if name not in by_name]
        if missing:
            raise PluginError(f"plugin {plugin.name!r} requires {', '.join(map(repr, missing))}, "
                              f"which is not installed (installed: {', '.join(sorted(by_name))})")
        before[plugin.name] = {n for n in (*plugin.requires, *plugin.after) if n in by_name}
    result: list[Plugin] = []
    placed: set[str] = set()
    while len(result) < len(by_name):
        ready = sorted(n for n in by_name if n not in placed and before[n] <= placed)
        if not ready:
            stuck = sorted(n for n in by_name if n not in placed)
            raise PluginError("plugins depend on each other in a cycle: " + ", ".join(
                f"{n} after {', '.join(sorted(before[n] - placed))}" for n in stuck))
        result.append(by_name[ready[0]])
        placed.add(ready[0])
    return result


def discover() -> list[Plugin]:
    """Every plugin listed under the entry-point group, unordered."""
    found: list[Plugin] = []
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        plugin = point.load()
        if not isinstance(plugin, Plugin):
            raise PluginError(f"entry point {point.name} = {point.value!r} in group "
                              f"{ENTRY_POINT_GROUP} is a {type(plugin).__name__}, not a Plugin")
        if plugin.name != point.name:
            raise PluginError(f"entry point {point.name!r} names a plugin called {plugin.name!r}")
        found.append(plugin)
    return found


@functools.cache
def load() -> tuple[Plugin, ...]:
    """The installed plugins in dependency order, without registering anything."""
    return tuple(ordered(discover()))


@functools.cache
def install() -> tuple[Plugin, ...]:
    """Load the plugins and register their handlers and jobs, once per process."""
    plugins = load()
    for plugin in plugins:
        for module in plugin.handler_modules:
            importlib.import_module(module)
        for job in plugin.jobs:
            schedule.add(job)
    for plugin in plugins:
        if plugin.register is not None:
            plugin.register()
    return plugins
