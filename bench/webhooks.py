"""Outbound webhooks, scaled (PostgreSQL + Redis + one Celery worker, --concurrency 1 unless
told, and beat), to a receiver in this process on 127.0.0.1 (a bare asyncio HTTP/1.1 server
that answers 200 at once and notes each webhook-id's arrival time).

1. Deliveries per second: N `badge.revoked` outbox events (a program-wide webhook type that
   only the webhook fan-out consumes) are inserted by SQL, not dispatched; beat's sweep
   (every 1 s) relays them; the fan-out makes one delivery each for the one subscribed
   endpoint, and the worker signs and POSTs them. Timed from the insert's commit until the
   receiver holds N distinct webhook-ids and the database shows N deliveries `delivered`.
   Baseline, in the same run: the same N events relayed with no endpoint subscribed (the
   pipeline without webhooks), until every one is dispatched.
2. Commit to delivery, healthy receiver: per round a brand's staff member awards points from
   the brand's budget (`POST /api/gamification/adjustments`, which commits a `points.posted`
   event); the figure is the time from the POST's response (the commit is behind it) to the
   signed delivery reaching the receiver; p50/p99/max over the rounds. Baseline, in the same
   run: the POST's own round trip.

Targets: >= 500 deliveries/s; p99 commit to delivery <= 1 s. Figures are printed, never
asserted.

    .venv/bin/python bench/webhooks.py [--events 5000] [--rounds 100] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
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

TARGET_RATE = 500.0
TARGET_P99_MS = 1000.0


class Receiver:
    """A minimal keep-alive HTTP/1.1 server: reads a request, notes its webhook-id, answers
    200. On its own event loop in a thread."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.requests = 0
        self.port = 0
        self._ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, webhook_id = 0, ""
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    lowered = name.strip().lower()
                    if lowered == "content-length":
                        length = int(value)
                    elif lowered == "webhook-id":
                        webhook_id = value.strip()
                await reader.readexactly(length)
                self.requests += 1
                self.arrivals.setdefault(webhook_id, time.monotonic())
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def count(dep: Deployment, sql: str) -> int:
    return int(dep.stack.sql(sql)[0][0])


def insert_events(dep: Deployment, n: int, member_id: int) -> None:
    payload = json.dumps({"type": "badge.revoked", "member_id": member_id, "badge_id": 1,
                          "grant_id": 1, "name": "Bench"})
    dep.stack.sql("INSERT INTO outbox_event (type, payload, created_at, attempts) "
                  f"SELECT 'badge.revoked', '{payload}', now(), 0 FROM generate_series(1, {n})")


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1, help="the worker's pool size")
    add_target_options(parser)
    args = parser.parse_args()
    print("webhooks: deliveries per second and commit to delivery, scaled, one worker")
    print(machine_note())
    receiver = Receiver()
    with deployment("scaled", worker_concurrency=args.concurrency, target=target_of(args)) as dep:
        server = dep.servers[0]
        admin = admin_client(dep, server)
        member_id = admin.member["id"]
        brand = admin.post("/api/brands", {"name": "Bench", "slug": "b-" + uuid.uuid4().hex[:6]}).json()
        base = f"/api/gamification/brands/{brand['id']}/webhooks"
        url = f"http://127.0.0.1:{receiver.port}/hooks"

        log("baseline: the events relayed with no endpoint subscribed")
        started = time.monotonic()
        insert_events(dep, args.events, member_id)
        wait_for(lambda: count(dep, "SELECT COUNT(*) FROM outbox_event WHERE dispatched_at IS NULL") == 0,
                 300, "the baseline events")
        baseline = args.events / (time.monotonic() - started)

        made = admin.post(base, {"url": url, "event_types": ["badge.revoked", "points.posted"]})
        assert made.status_code == 201, made.text
        log(f"throughput: {args.events} events -> deliveries")
        started = time.monotonic()
        insert_events(dep, args.events, member_id)
        wait_for(lambda: len(receiver.arrivals) >= args.events, 600, "the deliveries")
        arrived = time.monotonic()
        wait_for(lambda: count(dep, "SELECT COUNT(*) FROM webhook_delivery WHERE status = 'delivered'")
                 >= args.events, 120, "the delivered rows")
        rate = args.events / (arrived - started)
        extra = receiver.requests - len(receiver.arrivals)

        log(f"latency: {args.rounds} awards")
        staff = server.client().register()
        assert admin.put(f"/api/members/{staff.member['id']}/role",
                         {"role": "brand_staff", "brand_id": brand["id"]}).status_code == 200
        funded = admin.post(f"/api/gamification/brands/{brand['id']}/budget",
                            {"amount": 1_000_000, "reason": "bench", "idempotency_key": uuid.uuid4().hex})
        assert funded.status_code == 201, funded.text
        awarded = server.client().register()
        posts: list[float] = []
        lags: list[float] = []
        for _ in range(args.rounds):
            before = set(receiver.arrivals)
            sent = time.monotonic()
            response = staff.post("/api/gamification/adjustments", {
                "member_id": awarded.member["id"], "amount": 1, "reason": "bench",
                "idempotency_key": uuid.uuid4().hex})
            answered = time.monotonic()
            assert response.status_code == 201, response.text
            seen = len(before)
            wait_for(lambda: len(receiver.arrivals) > seen, 30, "a delivery")  # noqa: B023
            new = next(k for k in receiver.arrivals if k not in before)
            posts.append((answered - sent) * 1000)
            lags.append((receiver.arrivals[new] - answered) * 1000)
            time.sleep(0.05)

    p99 = percentile(lags, 99)
    print(f"\n== scaled mode: one Celery worker (--concurrency {args.concurrency}), beat, "
          "one server process")
    print(f"   baseline: {args.events} events relayed, no endpoint    {baseline:>9.0f} events/s")
    print(f"   {args.events} events -> signed deliveries received      {rate:>9.0f} deliveries/s "
          f"({extra} sent more than once)")
    print(f"   {'measure':<44}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, values in (("baseline: the award POST's round trip", posts),
                          ("commit (POST answered) -> delivery received", lags)):
        print(f"   {label:<44}{percentile(values, 50):>9.1f}{percentile(values, 99):>9.1f}"
              f"{max(values):>9.1f}")
    print(f"   {'met   ' if rate >= TARGET_RATE else 'MISSED'}  {rate:.0f} deliveries/s >= {TARGET_RATE:g}")
    print(f"   {'met   ' if p99 <= TARGET_P99_MS else 'MISSED'}  p99 {p99:.0f} ms <= {TARGET_P99_MS:g} ms")
    summary("webhooks, scaled, one worker",
            f"{rate:.0f} deliveries/s (baseline relay {baseline:.0f} events/s), commit to delivery "
            f"p99 {p99:.0f} ms (baseline POST p99 {percentile(posts, 99):.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
