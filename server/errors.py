"""Domain errors raised by services, and the one JSON error body every 4xx shares.

Body: {"error": {"status": 404, "code": "not_found", "message": "...", "details": [...]}}
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
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
    """A backing service this request needs (Redis, the database) cannot be reached right now;
    nothing was written. Clients retry after `retry_after` seconds."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


def unexpected_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorResponse]:
    log.exception("unhandled error", exc_info=exc)
    return Response(_body(500, "internal", "internal error", []), status_code=500)


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
