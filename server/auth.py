"""Who is asking: a session cookie (browser) or an API token (integrations).

Cookie-authenticated writes must carry the session's CSRF token in X-CSRF-Token; token
requests are not exposed to CSRF (a browser never attaches them by itself).

Each process keeps the actors it resolved for ACTOR_CACHE_SECONDS: however many requests a
member makes, they cost this process one session lookup and one member read that often.
What ends or narrows an actor (a sign-out, a role change, a revoked token) drops its entries
in the process that did it at once; other processes stop trusting theirs within
ACTOR_CACHE_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection

from server import clock, events, outbox, ratelimit, runtime, sessions
from server.bodycheck import check_json_body
from server.errors import (
    Forbidden,
    Invalid,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
)
from server.security import new_secret, same, sha256
from server.tables import ApiToken, Member
from server.types import MAX_ID

log = logging.getLogger("hearth.auth")

SESSION_COOKIE = "hearth_session"
CSRF_COOKIE = "hearth_csrf"
CSRF_HEADER = "x-csrf-token"
TOKEN_PREFIX = "hth"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# "events": a brand's shop posting inbound events (orders, reviews), and nothing else it
# does not also hold.
TOKEN_SCOPES = frozenset({"read", "write", "realtime", "events"})
TOKEN_SCOPE_OPT = "token_scope"
# Route opt: the route is about a person's own account (passwords, email, sessions, their
# preferences), which an API token never reaches, even where signing in is not needed.
PEOPLE_ONLY_OPT = "people_only"
TICKET_PREFIX = "ws-ticket:"
NOT_A_PERSON = "API tokens act for a brand, not a person"
# Issue 10: sign-out and role changes must reach every process within a second.
ACTOR_CACHE_SECONDS = 1.0
ACTOR_CACHE_ENTRIES = 20_000
SESSION_ENTRY, TOKEN_ENTRY = "session:", "token:"
# A token's last_used_at is written at most this often per token and process.
TOKEN_USE_GRANULARITY_SECONDS = 60


class TicketData(msgspec.Struct):
    """Who a websocket ticket was issued to: the session or API token it stands for."""

    via: str
    session_key: str = ""
    token_id: int | None = None


class Actor(msgspec.Struct, frozen=True):
    member_id: int | None = None
    handle: str = ""
    role: str = "anonymous"
    brand_id: int | None = None
    via: str = "anonymous"
    scopes: frozenset[str] = frozenset()
    # The session's sha256 key (server.sessions), never the cookie's secret.
    session_key: str = ""
    csrf: str = ""
    token_id: int | None = None

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

    @property
    def is_staff(self) -> bool:
        return self.role in ("moderator", "admin", "brand_staff")

    def moderates(self, brand_id: int | None) -> bool:
        """Whether the actor moderates content of this brand (None: content of no brand):
        moderators and admins everywhere, brand staff only inside their own brand."""
        return self.is_moderator or (
            self.role == "brand_staff" and brand_id is not None and self.brand_id == brand_id)

    @property
    def person_id(self) -> int | None:
        """The signed-in person; None when anonymous or an API token (a brand's integration,
        not its creator)."""
        return None if self.via == "token" else self.member_id

    def member(self) -> int:
        """The person asking, for everything done as or to "me". API tokens are refused: they
        act for a brand, never as the member who created them."""
        if self.via == "token":
            raise Forbidden(NOT_A_PERSON)
        if self.member_id is None:
            raise Unauthenticated("sign in first")
        return self.member_id

    def accountable(self) -> int:
        """Who answers for a staff act (audit columns such as created_by): the member, or for
        an API token the staff member who created it. Never "the person" acting."""
        if self.member_id is None:
            raise Unauthenticated("sign in first")
        return self.member_id

    def may(self, scope: str) -> bool:
        return self.via != "token" or scope in self.scopes

    def require(self, scope: str) -> None:
        if not self.may(scope):
            raise Forbidden(f"this API token lacks the '{scope}' scope")


ANONYMOUS = Actor()


# A lookup's answer: the actor (None: not signed in) and when its session ends (server.clock).
Lookup = Callable[[], Awaitable[tuple[Actor | None, float]]]
FOREVER = float("inf")


class _ActorCache:
    """Actors resolved in the last ACTOR_CACHE_SECONDS, by credential, least recently used
    evicted first. Only signed-in actors are kept: a wrong credential costs its lookup.
    Requests that miss together (a member's burst, when their entry expires) share one
    lookup instead of each making their own."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        # credential -> (actor, monotonic deadline, end of the session on server.clock)
        self._actors: OrderedDict[str, tuple[Actor, float, float]] = OrderedDict()
        self._loading: dict[str, asyncio.Task[Actor | None]] = {}
        # Moved by every drop and forget: a lookup that began before one does not cache its answer,
        # which may predate the sign-out or role change.
        self._epoch = 0

    def get(self, key: str) -> Actor | None:
        entry = self._actors.get(key)
        if entry is None:
            return None
        actor, deadline, ends = entry
        if time.monotonic() >= deadline or clock.now().timestamp() >= ends:
            del self._actors[key]
            return None
        self._actors.move_to_end(key)
        return actor

    async def load(self, key: str, lookup: Lookup) -> Actor | None:
        """The cached actor, or the answer of the lookup under way for this key, or of a new
        one. A lookup outlives a request that gives up on it, for the others waiting."""
        cached = self.get(key)
        if cached is not None:
            return cached
        task = self._loading.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fill(key, lookup),
                                                          context=contextvars.Context())
            self._loading[key] = task
            task.add_done_callback(functools.partial(self._loaded, key))
        return await asyncio.shield(task)

    async def _fill(self, key: str, lookup: Lookup) -> Actor | None:
        epoch, started = self._epoch, time.monotonic()
        actor, ends = await lookup()
        # Its answer is as old as its start.
        if actor is not None and epoch == self._epoch:
            self._actors[key] = (actor, started + ACTOR_CACHE_SECONDS, ends)
            self._actors.move_to_end(key)
            if len(self._actors) > self.entries:
                self._actors.popitem(last=False)
        return actor

    def _loaded(self, key: str, task: asyncio.Task[Actor | None]) -> None:
        if self._loading.get(key) is task:
            del self._loading[key]
        if not task.cancelled():
            # Retrieved, so that a lookup whose requests all gave up logs no warning.
            task.exception()

    def drop(self, key: str) -> None:
        self._invalidate()
        self._actors.pop(key, None)

    def forget(self, stale: Callable[[Actor], bool]) -> None:
        self._invalidate()
        # Role changes and revocations are rare; a scan of the bounded cache is cheap.
        for key in [k for k, (actor, _, _) in self._actors.items() if stale(actor)]:
            del self._actors[key]

    def _invalidate(self) -> None:
        self._epoch += 1
        # Requests from now on make lookups of their own.
        self._loading.clear()


