"""Inbound `order.completed` events per second, end to end: from the brand's shop posting
them over HTTP to the points being posted in the ledger.

On one deployment (scaled by default: PostgreSQL + Redis, one server process, one Celery
worker with --concurrency 2 and beat, as the test harness starts them) this makes, over the
API, a brand with 100,000 points of budget, a brand staff member, an API token with the
'events' scope and one brand rule, {"event_types": ["order.completed"], "points": "amount"}
(a point per euro), then --members members. HEARTH_INBOUND_RATE_LIMIT is lifted for the run.

Load: --loaders processes (default 2), each an asyncio loop holding --concurrency keep-alive
connections (default 4 each), post the events between them, each with its own idempotency
key and order id, members spread by key, amount "12.50" EUR (12 points). Two phases: --single
events (default 1,000) one per `POST /api/integrations/events` (Idempotency-Key header), then
--events (default 10,000) in `POST /api/integrations/events/batch` requests of --batch
(default 100; the key in each event).

Baseline: the same loaders send --single `GET /api/ping` first (routing, the auth hook and
JSON, no database): what this client and this server process can do at all on this machine.

Marks, from the first request: every POST answered (the ingest rate), and the ledger holding
an award for every accepted event (SQL: gamification_rule_award of the bench rule; polled
every 50 ms). events/s is accepted events / the second mark. Target: >= 1,000 events/s
scaled. Figures are printed, never asserted; the last line carries the load average.

    .venv/bin/python bench/inbound.py [--mode scaled|embedded] [--events N] [--batch B]
        [--single S] [--members M] [--loaders L] [--concurrency C]
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
    Deployment,
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


def _order(key: str, member: int) -> dict[str, object]:
    return {"type": "order.completed", "member": {"id": member},
            "data": {"order_id": key, "amount": "12.50", "currency": "EUR"}}


async def _load(url: str, token: str, members: list[int], keys: list[str],
                concurrency: int, batch: int) -> tuple[int, int]:
    """Post one event per key (`batch` per request when above 1; no token: GET /api/ping
    instead); (events accepted, events refused or failed)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    accepted = failed = 0
    chunks = [keys[i:i + batch] for i in range(0, len(keys), batch)]
    chunks.reverse()
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        async def worker() -> None:
            nonlocal accepted, failed
            while chunks:
                chunk = chunks.pop()
                if not token:
                    response = await client.get("/api/ping")
                elif batch == 1:
                    key = chunk[0]
                    response = await client.post(
                        "/api/integrations/events", json=_order(key, members[hash(key) % len(members)]),
                        headers={**headers, "Idempotency-Key": key})
                else:
                    response = await client.post("/api/integrations/events/batch", json={
                        "events": [{"idempotency_key": key,
                                    **_order(key, members[hash(key) % len(members)])}
                                   for key in chunk]}, headers=headers)
                if response.status_code in (200, 201):
                    accepted += len(chunk)
                else:
                    failed += len(chunk)
                    if failed <= 3 * batch:
                        log(f"answer {response.status_code}: {response.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return accepted, failed


def _loader(url: str, token: str, members: list[int], keys: list[str], concurrency: int,
            batch: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(asyncio.run(_load(url, token, members, keys, concurrency, batch)))


def _run_loaders(url: str, token: str, members: list[int], keys: list[str], loaders: int,
                 concurrency: int, batch: int = 1) -> tuple[int, int, float]:
    """(accepted, failed, seconds) with the keys split between loader processes."""
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    procs = [multiprocessing.Process(target=_loader, args=(
        url, token, members, keys[i::loaders], concurrency, batch, out)) for i in range(loaders)]
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
    parser.add_argument("--events", type=int, default=10000, help="events sent in batches")
    parser.add_argument("--batch", type=int, default=100, help="events per batch request")
    parser.add_argument("--single", type=int, default=1000,
                        help="events sent one per request (and pings for the baseline)")
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--loaders", type=int, default=2)
    # More in flight only queues batches behind the same members' locks.
    parser.add_argument("--concurrency", type=int, default=4)
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

        _, _, ping_seconds = _run_loaders(server.url, "", members,
                                          [f"p{i}" for i in range(args.single)],
                                          args.loaders, args.concurrency)
        baseline = args.single / ping_seconds
        log(f"baseline: {args.single} GET /api/ping in {ping_seconds:.2f} s = {baseline:.0f}/s")
        procs = {"server": server.process.popen.pid,
                 **{p.name: p.popen.pid for p in dep.stack.processes if p.name != "server"}}
        figures = {}
        for phase, count, batch in (("single", args.single, 1),
                                    (f"batches of {args.batch}", args.events, args.batch)):
            if count <= 0:
                continue
            posted_before = _posted(dep, rule_id)
            cpu_before = {name: _tree_cpu(pid) for name, pid in procs.items()}
            keys = [f"{uuid.uuid4().hex[:8]}-{i}" for i in range(count)]
            started = time.monotonic()
            accepted, failed, ingest = _run_loaders(server.url, token, members, keys,
                                                    args.loaders, args.concurrency, batch)
            posted = 0
            while time.monotonic() < started + args.timeout:
                posted = _posted(dep, rule_id) - posted_before
                if posted >= accepted:
                    break
                time.sleep(0.05)
            seconds = time.monotonic() - started
            cpu = {name: _tree_cpu(pid) - cpu_before[name] for name, pid in procs.items()}
            done = posted >= accepted
            rate = accepted / seconds if done else float("nan")
            figures[phase] = rate
            print(f"{args.mode}, {phase}: {accepted} order.completed events accepted ({failed} "
                  f"not), {args.loaders} loaders x {args.concurrency} connections")
            print(f"  all answered after {ingest:.2f} s: {accepted / ingest:.0f} events/s ingested")
            print(f"  all awards posted after {seconds:.2f} s: {rate:.0f} events/s end to end "
                  f"(target >= {TARGET:.0f}){'' if done else f' NOT DONE: {posted} posted'}")
            print("  CPU seconds (with child processes): "
                  + ", ".join(f"{n} {v:.1f}" for n, v in cpu.items())
                  + "; per event: " + ", ".join(
                      f"{n} {1000 * v / max(1, accepted):.2f} ms" for n, v in cpu.items()))
        print(f"  baseline GET /api/ping: {baseline:.0f} requests/s with the same loaders")
        summary(f"inbound order.completed end to end to points, {args.mode}",
                ", ".join(f"{phase} {rate:.0f} events/s" for phase, rate in figures.items())
                + f" (target >= {TARGET:.0f}; ping baseline {baseline:.0f}/s)")


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its living descendants (a Celery worker's children)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += cpu_seconds(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            children = []
        todo.extend(int(c) for c in children)
    return total


def _posted(dep: Deployment, rule_id: int) -> int:
    return int(dep.stack.sql(
        f"SELECT COUNT(*) FROM gamification_rule_award WHERE rule = {rule_id}")[0][0])

if __name__ == "__main__":
    main()
