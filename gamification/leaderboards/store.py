"""Where board scores live: SQL rows ranked with window functions (embedded) or Redis sorted
sets (scaled). Both rank by competition ranking (1, 2, 2, 4) and break display ties by member
id, newest first. Both apply each ledger transaction once, and skip transactions a rebuild
already counted (a watermark; in Redis a safe low one, with the counted ids above it flagged).
Both keep a member's true score, zero or below too (a negative adjustment can take a week's
board below zero), so later earnings add to it as a rebuild would; only members above zero
are shown.

A store is warm while it holds a complete build of the boards, which a mark (the generation)
written at the end of each build says. Without it (Redis restarted empty, flushed, or a
database that never had a build) the store is cold: every call raises StoreCold, and callers
read the ledger instead and ask for a rebuild. Only a finished build marks it warm, so what is
written while cold never makes a half-filled store look complete."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis

from gamification.leaderboards.tables import LeaderboardEntry, LeaderboardState
from server import db
from server.kv import reachable
from server.plugins import Backend


class StoreCold(Exception):
    """The store holds no complete build of the boards: read the ledger, ask for a rebuild."""


class Standing(msgspec.Struct):
    member_id: int
    score: int
    rank: int


class BoardPosting(msgspec.Struct, frozen=True):
    """One ledger transaction's change of a member's score on some boards."""

    boards: list[str]
    member_id: int
    delta: int
    transaction_id: int


@dataclass
class Snapshot:
    """Every board's scores recomputed from their sources, and the ledger transactions that
    counted (changes to them that arrive during the rebuild are not applied twice)."""

    scores: dict[str, dict[int, int]]
    transactions: set[int] = field(default_factory=set)

    @property
    def watermark(self) -> int:
        return max(self.transactions, default=0)


SnapshotFn = Callable[[], Awaitable[Snapshot]]


class LeaderboardStore(Protocol):
    """Every method raises StoreCold while the store is cold; what a write was given is then
    kept for the rebuild under way, if any (otherwise that rebuild reads it at its source)."""

    async def add(self, postings: list[BoardPosting]) -> set[str]:
        """Apply each transaction's delta once (skipping those applied or rebuilt already);
        returns the boards that changed."""
        ...

    async def set_scores(self, board: str, scores: dict[int, int]) -> None:
        """Set members' scores on a board kept outside the ledger (a challenge's progress);
        a score of zero or less takes the member off."""
        ...

    async def top(self, board: str, limit: int, offset: int) -> list[Standing]: ...
    async def standing(self, board: str, member_id: int) -> Standing | None: ...
    async def around(self, board: str, member_id: int, n: int) -> list[Standing]: ...
    async def remove_member(self, member_id: int) -> None: ...
    async def set_member(self, member_id: int, scores: dict[str, int],
                         transactions: set[int]) -> None:
        """Set a member's scores as recomputed from the ledger, which counted `transactions`;
        later adds of those are skipped."""
        ...

    async def ask_rebuild(self) -> bool:
        """True when the caller should have the store rebuilt: it is cold, no rebuild is under
        way, and none was asked for since the last one started, or ASK_AGAIN_SECONDS ago (a
        request its worker lost); so one read of a burst asks."""
        ...

    async def rebuild(self, snapshot: SnapshotFn, *, cold_only: bool = False) -> Snapshot | None:
        """Replace every board with snapshot()'s, keeping changes made meanwhile, then mark
        the store warm; returns the snapshot, or None when another rebuild holds the lock
        (or, cold_only, when the store is warm by the time this one holds it)."""
        ...


WATERMARK = "rebuilt_through_transaction"
GENERATION = "generation"
# A rebuild that did not start (its worker was busy or lost) is asked for again after this.
ASK_AGAIN_SECONDS = 10


def _ranked(rows: list[tuple[int, int]], first_rank: int, offset: int) -> list[Standing]:
    """Competition ranks for a page sorted by score, given the first row's rank."""
    out: list[Standing] = []
    for i, (member_id, score) in enumerate(rows):
        if i == 0:
            rank = first_rank
        elif score == out[-1].score:
            rank = out[-1].rank
        else:
            rank = offset + i + 1
        out.append(Standing(member_id=member_id, score=score, rank=rank))
    return out