_actors = _ActorCache(ACTOR_CACHE_ENTRIES)


def forget_member(member_id: int) -> None:
    """The member's role or standing changed: drop their sessions and the tokens they made,
    in this process at once (others within ACTOR_CACHE_SECONDS). Call it after the change
    is committed."""
    _actors.forget(lambda actor: actor.member_id == member_id)


def forget_token(token_id: int) -> None:
    """The token was revoked; as forget_member."""
    _actors.forget(lambda actor: actor.token_id == token_id)


_ticket_codec = msgspec.json.Decoder(TicketData)
_encoder = msgspec.json.Encoder()


async def create_session(request: Request[Any, Any, Any], member_id: int) -> tuple[str, str]:
    """Sign the member in from this browser; returns (cookie secret, CSRF token)."""
    return await sessions.create(member_id, request.headers.get("user-agent", ""),
                                 ratelimit.client_ip(request))


async def end_session(session_key: str) -> None:
    try:
        await sessions.end(session_key)
    finally:
        # After the row is gone: a lookup racing the sign-out cannot cache it again.
        _actors.drop(SESSION_ENTRY + session_key)


async def _member_actor(member_id: int, person: bool = False, **extra: Any) -> Actor | None:
    """The member as an actor, None when inactive; `person`: signing in as themselves, which
    a suspension refuses (their API tokens act for a brand and carry on)."""
    rows = await Member.select(
        Member.id, Member.handle, Member.role, Member.brand, Member.is_active,
        Member.suspended_until,
    ).where(Member.id == member_id)
    if not rows or not rows[0]["is_active"]:
        return None
    # A suspension ended the member's sessions; this refuses one signed in as it began.
    until = rows[0]["suspended_until"]
    if person and until is not None and until > clock.now():
        return None
    row = rows[0]
    return Actor(member_id=row["id"], handle=row["handle"], role=row["role"],
                 brand_id=row["brand"], **extra)


