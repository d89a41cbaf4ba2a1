"""Helper of events_throughput.py, run as a subprocess in a Hearth stack's environment (the
same HEARTH_* variables as the server, so the same database and Redis prefix).

It starts the server's own runtime with role="cli" and, with the server's own code:

1. makes sure a pool of `--members` plain member rows exists (handles `<prefix>N`; their
   password hash is not a valid one, nobody signs in as them),
2. waits until nothing is left in the outbox (the set-up made over the API emitted events),
3. inserts `--count` committed `post.created` events with `server.outbox.unit_of_work()` +
   `server.outbox.emit()`, `--batch` per transaction, authors taken round-robin from the pool.
   The commit hook is replaced by a no-op while doing so, and the events are committed with a
   claim that lasts a day, so no relay (the server's sweeper, beat) takes them early,
4. starts the clock, releases the claim and triggers dispatch:
     sweep     nothing: the server's in-process sweeper (embedded) or Celery beat's
               `hearth.sweep` (scaled) must find the events, as after a crash
     dispatch  `runtime.current().runner.wake()` per `--chunk` events, i.e. exactly what
               a web process does after each commit (scaled: a `hearth.dispatch` Celery task)
     drain     `outbox.relay()` in a loop in this process (what `hearth relay-sweep` does)
5. polls the database every `--poll` seconds, then the leaderboard over HTTP, until every
   event (the N inputs and the `points.posted` events they cause) has `dispatched_at`, the
   ledger holds the N awards and the all-time board shows them; bounded by `--timeout`.

Writes one JSON object per line to stdout ("members", "inserted", "started", "done").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def emit_line(**data: Any) -> None:
    print(json.dumps(data), flush=True)


QUERIES = [0]  # statements this helper ran itself (each its own transaction when polling)


async def _count(sql: str, *args: Any) -> int:
    from server import db

    QUERIES[0] += 1
    rows = await db.fetch(sql, *args)
    return int(rows[0]["n"])


async def ensure_members(prefix: str, wanted: int) -> list[int]:
    from server.tables import Member

    rows = await Member.select(Member.id, Member.handle).where(Member.handle.like(prefix + "%"))
    have = {r["handle"] for r in rows}
    missing = [f"{prefix}{i}" for i in range(wanted) if f"{prefix}{i}" not in have]
    if missing:
        await Member.insert(*[
            Member(handle=h, handle_key=h.lower(), email=f"{h.lower()}@bench.example.test",
                   password_hash="!bench", display_name=h, role="member")
            for h in missing
        ])
    rows = await Member.select(Member.id).where(Member.handle.like(prefix + "%")).order_by(Member.id)
    return [int(r["id"]) for r in rows][:wanted]


async def pending() -> int:
    """Committed events nobody has dispatched yet."""
    return await _count("SELECT COUNT(*) AS n FROM outbox_event WHERE dispatched_at IS NULL")


async def settle(timeout: float) -> int:
    deadline = time.monotonic() + timeout
    left = await pending()
    while left and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        left = await pending()
    return left


async def insert_events(args: argparse.Namespace, authors: list[int]) -> tuple[int, int]:
    """Commit the events held by a claim far in the future, so that no relay (the server's
    sweeper, beat) starts on them before the clock does."""
    import datetime as dt

    from server import db, events, outbox

    held_until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    first = last = 0
    n = 0
    while n < args.count:
        async with outbox.unit_of_work():
            start = 0
            for _ in range(min(args.batch, args.count - n)):
                event_id = await outbox.emit(events.PostCreated(
                    post_id=args.post, thread_id=args.thread, category_id=args.category,
                    author_id=authors[n % len(authors)], post_number=2 + n,
                ))
                start = start or event_id
                first = first or event_id
                last = event_id
                n += 1
            await db.fetch("UPDATE outbox_event SET claimed_until = {} WHERE id >= {} AND id <= {}",
                           held_until, start, last)
    return first, last


async def release(first: int, last: int) -> None:
    from server import db

    await db.fetch("UPDATE outbox_event SET claimed_until = NULL WHERE id >= {} AND id <= {}",
                   first, last)


async def board_total(url: str, member_ids: set[int]) -> int:
    import httpx

    total = 0
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        for offset in range(0, len(member_ids) + 100, 100):  # + the thread's author, say
            response = await client.get(url + "/api/leaderboards/all-time",
                                        params={"limit": 100, "offset": offset})
            response.raise_for_status()
            items = response.json()["items"]
            total += sum(int(row["score"]) for row in items if int(row["member"]["id"]) in member_ids)
            if len(items) < 100:
                break
    return total


async def trigger(kind: str, ids: list[int], chunk: int) -> None:
    from server import outbox, runtime

    if kind == "dispatch":
        runner = runtime.current().runner
        for _ in range(0, len(ids), chunk):
            await runner.wake()
    elif kind == "drain":
        idle = 0
        while idle < 400:  # bounded: gives up after ~20 s with nothing to do
            if await outbox.relay() == 0:
                if await pending() == 0:
                    return
                idle += 1
                await asyncio.sleep(0.05)


async def run(args: argparse.Namespace) -> None:
    from server import outbox, runtime
    from server.settings import get_settings

    await runtime.start(get_settings(), role="cli")

    async def hold() -> None:
        return None

    outbox.on_commit(hold)
    try:
        authors = await ensure_members(args.member_prefix, args.members)
        emit_line(event="members", ids=authors)
        left = await settle(30.0)
        awards_before = await _count(
            "SELECT COUNT(*) AS n FROM gamification_rule_award WHERE rule = {}", args.rule)
        # The board check sums the pool's rows only (the thread's author earned a point too).
        pool = ", ".join(str(int(i)) for i in authors)
        pool_before = await _count(
            "SELECT COUNT(*) AS n FROM gamification_rule_award WHERE rule = {} "
            f"AND member IN ({pool})", args.rule)
        started = time.perf_counter()
        first, last = await insert_events(args, authors)
        emit_line(event="inserted", first=first, last=last, seconds=time.perf_counter() - started,
                  pending_before=left, awards_before=awards_before)

        commits_before = await _commits()
        own_before = QUERIES[0]
        t0 = time.perf_counter()
        emit_line(event="started")
        await release(first, last)
        job = asyncio.create_task(trigger(args.trigger, list(range(first, last + 1)), args.chunk))
        expected = awards_before + args.count
        marks: dict[str, float] = {}
        progress: list[tuple[float, int, int]] = []  # (t, inputs dispatched, awards)
        deadline = t0 + args.timeout
        members = set(authors)
        board = -1
        while time.perf_counter() < deadline:
            now = time.perf_counter() - t0
            undispatched = await _count(
                "SELECT COUNT(*) AS n FROM outbox_event WHERE id >= {} AND id <= {} "
                "AND dispatched_at IS NULL", first, last)
            awards = await _count(
                "SELECT COUNT(*) AS n FROM gamification_rule_award WHERE rule = {}", args.rule)
            progress.append((round(now, 3), args.count - undispatched, awards - awards_before))
            if undispatched < args.count:
                marks.setdefault("first", now)
            if undispatched == 0:
                marks.setdefault("inputs", now)
            if awards >= expected:
                marks.setdefault("ledger", now)
            if "inputs" in marks and "ledger" in marks and await pending() == 0:
                marks.setdefault("outbox", now)
                board = await board_total(args.server, members)
                if board >= pool_before + args.count:
                    marks["board"] = time.perf_counter() - t0
                    break
            await asyncio.sleep(args.poll)
        if not job.done():
            job.cancel()
        emit_line(event="ended")
        commits = None
        if commits_before is not None:
            await asyncio.sleep(1.5)  # PostgreSQL publishes backends' statistics about once a second
            own = QUERIES[0] - own_before
            commits = (await _commits() or 0) - commits_before - own
        # What the run left behind: duplicates, follow-up events.
        redispatched = await _count(
            "SELECT COUNT(*) AS n FROM outbox_event WHERE id >= {} AND id <= {} AND attempts > 1",
            first, last)
        follow_rows = await _fetch_types(last)
        ledger = await _count(
            "SELECT COUNT(*) AS n FROM ledger_transaction t JOIN gamification_rule_award a "
            "ON a.ledger_transaction = t.id WHERE a.rule = {}", args.rule)
        emit_line(event="done", count=args.count, first=first, last=last, marks=marks,
                  expected=expected, board=board, board_expected=pool_before + args.count,
                  ledger_transactions=ledger,
                  redispatched_inputs=redispatched, follow_ups=follow_rows,
                  progress=progress, timeout=args.timeout, commits=commits)
    finally:
        await runtime.stop()


async def _commits() -> int | None:
    """Committed transactions in this database so far (PostgreSQL only)."""
    from server import db

    if db.is_sqlite():
        return None
    return await _count("SELECT xact_commit AS n FROM pg_stat_database "
                        "WHERE datname = current_database()")


async def _fetch_types(after: int) -> dict[str, dict[str, int]]:
    from server import db

    rows = await db.fetch(
        "SELECT type, COUNT(*) AS n, SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END) AS again "
        "FROM outbox_event WHERE id > {} GROUP BY type", after)
    return {str(r["type"]): {"count": int(r["n"]), "redispatched": int(r["again"] or 0)}
            for r in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--batch", type=int, default=500, help="events per inserting transaction")
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--member-prefix", default="benchm")
    parser.add_argument("--thread", type=int, required=True)
    parser.add_argument("--category", type=int, required=True)
    parser.add_argument("--post", type=int, required=True)
    parser.add_argument("--rule", type=int, required=True, help="id of the rule that awards")
    parser.add_argument("--server", required=True, help="base URL for the leaderboard check")
    parser.add_argument("--trigger", choices=["sweep", "dispatch", "drain"],
                        required=True)
    parser.add_argument("--chunk", type=int, default=1, help="events per wake-up (one commit's worth)")
    parser.add_argument("--poll", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=90.0)
    args = parser.parse_args()
    args.count = min(max(args.count, 1), 200_000)
    args.batch = min(max(args.batch, 1), 5_000)
    args.members = min(max(args.members, 1), 10_000)
    args.chunk = min(max(args.chunk, 1), 10_000)
    args.timeout = min(max(args.timeout, 1.0), 600.0)
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