class SqlStore:
    """Rows next to the ledger, in the same database: only lost by hand (or never built, in
    a database from before the mark), and rebuilt in one transaction."""

    def __init__(self) -> None:
        # An embedded deployment is one process: who asked for a rebuild, and whether one is
        # under way (its mark is invisible until it commits), is known here.
        self._asked_at = -math.inf
        self._rebuilding = 0

    async def _warm(self) -> bool:
        return bool(await LeaderboardState.exists().where(LeaderboardState.name == GENERATION))

    async def _require_warm(self) -> None:
        if not await self._warm():
            raise StoreCold("no complete build of the boards")

    async def _watermark(self, *names: str) -> int:
        rows = await LeaderboardState.select(LeaderboardState.value).where(
            LeaderboardState.name.is_in(list(names))
        )
        return max((int(r["value"]) for r in rows), default=0)

    async def _set_watermark(self, name: str, value: int) -> None:
        await db.fetch(
            "INSERT INTO leaderboard_state (name, value) VALUES ({}, {}) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            name, value,
        )

    async def add(self, postings: list[BoardPosting]) -> set[str]:
        # Runs inside the handler's transaction, next to its receipts: applied exactly once.
        if not postings:
            return set()
        members = {p.member_id for p in postings}
        rows = await LeaderboardState.select(LeaderboardState.name, LeaderboardState.value).where(
            LeaderboardState.name.is_in([WATERMARK, GENERATION,
                                         *(f"member:{m}" for m in members)]))
        marks = {str(r["name"]): int(r["value"]) for r in rows}
        if GENERATION not in marks:
            # The rebuild's transaction comes after this one's: it reads these from the ledger.
            raise StoreCold("no complete build of the boards")
        overall = marks.get(WATERMARK, 0)
        deltas: dict[tuple[str, int], int] = {}
        for p in postings:
            if p.transaction_id <= max(overall, marks.get(f"member:{p.member_id}", 0)):
                continue
            for board in p.boards:
                deltas[(board, p.member_id)] = deltas.get((board, p.member_id), 0) + p.delta
        if not deltas:
            return set()
        await db.insert_rows(
            "leaderboard_entry", ["board", "member", "score"], ["text", "bigint", "bigint"],
            [(board, member, delta) for (board, member), delta in sorted(deltas.items())],
            "ON CONFLICT (board, member) DO UPDATE SET score = leaderboard_entry.score + excluded.score")
        return {board for board, _ in deltas}

    async def set_scores(self, board: str, scores: dict[int, int]) -> None:
        if not scores:
            return
        await self._require_warm()
        ordered = sorted(scores.items())
        await db.insert_rows(
            "leaderboard_entry", ["board", "member", "score"], ["text", "bigint", "bigint"],
            [(board, member, score) for member, score in ordered],
            "ON CONFLICT (board, member) DO UPDATE SET score = excluded.score")

    async def top(self, board: str, limit: int, offset: int) -> list[Standing]:
        await self._require_warm()
        rows = await db.fetch(
            "SELECT member, score, RANK() OVER (ORDER BY score DESC) AS rank "
            "FROM leaderboard_entry WHERE board = {} AND score > 0 "
            "ORDER BY score DESC, member DESC LIMIT {} OFFSET {}",
            board, limit, offset,
        )
        return [Standing(member_id=int(r["member"]), score=int(r["score"]), rank=int(r["rank"]))
                for r in rows]

    async def _score(self, board: str, member_id: int) -> int | None:
        rows = await LeaderboardEntry.select(LeaderboardEntry.score).where(
            (LeaderboardEntry.board == board) & (LeaderboardEntry.member == member_id)
        )
        score = int(rows[0]["score"]) if rows else 0
        return score if score > 0 else None

    async def standing(self, board: str, member_id: int) -> Standing | None:
        await self._require_warm()
        score = await self._score(board, member_id)
        if score is None:
            return None
        above = await LeaderboardEntry.count().where(
            (LeaderboardEntry.board == board) & (LeaderboardEntry.score > score)
        )
        return Standing(member_id=member_id, score=score, rank=int(above) + 1)

    async def around(self, board: str, member_id: int, n: int) -> list[Standing]:
        await self._require_warm()
        score = await self._score(board, member_id)
        if score is None:
            return []
        before = await db.fetch(
            "SELECT COUNT(*) AS n FROM leaderboard_entry WHERE board = {} AND score > 0 "
            "AND (score > {} OR (score = {} AND member > {}))",
            board, score, score, member_id,
        )
        position = int(before[0]["n"])
        return await self.top(board, 2 * n + 1, max(0, position - n))

    async def remove_member(self, member_id: int) -> None:
        await self._require_warm()
        await LeaderboardEntry.delete().where(LeaderboardEntry.member == member_id)

    async def set_member(self, member_id: int, scores: dict[str, int],
                         transactions: set[int]) -> None:
        async with db.transaction():
            await self.remove_member(member_id)
            for board, score in scores.items():
                await LeaderboardEntry.insert(
                    LeaderboardEntry(board=board, member=member_id, score=score)
                )
            # Ids commit in id order here (see rebuild).
            await self._set_watermark(f"member:{member_id}", max(transactions, default=0))

    async def ask_rebuild(self) -> bool:
        if (self._rebuilding or time.monotonic() - self._asked_at < ASK_AGAIN_SECONDS
                or await self._warm()):
            return False
        self._asked_at = time.monotonic()
        return True

    async def rebuild(self, snapshot: SnapshotFn, *, cold_only: bool = False) -> Snapshot | None:
        self._rebuilding += 1
        try:
            # One write transaction from reading the sources to the mark: SQLite lets no
            # other writer in meanwhile, so nothing recorded during the rebuild can be lost.
            async with db.transaction():
                # Asked while another rebuild held the write lock: that one healed it.
                if cold_only and await self._warm():
                    return None
                snap = await snapshot()
                await LeaderboardEntry.delete(force=True)
                await db.insert_rows(
                    "leaderboard_entry", ["board", "member", "score"], ["text", "bigint", "bigint"],
                    [(board, member, score) for board, members in sorted(snap.scores.items())
                     for member, score in sorted(members.items())])
                # Ids commit in id order here (SQLite has one writer at a time): the
                # highest counted is a safe watermark.
                await self._set_watermark(WATERMARK, snap.watermark)
                await self._set_watermark(GENERATION, 1)
        finally:
            self._rebuilding -= 1
        # Done: the next loss may ask again at once.
        self._asked_at = -math.inf
        return snap


