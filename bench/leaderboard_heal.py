"""How long leaderboards take to heal themselves after Redis loses them, at 100k members,
scaled mode; and what reads cost meanwhile (from the ledger) and after (from the store).

A scaled deployment (fresh PostgreSQL database + Redis prefix, one server process, a Celery
worker and beat, as in the test harness). `--members` (default 100,000) member rows are
COPYed into PostgreSQL, each with `--awards` (default 3) award transactions in the ledger
(a member posting and its issuance counter-posting, amounts 1..200, dated over the last 60
days), COPYed too. A first read finds the store cold and the deployment builds it (timed:
"first build"). Then every `{prefix}:lb*` key is deleted (a Redis restarted empty, or
FLUSHDB), and at once, sequentially over one keep-alive connection, the bench alternates
`GET /api/leaderboards/all-time?limit=100` and `GET /api/leaderboards/all-time/members/<random
id>?n=5` until the store is warm again (the generation mark back in Redis, polled between
requests): those are the reads served from the ledger while healing. The heal time runs from
the deletion to the mark. The first healing page is checked against the page the store
served before the loss. Then `--requests` (default 300) of each request against the healed
store. p50/p99/max in ms, with the load average before and after (a build competes with
whatever else runs on the machine).

    .venv/bin/python bench/leaderboard_heal.py [--members 100000] [--awards 3] [--requests 300]

Figures are printed, never asserted; everything is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    add_target_options,
    deployment,
    log,
    machine_note,
    percentile,
    summary,
    target_of,
)

HEADER = f"   {'reads':<52}{'calls':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"


def row(name: str, latencies: list[float]) -> str:
    if not latencies:
        return f"   {name:<52}{0:>7}"
    return (f"   {name:<52}{len(latencies):>7}{percentile(latencies, 50):>9.1f}"
            f"{percentile(latencies, 99):>9.1f}{max(latencies):>9.1f}")


async def seed(database_url: str, members: int, awards: int) -> list[int]:
    """Members, their accounts and their award transactions, by COPY; returns the ids."""
    import asyncpg

    rng = random.Random(5)
    tag = uuid.uuid4().hex[:6]
    now = dt.datetime.now(dt.UTC)
    connection = await asyncpg.connect(database_url)
    try:
        await connection.copy_records_to_table(
            "member", records=[
                (f"h{tag}{i}", f"h{tag}{i}", f"h{tag}{i}@bench.example.test", "!bench",
                 f"Heal member {i}", "", "member", True, now) for i in range(members)],
            columns=["handle", "handle_key", "email", "password_hash", "display_name", "bio",
                     "role", "is_active", "created_at"])
        ids = [int(r["id"]) for r in await connection.fetch(
            "SELECT id FROM member WHERE handle LIKE $1 ORDER BY id", f"h{tag}%")]
        issuance = await connection.fetchval(
            "INSERT INTO ledger_account (code, kind, balance, min_balance, created_at) "
            "VALUES ('issuance', 'issuance', 0, NULL, now()) "
            "ON CONFLICT (code) DO UPDATE SET code = excluded.code RETURNING id")
        first_account = await connection.fetchval(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM ledger_account")
        accounts = {m: first_account + i for i, m in enumerate(ids)}
        first_tx = await connection.fetchval(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM ledger_transaction")
        first_posting = await connection.fetchval(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM ledger_posting")
        transactions, postings, balances = [], [], dict.fromkeys(ids, 0)
        for n, (member, _) in enumerate((m, a) for m in ids for a in range(awards)):
            amount = rng.randint(1, 200)
            when = now - dt.timedelta(seconds=rng.randint(0, 60 * 86400))
            tx = first_tx + n
            transactions.append((tx, f"bench:{tag}:{n}", "0" * 64, "award", "bench",
                                 f"bench:{tag}:{n}", when))
            postings.append((first_posting + 2 * n, tx, accounts[member], amount, when))
            postings.append((first_posting + 2 * n + 1, tx, issuance, -amount, when))
            balances[member] += amount
        await connection.copy_records_to_table(
            "ledger_account", records=[
                (accounts[m], f"member:{m}", "member", m, balances[m], 0, now) for m in ids],
            columns=["id", "code", "kind", "member", "balance", "min_balance", "created_at"])
        await connection.copy_records_to_table(
            "ledger_transaction", records=transactions,
            columns=["id", "idempotency_key", "inputs_hash", "kind", "reason", "source",
                     "created_at"])
        await connection.copy_records_to_table(
            "ledger_posting", records=postings,
            columns=["id", "ledger_transaction", "account", "amount", "created_at"])
        await connection.execute("UPDATE ledger_account SET balance = balance - $1 WHERE id = $2",
                                 sum(balances.values()), issuance)
        for table in ("ledger_account", "ledger_transaction", "ledger_posting"):
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT MAX(id) FROM {table}))")
            await connection.execute(f"ANALYZE {table}")
        await connection.execute("ANALYZE member")
    finally:
        await connection.close()
    return ids


def warm(client: Any, prefix: str) -> bool:
    return client.get(f"{prefix}:lb:generation") is not None


def wait_warm(client: Any, prefix: str, timeout: float = 600) -> float:
    """Seconds until the store is marked warm."""
    started = time.perf_counter()
    while not warm(client, prefix):
        if time.perf_counter() - started > timeout:
            raise AssertionError(f"the boards did not heal within {timeout}s")
        time.sleep(0.02)
    return time.perf_counter() - started


def timed_get(http: Any, path: str) -> tuple[float, Any]:
    started = time.perf_counter()
    response = http.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text[:300]
    return elapsed, response.json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--awards", type=int, default=3, help="award transactions per member")
    parser.add_argument("--requests", type=int, default=300, help="reads of each kind after healing")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    add_target_options(parser)
    args = parser.parse_args()
    args.members = min(max(args.members, 100), 2_000_000)
    args.awards = min(max(args.awards, 1), 20)
    args.requests = min(max(args.requests, 10), 100_000)
    import redis

    from tests import harness

    print("leaderboard_heal: boards healing themselves after Redis lost them (scaled mode)")
    print(machine_note())
    missing = harness.services_reachable()
    if missing:
        print(f"\nskipped: scaled mode needs {missing}")
        summary("leaderboard_heal", "nothing measured")
        return 0
    with deployment("scaled", servers=1, keep=args.keep, target=target_of(args)) as dep:
        env = dep.stack.env
        prefix = env["HEARTH_REDIS_PREFIX"]
        client = redis.Redis.from_url(env["HEARTH_REDIS_URL"])
        started = time.perf_counter()
        ids = asyncio.run(seed(env["HEARTH_DATABASE_URL"], args.members, args.awards))
        log(f"{len(ids):,} members and {len(ids) * args.awards:,} awards seeded in "
            f"{time.perf_counter() - started:.1f}s")
        anon = dep.servers[0].client()
        pick = random.Random(3)
        top = "/api/leaderboards/all-time?limit=100"

        def around(_: int) -> str:
            return f"/api/leaderboards/all-time/members/{pick.choice(ids)}?n=5"

        # The first read finds the store cold: timed from before it, as the heal below is.
        built = concurrent.futures.ThreadPoolExecutor(1).submit(wait_warm, redis.Redis.from_url(
            env["HEARTH_REDIS_URL"]), prefix)
        timed_get(anon.http, top)
        first_build = built.result()
        _, before = timed_get(anon.http, top)
        log(f"first build done in {first_build:.1f}s; deleting the leaderboard keys")

        keys = list(client.scan_iter(f"{prefix}:lb*", count=1000))
        client.delete(*keys)
        # The mark is watched from a thread of its own, so the heal time does not wait for
        # the read under way.
        healed = concurrent.futures.ThreadPoolExecutor(1).submit(wait_warm, redis.Redis.from_url(
            env["HEARTH_REDIS_URL"]), prefix)
        healing: dict[str, list[float]] = {"top": [], "around": []}
        first_page = None
        paths: list[tuple[str, Callable[[int], str]]] = [("top", lambda _: top),
                                                         ("around", around)]
        i = 0
        while not healed.done():
            kind, path = paths[i % 2]
            elapsed, page = timed_get(anon.http, path(i))
            if not warm(client, prefix):  # a read that ended before the mark came from SQL
                healing[kind].append(elapsed)
                if kind == "top" and first_page is None:
                    first_page = page
            i += 1
        heal_seconds = healed.result()
        after: dict[str, list[float]] = {"top": [], "around": []}
        for n in range(args.requests):
            for kind, path in paths:
                after[kind].append(timed_get(anon.http, path(n))[0])
        _, healed_page = timed_get(anon.http, top)
        anon.http.close()
        client.close()

    print(f"\n-- {len(ids):,} members, {len(ids) * args.awards:,} award transactions "
          f"({args.awards} each) on the all-time board")
    print(f"   first build (fresh deployment, first read to mark):  {first_build:.2f} s")
    print(f"   self-heal after deleting every leaderboard key:      {heal_seconds:.2f} s "
          f"(deletion to mark; no command run)")
    print(f"   first page read while healing equals the store's before the loss: "
          f"{first_page == before}; healed page equals it: {healed_page == before}")
    print(HEADER)
    print(row("while healing, from the ledger: top 100", healing["top"]))
    print(row("while healing, from the ledger: members/<id>?n=5", healing["around"]))
    print(row("healed, from the store: top 100", after["top"]))
    print(row("healed, from the store: members/<id>?n=5", after["around"]))
    print()
    summary(f"leaderboard_heal, boards rebuilt after losing every key, {len(ids):,} members",
            f"healed in {heal_seconds:.2f} s (first build {first_build:.2f} s); top-100 p99 "
            f"{_p99(healing['top'])} while healing, {_p99(after['top'])} healed")
    return 0


def _p99(latencies: list[float]) -> str:
    return f"{percentile(latencies, 99):.1f} ms" if latencies else "n/a (no read)"


if __name__ == "__main__":
    raise SystemExit(main())
