"""Shared by the leaderboard and challenge tests: losing the board store (Redis flushed, or
the embedded table emptied), so that a rebuild has to bring it back."""

import sqlite3

import redis

from tests.harness import REDIS_URL, Stack


def wipe_boards(stack: Stack) -> None:
    if stack.mode == "scaled":
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{stack.env['HEARTH_REDIS_PREFIX']}:lbz:*"))
        assert keys
        client.delete(*keys)
    else:
        with sqlite3.connect(stack.workdir / "data" / "hearth.db", timeout=30) as db:
            db.execute("DELETE FROM leaderboard_entry")