# Redis scripts. Board keys carry their build's generation ({prefix}:lbz:{generation}:{board})
# and every script reads the current generation itself: one round trip finds the store cold
# or answers from the complete build, and a rebuild goes live by changing one key. Keys built
# from the generation inside a script mean one Redis server, not a cluster.

# Journals an entry for the rebuild the target names, if any. The journal expires with the
# target (renewed together while the rebuild lives): a killed rebuild's goes with it.
_JOURNAL_ENTRY = """
local function journal(target, prefix, entry)
  local building = redis.call('GET', target)
  if not building then return end
  redis.call('RPUSH', prefix .. building, entry)
  local ttl = redis.call('PTTL', target)
  if ttl > 0 then redis.call('PEXPIRE', prefix .. building, ttl) end
end
"""

# KEYS: applied flag, watermark, member's watermark, generation, rebuild's journal target.
# ARGV: transaction, member, delta, flag TTL, boards prefix, journal prefix, journal entry,
# boards... Returns 1 applied, 0 applied already (or rebuilt), -1 cold.
_ADD = _JOURNAL_ENTRY + """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[4]) then return 0 end
journal(KEYS[5], ARGV[6], ARGV[7])
local gen = redis.call('GET', KEYS[4])
if not gen then return -1 end
local watermark = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'),
                           tonumber(redis.call('GET', KEYS[3]) or '0'))
if tonumber(ARGV[1]) <= watermark then return 0 end
for i = 8, #ARGV do
  redis.call('ZINCRBY', ARGV[5] .. gen .. ':' .. ARGV[i], ARGV[3], ARGV[2])
end
return 1
"""