async def _from_session(session_key: str) -> Actor | None:
    async def find() -> tuple[Actor | None, float]:
        session = await sessions.find(session_key)
        if session is None:
            return None, FOREVER
        actor = await _member_actor(session.member_id, person=True, via="session",
                                    session_key=session_key, csrf=session.csrf)
        return actor, session.expires_at

    return await _actors.load(SESSION_ENTRY + session_key, find)


async def _from_token(token: str) -> Actor:
    async def find() -> tuple[Actor | None, float]:
        prefix, _, rest = token.partition("_")
        lookup, _, secret = rest.partition("_")
        if prefix != TOKEN_PREFIX or not lookup or not secret:
            raise Unauthenticated("the API token is malformed")
        rows = await ApiToken.select().where(ApiToken.lookup == lookup)
        if not rows or not same(rows[0]["secret_hash"], sha256(secret)):
            raise Unauthenticated("the API token is unknown or revoked")
        return await _token_actor(rows[0]), FOREVER

    # Keyed by the token's hash: the cache holds nothing that signs anyone in.
    actor = await _actors.load(TOKEN_ENTRY + sha256(token), find)
    # A token's lookup answers an actor or raises.
    assert actor is not None
    _token_use.note(actor)
    return actor


async def _from_token_id(token_id: int) -> Actor:
    rows = await ApiToken.select().where(ApiToken.id == token_id)
    if not rows:
        raise Unauthenticated("the API token is unknown or revoked")
    actor = await _token_actor(rows[0])
    _token_use.note(actor)
    return actor


async def _token_actor(row: dict[str, Any]) -> Actor:
    """A token acts for its brand's integration: as brand staff of that brand only, never with
    its creator's wider role, and only while the creator still manages that brand."""
    if row["revoked_at"] is not None:
        raise Unauthenticated("the API token is unknown or revoked")
    creator = await _member_actor(row["created_by"])
    if creator is None or not creator.manages_brand(row["brand"]):
        raise Unauthenticated("the API token's owner no longer manages its brand")
    return Actor(member_id=creator.member_id, handle=creator.handle, role="brand_staff",
                 brand_id=row["brand"], via="token", scopes=frozenset(row["scopes"].split()),
                 token_id=row["id"])


class _TokenUse:
    """Records API tokens' last use at most once per TOKEN_USE_GRANULARITY_SECONDS per token
    and process, after the request rather than in it: a read stays a read."""

    LIMIT = 10_000

    def __init__(self) -> None:
        # token id -> when this process last recorded its use (seconds on server.clock)
        self.recorded: dict[int, float] = {}
        # Held until done: the event loop keeps only weak references to tasks.
        self.writes: set[asyncio.Task[None]] = set()

    def note(self, actor: Actor) -> None:
        if actor.token_id is None:
            return
        now = clock.now()
        last = self.recorded.get(actor.token_id)
        if last is not None and now.timestamp() - last < TOKEN_USE_GRANULARITY_SECONDS:
            return
        if len(self.recorded) >= self.LIMIT:
            # Forgetting costs one more write per token, no more.
            self.recorded.clear()
        self.recorded[actor.token_id] = now.timestamp()
        task = asyncio.get_running_loop().create_task(self._write(actor.token_id, now),
                                                      context=contextvars.Context())
        self.writes.add(task)
        task.add_done_callback(self.writes.discard)

    @staticmethod
    async def _write(token_id: int, now: dt.datetime) -> None:
        try:
            # Never backwards: another process may have recorded a later use meanwhile.
            await ApiToken.update({ApiToken.last_used_at: now}).where(
                (ApiToken.id == token_id)
                & (ApiToken.last_used_at.is_null() | (ApiToken.last_used_at < now)))
        except Exception as exc:
            # Bookkeeping only: the request it records has been answered.
            log.warning("could not record API token %s's use: %s: %s", token_id,
                        type(exc).__name__, exc)


