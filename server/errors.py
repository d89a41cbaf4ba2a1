"""Domain errors raised by services, and the one JSON error body every 4xx shares.

Body: {"error": {"status": 404, "code": "not_found", "message": "...", "details": [...]}}
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

import asyncpg
import msgspec
import redis.exceptions
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

log = logging.getLogger("hearth.errors")


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadRequest(DomainError):
    """Malformed input: not decodable as the request format at all."""


class Invalid(DomainError):
    status = 422
    code = "invalid"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """A backing service this request needs (Redis, the database) cannot be reached right now.
    Its transaction did not commit, unless the connection was cut during COMMIT itself (then
    nobody can know). Clients retry after `retry_after` seconds."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# Retry-After for a backing service that dropped out: a restart or a failover takes seconds.
UNAVAILABLE_RETRY_SECONDS = 5
# asyncpg says "the connection or pool went away" with InterfaceError and these words (a
# connection PostgreSQL cut mid-transaction is "released back to the pool" at once), and
# InternalClientError "cannot switch to state" for a pooled connection PostgreSQL told it was
# terminating (a restart) before the socket closed. Both classes also report misuse (a wrong
# argument count), which is a bug and stays a 500.
_GONE_WORDS = ("connection is closed", "connection was closed", "pool is closing", "pool is closed",
               "cannot switch to state", "released back to the pool")


# What a socket says when the other end is gone or cannot be reached.
_NETWORK_ERRNOS = frozenset({
    errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT,
    errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN,
})


def _network_failure(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    # asyncio reports a host with several addresses (localhost: ::1 and 127.0.0.1) that all
    # refused as one OSError "Multiple exceptions: ...", with no errno.
    return isinstance(exc, OSError) and (exc.errno in _NETWORK_ERRNOS
                                         or str(exc).startswith("Multiple exceptions:"))


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """A ServiceUnavailable when exc (or what caused it) means the database or Redis cannot be
    reached right now (down, restarting, refusing connections, a pooled connection cut),
    else None. The one place that knows the drivers' ways of saying so."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, ServiceUnavailable):
            return seen
        if isinstance(seen, asyncpg.PostgresConnectionError | asyncpg.AdminShutdownError
                      | asyncpg.CrashShutdownError | asyncpg.CannotConnectNowError
                      | asyncpg.TooManyConnectionsError) or (
                isinstance(seen, asyncpg.InterfaceError | asyncpg.InternalClientError)
                and any(words in str(seen) for words in _GONE_WORDS)):
            return ServiceUnavailable("the database is unreachable; try again shortly",
                                      UNAVAILABLE_RETRY_SECONDS)
        if isinstance(seen, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return ServiceUnavailable("Redis is unreachable; try again shortly",
                                      UNAVAILABLE_RETRY_SECONDS)
        if _network_failure(seen):
            return ServiceUnavailable("a backing service is unreachable; try again shortly",
                                      UNAVAILABLE_RETRY_SECONDS)
        seen = seen.__cause__ or seen.__context__
    return None


class ErrorBody(msgspec.Struct):
    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


def _body(status: int, code: str, message: str, details: list[dict[str, Any]]) -> ErrorResponse:
    return ErrorResponse(ErrorBody(status=status, code=code, message=message, details=details))


def domain_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorResponse]:
    assert isinstance(exc, DomainError)
    headers = ({"Retry-After": str(exc.retry_after)}
               if isinstance(exc, RateLimited | ServiceUnavailable) else None)
    return Response(
        _body(exc.status, exc.code, exc.message, exc.details), status_code=exc.status, headers=headers
    )


def http_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorResponse]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    details: list[dict[str, Any]] = []
    if isinstance(exc, ValidationException):
        status = 400
        extra = exc.extra if isinstance(exc.extra, list) else []
        details = [d if isinstance(d, dict) else {"message": str(d)} for d in extra]
        parts = [f"{d.get('key', 'body')}: {d.get('message', '')}".strip() for d in details]
        message = "the request is not valid" + (f" ({'; '.join(parts)})" if parts else "")
    else:
        message = exc.detail or "request failed"
    if status >= 500:
        log.error("server error: %s", exc)
        message = "internal error"
    return Response(
        _body(status, _HTTP_CODES.get(status, "error"), message, details),
        status_code=status,
        headers=exc.headers,
    )


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception
                             ) -> Response[ErrorResponse]:
    down = unavailable(exc)
    if down is not None:
        # Expected while a service restarts: one line, not a traceback per request.
        log.warning("%s %s: %s (%s: %s)", request.method, request.url.path, down.message,
                    type(exc).__name__, exc)
        return domain_error_handler(request, down)
    log.exception("unhandled error", exc_info=exc)
    return Response(_body(500, "internal", "internal error", []), status_code=500)


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
