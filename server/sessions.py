"""Browser sessions: rows in the database (they survive restarts and a Redis that forgets),
with the key/value store as a short-lived cache in front of them.

The cookie holds a random secret; rows and cache entries are keyed by its sha256 (the
session's `key`), so neither the database nor Redis holds anything that signs anyone in.

Revocation: signing out deletes the row, then the cache entry. Should Redis be unreachable
at that moment, an entry could outlive the row in a Redis that kept its data; entries are
therefore cached for CACHE_SECONDS only (Redis counts that down while it is down too), which
bounds how long a signed-out cookie can keep working to CACHE_SECONDS after the sign-out,
and only in that case. Every session costs one indexed read per CACHE_SECONDS for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

import msgspec

from server import clock, db, runtime, schedule
from server.errors import ServiceUnavailable
from server.security import new_secret, sha256
from server.tables import MemberSession

log = logging.getLogger("hearth.sessions")

CACHE_SECONDS = 60
CACHE_PREFIX = "session:"
PRUNE_CHUNK = 5000
USER_AGENT_CHARS = 200
IP_CHARS = 45


class Session(msgspec.Struct, frozen=True):
    member_id: int
    csrf: str
    # Seconds since the epoch on server.clock: a cached entry of an expired session is
    # refused like the row.
    expires_at: float


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Session)


def key_of(secret: str) -> str:
    return sha256(secret)


async def create(member_id: int, user_agent: str = "", ip: str = "") -> tuple[str, str]:
    """A new session for the member; returns (secret for the cookie, CSRF token)."""
    secret, csrf = new_secret(), new_secret(24)
    now = clock.now()
    expires = now + dt.timedelta(seconds=runtime.current().settings.session_ttl_seconds)
    await MemberSession.insert(MemberSession(
        member=member_id, secret_hash=key_of(secret), csrf=csrf, created_at=now,
        expires_at=expires, user_agent=user_agent[:USER_AGENT_CHARS], ip=ip[:IP_CHARS]))
    return secret, csrf


async def find(key: str) -> Session | None:
    """The live session with this key, or None (unknown, ended or expired). Reads only:
    nothing is written to the database on the way."""
    kv = runtime.current().kv
    cached: bytes | None = None
    # While the cache is unreachable the database answers alone.
    with contextlib.suppress(ServiceUnavailable):
        cached = await kv.get(CACHE_PREFIX + key)
    if cached is not None:
        session = _decoder.decode(cached)
    else:
        rows = await MemberSession.select(
            MemberSession.member, MemberSession.csrf, MemberSession.expires_at
        ).where(MemberSession.secret_hash == key)
        if not rows:
            return None
        session = Session(member_id=rows[0]["member"], csrf=rows[0]["csrf"],
                          expires_at=rows[0]["expires_at"].timestamp())
        # Uncached, the next request reads the row again.
        with contextlib.suppress(ServiceUnavailable):
            await kv.set(CACHE_PREFIX + key, _encoder.encode(session), CACHE_SECONDS)
    if session.expires_at <= clock.now().timestamp():
        return None
    return session


async def end(key: str) -> None:
    """End the session at once, in every process: the row first (what every process falls
    back on), then the cached copy."""
    await MemberSession.delete().where(MemberSession.secret_hash == key)
    try:
        await runtime.current().kv.delete(CACHE_PREFIX + key)
    except ServiceUnavailable:
        log.warning("a session ended while the key/value store was unreachable: its cached "
                    "copy may be trusted for up to %s s more", CACHE_SECONDS)


@schedule.every(3600, "sessions.prune")
async def prune() -> int:
    """Delete expired sessions, a chunk per transaction; returns how many."""
    total = 0
    while True:
        async with db.transaction():
            rows = await db.fetch("SELECT id FROM member_session WHERE expires_at <= {} "
                                  "ORDER BY id LIMIT {}", clock.now(), PRUNE_CHUNK)
            if not rows:
                return total
            match, args = db.values_in([int(r["id"]) for r in rows], "bigint")
            await db.fetch("DELETE FROM member_session WHERE id " + match, *args)
        total += len(rows)
