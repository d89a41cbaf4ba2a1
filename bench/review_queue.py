"""The review queue's first page with 100,000 open items (issue 12): p99 of
GET /api/moderation/items.

For each mode (embedded: SQLite; scaled: PostgreSQL + Redis, with a Celery worker and beat as
in the test harness) this starts one server process on a fresh database, signs an admin in
(`hearth create-admin`; admins moderate) and inserts --items open review items by SQL (COPY
on PostgreSQL): posts, threads and profiles, scores from 1 to 60, spread over 20 categories
and 5 brands (a fifth of them brandless), created over the past 30 days.

Then --requests requests, one at a time over one keep-alive connection with the admin's
session cookie, cycling through what the moderator console asks for:

    the first page by score (the default)      ?limit=25
    the first page by age                      ?sort=age
    posts only, by score                       ?kind=post
    one category, by score                     ?category_id=7
    one brand, by age                          ?brand_id=3&sort=age
    the second page by score                   ?cursor=<the first page's next_cursor>

and GET /api/ping as the floor the machine allows, in the same run. Latency is measured by
the client, wall clock from sending to the whole body read; p50/p99/max per kind and over all
queue pages. Figures are printed, never asserted. Target: p99 <= 50 ms over all queue pages.

    .venv/bin/python bench/review_queue.py [--mode embedded|scaled|both] [--items 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    MODES,
    Deployment,
    add_target_options,
    admin_client,
    deployment,
    log,
    machine_note,
    percentile,
    summary,
    target_of,
)

from tests.harness import Client

TARGET_P99_MS = 50.0
PING = "GET /api/ping (the floor)"
COLUMNS = ["target_type", "target_id", "source", "status", "score", "flag_count", "brand_id",
           "category_id", "author_id", "label", "excerpt", "url", "held_reason",
           "hidden_by_flags", "resolution_action", "resolution_reason", "created_at",
           "updated_at", "version"]
KINDS = ("post", "post", "post", "thread", "profile")


def items(count: int, seed: int, author_id: int) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    out = []
    for n in range(1, count + 1):
        kind = rng.choice(KINDS)
        category = None if kind == "profile" else rng.randint(1, 20)
        brand = None if category is None or category % 5 == 0 else category % 5
        score = rng.randint(1, 60)
        created = now - dt.timedelta(seconds=rng.randint(0, 30 * 86400))
        out.append((kind, n, "flags", "open", score, max(1, score // 2), brand, category,
                    author_id, f"{kind} #{n} in 'A bench thread'",
                    "cheap watches at example.test " * 4, f"#/t/{n}", "", score >= 10, "", "",
                    created, created, 1))
    return out


def insert_items(dep: Deployment, rows: list[tuple[Any, ...]]) -> None:
    if dep.mode == "scaled":
        asyncio.run(_copy(dep.stack.env["HEARTH_DATABASE_URL"], rows))
        return
    db = sqlite3.connect(dep.stack.workdir / "data" / "hearth.db", timeout=30)
    try:
        # Timestamps stored as the server stores them: the admin's row shows the format.
        created = db.execute("SELECT created_at FROM member ORDER BY id LIMIT 1").fetchone()[0]
        db.executemany(
            f"INSERT INTO moderation_review_item ({', '.join(COLUMNS)}) VALUES "
            f"({', '.join('?' for _ in COLUMNS)})",
            [(*r[:13], int(r[13]), r[14], r[15], created, created, r[18]) for r in rows])
        db.commit()
        db.execute("ANALYZE")
    finally:
        db.close()


async def _copy(database_url: str, rows: list[tuple[Any, ...]]) -> None:
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        await connection.copy_records_to_table("moderation_review_item", records=rows,
                                               columns=COLUMNS)
        await connection.execute("ANALYZE moderation_review_item")
    finally:
        await connection.close()


def plan(admin: Client, count: int) -> list[tuple[str, dict[str, Any]]]:
    first = admin.get("/api/moderation/items", params={"limit": 25}).json()
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("first page by score", {"limit": 25}),
        ("first page by age", {"limit": 25, "sort": "age"}),
        ("posts, by score", {"limit": 25, "kind": "post"}),
        ("one category, by score", {"limit": 25, "category_id": 7}),
        ("one brand, by age", {"limit": 25, "brand_id": 3, "sort": "age"}),
        ("second page by score", {"limit": 25, "cursor": first["next_cursor"]}),
        (PING, {}),
    ]
    return [kinds[n % len(kinds)] for n in range(count)]


def run(admin: Client, requests: list[tuple[str, dict[str, Any]]]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for kind, params in requests:
        path = "/api/ping" if kind == PING else "/api/moderation/items"
        started = time.perf_counter()
        response = admin.get(path, params=params)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (kind, params, response.text)
        if kind != PING:
            assert len(response.json()["items"]) == 25, (kind, params)
        timings.setdefault(kind, []).append(elapsed)
    return timings


def bench_mode(mode: str, args: argparse.Namespace) -> float | None:
    with deployment(mode, servers=1, target=target_of(args)) as dep:
        server = dep.servers[0]
        admin = admin_client(dep, server)
        log(f"[{mode}] inserting {args.items:,} open review items by SQL")
        insert_items(dep, items(args.items, args.seed, int(admin.member["id"])))
        total = int(dep.stack.sql(
            "SELECT COUNT(*) FROM moderation_review_item WHERE status = 'open'")[0][0])
        log(f"[{mode}] {total:,} open items; {args.warmup} warm-up requests")
        run(admin, plan(admin, args.warmup))
        log(f"[{mode}] {args.requests} requests, one at a time")
        timings = run(admin, plan(admin, args.requests))
        pages = [t for kind, values in timings.items() if kind != PING for t in values]
        print(f"\n== {mode} mode: one server process, {total:,} open review items")
        print(f"   {'request':<30}{'calls':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        for kind, values in [*timings.items(), ("all queue pages", pages)]:
            print(f"   {kind:<30}{len(values):>7}{percentile(values, 50):>9.2f}"
                  f"{percentile(values, 99):>9.2f}{max(values):>9.2f}")
        p99 = percentile(pages, 99)
        print(f"   {'met   ' if p99 <= TARGET_P99_MS else 'MISSED'}  all queue pages p99 "
              f"{p99:.2f} ms <= {TARGET_P99_MS:g} ms")
        return p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1400, help="measured requests per mode")
    parser.add_argument("--warmup", type=int, default=140)
    parser.add_argument("--seed", type=int, default=12)
    add_target_options(parser)
    args = parser.parse_args()
    args.items = min(max(args.items, 1000), 2_000_000)
    args.requests = min(max(args.requests, 10), 100_000)
    print("review_queue: the moderators' review queue, first pages over HTTP")
    print(machine_note())
    results: dict[str, float] = {}
    for mode in MODES if args.mode == "both" else [args.mode]:
        try:
            p99 = bench_mode(mode, args)
        except RuntimeError as exc:
            print(f"\n== {mode} mode: skipped: {exc}")
            continue
        if p99 is not None:
            results[mode] = p99
    print()
    figures = "; ".join(
        f"{mode} p99 {p99:.2f} ms {'met' if p99 <= TARGET_P99_MS else 'MISSED'}"
        for mode, p99 in results.items()) or "nothing measured"
    summary(f"review_queue, GET /api/moderation/items over {args.items:,} open items, one at a "
            f"time, target p99 <= {TARGET_P99_MS:g} ms", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