# KEYS: generation, journal target. ARGV: boards prefix, journal prefix, journal entry, board,
# then member, score pairs. Returns 1, or -1 cold.
_SET_SCORES = _JOURNAL_ENTRY + """
journal(KEYS[2], ARGV[2], ARGV[3])
local gen = redis.call('GET', KEYS[1])
if not gen then return -1 end
local key = ARGV[1] .. gen .. ':' .. ARGV[4]
for i = 5, #ARGV, 2 do
  if tonumber(ARGV[i + 1]) > 0 then
    redis.call('ZADD', key, ARGV[i + 1], ARGV[i])
  else
    redis.call('ZREM', key, ARGV[i])
  end
end
return 1
"""

# KEYS: generation, journal target. ARGV: journal prefix, journal entry. Returns the
# generation to change (nil when cold).
_JOURNAL = _JOURNAL_ENTRY + """
journal(KEYS[2], ARGV[1], ARGV[2])
return redis.call('GET', KEYS[1])
"""

# KEYS: generation. ARGV: boards prefix, board, first index, last index.
# Returns nil when cold, else {rows with scores, how many score above the first row}.
_TOP = """
local gen = redis.call('GET', KEYS[1])
if not gen then return false end
local key = ARGV[1] .. gen .. ':' .. ARGV[2]
local rows = redis.call('ZREVRANGE', key, ARGV[3], ARGV[4], 'WITHSCORES')
local above = 0
if #rows > 0 then above = redis.call('ZCOUNT', key, '(' .. rows[2], '+inf') end
return {rows, above}
"""

# KEYS: generation. ARGV: boards prefix, board, member. Returns nil when cold, {} when the
# member is not on the board, else {score, how many score above}.
_STANDING = """
local gen = redis.call('GET', KEYS[1])
if not gen then return false end
local key = ARGV[1] .. gen .. ':' .. ARGV[2]
local score = redis.call('ZSCORE', key, ARGV[3])
if not score then return {} end
return {score, redis.call('ZCOUNT', key, '(' .. score, '+inf')}
"""

# KEYS: generation. ARGV: boards prefix, board, member, n. Returns nil when cold, {} when the
# member is not shown on the board, else {first index, rows with scores, how many score above
# the first row}: by index, which costs O(log N) at any depth.
_AROUND = """
local gen = redis.call('GET', KEYS[1])
if not gen then return false end
local key = ARGV[1] .. gen .. ':' .. ARGV[2]
local score = redis.call('ZSCORE', key, ARGV[3])
if not score or tonumber(score) <= 0 then return {} end
local n = tonumber(ARGV[4])
local first = math.max(0, redis.call('ZREVRANK', key, ARGV[3]) - n)
local rows = redis.call('ZREVRANGE', key, first, first + 2 * n, 'WITHSCORES')
return {first, rows, redis.call('ZCOUNT', key, '(' .. rows[2], '+inf')}
"""

# KEYS: generation, rebuild lock, asked flag. ARGV: seconds the ask stands.
_ASK = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 0
"""

# KEYS: rebuild lock, generation. ARGV: the rebuild's generation, seconds, 1 when only a cold
# store is to be rebuilt. Returns 1 when the lock is this rebuild's. No rebuild goes live
# without the lock, so a store cold when it is taken stays cold until this one is done.
_CLAIM = """
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""

# KEYS: rebuild lock, journal target, journal. ARGV: the rebuild's generation, seconds.
_KEEP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
return 1
"""

# KEYS: rebuild lock, journal target, journal. ARGV: the rebuild's generation. The journal
# is this rebuild's alone: it goes whoever the target names now.
_RELEASE = """
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('DEL', KEYS[3])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

# KEYS: rebuild lock, journal target, journal, generation, watermark. ARGV: the rebuild's
# generation, journal entries replayed, watermark (a safe low mark), applied flag prefix,
# flag TTL, the counted transactions above the mark (space-separated). Goes live only when
# no entry is left to replay: then nothing written during the rebuild is missing from it.
# The flags go with the swap: no add sees the lower mark without them. Returns 1 live, 0 more
# to replay, -1 the lock was lost (expired, or Redis lost everything again).
_SWAP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return -1
end
if redis.call('LLEN', KEYS[3]) ~= tonumber(ARGV[2]) then return 0 end
for tx in string.gmatch(ARGV[6], '%d+') do
  redis.call('SET', ARGV[4] .. tx, '1', 'EX', ARGV[5])
