"""Leaderboard read latency with 100k and 1M members, scaled mode (Redis sorted sets), from the
store itself and over HTTP.

Part 1, the store: `gamification.leaderboards.store.RedisStore`, called in this process (one
client, one call at a time, on uvloop like the web server) against the Redis the test harness
uses (HEARTH_TEST_REDIS), under a fresh key prefix. The all-time board of a build marked
complete (`{prefix}:lbz:bench:all-time` with `{prefix}:lb:generation` = `bench`; members
zero-padded 10-digit ids) is filled directly with pipelined ZADD, 10,000 members per
command: first 100,000 members, then grown to 1,000,000. Scores are whole points from a
heavy-tailed distribution (many ties at the bottom, a sparse top), so the competition
ranking has real ties to resolve. At each size, `--calls` (default 2,000) calls
of each, after 100 warm-up calls:

    top(board, 100, 0)        the top-100 page (one script: ZREVRANGE + ZCOUNT for the first rank)
    around(board, member, 5)  a random member's neighbourhood (ZREVRANK + ZREVRANGE + ZCOUNT)
    standing(board, member)   a random member's rank (ZSCORE + ZCOUNT); around-me calls it too

plus Redis PING as the round-trip floor. p50/p99/max in ms. Target: p99 <= 5 ms at 1M.

Part 2, the HTTP endpoints: a scaled deployment (fresh PostgreSQL database + Redis prefix, one
server process, a Celery worker and beat, as in the test harness). `--http-members` (default
1,000,000) real rows are COPYed into its `member` table and put on its all-time board with
ZADD (into the live build, once the deployment has made its first); one more member registers
over the API (a real sign-in) and is placed mid-board. Then, sequentially over one keep-alive
connection per client, `--requests` (default 1,000) requests each of `GET /api/ping` (the
HTTP floor), `GET /api/leaderboards/all-time?limit=100` (the top page, which each process
caches for up to a second), the same at `offset=1` (never cached: the cost of a cache miss),
`GET /api/leaderboards/all-time/around-me?n=5` (signed in) and
`GET /api/leaderboards/all-time/members/<random id>?n=5`, in `--rounds` (default 10)
alternating rounds, so other work on the machine falls on every endpoint alike. The endpoints
look the rows' members up in PostgreSQL (`member_names`: id, handle, display name, one
statement): that lookup and the service functions without HTTP are timed separately, in this
process, with the server's own code (runtime started with role="cli" against the same
database and Redis). Reads write nothing: the rows PostgreSQL counts as inserted, updated or
deleted during the HTTP requests, and the sequences that moved, are printed.

Everything is removed at the end (the Redis keys of both prefixes, the database).
Figures are printed, never asserted; the last line says what was measured, in one line.
About 2 minutes with the defaults.

    .venv/bin/python bench/leaderboard_latency.py [--sizes 100000,1000000] [--calls 2000]
        [--http-members 1000000] [--requests 1000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_target_options, deployment, log, machine_note, percentile, target_of

from tests import harness

TARGET_P99_MS = 5.0
BOARD = "all-time"
ZADD_CHUNK = 10_000
PING = "GET /api/ping  [HTTP floor]"
TOP = "GET /api/leaderboards/all-time?limit=100"
TOP_UNCACHED = "GET ...?limit=100&offset=1  (never cached)"
AROUND_ME = "GET .../all-time/around-me?n=5  (signed in)"
# PostgreSQL publishes a backend's table counters at the latest 10 s after it goes idle
# (PGSTAT_IDLE_INTERVAL): the write counts are read that long after the requests.
STATS_LAG_SECONDS = 11


def _run(coro: Awaitable[Any]) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    return uvloop.run(coro)  # type: ignore[arg-type]


def scores(rng: random.Random, count: int) -> list[int]:
    """Whole points, heavy-tailed: most members have a few points, a few have very many."""
    return [min(1_000_000, int(rng.paretovariate(1.16) * 5)) for _ in range(count)]


def stats(latencies: list[float]) -> tuple[float, float, float]:
    return percentile(latencies, 50), percentile(latencies, 99), max(latencies)


def row(name: str, latencies: list[float], target: bool = True) -> str:
    p50, p99, worst = stats(latencies)
    verdict = ""
    if target:
        verdict = "  met" if p99 <= TARGET_P99_MS else "  MISSED"
    return f"   {name:<46}{len(latencies):>7}{p50:>9.3f}{p99:>9.3f}{worst:>9.3f}{verdict}"


HEADER = f"   {'operation':<46}{'calls':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"


async def timed(calls: int, fn: Callable[[int], Awaitable[Any]], warmup: int = 100) -> list[float]:
    for i in range(warmup):
        await fn(i)
    out = []
    for i in range(calls):
        started = time.perf_counter()
        await fn(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


# --- part 1: the store ---------------------------------------------------------------------


async def fill(client: Any, key: str, start_id: int, stop_id: int, rng: random.Random) -> None:
    """Members start_id..stop_id-1 onto the board, pipelined ZADD of ZADD_CHUNK each."""
    async with client.pipeline(transaction=False) as pipe:
        for low in range(start_id, stop_id, ZADD_CHUNK):
            high = min(stop_id, low + ZADD_CHUNK)
            values = scores(rng, high - low)
            pipe.zadd(key, {f"{m:010d}": s for m, s in zip(range(low, high), values, strict=True)})
        await pipe.execute()


async def measure_store(client: Any, store: Any, size: int, calls: int) -> dict[str, list[float]]:
    pick = random.Random(7)
    targets = [pick.randint(1, size) for _ in range(calls + 100)]
    # A sanity check that the pages are what the API would serve.
    page = await store.top(BOARD, 100, 0)
    assert len(page) == 100 and page[0].rank == 1, page[:3]
    near = await store.around(BOARD, targets[0], 5)
    assert any(s.member_id == targets[0] for s in near), near
    return {
        "PING (round-trip floor)": await timed(calls, lambda i: client.ping()),
        "top(board, 100, 0)": await timed(calls, lambda i: store.top(BOARD, 100, 0)),
        "around(board, random member, 5)": await timed(
            calls, lambda i: store.around(BOARD, targets[i], 5)),
        "standing(board, random member)": await timed(
            calls, lambda i: store.standing(BOARD, targets[i])),
    }


async def store_part(args: argparse.Namespace) -> list[tuple[int, dict[str, list[float]]]]:
    import redis.asyncio as aioredis

    from gamification.leaderboards.store import RedisStore

    prefix = f"lbbench{uuid.uuid4().hex[:10]}"
    client = aioredis.from_url(harness.REDIS_URL)
    store = RedisStore(client, prefix)
    await client.set(f"{prefix}:lb:generation", "bench")
    key = f"{prefix}:lbz:bench:{BOARD}"
    rng = random.Random(42)
    results = []
    size_now = 0
    try:
        for size in args.sizes:
            started = time.perf_counter()
            await fill(client, key, size_now + 1, size + 1, rng)
            added, size_now = size - size_now, size
            members = int(await client.zcard(key))
            memory = await client.memory_usage(key) or 0
            log(f"[store] {members:,} members on the board ({time.perf_counter() - started:.1f}s "
                f"to ZADD {added:,}); measuring")
            measured = await measure_store(client, store, size, args.calls)
            page = await store.top(BOARD, 100, 0)
            results.append((members, measured))
            print(f"\n-- store: {members:,} members on one board; key uses "
                  f"{memory / 1e6:.0f} MB in Redis; top score {page[0].score}, "
                  f"{sum(1 for i, s in enumerate(page) if s.rank != i + 1)} rows of the top 100 share "
                  "a rank")
            print(HEADER)
            for name, latencies in measured.items():
                print(row(name, latencies, target=not name.startswith("PING")))
    finally:
        keys = [k async for k in client.scan_iter(f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    return results


# --- part 2: the endpoints -----------------------------------------------------------------


async def copy_members(database_url: str, count: int) -> list[int]:
    import asyncpg

    tag = uuid.uuid4().hex[:6]
    now = dt.datetime.now(dt.UTC)
    # A generator: a million tuples at once would hold about a gigabyte.
    records = ((f"lb{tag}{i}", f"lb{tag}{i}", f"lb{tag}{i}@bench.example.test", "!bench",
                f"Bench member {i}", "", "member", True, now) for i in range(count))
    connection = await asyncpg.connect(database_url)
    try:
        await connection.copy_records_to_table(
            "member", records=records,
            columns=["handle", "handle_key", "email", "password_hash", "display_name", "bio",
                     "role", "is_active", "created_at"])
        await connection.execute("ANALYZE member")
        rows = await connection.fetch("SELECT id FROM member WHERE handle LIKE $1 ORDER BY id",
                                      f"lb{tag}%")
    finally:
        await connection.close()
    return [int(r["id"]) for r in rows]


async def board_members(redis_url: str, prefix: str, ids: list[int], extra: int) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    rng = random.Random(11)
    try:
        # The deployment's first (empty) build, which its first reads asked for.
        deadline = time.monotonic() + 60
        while (generation := await client.get(f"{prefix}:lb:generation")) is None:
            assert time.monotonic() < deadline, "the deployment never built its boards"
            await asyncio.sleep(0.1)
        key = f"{prefix}:lbz:{generation.decode()}:{BOARD}"
        async with client.pipeline(transaction=False) as pipe:
            for low in range(0, len(ids), ZADD_CHUNK):
                chunk = ids[low:low + ZADD_CHUNK]
                pipe.zadd(key, {f"{m:010d}": s for m, s in
                                zip(chunk, scores(rng, len(chunk)), strict=True)})
            await pipe.execute()
        # The signed-in member goes mid-board (the median score).
        middle = await client.zrevrange(key, len(ids) // 2, len(ids) // 2, withscores=True)
        await client.zadd(key, {f"{extra:010d}": int(middle[0][1])})
    finally:
        await client.aclose()


async def service_part(env: dict[str, str], member_ids: list[int], me: int,
                       calls: int) -> dict[str, list[float]]:
    """The service functions behind the endpoints, with the server's own code, no HTTP."""
    for name in [k for k in os.environ if k.startswith("HEARTH_")]:
        del os.environ[name]
    os.environ.update({k: v for k, v in env.items() if k.startswith("HEARTH_")})
    from gamification.leaderboards import services
    from server import runtime
    from server.accounts.services import member_names
    from server.auth import ANONYMOUS
    from server.settings import get_settings

    get_settings.cache_clear()
    await runtime.start(get_settings(), role="cli")
    try:
        page = await services.store().top(BOARD, 100, 0)
        top_ids = {s.member_id for s in page}
        pick = random.Random(5)
        targets = [pick.choice(member_ids) for _ in range(calls + 100)]
        return {
            "member_names(the top 100's ids)  [PostgreSQL]": await timed(
                calls, lambda i: member_names(top_ids)),
            "services.top('all-time', 100, 0)  (cached)": await timed(
                calls, lambda i: services.top(ANONYMOUS, BOARD, 100, 0)),
            "services._top('all-time', 100, 0)  (uncached)": await timed(
                calls, lambda i: services._top(BOARD, 100, 0)),
            "services.around('all-time', me, 5)": await timed(
                calls, lambda i: services.around(ANONYMOUS, BOARD, me, 5)),
            "services.around('all-time', random, 5)": await timed(
                calls, lambda i: services.around(ANONYMOUS, BOARD, targets[i], 5)),
        }
    finally:
        await runtime.stop()


