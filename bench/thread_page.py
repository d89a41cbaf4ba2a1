"""Thread page throughput against the ceiling of a trivial JSON endpoint.

For each mode (embedded: SQLite + in-memory backends; scaled: PostgreSQL + Redis, with a Celery
worker and beat running as in the test harness) this starts one server process (one uvicorn
worker) on a fresh database, creates over the API a member, a category and a thread of 20 posts
(the first plus 19 replies), then drives, at 50 concurrent keep-alive connections for ~10 s each:

    GET /api/ping                      the ceiling: routing, auth hook, JSON, no database
    GET /api/threads/<id>?limit=20     the thread page, anonymous

and prints requests/s, p50 and p99 latency for each and the ratio thread/ceiling
(target: >= 0.4). Figures are printed, never asserted.

Load comes from `wrk` (install: `apt-get install -y wrk`), with 1 thread by default because
on a 2-core machine the generator competes with the server. Without wrk an asyncio + httpx
generator is used instead; it says so, and its own CPU cost caps what it can measure.

    .venv/bin/python bench/thread_page.py [--mode embedded|scaled|both] [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    MODES,
    add_target_options,
    cpu_seconds,
    deployment,
    log,
    machine_note,
    parse_wrk,
    percentile,
    run_wrk,
    seed_thread,
    summary,
    target_of,
)

TARGET_RATIO = 0.4
POSTS = 20


@dataclass
class Result:
    endpoint: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx responses plus socket errors
    server_cpu: float  # server process CPU time / wall time (1.0 = one core)
    generator: str


async def _httpx_load(url: str, seconds: float, connections: int) -> tuple[list[float], int]:
    """`connections` workers, each with its own one-connection keep-alive httpx client (one
    shared pool of 50 spends most of its time managing the pool)."""
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    max_requests = 2_000_000  # a bound on the loop whatever the speed

    async def worker() -> None:
        nonlocal errors
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(limits=limits, timeout=10, trust_env=False) as client:
            while time.monotonic() < deadline and len(latencies) < max_requests:
                started = time.perf_counter()
                try:
                    response = await client.get(url)
                    ok = response.status_code < 400
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, errors


def _run(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def measure(name: str, url: str, pid: int, args: argparse.Namespace) -> Result:
    use_wrk = args.generator == "wrk"
    # Warm up (connections, lazily built parts of the app and the database), then measure.
    if use_wrk:
        run_wrk(url, args.warmup, args.connections, args.threads)
    else:
        _run(_httpx_load(url, args.warmup, args.connections))
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    if use_wrk:
        rps, p50, p99, total, errors = parse_wrk(run_wrk(url, args.duration, args.connections,
                                                         args.threads))
    else:
        started = time.monotonic()
        latencies, errors = _run(_httpx_load(url, args.duration, args.connections))
        elapsed = time.monotonic() - started
        total = len(latencies)
        rps = total / elapsed
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
    generator = (f"wrk -t{args.threads} -c{args.connections}" if use_wrk
                 else f"httpx asyncio c{args.connections}")
    return Result(name, rps, p50, p99, total, errors, cpu, generator)


def bench_mode(mode: str, args: argparse.Namespace) -> list[Result]:
    log(f"[{mode}] starting a fresh stack and one server process")
    with deployment(mode, servers=1, keep=args.keep, target=target_of(args)) as dep:
        server = dep.servers[0]
        log(f"[{mode}] seeding a member, a category and a thread of {POSTS} posts")
        member, thread = seed_thread(dep, server, replies=POSTS - 1)
        path = f"/api/threads/{thread['id']}?limit={POSTS}"
        anon = server.client()
        page = anon.get(path)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) == POSTS, page.text[:500]
        assert anon.get("/api/ping").status_code == 200
        pid = server.process.popen.pid
        results = []
        for name, url in (("GET /api/ping", server.url + "/api/ping"),
                          (f"GET /api/threads/<id>?limit={POSTS}", server.url + path)):
            log(f"[{mode}] {name}: {args.warmup:g}s warm-up + {args.duration:g}s at "
                f"{args.connections} connections")
            results.append(measure(name, url, pid, args))
        member.http.close()
        anon.http.close()
        return results


def report(mode: str, results: list[Result]) -> tuple[float, float, float]:
    print(f"\n== {mode} mode: one server process (1 uvicorn worker), "
          f"{'SQLite + memory' if mode == 'embedded' else 'PostgreSQL + Redis + Celery worker'}")
    print(f"   generator: {results[0].generator}")
    print(f"   {'endpoint':<34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}"
          f"{'errors':>8}{'srv CPU':>9}")
    for r in results:
        print(f"   {r.endpoint:<34}{r.requests_per_s:>10.0f}{r.p50_ms:>10.2f}{r.p99_ms:>10.2f}"
              f"{r.requests:>10}{r.errors:>8}{r.server_cpu:>8.0%}")
    if not results[0].generator.startswith("wrk"):
        print("   NOTE: the httpx generator, not the server, limits the ceiling here (see the server "
              "CPU column): install wrk for meaningful figures")
    ratio = results[1].requests_per_s / results[0].requests_per_s
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(f"   thread/ceiling = {ratio:.2f}  (target >= {TARGET_RATIO}: {verdict})")
    return ratio, results[1].requests_per_s, results[0].requests_per_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1-2 on 2 cores)")
    parser.add_argument("--generator", choices=["wrk", "httpx"], default=None,
                        help="default: wrk when installed, else httpx")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    add_target_options(parser)
    args = parser.parse_args()
    args.duration = min(max(args.duration, 1.0), 600.0)
    args.warmup = min(max(args.warmup, 1.0), 60.0)
    if args.generator is None:
        args.generator = "wrk" if shutil.which("wrk") else "httpx"
        if args.generator == "httpx":
            print("NOTE: wrk not found (install it with `apt-get install -y wrk`); falling back to "
                  "an asyncio + httpx generator in this process, whose own CPU use caps the "
                  "figures well below what wrk would measure.")
    print("thread_page: thread page vs. /api/ping ceiling")
    print(machine_note())
    modes = list(MODES) if args.mode == "both" else [args.mode]
    ratios: dict[str, tuple[float, float, float]] = {}
    for mode in modes:
        try:
            results = bench_mode(mode, args)
        except RuntimeError as exc:
            print(f"\n== {mode} mode: skipped: {exc}")
            continue
        ratios[mode] = report(mode, results)
    print()
    summary(f"thread_page, anonymous thread page ({POSTS} posts) / GET /api/ping, "
            f"{args.generator} c{args.connections}, one server process", ", ".join(
                f"{m} {r:.2f} = {page:.0f}/{ping:.0f} req/s "
                f"({'met' if r >= TARGET_RATIO else 'MISSED'})"
                for m, (r, page, ping) in ratios.items()
            ) + f" [target >= {TARGET_RATIO}]" if ratios else "nothing measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