end
redis.call('SET', KEYS[4], ARGV[1])
redis.call('SET', KEYS[5], ARGV[3])
redis.call('DEL', KEYS[2], KEYS[3])
return 1
"""
APPLIED_TTL_SECONDS = 30 * 86400
# PostgreSQL hands out ledger ids before commit, so they commit out of order: a recount that
# saw transaction N+1 may not have seen N yet. Its watermark is therefore this many ids below
# the highest it counted, and the ids it counted above that are flagged applied one by one.
# A transaction still uncommitted while this many later ones committed is not credible.
HORIZON = 10_000
# A rebuild holds its lock this long past its last sign of life (it renews it meanwhile).
LOCK_SECONDS = 60
FILL_CHUNK = 10_000


def _low_mark(transactions: set[int]) -> tuple[int, list[int]]:
    """A watermark no late-committing transaction falls under (see HORIZON), and the counted
    transactions above it, to flag applied."""
    mark = max(0, max(transactions, default=0) - HORIZON)
    return mark, sorted(t for t in transactions if t > mark)


def _member_key(member_id: int) -> str:
    # Zero-padded so Redis's lexical tie order matches numeric order.
    return f"{member_id:010d}"


def _score(value: bytes | float) -> int:
    return int(float(value))


class LostLock(RuntimeError):
    """A rebuild's lock expired or vanished before it went live; it is abandoned."""


