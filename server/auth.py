"""Who is asking: a session cookie (browser) or an API token (integrations).

Cookie-authenticated writes must carry the session's CSRF token in X-CSRF-Token; token
requests are not exposed to CSRF (a browser never attaches them by itself).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection

from server import clock, events, outbox, runtime
from server.errors import Forbidden, Invalid, NotFound, Unauthenticated, UnsupportedMediaType
from server.security import new_secret, same, sha256
from server.tables import ApiToken, Member
from server.types import MAX_ID

SESSION_COOKIE = "hearth_session"
CSRF_COOKIE = "hearth_csrf"
CSRF_HEADER = "x-csrf-token"
TOKEN_PREFIX = "hth"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLES = ("member", "moderator", "admin", "brand_staff")
TOKEN_SCOPES = frozenset({"read", "write", "realtime"})


class SessionData(msgspec.Struct):
    member_id: int
    csrf: str


class Actor(msgspec.Struct, frozen=True):
    member_id: int | None = None
    handle: str = ""
    role: str = "anonymous"
    brand_id: int | None = None
    via: str = "anonymous"
    scopes: frozenset[str] = frozenset()
    session_id: str = ""
    csrf: str = ""

    @property
    def signed_in(self) -> bool:
        return self.member_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderator", "admin")

    def manages_brand(self, brand_id: int) -> bool:
        return self.is_admin or (self.role == "brand_staff" and self.brand_id == brand_id)

    def member(self) -> int:
        if self.member_id is None:
            raise Unauthenticated("sign in first")
        return self.member_id

    def may(self, scope: str) -> bool:
        return self.via != "token" or scope in self.scopes

    def require(self, scope: str) -> None:
        if not self.may(scope):
            raise Forbidden(f"this API token lacks the '{scope}' scope")


ANONYMOUS = Actor()
_session_codec = msgspec.json.Decoder(SessionData)
_encoder = msgspec.json.Encoder()


async def create_session(member_id: int) -> tuple[str, str]:
    rt = runtime.current()
    session_id, csrf = new_secret(), new_secret(24)
    data = _encoder.encode(SessionData(member_id=member_id, csrf=csrf))
    await rt.kv.set(f"session:{session_id}", data, rt.settings.session_ttl_seconds)
    return session_id, csrf


async def end_session(session_id: str) -> None:
    await runtime.current().kv.delete(f"session:{session_id}")


async def _member_actor(member_id: int, **extra: Any) -> Actor | None:
    rows = await Member.select(
        Member.id, Member.handle, Member.role, Member.brand, Member.is_active
    ).where(Member.id == member_id)
    if not rows or not rows[0]["is_active"]:
        return None
    row = rows[0]
    return Actor(member_id=row["id"], handle=row["handle"], role=row["role"],
                 brand_id=row["brand"], **extra)


async def _from_session(session_id: str) -> Actor | None:
    raw = await runtime.current().kv.get(f"session:{session_id}")
    if raw is None:
        return None
    data = _session_codec.decode(raw)
    return await _member_actor(data.member_id, via="session", session_id=session_id,
                               csrf=data.csrf)


async def _from_token(token: str) -> Actor:
    """A token acts for its brand's integration: as brand staff of that brand only, never with
    its creator's wider role, and only while the creator still manages that brand."""
    prefix, _, rest = token.partition("_")
    lookup, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not lookup or not secret:
        raise Unauthenticated("the API token is malformed")
    rows = await ApiToken.select().where(ApiToken.lookup == lookup)
    if not rows or rows[0]["revoked_at"] is not None or not same(rows[0]["secret_hash"],
                                                                 sha256(secret)):
        raise Unauthenticated("the API token is unknown or revoked")
    row = rows[0]
    creator = await _member_actor(row["created_by"])
    if creator is None or not creator.manages_brand(row["brand"]):
        raise Unauthenticated("the API token's owner no longer manages its brand")
    await ApiToken.update({ApiToken.last_used_at: clock.now()}).where(
        ApiToken.id == row["id"]
    )
    return Actor(member_id=creator.member_id, handle=creator.handle, role="brand_staff",
                 brand_id=row["brand"], via="token", scopes=frozenset(row["scopes"].split()))


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


async def resolve(connection: ASGIConnection[Any, Any, Any, Any], token: str | None = None) -> Actor:
    token = token or _bearer(connection)
    if token:
        return await _from_token(token)
    session_id = connection.cookies.get(SESSION_COOKIE)
    if session_id:
        return await _from_session(session_id) or ANONYMOUS
    return ANONYMOUS


async def authenticate(request: Request[Any, Any, Any]) -> None:
    """before_request hook: resolve the actor once; writes must be JSON (a cross-site form
    cannot send that without CORS) and, with a cookie, carry the CSRF token."""
    for name, value in request.path_params.items():
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise NotFound(f"no {name.removesuffix('_id')} has id {value}")
    if "%00" in request.url.query or "\x00" in request.url.path:
        raise Invalid("NUL characters are not allowed")
    if request.method in UNSAFE_METHODS:
        body = await request.body()
        if body:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                raise UnsupportedMediaType("send the body as application/json")
            if b"\\u0000" in body:
                raise Invalid("NUL characters are not allowed")
    actor = await resolve(request)
    if actor.via == "token":
        actor.require("write" if request.method in UNSAFE_METHODS else "read")
    if actor.via == "session" and request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not same(sent, actor.csrf):
            raise Forbidden("missing or wrong CSRF token: send the X-CSRF-Token header")
    request.state.actor = actor
    if actor.via == "session" and actor.member_id is not None:
        await _record_visit(actor.member_id)


async def _record_visit(member_id: int) -> None:
    """Emit member.visited on a member's first signed-in request of each UTC day."""
    day = clock.today().isoformat()
    if await runtime.current().kv.add(f"visit:{member_id}:{day}", b"1", 2 * 86400):
        async with outbox.unit_of_work():
            await outbox.emit(events.MemberVisited(member_id=member_id, day=day))


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, Actor) else ANONYMOUS
