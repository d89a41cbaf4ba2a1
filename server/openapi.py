"""Make the OpenAPI document tell the truth about errors.

Litestar documents its own error body ({"status_code", "detail", "extra"}) and only a 400.
Hearth answers every error with ErrorResponse ({"error": {"status", "code", "message",
"details"}}, server/errors.py), and with more statuses. The statuses of an operation follow
from what runs for every request (server/auth.py `authenticate`: bearer tokens, scopes, CSRF,
NUL checks, JSON bodies) and from its shape (method, path parameters); what only its service
knows (conflicts, rate limits, ids looked up from the body) is listed in EXTRA_STATUSES for
the kernel's routes, and in each plugin's `error_statuses` for its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus

from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from server.plugins import Plugin

ERROR_DESCRIPTIONS = {
    400: "Malformed input: a body that is not JSON, not UTF-8 or nested too deep, a field of the "
         "wrong type or unknown, a parameter out of range.",
    401: "Sign in first; or the API token is malformed, unknown or revoked.",
    403: "Not allowed: the caller's role, the API token's scope, or a missing or wrong "
         "X-CSRF-Token on a cookie-authenticated write.",
    404: "Nothing with that id, or nothing the caller may see.",
    409: "Conflicts with the current state: taken, already done, or changed meanwhile.",
    413: "The body is larger than 1 MiB.",
    415: "The body is not application/json.",
    422: "Well-formed, but a value is not acceptable.",
    429: "Too many requests; try again after Retry-After seconds.",
    503: "A backing service (the database, or Redis for what needs it) is unreachable for "
         "now; the request was not carried out (unless the connection broke while committing: "
         "read before retrying a write). Try again after Retry-After seconds.",
}

# Every request: a bad bearer token (401), a token without the read/write scope (403), NUL
# characters in the path or query (422), the database or Redis unreachable (503).
EVERY_OPERATION = frozenset({401, 403, 422, 503})
# Writes: a body too large, not JSON (415) or malformed (400), no CSRF token (403).
WRITES = frozenset({400, 403, 413, 415})
WRITE_METHODS = ("post", "put", "patch", "delete")
METHODS = ("get", *WRITE_METHODS)

# "METHOD /path" -> statuses only the service knows about, for the kernel's routes (plugins
# list their own). Operations with path parameters already have 404.
ExtraStatuses = Mapping[str, frozenset[int]]
EXTRA_STATUSES: ExtraStatuses = {
    "POST /api/register": frozenset({409, 429}),
    "POST /api/session": frozenset({429}),
    "POST /api/account/password-reset": frozenset({429}),
    "POST /api/me/password": frozenset({429}),
    "POST /api/me/email": frozenset({409, 429}),
    "POST /api/account/email/confirm": frozenset({409, 429}),
    "POST /api/account/password-reset/confirm": frozenset({429}),
    "PUT /api/members/{member_id}/role": frozenset({409}),
    "GET /api/members/autocomplete": frozenset({429}),
    "POST /api/brands": frozenset({409}),
    "POST /api/members/{member_id}/sanctions": frozenset({409}),
    "POST /api/sanctions/{sanction_id}/lift": frozenset({409}),
    "POST /api/sanctions/{sanction_id}/appeal": frozenset({409}),
    "POST /api/appeals/{appeal_id}/decide": frozenset({409}),
    "POST /api/admin/outbox/{event_id}/retry": frozenset({409}),
    "POST /api/admin/outbox/{event_id}/discard": frozenset({409}),
    "GET /api/staff-log": frozenset({404}),
}

_ERROR_BODY = Schema(
    type=OpenAPIType.OBJECT,
    required=["status", "code", "message", "details"],
    properties={
        "status": Schema(type=OpenAPIType.INTEGER, description="the HTTP status, repeated"),
        "code": Schema(type=OpenAPIType.STRING, description="stable machine-readable code",
                       examples=["not_found"]),
        "message": Schema(type=OpenAPIType.STRING, description="what went wrong, for people"),
        "details": Schema(type=OpenAPIType.ARRAY, items=Schema(type=OpenAPIType.OBJECT),
                          description="per-field problems, when there are any"),
    },
)
_ERROR_RESPONSE = Schema(
    type=OpenAPIType.OBJECT,
    required=["error"],
    properties={"error": Reference("#/components/schemas/ErrorBody")},
    examples=[{"error": {"status": 404, "code": "not_found",
                         "message": "thread 9 does not exist", "details": []}}],
)


def statuses(method: str, path: str, operation: Operation,
             extra: ExtraStatuses = EXTRA_STATUSES) -> frozenset[int]:
    """The error statuses an operation can return."""
    found = set(EVERY_OPERATION)
    if method in WRITE_METHODS:
        found |= WRITES
    places = {getattr(p, "param_in", None) for p in operation.parameters or []}
    if places:
        found.add(400)  # a parameter of the wrong type or out of range
    if "path" in places:
        found.add(404)
    found |= extra.get(f"{method.upper()} {path}", frozenset())
    return frozenset(found)


def _error_response(status: int) -> OpenAPIResponse:
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if status in (429, 503):
        headers = {"Retry-After": OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER),
                                                description="seconds until a retry may succeed")}
    return OpenAPIResponse(
        description=ERROR_DESCRIPTIONS.get(status) or HTTPStatus(status).phrase, headers=headers,
        content={"application/json": OpenAPIMediaType(
            schema=Reference("#/components/schemas/ErrorResponse"))},
    )


def extra_statuses(plugins: Iterable[Plugin]) -> dict[str, frozenset[int]]:
    """The kernel's EXTRA_STATUSES and every plugin's."""
    merged = dict(EXTRA_STATUSES)
    for plugin in plugins:
        merged.update(plugin.error_statuses)
    return merged


def document_errors(app: Litestar, plugins: Iterable[Plugin]) -> None:
    """Replace Litestar's error responses in the app's (cached) document with Hearth's."""
    extra = extra_statuses(plugins)
    document = app.openapi_schema
    document.components.schemas = {**(document.components.schemas or {}),
                                   "ErrorBody": _ERROR_BODY, "ErrorResponse": _ERROR_RESPONSE}
    for path, item in (document.paths or {}).items():
        for method in METHODS:
            operation: Operation | None = getattr(item, method)
            if operation is None:
                continue
            responses = operation.responses or {}
            # A 4xx a route declares itself (Litestar's 400, say) stays, with Hearth's body.
            declared = {int(code) for code in responses if 400 <= int(code) < 500}
            kept = {code: response for code, response in responses.items()
                    if not 400 <= int(code) < 500}
            for status in declared | statuses(method, path, operation, extra):
                if status >= 500 and str(status) in kept:
                    continue  # the route's own body (/health's 503 is a Health)
                kept[str(status)] = _error_response(status)
            operation.responses = dict(sorted(kept.items()))