class RedisStore:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._boards_prefix = f"{prefix}:lbz:"
        self._journal_prefix = f"{prefix}:lb:journal:"
        self._add = client.register_script(_ADD)
        self._set = client.register_script(_SET_SCORES)
        self._journal = client.register_script(_JOURNAL)
        self._top = client.register_script(_TOP)
        self._standing = client.register_script(_STANDING)
        self._around = client.register_script(_AROUND)
        self._ask = client.register_script(_ASK)
        self._claim = client.register_script(_CLAIM)
        self._keep = client.register_script(_KEEP)
        self._release = client.register_script(_RELEASE)
        self._swap = client.register_script(_SWAP)

    def _key(self, name: str) -> str:
        return f"{self._prefix}:lb:{name}"

    def _board(self, generation: str, board: str) -> str:
        return f"{self._boards_prefix}{generation}:{board}"

    def _member_watermark(self, member_id: int) -> str:
        return f"{self._prefix}:lbmw:{member_id}"

    def _applied(self, transaction_id: int | str) -> str:
        return f"{self._prefix}:lbtx:{transaction_id}"

    @property
    def _live(self) -> list[str]:
        """The keys every write script reads first: the generation and the journal target."""
        return [self._key(GENERATION), self._key("building")]

    async def add(self, postings: list[BoardPosting]) -> set[str]:
        if not postings:
            return set()
        with reachable("the leaderboard store"):
            async with self._redis.pipeline(transaction=False) as pipe:
                for p in postings:
                    keys = [self._applied(p.transaction_id), self._key(WATERMARK),
                            self._member_watermark(p.member_id), *self._live]
                    entry = msgspec.json.encode({"op": "add", "tx": p.transaction_id,
                                                 "member": p.member_id, "delta": p.delta,
                                                 "boards": p.boards})
                    await self._add(keys=keys, args=[
                        p.transaction_id, _member_key(p.member_id), p.delta, APPLIED_TTL_SECONDS,
                        self._boards_prefix, self._journal_prefix, entry, *p.boards], client=pipe)
                applied = await pipe.execute()
        if -1 in applied:
            raise StoreCold("no complete build of the boards")
        return {board for p, done in zip(postings, applied, strict=True) if done for board in p.boards}

    async def set_scores(self, board: str, scores: dict[int, int]) -> None:
        if not scores:
            return
        entry = msgspec.json.encode({"op": "set", "board": board, "scores": sorted(scores.items())})
        pairs = [x for m, s in sorted(scores.items()) for x in (_member_key(m), s)]
        with reachable("the leaderboard store"):
            done = await self._set(keys=self._live, args=[
                self._boards_prefix, self._journal_prefix, entry, board, *pairs])
        if done == -1:
            raise StoreCold("no complete build of the boards")

    async def top(self, board: str, limit: int, offset: int) -> list[Standing]:
        with reachable("the leaderboard store"):
            found = await self._top(keys=[self._key(GENERATION)], args=[
                self._boards_prefix, board, offset, offset + limit - 1])
        if found is None:
            raise StoreCold("no complete build of the boards")
        return self._page(found[0], int(found[1]), offset)

    @staticmethod
    def _page(flat: list[bytes], above_first: int, offset: int) -> list[Standing]:
        # Members at zero or below sort after everyone shown: drop them.
        pairs = [(int(flat[i]), _score(flat[i + 1])) for i in range(0, len(flat), 2)]
        pairs = [(m, s) for m, s in pairs if s > 0]
        return _ranked(pairs, above_first + 1, offset) if pairs else []

    async def standing(self, board: str, member_id: int) -> Standing | None:
        with reachable("the leaderboard store"):
            found = await self._standing(keys=[self._key(GENERATION)], args=[
                self._boards_prefix, board, _member_key(member_id)])
        if found is None:
            raise StoreCold("no complete build of the boards")
        if not found or _score(found[0]) <= 0:
            return None
        return Standing(member_id=member_id, score=_score(found[0]), rank=int(found[1]) + 1)

    async def around(self, board: str, member_id: int, n: int) -> list[Standing]:
        with reachable("the leaderboard store"):
            found = await self._around(keys=[self._key(GENERATION)], args=[
                self._boards_prefix, board, _member_key(member_id), n])
        if found is None:
            raise StoreCold("no complete build of the boards")
        if not found:
            return []
        return self._page(found[1], int(found[2]), int(found[0]))

    async def _boards(self, generation: str) -> list[bytes]:
        return [key async for key in self._redis.scan_iter(
            f"{self._boards_prefix}{generation}:*", count=1000)]

    async def _journaled(self, entry: dict[str, Any]) -> str:
        """Journal a member's change for a rebuild under way; the live generation."""
        generation = await self._journal(keys=self._live, args=[
            self._journal_prefix, msgspec.json.encode(entry)])
        if generation is None:
            raise StoreCold("no complete build of the boards")
        return str(generation.decode())

    async def remove_member(self, member_id: int) -> None:
        with reachable("the leaderboard store"):
            generation = await self._journaled({"op": "remove", "member": member_id})
            await self._remove(generation, member_id)

    async def _remove(self, generation: str, member_id: int) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in await self._boards(generation):
                pipe.zrem(key, _member_key(member_id))
            await pipe.execute()

    async def set_member(self, member_id: int, scores: dict[str, int],
                         transactions: set[int]) -> None:
        mark, above = _low_mark(transactions)
        with reachable("the leaderboard store"):
            generation = await self._journaled({"op": "member", "member": member_id,
                                                "scores": scores, "watermark": mark,
                                                "counted": above})
            await self._remove(generation, member_id)
            async with self._redis.pipeline(transaction=True) as pipe:
                for board, score in scores.items():
                    pipe.zadd(self._board(generation, board), {_member_key(member_id): score})
                for tx in above:
                    pipe.set(self._applied(tx), 1, ex=APPLIED_TTL_SECONDS)
                pipe.set(self._member_watermark(member_id), mark, ex=APPLIED_TTL_SECONDS)
                await pipe.execute()

    async def ask_rebuild(self) -> bool:
        with reachable("the leaderboard store"):
            return bool(await self._ask(keys=[self._key(GENERATION), self._key("lock"),
                                              self._key("asked")], args=[ASK_AGAIN_SECONDS]))

    async def rebuild(self, snapshot: SnapshotFn, *, cold_only: bool = False) -> Snapshot | None:
        """Build a new generation beside the live one. From before the sources are read until
        it goes live, every write is also journaled; the journal is replayed onto the new
        generation (skipping what the snapshot counted) and the generation swapped in once
        nothing is left to replay."""
        generation = uuid.uuid4().hex[:12]
        lock, target = self._key("lock"), self._key("building")
        journal = self._journal_prefix + generation
        mine = self._board(generation, "").encode()
        with reachable("the leaderboard store"):
            if not await self._claim(keys=[lock, self._key(GENERATION)],
                                     args=[generation, LOCK_SECONDS, int(cold_only)]):
                return None
        # Started: the next loss may ask again at once.
        await self._redis.delete(self._key("asked"))
        await self._redis.set(target, generation, ex=LOCK_SECONDS)
        keeper = asyncio.create_task(self._keep_lock(generation))
        live = False
        try:
            snap = await snapshot()
            await self._fill(generation, snap.scores)
            live = await self._replay(generation, snap)
            # Every earlier generation's boards (a rebuild that died leaves its own behind).
            await self._drop_boards(lambda key: not key.startswith(mine))
            return snap
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if not live:
                await self._drop_boards(lambda key: key.startswith(mine))
            await self._release(keys=[lock, target, journal], args=[generation])

    async def _keep_lock(self, generation: str) -> None:
        while True:
            await asyncio.sleep(LOCK_SECONDS / 4)
            # A failed renewal is tried again; a lock let expire makes the swap refuse.
            with contextlib.suppress(Exception):
                await self._keep(keys=[self._key("lock"), self._key("building"),
                                       self._journal_prefix + generation],
                                 args=[generation, LOCK_SECONDS])

    async def _fill(self, generation: str, scores: dict[str, dict[int, int]]) -> None:
        for board, members in scores.items():
            items = list(members.items())
            async with self._redis.pipeline(transaction=False) as pipe:
                for start in range(0, len(items), FILL_CHUNK):
                    pipe.zadd(self._board(generation, board),
                              {_member_key(m): s for m, s in items[start:start + FILL_CHUNK]})
                await pipe.execute()

    async def _replay(self, generation: str, snap: Snapshot) -> bool:
        journal = self._journal_prefix + generation
        counted = set(snap.transactions)
        boards = set(snap.scores)
        marks: dict[int, int] = {}
        mark, above = _low_mark(snap.transactions)
        replayed = 0
        while True:
            entries = await self._redis.lrange(journal, replayed, -1)  # type: ignore[misc]
            if entries:
                await self._apply(generation, [msgspec.json.decode(e) for e in entries],
                                  counted, boards, marks)
                replayed += len(entries)
                continue
            swapped = await self._swap(
                keys=[self._key("lock"), self._key("building"), journal, self._key(GENERATION),
                      self._key(WATERMARK)],
                args=[generation, replayed, mark, self._applied(""), APPLIED_TTL_SECONDS,
                      " ".join(map(str, above))])
            if swapped == 1:
                return True
            if swapped == -1:
                raise LostLock(f"leaderboard rebuild {generation} lost its lock")

    async def _apply(self, generation: str, entries: list[dict[str, Any]], counted: set[int],
                     boards: set[str], marks: dict[int, int]) -> None:
        """Journal entries onto the new generation, as the live writes did to the old one."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for e in entries:
                op = e["op"]
                if op == "add":
                    if e["tx"] in counted or e["tx"] <= marks.get(e["member"], 0):
                        continue
                    counted.add(e["tx"])
                    for board in e["boards"]:
                        pipe.zincrby(self._board(generation, board), e["delta"],
                                     _member_key(e["member"]))
                        boards.add(board)
                elif op == "set":
                    boards.add(e["board"])
                    for member, score in e["scores"]:
                        if score > 0:
                            pipe.zadd(self._board(generation, e["board"]), {_member_key(member): score})
                        else:
                            pipe.zrem(self._board(generation, e["board"]), _member_key(member))
                else:  # "remove", "member": the member's boards start again from what it says
                    for board in boards:
                        pipe.zrem(self._board(generation, board), _member_key(e["member"]))
                    if op == "member":
                        for board, score in e["scores"].items():
                            pipe.zadd(self._board(generation, board), {_member_key(e["member"]): score})
                            boards.add(board)
                        marks[e["member"]] = e["watermark"]
                        counted.update(e["counted"])
            await pipe.execute()

    async def _drop_boards(self, which: Callable[[bytes], bool]) -> None:
        doomed = [key async for key in self._redis.scan_iter(f"{self._boards_prefix}*", count=1000)
                  if which(key)]
        for start in range(0, len(doomed), 1000):
            await self._redis.unlink(*doomed[start:start + 1000])


# The runtime builds the one its mode calls for; the gamification plugin declares it.
STORE: Backend[LeaderboardStore] = Backend("leaderboards.store", embedded=SqlStore,
                                           scaled=RedisStore)
