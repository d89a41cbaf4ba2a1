"""Ledger write throughput, scaled mode (PostgreSQL): what the hash chain costs each write.

On a fresh, migrated database, 16 concurrent tasks in one process call the ledger's services
directly (no HTTP, no outbox relay): `--posts` (default 2,000) single posts that all draw on
the issuance account (already serialised by its lock), the same count on disjoint accounts
(each task moves points between two budgets of its own, serialised only by the chain's head),
and `--batches` (default 100) calls of `post_many` with 100 transactions each (the award
pipeline's path). Then `hearth ledger-verify` walks the chain it made (timed).

    .venv/bin/python bench/ledger_writes.py [--posts 2000] [--batches 100]

Figures are printed, never asserted; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, build_stack, log, machine_note, summary

from tests import harness

TASKS = 16


async def measure(posts: int, batches: int) -> None:
    from gamification.ledger import services as ledger
    from server import db, runtime
    from server.settings import get_settings

    await runtime.start(get_settings(), role="cli")
    try:
        run = uuid.uuid4().hex[:6]
        brands = []
        for i in range(2 * TASKS):
            rows = await db.fetch("INSERT INTO brand (name, slug, created_at) "
                                  "VALUES ({}, {}, now()) RETURNING id", f"b{i}", f"b{run}{i}")
            brands.append(ledger.brand_budget_account(int(rows[0]["id"])))
        await ledger.post_many([ledger.NewTransaction(
            key=f"fund-{run}-{b}", kind="funding", reason="bench", source="bench",
            postings=[(b, 10**6), (ledger.ISSUANCE, -10**6)]) for b in brands])

        async def timed(work: list[list[tuple[str, int]]], label: str) -> None:
            async def task(t: int) -> None:
                for j in range(t, len(work), TASKS):
                    await ledger.post(key=f"{label}-{run}-{j}", kind="funding", reason="bench",
                                      source="bench", postings=work[j])
            start = time.perf_counter()
            await asyncio.gather(*(task(t) for t in range(TASKS)))
            rate = len(work) / (time.perf_counter() - start)
            summary(f"single posts, {label}", f"{rate:,.0f} transactions/s ({TASKS} tasks)")

        await timed([[(brands[j % TASKS], 1), (ledger.ISSUANCE, -1)] for j in range(posts)],
                    "sharing issuance")
        await timed([[(brands[j % TASKS], (-1) ** j), (brands[j % TASKS + TASKS], -(-1) ** j)]
                     for j in range(posts)], "disjoint accounts")
        start = time.perf_counter()
        for s in range(batches):
            await ledger.post_many([ledger.NewTransaction(
                key=f"many-{run}-{s}-{j}", kind="funding", reason="bench", source="bench",
                postings=[(brands[j % len(brands)], 1), (ledger.ISSUANCE, -1)])
                for j in range(100)])
        rate = batches * 100 / (time.perf_counter() - start)
        summary("post_many, 100 a batch", f"{rate:,.0f} transactions/s (one task)")
    finally:
        await runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        asyncio.run(measure(args.posts, args.batches))
        return
    with tempfile.TemporaryDirectory() as workdir:
        stack = build_stack("scaled", Path(workdir))
        try:
            stack.run("migrate")
            log(machine_note())
            subprocess.run([sys.executable, __file__, "--inner", "--posts", str(args.posts),
                            "--batches", str(args.batches)],
                           env={**stack.env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, check=True)
            start = time.perf_counter()
            verified = stack.run("ledger-verify", timeout=600)
            summary("hearth ledger-verify", f"{time.perf_counter() - start:.1f} s: "
                    + verified.stdout.strip().splitlines()[-1])
        finally:
            harness.drop_stack(stack)
            os.sync()


if __name__ == "__main__":
    main()
