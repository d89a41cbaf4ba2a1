"""Security headers on every HTTP response: API, web app, docs pages and errors alike.

The web app loads only its own modules and stylesheet (no inline script or style), talks to
its own origin (fetch and the websocket), and shows post images from anywhere over HTTPS.
The docs pages under /schema load their scripts from the app itself too (never a CDN), but
Scalar and Swagger UI style themselves with inline styles.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

_COMMON = ("default-src 'self'; img-src 'self' data: https:; connect-src 'self'; "
           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
APP_CSP = f"{_COMMON}; script-src 'self'; style-src 'self'"
DOCS_CSP = (f"{_COMMON}; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "font-src 'self' data:; worker-src 'self' blob:")
DOCS_PATH = "/schema"

_FIXED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def csp_for(path: str) -> str:
    docs = path == DOCS_PATH or path.startswith(DOCS_PATH + "/")
    return DOCS_CSP if docs else APP_CSP


async def security_headers(message: Message, scope: Scope) -> None:
    """before_send hook: runs for every response the app sends, 404s and errors included."""
    if message["type"] != "http.response.start":
        return
    message.setdefault("headers", [])
    headers = MutableScopeHeaders.from_message(message)
    headers["Content-Security-Policy"] = csp_for(scope["path"])
    for name, value in _FIXED.items():
        headers[name] = value
