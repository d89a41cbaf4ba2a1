"""Where board scores live: SQL rows ranked with window functions (embedded) or Redis sorted
sets (scaled). Both rank by competition ranking (1, 2, 2, 4) and break display ties by member
id, newest first. Both apply each ledger transaction once, and skip transactions a rebuild
already counted (the watermark). Both keep a member's true score, zero or below too (a
negative adjustment can take a week's board below zero), so later earnings add to it as a
rebuild would; only members above zero are shown."""

from __future__ import annotations

from typing import Protocol

import msgspec
import redis.asyncio as aioredis

from gamification.leaderboards.tables import LeaderboardEntry, LeaderboardState
from server import db
from server.plugins import Backend


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


class LeaderboardStore(Protocol):
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
    async def set_member(self, member_id: int, scores: dict[str, int], watermark: int) -> None:
        """Set a member's scores as recomputed from the ledger up to `watermark`; later adds
        of transactions at or below it are skipped."""
        ...
    async def replace(self, scores: dict[str, dict[int, int]], watermark: int) -> None: ...


WATERMARK = "rebuilt_through_transaction"


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
            LeaderboardState.name.is_in([WATERMARK, *(f"member:{m}" for m in members)]))
        marks = {str(r["name"]): int(r["value"]) for r in rows}
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
        ordered = sorted(scores.items())
        await db.insert_rows(
            "leaderboard_entry", ["board", "member", "score"], ["text", "bigint", "bigint"],
            [(board, member, score) for member, score in ordered],
            "ON CONFLICT (board, member) DO UPDATE SET score = excluded.score")

    async def top(self, board: str, limit: int, offset: int) -> list[Standing]:
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
        score = await self._score(board, member_id)
        if score is None:
            return None
        above = await LeaderboardEntry.count().where(
            (LeaderboardEntry.board == board) & (LeaderboardEntry.score > score)
        )
        return Standing(member_id=member_id, score=score, rank=int(above) + 1)

    async def around(self, board: str, member_id: int, n: int) -> list[Standing]:
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
        await LeaderboardEntry.delete().where(LeaderboardEntry.member == member_id)

    async def set_member(self, member_id: int, scores: dict[str, int], watermark: int) -> None:
        async with db.transaction():
            await self.remove_member(member_id)
            for board, score in scores.items():
                await LeaderboardEntry.insert(
                    LeaderboardEntry(board=board, member=member_id, score=score)
                )
            await self._set_watermark(f"member:{member_id}", watermark)

    async def replace(self, scores: dict[str, dict[int, int]], watermark: int) -> None:
        async with db.transaction():
            await LeaderboardEntry.delete(force=True)
            rows = [LeaderboardEntry(board=board, member=member, score=score)
                    for board, members in scores.items() for member, score in members.items()]
            for start in range(0, len(rows), 500):
                await LeaderboardEntry.insert(*rows[start:start + 500])
            await self._set_watermark(WATERMARK, watermark)


_ADD = """
local watermark = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'),
                           tonumber(redis.call('GET', KEYS[3]) or '0'))
if tonumber(ARGV[1]) <= watermark then return 0 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[4]) then return 0 end
for i = 4, #KEYS do
  redis.call('ZINCRBY', KEYS[i], ARGV[3], ARGV[2])
end
return 1
"""
APPLIED_TTL_SECONDS = 30 * 86400


def _member_key(member_id: int) -> str:
    # Zero-padded so Redis's lexical tie order matches numeric order.
    return f"{member_id:010d}"


class RedisStore:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._add = client.register_script(_ADD)

    def _board(self, board: str) -> str:
        return f"{self._prefix}:lbz:{board}"

    def _member_watermark(self, member_id: int) -> str:
        return f"{self._prefix}:lbmw:{member_id}"

    async def add(self, postings: list[BoardPosting]) -> set[str]:
        if not postings:
            return set()
        async with self._redis.pipeline(transaction=False) as pipe:
            for p in postings:
                keys = [f"{self._prefix}:lbtx:{p.transaction_id}", f"{self._prefix}:lb:{WATERMARK}",
                        self._member_watermark(p.member_id), *[self._board(b) for b in p.boards]]
                await self._add(keys=keys, args=[p.transaction_id, _member_key(p.member_id),
                                                 p.delta, APPLIED_TTL_SECONDS], client=pipe)
            applied = await pipe.execute()
        return {board for p, done in zip(postings, applied, strict=True) if done for board in p.boards}

    async def set_scores(self, board: str, scores: dict[int, int]) -> None:
        if not scores:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            positive = {_member_key(m): s for m, s in scores.items() if s > 0}
            if positive:
                pipe.zadd(self._board(board), positive)
            gone = [_member_key(m) for m, s in scores.items() if s <= 0]
            if gone:
                pipe.zrem(self._board(board), *gone)
            await pipe.execute()

    async def _rank_of_score(self, board: str, score: int) -> int:
        return int(await self._redis.zcount(self._board(board), f"({score}", "+inf")) + 1

    async def top(self, board: str, limit: int, offset: int) -> list[Standing]:
        # By index, which costs O(log N) at any depth (a score range with an offset walks
        # the offset). Members at zero or below sort after everyone shown: drop them.
        rows: list[tuple[bytes, float]] = await self._redis.zrevrange(  # type: ignore[assignment]
            self._board(board), offset, offset + limit - 1, withscores=True)
        pairs = [(int(m), int(s)) for m, s in rows if s > 0]
        if not pairs:
            return []
        return _ranked(pairs, await self._rank_of_score(board, pairs[0][1]), offset)

    async def standing(self, board: str, member_id: int) -> Standing | None:
        score = await self._redis.zscore(self._board(board), _member_key(member_id))
        if score is None or score <= 0:
            return None
        return Standing(member_id=member_id, score=int(score),
                        rank=await self._rank_of_score(board, int(score)))

    async def around(self, board: str, member_id: int, n: int) -> list[Standing]:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zscore(self._board(board), _member_key(member_id))
            pipe.zrevrank(self._board(board), _member_key(member_id))
            score, position = await pipe.execute()
        if score is None or score <= 0:
            return []
        # Members at zero or below all sort after those shown, so the position is the same.
        return await self.top(board, 2 * n + 1, max(0, int(position) - n))

    async def _boards(self) -> list[bytes]:
        return [key async for key in self._redis.scan_iter(f"{self._prefix}:lbz:*", count=500)]

    async def remove_member(self, member_id: int) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in await self._boards():
                pipe.zrem(key, _member_key(member_id))
            await pipe.execute()

    async def set_member(self, member_id: int, scores: dict[str, int], watermark: int) -> None:
        await self.remove_member(member_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            for board, score in scores.items():
                pipe.zadd(self._board(board), {_member_key(member_id): score})
            pipe.set(self._member_watermark(member_id), watermark, ex=APPLIED_TTL_SECONDS)
            await pipe.execute()

    async def replace(self, scores: dict[str, dict[int, int]], watermark: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in await self._boards():
                pipe.delete(key)
            for board, members in scores.items():
                if members:
                    pipe.zadd(self._board(board), {_member_key(m): s for m, s in members.items()})
            pipe.set(f"{self._prefix}:lb:{WATERMARK}", watermark)
            await pipe.execute()


# The runtime builds the one its mode calls for; the gamification plugin declares it.
STORE: Backend[LeaderboardStore] = Backend("leaderboards.store", embedded=SqlStore,
                                           scaled=RedisStore)
