"""The Litestar application: kernel routes, each installed package's routes, one error shape."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.static_files import create_static_files_router

from server import apidocs, auth, db, openapi, plugins, runtime, sequences
from server.accounts.controllers import (
    AccountController,
    BrandController,
    MemberController,
    ProfileController,
    SanctionController,
    SessionController,
)
from server.errors import EXCEPTION_HANDLERS
from server.headers import security_headers
from server.mail_admin import MailController
from server.notifications import NotificationController, PreferencesController
from server.outbox_admin import OutboxController
from server.realtime import realtime_socket, realtime_ticket
from server.settings import Settings, get_settings, redact_url
from server.staff_log_admin import StaffLogController

log = logging.getLogger("hearth.app")

# The web app as Vite builds it (`make frontend`). Its assets have content hashes in their
# names, so they are cached for good; index.html is revalidated on every load.
FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend" / "dist"
_IMMUTABLE = CacheControlHeader(public=True, max_age=31_536_000, immutable=True)
_REVALIDATE = CacheControlHeader(no_cache=True)


class ServiceState(msgspec.Struct):
    ok: bool
    backend: str
    detail: str = ""


class Health(msgspec.Struct):
    status: str
    mode: str
    services: dict[str, ServiceState]
    # What needs an operator's attention without being an outage (an id sequence past half
    # its range); it leaves `status` as it is.
    warnings: list[str] = msgspec.field(default_factory=list)


async def _probe(check: Any) -> tuple[bool, str]:
    try:
        await asyncio.wait_for(check(), timeout=3)
        return True, ""
    except Exception as exc:
        # The driver's message can name hosts and users: the log has it, the public page not.
        log.warning("health check failed: %s: %s", type(exc).__name__, exc)
        return False, f"unreachable ({type(exc).__name__})"


@get("/health", tags=["system"], responses={
    503: ResponseSpec(Health, description="The database is unreachable (see `services`).")})
async def health() -> Response[Health]:
    """Mode and the state of each backing service. `ok`: all up. `degraded` (still 200):
    Redis is down, so live updates pause, background work waits and rate limits count per
    process, but the forums keep working; taking the process out of rotation would not help.
    `down` (503): the database is unreachable and hardly anything works. `warnings`: what
    needs attention before it becomes an outage (an id sequence past half its range, read at
    most once a minute)."""
    rt = runtime.current()
    settings = rt.settings
    services: dict[str, ServiceState] = {}
    database_ok, detail = await _probe(db.ping)
    services["database"] = ServiceState(
        database_ok, "postgresql" if settings.database_url.startswith("postgres") else "sqlite",
        detail or (redact_url(settings.database_url) or str(settings.sqlite_path)),
    )
    redis_ok = True
    if rt.redis is not None:
        redis_ok, detail = await _probe(rt.redis.ping)
        services["redis"] = ServiceState(redis_ok, "redis", detail or redact_url(settings.redis_url))
    services["pubsub"] = ServiceState(
        rt.broker.connected, "redis" if settings.scaled else "memory",
        "" if rt.broker.connected else "live updates paused: reconnecting to Redis")
    services["tasks"] = ServiceState(
        redis_ok, "celery" if settings.scaled else "in-process",
        "" if redis_ok else "background work waits for Redis (committed events are kept)")
    status = ("down" if not database_ok
              else "ok" if all(s.ok for s in services.values()) else "degraded")
    # Not read while the database is unreachable: the last reading stands.
    warnings = await sequences.warnings() if database_ok else sequences.last_warnings()
    body = Health(status=status, mode=settings.mode, services=services, warnings=warnings)
    return Response(body, status_code=503 if status == "down" else 200)


@get("/api/ping", tags=["system"])
async def ping() -> dict[str, Any]:
    """A trivial JSON endpoint: the ceiling the benchmarks compare against."""
    return {"ok": True, "time": time.time()}


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    installed = plugins.install()

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await runtime.start(settings, role="web")
        try:
            yield
        finally:
            await runtime.stop()

    route_handlers: list[Any] = [
        health, ping, realtime_socket, realtime_ticket, SessionController, AccountController,
        MemberController, ProfileController, BrandController, NotificationController,
        PreferencesController, OutboxController, MailController, StaffLogController,
        SanctionController,
        apidocs.asset,
    ]
    for plugin in installed:
        route_handlers.extend(plugin.route_handlers)
    if FRONTEND_DIR.is_dir():
        route_handlers.append(create_static_files_router(
            path="/assets", directories=[FRONTEND_DIR / "assets"], include_in_schema=False,
            name="frontend-assets", cache_control=_IMMUTABLE,
        ))
        route_handlers.append(create_static_files_router(
            path="/", directories=[FRONTEND_DIR], html_mode=True, include_in_schema=False,
            name="frontend", cache_control=_REVALIDATE,
        ))
    else:
        log.warning("the web app is not built (%s is missing): run `make frontend`", FRONTEND_DIR)
    app = Litestar(
        route_handlers=route_handlers,
        lifespan=[lifespan],
        before_request=auth.authenticate,
        before_send=[security_headers],
        dependencies={"actor": Provide(auth.provide_actor)},
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Hearth API",
            version="0.1.0",
            description="Community and gamification server. Errors share one body: "
            '{"error": {"status", "code", "message", "details"}}.',
            path="/schema",
            render_plugins=apidocs.render_plugins(),
        ),
        request_max_body_size=1_048_576,
        debug=False,
    )
    openapi.document_errors(app, installed)
    return app