_token_use = _TokenUse()


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


async def resolve(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    token = _bearer(connection)
    if token:
        return await _from_token(token)
    secret = connection.cookies.get(SESSION_COOKIE)
    if secret:
        return await _from_session(sessions.key_of(secret)) or ANONYMOUS
    return ANONYMOUS


async def issue_ticket(actor: Actor) -> str:
    """A single-use ticket to open the websocket as this actor, short-lived so that the URL
    it rides in (and so access logs) holds nothing worth stealing."""
    if not actor.signed_in:
        raise Unauthenticated("sign in first")
    if actor.via == "token":
        data = TicketData(via="token", token_id=actor.token_id)
    else:
        data = TicketData(via="session", session_key=actor.session_key)
    rt = runtime.current()
    ticket = new_secret()
    await rt.kv.set(TICKET_PREFIX + ticket, _encoder.encode(data), rt.settings.realtime_ticket_seconds)
    return ticket


async def redeem_ticket(ticket: str) -> Actor:
    """The actor a ticket was issued to, as they are now; the ticket is used up."""
    raw = await runtime.current().kv.take(TICKET_PREFIX + ticket) if ticket else None
    if raw is None:
        raise Unauthenticated("the ticket is unknown, expired or already used")
    data = _ticket_codec.decode(raw)
    actor = await recheck(Actor(via=data.via, session_key=data.session_key,
                                token_id=data.token_id))
    if not actor.signed_in:
        raise Unauthenticated("the session or API token the ticket was issued to has ended")
    return actor


async def recheck(actor: Actor) -> Actor:
    """The same credential's actor now; ANONYMOUS once the session or token has ended."""
    if actor.via == "session":
        return await _from_session(actor.session_key) or ANONYMOUS
    if actor.via == "token" and actor.token_id is not None:
        try:
            return await _from_token_id(actor.token_id)
        except Unauthenticated:
            return ANONYMOUS
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
            check_json_body(body)
            if b"\\u0000" in body:
                raise Invalid("NUL characters are not allowed")
    actor = await resolve(request)
    if actor.via == "token":
        if request.route_handler.opt.get(PEOPLE_ONLY_OPT):
            raise Forbidden(NOT_A_PERSON)
        # A route may name the scope it needs instead (the websocket ticket needs 'realtime').
        scope = request.route_handler.opt.get(TOKEN_SCOPE_OPT)
        actor.require(scope or ("write" if request.method in UNSAFE_METHODS else "read"))
    if actor.via == "session" and request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not same(sent, actor.csrf):
            raise Forbidden("missing or wrong CSRF token: send the X-CSRF-Token header")
    request.state.actor = actor
    if actor.via == "session" and actor.member_id is not None:
        await record_visit(actor.member_id)


class _SeenToday:
    """Members this process has already counted today. Most requests stop here, without a
    round trip to the key/value store; and while that store is unreachable this alone keeps
    member.visited to one per member, day and process (awards count a visit once a day
    however often it is emitted)."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self.day = ""
        self.members: set[int] = set()

    def first(self, member_id: int, day: str) -> bool:
        """True when this process has not seen the member on `day` yet; records it."""
        if day != self.day or len(self.members) >= self.LIMIT:
            # Past the limit, forgetting costs only a key/value round trip per member.
            self.day, self.members = day, set()
        if member_id in self.members:
            return False
        self.members.add(member_id)
        return True


_seen_today = _SeenToday()


async def record_visit(member_id: int) -> None:
    """Emit member.visited on a member's first signed-in request of each UTC day."""
    day = clock.today().isoformat()
    if not _seen_today.first(member_id, day):
        return
    try:
        first = await runtime.current().kv.add(f"visit:{member_id}:{day}", b"1", 2 * 86400)
    except ServiceUnavailable:
        # Unreachable: whether another process counted the visit is unknown. Emit it; the
        # memo above keeps that to once per process.
        first = True
    if first:
        async with outbox.unit_of_work():
            await outbox.emit(events.MemberVisited(member_id=member_id, day=day))


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, Actor) else ANONYMOUS