async def written(database_url: str) -> tuple[int, dict[str, int]]:
    """Rows inserted, updated or deleted in the database so far, and each sequence's value."""
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetchval(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables")
        sequences = await connection.fetch("SELECT sequencename, last_value FROM pg_sequences")
    finally:
        await connection.close()
    return int(rows), {r["sequencename"]: r["last_value"] for r in sequences}


def http_rounds(targets: dict[str, tuple[Any, Callable[[int], str]]], requests: int,
                rounds: int) -> dict[str, list[float]]:
    """`requests` sequential requests per target (client, path of the i-th request), after 50
    warm-up ones each, spread over `rounds` rounds that visit every target in turn."""
    for client, path in targets.values():
        for i in range(50):
            response = client.get(path(i))
            assert response.status_code == 200, response.text[:300]
    out: dict[str, list[float]] = {name: [] for name in targets}
    per_round = max(1, requests // rounds)
    for r in range(rounds):
        for name, (client, path) in targets.items():
            for i in range(r * per_round, (r + 1) * per_round):
                started = time.perf_counter()
                response = client.get(path(i))
                out[name].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text[:300]
    return out


def endpoint_part(args: argparse.Namespace) -> tuple[dict[str, list[float]], str]:
    """The HTTP figures, and what the reads wrote to PostgreSQL (nothing, they should)."""
    log(f"[http] starting a scaled deployment; {args.http_members:,} members by COPY")
    with deployment("scaled", servers=1, keep=args.keep, target=target_of(args)) as dep:
        server = dep.servers[0]
        env = dep.stack.env
        started = time.perf_counter()
        ids = _run(copy_members(env["HEARTH_DATABASE_URL"], args.http_members))
        me = server.client().register()
        me_id = int(me.member["id"])
        anon = server.client()
        assert anon.get(f"/api/leaderboards/{BOARD}").status_code == 200
        _run(board_members(env["HEARTH_REDIS_URL"], env["HEARTH_REDIS_PREFIX"], ids, me_id))
        log(f"[http] {len(ids):,} members in PostgreSQL and on the board in "
            f"{time.perf_counter() - started:.1f}s; measuring")
        pick = random.Random(3)
        targets = [pick.choice(ids) for _ in range(args.requests + 50)]
        # The first read cached the empty board for up to a second.
        top = harness.eventually(lambda: (page := anon.get(
            f"/api/leaderboards/{BOARD}?limit=100").json()) and len(page["items"]) == 100 and page,
            timeout=10)
        around = me.get(f"/api/leaderboards/{BOARD}/around-me?n=5").json()
        assert around["me"] and len(around["items"]) == 11, str(around)[:300]
        log(f"[http] {STATS_LAG_SECONDS}s for PostgreSQL's write counters to settle, then measuring")
        time.sleep(STATS_LAG_SECONDS)
        before = _run(written(env["HEARTH_DATABASE_URL"]))
        measured = http_rounds({
            PING: (anon.http, lambda i: "/api/ping"),
            TOP: (anon.http, lambda i: f"/api/leaderboards/{BOARD}?limit=100"),
            TOP_UNCACHED: (anon.http, lambda i: f"/api/leaderboards/{BOARD}?limit=100&offset=1"),
            AROUND_ME: (me.http, lambda i: f"/api/leaderboards/{BOARD}/around-me?n=5"),
            "GET .../all-time/members/<random>?n=5": (
                anon.http, lambda i: f"/api/leaderboards/{BOARD}/members/{targets[i]}?n=5"),
        }, args.requests, args.rounds)
        moved = sorted(name for name, value in _run(written(env["HEARTH_DATABASE_URL"]))[1].items()
                       if value != before[1].get(name))
        log(f"[http] {STATS_LAG_SECONDS}s for PostgreSQL's write counters to settle")
        time.sleep(STATS_LAG_SECONDS)
        rows = _run(written(env["HEARTH_DATABASE_URL"]))[0] - before[0]
        writes = (f"{rows} rows written and {len(moved)} sequences moved in PostgreSQL during "
                  f"the {sum(len(v) for v in measured.values()):,} reads"
                  + (f" ({', '.join(moved)})" if moved else ""))
        print(f"\n-- HTTP, scaled deployment, one server process: {len(ids) + 1:,} members in "
              "PostgreSQL and on the all-time board; sequential requests, one keep-alive "
              f"connection per client (httpx in this process), {args.rounds} alternating rounds")
        print(f"   top page: rank 1 {top['items'][0]['member']['handle']} with "
              f"{top['items'][0]['score']} points; around-me: rank {around['me']['rank']:,}")
        print(HEADER)
        for name, latencies in measured.items():
            print(row(name, latencies, target=name != PING))
        print(f"   {writes}")
        anon.http.close()
        me.http.close()
        log("[http] the service functions in this process (server code, no HTTP)")
        service = _run(service_part(env, ids, me_id, args.calls))
        print("\n-- the same, without HTTP: service functions called in this process "
              "(server code, runtime role=cli)")
        print(HEADER)
        for name, latencies in service.items():
            print(row(name, latencies, target=not name.startswith("member_names")))
        return measured, writes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="board sizes for the store part, ascending, comma-separated")
    parser.add_argument("--calls", type=int, default=2000, help="calls per store operation")
    parser.add_argument("--http-members", type=int, default=1_000_000,
                        help="member rows for the HTTP part (0 skips it)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per endpoint")
    parser.add_argument("--rounds", type=int, default=10,
                        help="alternating rounds the HTTP requests are spread over")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    add_target_options(parser)
    args = parser.parse_args()
    args.sizes = sorted({min(max(int(s), 1000), 5_000_000) for s in args.sizes.split(",") if s})
    args.calls = min(max(args.calls, 10), 100_000)
    args.http_members = min(max(args.http_members, 0), 2_000_000)
    args.requests = min(max(args.requests, 10), 100_000)
    args.rounds = min(max(args.rounds, 1), args.requests)
    print("leaderboard_latency: leaderboard reads with Redis sorted sets (scaled mode)")
    print(machine_note())
    missing = harness.services_reachable()
    if missing:
        print(f"\nskipped: scaled mode needs {missing}")
        return 0
    log(f"[store] boards of {', '.join(f'{s:,}' for s in args.sizes)} members, "
        f"{args.calls} calls per operation")
    results = _run(store_part(args))
    http, writes = endpoint_part(args) if args.http_members else ({}, "")
    largest, measured = results[-1]
    print("\n" + summary(largest, measured, args.http_members, http, writes))
    return 0


def summary(largest: int, store: dict[str, list[float]], http_members: int,
            http: dict[str, list[float]], writes: str) -> str:
    """One line: what was measured, the figures against the target, the baseline, the load."""
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])

    def p(name: str, figures: dict[str, list[float]]) -> str:
        p50, p99, _ = stats(figures[name])
        return f"p50 {p50:.2f} p99 {p99:.2f} ms"

    if http:
        judged = [stats(http[name])[1] for name in (TOP, TOP_UNCACHED, AROUND_ME)]
        verdict = "met" if max(judged) <= TARGET_P99_MS else "MISSED"
        return (f"summary: HTTP at {http_members + 1:,} members (scaled, one server process, "
                f"sequential): top-100 {p(TOP, http)} (uncached {p(TOP_UNCACHED, http)}), "
                f"around-me {p(AROUND_ME, http)}; target p99 <= {TARGET_P99_MS:g} ms {verdict}; "
                f"baseline /api/ping {p(PING, http)}, store top(100) at {largest:,} "
                f"{p('top(board, 100, 0)', store)}; {writes}; load average {load}")
    judged = [stats(v)[1] for name, v in store.items() if not name.startswith("PING")]
    verdict = "met" if max(judged) <= TARGET_P99_MS else "MISSED"
    return (f"summary: the store alone at {largest:,} members (HTTP skipped): top(100) "
            f"{p('top(board, 100, 0)', store)}, around "
            f"{p('around(board, random member, 5)', store)}; target p99 <= "
            f"{TARGET_P99_MS:g} ms {verdict}; baseline Redis PING "
            f"{p('PING (round-trip floor)', store)}; load average {load}")


if __name__ == "__main__":
    sys.exit(main())
