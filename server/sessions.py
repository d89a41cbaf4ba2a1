"""Browser sessions: rows in the database (they survive restarts and a Redis that forgets),
with the key/value store as a short-lived cache in front of them.

The cookie holds a random secret; rows and cache entries are keyed by its sha256 (the
session's `key`), so neither the database nor Redis holds anything that signs anyone in.

Revocation: signing out deletes the row, then overwrites the cache entry with a tombstone
that lives CACHE_SECONDS. find() fills the cache only where nothing is (set-if-absent) and
takes a tombstone for "no session", so a request that read the row just before the sign-out
cannot cache it again after: it answers that one request, and the next is refused.
Should the tombstone not be written (the store unreachable at the sign-out and again once
its fail-fast window has passed), an entry cached before the sign-out may be trusted until
it expires: at most CACHE_SECONDS after it was cached, as Redis counts expiry down while it
is unreachable too. Every session costs one indexed read per CACHE_SECONDS for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

import msgspec

from server import clock, db, runtime, schedule
from server.errors import ServiceUnavailable
from server.kv import SKIP_AFTER_FAILURE_SECONDS
from server.security import new_secret, sha256
from server.tables import MemberSession

log = logging.getLogger("hearth.sessions")

CACHE_SECONDS = 60
CACHE_PREFIX = "session:"
# Cached in place of a session that ended (a Session is JSON, never this).
ENDED = b"ended"
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
    if cached == ENDED:
        return None
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
        # Set-if-absent: a sign-out since the read left a tombstone, which must stay.
        # Uncached, the next request reads the row again.
        with contextlib.suppress(ServiceUnavailable):
            await kv.add(CACHE_PREFIX + key, _encoder.encode(session), CACHE_SECONDS)
    if session.expires_at <= clock.now().timestamp():
        return None
    return session


async def end(key: str) -> None:
    """End the session at once, in every process: the row first (what every process falls
    back on), then a tombstone over the cached copy."""
    await MemberSession.delete().where(MemberSession.secret_hash == key)
    await forget([key])


async def delete_member_sessions(member_id: int, keep: str = "") -> list[str]:
    """Delete the member's sessions (but `keep`'s), in the caller's transaction; returns
    their keys, for forget() once it has committed."""
    query = MemberSession.delete().where(MemberSession.member == member_id)
    if keep:
        query = query.where(MemberSession.secret_hash != keep)
    rows = await query.returning(MemberSession.secret_hash)
    return [str(r["secret_hash"]) for r in rows]


async def forget(keys: list[str]) -> None:
    """Tombstone the cached copies of sessions whose rows are gone."""
    if not keys:
        return
    kv = runtime.current().kv
    try:
        for key in keys:
            await kv.set(CACHE_PREFIX + key, ENDED, CACHE_SECONDS)
        return
    except ServiceUnavailable:
        pass
    # The store may only be inside its fail-fast window after a blip, skipping calls without
    # trying Redis: once that window has passed, try once more. A sign-out during an outage
    # answers that much later. (A little more: asyncio may run a timer a tick early.)
    await asyncio.sleep(SKIP_AFTER_FAILURE_SECONDS + 0.05)
    try:
        for key in keys:
            await kv.set(CACHE_PREFIX + key, ENDED, CACHE_SECONDS)
    except ServiceUnavailable:
        log.warning("%d sessions ended while the key/value store was unreachable: a copy "
                    "cached before may be trusted for up to %s s more", len(keys), CACHE_SECONDS)


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
