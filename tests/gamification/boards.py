"""Shared by the leaderboard and challenge tests: losing the board store (Redis flushed or
restarted empty, or the embedded table emptied by hand), and looking into the store itself."""

import sqlite3

import redis

from tests.harness import Stack


def _redis(stack: Stack) -> redis.Redis:
    return redis.Redis.from_url(stack.env["HEARTH_REDIS_URL"])


def wipe_boards(stack: Stack) -> None:
    """Every leaderboard key or row goes, the mark of a complete build with them."""
    if stack.mode == "scaled":
        client = _redis(stack)
        keys = list(client.scan_iter(f"{stack.env['HEARTH_REDIS_PREFIX']}:lb*", count=1000))
        assert keys
        client.delete(*keys)
    else:
        with sqlite3.connect(stack.workdir / "data" / "hearth.db", timeout=30) as db:
            db.execute("DELETE FROM leaderboard_entry")
            db.execute("DELETE FROM leaderboard_state")


def stored_board(stack: Stack, board: str) -> list[tuple[int, int]] | None:
    """(member id, score) of those above zero, in display order, as the store itself holds
    the board; None while the store has no complete build (cold)."""
    if stack.mode == "scaled":
        client = _redis(stack)
        prefix = stack.env["HEARTH_REDIS_PREFIX"]
        generation = client.get(f"{prefix}:lb:generation")
        if generation is None:
            return None
        rows = client.zrevrange(f"{prefix}:lbz:{generation.decode()}:{board}", 0, -1,
                                withscores=True)
        return [(int(m), int(s)) for m, s in rows if s > 0]
    with sqlite3.connect(stack.workdir / "data" / "hearth.db", timeout=30) as db:
        if not db.execute("SELECT 1 FROM leaderboard_state WHERE name = 'generation'").fetchall():
            return None
        return db.execute("SELECT member, score FROM leaderboard_entry WHERE board = ? "
                          "AND score > 0 ORDER BY score DESC, member DESC", (board,)).fetchall()
