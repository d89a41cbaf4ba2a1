"""Inbound `order.completed` events per second, end to end: from the brand's shop posting
them over HTTP to the points being posted in the ledger.

On one deployment (scaled by default: PostgreSQL + Redis, one server process, one Celery
worker with --concurrency 2 and beat, as the test harness starts them) this makes, over the
API, a brand with 100,000 points of budget, a brand staff member, an API token with the
'events' scope and one brand rule, {"event_types": ["order.completed"], "points": "amount"}
(a point per euro), then --members members. HEARTH_INBOUND_RATE_LIMIT is lifted for the run.

Load: --loaders processes (default 2), each an asyncio loop holding --concurrency keep-alive
connections (default 16 each), post N events between them (default 5,000), each with its own
Idempotency-Key and order id, members round-robin, amount "12.50" EUR (12 points).

Baseline: the same loaders send N `GET /api/ping` first (routing, the auth hook and JSON, no
database): what this client and this server process can do at all on this machine.

Marks, from the first request: every POST answered (the ingest rate), and the ledger holding
an award for every accepted event (SQL: gamification_rule_award of the bench rule; polled
every 50 ms). events/s is accepted events / the second mark. Target: >= 1,000 events/s
scaled. Figures are printed, never asserted; the last line carries the load average.

    .venv/bin/python bench/inbound.py [--mode scaled|embedded] [--events N] [--members M]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import (
    MODES,
    add_target_options,
    admin_client,
    cpu_seconds,
    deployment,
    log,
    machine_note,
    summary,
    target_of,
)

TARGET = 1000.0
POINTS_EACH = 12


async def _load(url: str, token: str, members: list[int], keys: list[str],
                concurrency: int) -> tuple[int, int]:
    """Post one event per key; (accepted, refused or failed)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    accepted = failed = 0
    queue = list(reversed(keys))
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        async def worker(slot: int) -> None:
            nonlocal accepted, failed
            while queue:
                key = queue.pop()
                if not token:
                    response = await client.get("/api/ping")
                else:
                    member = members[hash(key) % len(members)]
                    response = await client.post("/api/integrations/events", json={
                        "type": "order.completed", "member": {"id": member},
                        "data": {"order_id": key, "amount": "12.50", "currency": "EUR"},
                    }, headers={**headers, "Idempotency-Key": key})
                if response.status_code in (200, 201):
                    accepted += 1
                else:
                    failed += 1
                    if failed <= 3:
                        log(f"answer {response.status_code}: {response.text[:200]}")

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return accepted, failed


def _loader(url: str, token: str, members: list[int], keys: list[str], concurrency: int,
            out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(asyncio.run(_load(url, token, members, keys, concurrency)))


def _run_loaders(url: str, token: str, members: list[int], keys: list[str], loaders: int,
                 concurrency: int) -> tuple[int, int, float]:
    """(accepted, failed, seconds) with the keys split between loader processes."""
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    procs = [multiprocessing.Process(target=_loader, args=(
        url, token, members, keys[i::loaders], concurrency, out)) for i in range(loaders)]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    results = [out.get() for _ in procs]
    seconds = time.monotonic() - started
    for proc in procs:
        proc.join()
    return sum(r[0] for r in results), sum(r[1] for r in results), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, default="scaled")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--loaders", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=300)
    add_target_options(parser)
    args = parser.parse_args()
    log(machine_note())
    env = {"HEARTH_INBOUND_RATE_LIMIT": "100000000/60"}
    with deployment(args.mode, server_env=env, target=target_of(args)) as dep:
        server = dep.servers[0]
        admin = admin_client(dep, server)
        for rule in admin.get("/api/gamification/rules").json():
            admin.patch(f"/api/gamification/rules/{rule['id']}", {"enabled": False})
        brand = admin.post("/api/brands", {"name": "Bench shop",
                                           "slug": "bench-" + uuid.uuid4().hex[:8]}).json()
        staff = server.client().register()
        admin.put(f"/api/members/{staff.member['id']}/role",
                  {"role": "brand_staff", "brand_id": brand["id"]})
        token = staff.post(f"/api/brands/{brand['id']}/tokens",
                           {"name": "bench", "scopes": ["events"]}).json()["secret"]
        funded = admin.post(f"/api/gamification/brands/{brand['id']}/budget", {
            "amount": POINTS_EACH * args.events * 2, "reason": "bench",
            "idempotency_key": "bench-" + uuid.uuid4().hex})
        assert funded.status_code == 201, funded.text
        made = staff.post("/api/gamification/rules", {
            "name": "bench: a point per euro", "event_types": ["order.completed"],
            "points": "amount", "brand_id": brand["id"]})
        assert made.status_code == 201, made.text
        rule_id = int(made.json()["id"])
        with ThreadPoolExecutor(8) as pool:
            members = list(pool.map(lambda _: int(server.client().register().member["id"]),
                                    range(args.members)))
        log(f"[{args.mode}] {args.members} members, rule {rule_id}, brand {brand['id']}")

        run = uuid.uuid4().hex[:8]
        _, _, ping_seconds = _run_loaders(server.url, "", members,
                                          [f"p{i}" for i in range(args.events)],
                                          args.loaders, args.concurrency)
        baseline = args.events / ping_seconds
        log(f"baseline: {args.events} GET /api/ping in {ping_seconds:.2f} s = {baseline:.0f}/s")

        procs = {"server": server.process.popen.pid,
                 **{p.name: p.popen.pid for p in dep.stack.processes if p.name != "server"}}
        cpu_before = {name: cpu_seconds(pid) for name, pid in procs.items()}
        keys = [f"{run}-{i}" for i in range(args.events)]
        started = time.monotonic()
        accepted, failed, ingest_seconds = _run_loaders(server.url, token, members, keys,
                                                        args.loaders, args.concurrency)
        ingest_mark = time.monotonic() - started
        log(f"ingest: {accepted} accepted, {failed} refused or failed, in {ingest_seconds:.2f} s")
        posted = 0
        deadline = started + args.timeout
        while time.monotonic() < deadline:
            posted = int(dep.stack.sql(
                f"SELECT COUNT(*) FROM gamification_rule_award WHERE rule = {rule_id}")[0][0])
            if posted >= accepted:
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in procs.items()}
        done = posted >= accepted
        rate = accepted / seconds if done else float("nan")
        print(f"mode {args.mode}: {accepted} order.completed events accepted ({failed} not) by "
              f"{args.loaders} loaders x {args.concurrency} connections")
        print(f"  all answered after {ingest_mark:.2f} s: {accepted / ingest_mark:.0f} events/s "
              f"ingested")
        print(f"  all awards posted after {seconds:.2f} s: {rate:.0f} events/s end to end "
              f"(target >= {TARGET:.0f}){'' if done else f' NOT DONE: {posted} posted'}")
        print(f"  baseline GET /api/ping: {baseline:.0f} requests/s with the same loaders")
        print("  CPU seconds during the run: " + ", ".join(
            f"{name} {value:.1f}" for name, value in cpu.items()))
        summary(f"inbound order.completed end to end to points, {args.mode}",
                f"{rate:.0f} events/s (ingest {accepted / ingest_mark:.0f}/s, ping baseline "
                f"{baseline:.0f}/s, target >= {TARGET:.0f})")


if __name__ == "__main__":
    main()
