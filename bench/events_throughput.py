"""Events per second through the gamification pipeline, end to end:
outbox -> rules engine -> points ledger -> leaderboards.

For each mode (embedded: SQLite + the server's in-process runner; scaled: PostgreSQL + Redis +
a Celery worker with --concurrency 2 and beat, as the test harness starts them) this starts
one server process on a fresh database and, over the API, as an admin made with
`hearth create-admin`: disables the seeded default rules (so the bench rule is the only one
and no daily cap stops the awards), creates the rule
{"name": "bench", "event_types": ["post.created"], "points": 1}, a category and a thread.

Load does not go through HTTP (that would measure the HTTP layer): a helper process
(bench/_outbox_load.py) starts the server's own runtime with role="cli" against the same
database and Redis, makes a pool of 100 member rows, and commits N `post.created` events
with `server.outbox.unit_of_work()` + `server.outbox.emit()` (500 per transaction, authors
round-robin, the thread's real first post), with nothing dispatched at commit. Then the clock
starts and dispatch is triggered; each input event runs every post.created handler (rules
award -> ledger transaction, badges activity, challenges, live thread message, notifications)
and causes one `points.posted` event (leaderboard, tier, badges, live points).

Phases (the trigger):
    embedded sweep           the running server's relay, woken by its sweeper (every
                             HEARTH_SWEEP_INTERVAL_SECONDS = 1 s here, as in the test harness),
                             claims batches of 500 until the outbox is empty
    embedded drain           what `hearth relay-sweep` does (outbox.relay()), looped in the
                             helper process; the server is restarted with a one-hour sweep
                             interval first so that only the helper relays
    scaled sweep             Celery beat's `hearth.sweep` (every 1 s) relays in a worker
    scaled dispatch          one relay wake-up per committed event (--chunk events per
                             wake-up, default 1) through the runtime's runner, exactly as a web
                             process wakes it after each commit (one `hearth.dispatch` message
                             in flight at a time); each task relays whatever is pending, so
                             bursts become batches; beat keeps running, as in production

For each phase it prints the time to the first and to the last input event dispatched, to the
ledger holding every award, to an empty outbox, to the leaderboard showing every point; how
many events were dispatched more than once; the CPU each component used (server, helper,
worker, beat, PostgreSQL backends of this database, Redis; share of one core) and that CPU per
input event; in scaled mode the PostgreSQL commits per input event.

The time is measured until every input event has `dispatched_at`, the ledger holds the N
awards (SQL: gamification_rule_award / ledger_transaction), every follow-up event is
dispatched and `GET /api/leaderboards/all-time?limit=100` shows the N points. events/s is
N / that time. Target: scaled >= 2000 events/s. Figures are printed, never asserted.

N defaults to 5,000 per embedded and 10,000 per scaled phase, spread over --members authors
(default 100: every batch then touches every author, the most contended case); the whole
script takes about 2 minutes.

    .venv/bin/python bench/events_throughput.py [--mode embedded|scaled|both] [--events N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    MODES,
    ROOT,
    Deployment,
    add_target_options,
    admin_client,
    cpu_seconds,
    deployment,
    log,
    machine_note,
    port_of,
    summary,
    target_of,
)

from tests.harness import Server

TARGET_SCALED = 2000.0
LOADER = Path(__file__).resolve().parent / "_outbox_load.py"
PHASES = {"embedded": ("sweep", "drain"), "scaled": ("sweep", "dispatch")}
DESCRIPTIONS = {
    ("embedded", "sweep"): "the server's relay, woken by its sweeper (1 s interval)",
    ("embedded", "drain"): "outbox.relay() looped in one process (= hearth relay-sweep)",
    ("scaled", "sweep"): "Celery beat hearth.sweep (1 s interval) relays in a worker",
    ("scaled", "dispatch"): "hearth.dispatch Celery tasks sent per commit, beat running",
}


@dataclass
class PhaseResult:
    mode: str
    phase: str
    count: int
    members: int
    insert_seconds: float
    marks: dict[str, float]
    done: bool
    redispatched_inputs: int
    follow_ups: dict[str, dict[str, int]]
    ledger_transactions: int
    expected: int
    board: int
    board_expected: int
    timeout: float
    cpu: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    commits: int | None = None
    progress: list[list[float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.marks.get("board", float("nan"))

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.done else float("nan")


# --- CPU accounting from /proc -------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(_children(current))
    return out


def _scan(predicate: Any) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            comm = Path(f"/proc/{name}/comm").read_text().strip()
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if predicate(comm, cmdline):
            pids.append(int(name))
    return pids


def process_groups(dep: Deployment, server: Server, loader_pid: int) -> dict[str, list[int]]:
    """pids per component, for CPU accounting."""
    groups: dict[str, list[int]] = {"server": [server.process.popen.pid], "loader": [loader_pid]}
    for process in dep.stack.processes:
        if process.name in ("worker", "beat") and process.popen.poll() is None:
            groups.setdefault(process.name, []).extend(_descendants(process.popen.pid))
    if dep.stack.database_name:
        name = f" {dep.stack.database_name} "
        groups["postgres"] = _scan(lambda comm, cmd: cmd.startswith("postgres:") and name in cmd)
        groups["redis"] = _scan(lambda comm, cmd: comm == "redis-server")
    return groups


class CpuMeter:
    """CPU used per component between start() and stop(), as a share of one core. Samples
    every half second in a thread, so processes that exit meanwhile (asyncpg replaces a
    connection after 50,000 queries, Celery may replace a pool process) still count."""

    def __init__(self, groups: Any) -> None:
        self._groups = groups  # () -> {component: [pid, ...]}
        self._first: dict[int, float] = {}
        self._last: dict[str, dict[int, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0
        self.started = False

    def _sample(self, initial: bool = False) -> None:
        for group, pids in self._groups().items():
            seen = self._last.setdefault(group, {})
            for pid in pids:
                value = cpu_seconds(pid)
                if value != value:  # NaN: the process is gone
                    continue
                if initial:
                    self._first[pid] = value
                seen[pid] = value

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def start(self) -> None:
        self._sample(initial=True)
        self._started = time.monotonic()
        self.started = True
        self._thread.start()

    def stop(self) -> tuple[dict[str, float], float]:
        self._stop.set()
        self._thread.join()
        self._sample()
        wall = time.monotonic() - self._started
        return {group: sum(v - self._first.get(pid, 0.0) for pid, v in pids.items()) / wall
                for group, pids in self._last.items()}, wall


# --- set-up over the API -------------------------------------------------------------------


def setup(dep: Deployment, server: Server) -> dict[str, Any]:
    admin = admin_client(dep, server)
    response = admin.get("/api/gamification/rules")
    assert response.status_code == 200, response.text
    disabled = []
    for rule in response.json():
        if rule["enabled"]:
            patched = admin.patch(f"/api/gamification/rules/{rule['id']}", {"enabled": False})
            assert patched.status_code == 200, patched.text
            disabled.append(rule["name"])
    response = admin.post("/api/gamification/rules",
                          {"name": "bench", "event_types": ["post.created"], "points": 1})
    assert response.status_code == 201, response.text
    rule = response.json()
    slug = "bench-" + uuid.uuid4().hex[:8]
    response = admin.post("/api/categories", {"name": "Bench " + slug, "slug": slug})
    assert response.status_code == 201, response.text
    category = response.json()
    author = server.client().register()
    response = author.post(f"/api/categories/{category['id']}/threads",
                           {"title": "Events benchmark", "body": "The thread every event is in."})
    assert response.status_code == 201, response.text
    created = response.json()
    admin.http.close()
    author.http.close()
    return {"rule": rule["id"], "category": category["id"], "thread": created["thread"]["id"],
            "post": created["post"]["id"], "disabled": disabled}


# --- one phase -----------------------------------------------------------------------------


def run_phase(dep: Deployment, server: Server, ids: dict[str, Any], phase: str, count: int,
              args: argparse.Namespace) -> PhaseResult:
    command = [sys.executable, str(LOADER), "--count", str(count), "--members", str(args.members),
               "--thread", str(ids["thread"]), "--category", str(ids["category"]),
               "--post", str(ids["post"]), "--rule", str(ids["rule"]), "--server", server.url,
               "--trigger", phase, "--chunk", str(args.chunk), "--timeout", str(args.timeout)]
    loader = subprocess.Popen(command, cwd=ROOT, env=dep.stack.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert loader.stdout is not None
    lines: dict[str, dict[str, Any]] = {}
    meter = CpuMeter(lambda: process_groups(dep, server, loader.pid))
    cpu: dict[str, float] = {}
    wall = 0.0
    try:
        for raw in loader.stdout:
            line = json.loads(raw)
            lines[line["event"]] = line
            if line["event"] == "inserted":
                log(f"[{dep.mode}/{phase}] {count} events committed in {line['seconds']:.1f}s; "
                    "dispatching")
            elif line["event"] == "started":
                meter.start()
            elif line["event"] == "ended":
                cpu, wall = meter.stop()
        loader.wait(timeout=60)
    finally:
        if not cpu and meter.started:
            meter.stop()
        if loader.poll() is None:
            loader.kill()
            loader.wait()
    if "done" not in lines:
        raise RuntimeError(f"the load helper failed:\n{loader.stderr.read() if loader.stderr else ''}")
    done = lines["done"]
    return PhaseResult(
        mode=dep.mode, phase=phase, count=count, members=args.members,
        insert_seconds=lines["inserted"]["seconds"],
        marks=done["marks"], done="board" in done["marks"],
        redispatched_inputs=done["redispatched_inputs"], follow_ups=done["follow_ups"],
        ledger_transactions=done["ledger_transactions"], expected=done["expected"],
        board=done["board"], board_expected=done["board_expected"], timeout=done["timeout"],
        cpu=cpu, wall=wall, commits=done["commits"],
        progress=done["progress"],
    )


def bench_mode(mode: str, args: argparse.Namespace) -> list[PhaseResult]:
    log(f"[{mode}] starting a fresh stack and one server process")
    results = []
    with deployment(mode, servers=1, keep=args.keep, target=target_of(args),
                    worker_concurrency=args.worker_concurrency) as dep:
        server = dep.servers[0]
        ids = setup(dep, server)
        print(f"\n== {mode} mode: rule 'bench' (post.created, 1 point, no cap); seeded default "
              f"rules disabled: {', '.join(ids['disabled']) or 'none'}")
        for phase in PHASES[mode]:
            if args.phase != "all" and phase != args.phase:
                continue
            if mode == "embedded" and phase == "drain":
                # The server must not sweep the same events at the same time.
                log(f"[{mode}] restarting the server with a one-hour sweep interval")
                server.process.stop()
                server = dep.start_server(env={"HEARTH_SWEEP_INTERVAL_SECONDS": "3600"},
                                          port=port_of(server))
            count = args.events or (args.embedded_events if mode == "embedded"
                                    else args.scaled_events)
            log(f"[{mode}/{phase}] {DESCRIPTIONS[(mode, phase)]}: {count} events")
            result = run_phase(dep, server, ids, phase, count, args)
            report_phase(result)
            results.append(result)
    return results


# --- printing ------------------------------------------------------------------------------


def _timeline(progress: list[list[float]], count: int) -> str:
    """Input events dispatched at each whole second."""
    marks, second = [], 1.0
    for t, dispatched, _ in progress:
        while t >= second:
            marks.append(int(dispatched))
            second += 1.0
    if progress:
        marks.append(int(progress[-1][1]))
    shown = marks[:40]
    tail = " ..." if len(marks) > 40 else ""
    return " ".join(str(m) for m in shown) + tail + f"  (of {count})"


def report_phase(r: PhaseResult) -> None:
    m = r.marks
    print(f"\n-- {r.mode} / {r.phase}: {DESCRIPTIONS[(r.mode, r.phase)]}")
    print(f"   {r.count} post.created events committed beforehand in {r.insert_seconds:.1f}s "
          f"({r.count / r.insert_seconds:.0f}/s, not part of the figures)")
    if not r.done:
        print(f"   NOT FINISHED within the {r.timeout:g}s limit (--timeout); what was reached is shown")

    def at(key: str) -> str:
        return f"{m[key]:6.2f}s" if key in m else "     - "
    print(f"   first input dispatched  {at('first')}")
    print(f"   all inputs dispatched   {at('inputs')}   {r.count / m['inputs']:8.0f} events/s"
          if "inputs" in m else "   all inputs dispatched        -")
    print(f"   ledger has all awards   {at('ledger')}   {r.count / m['ledger']:8.0f} events/s"
          if "ledger" in m else "   ledger has all awards        -")
    print(f"   outbox empty            {at('outbox')}")
    print(f"   leaderboard shows all   {at('board')}   {r.rate:8.0f} events/s  <- end to end"
          if r.done else "   leaderboard shows all        -")
    follow = ", ".join(f"{k} {v['count']}" for k, v in sorted(r.follow_ups.items()))
    again = sum(v["redispatched"] for v in r.follow_ups.values())
    print(f"   follow-up events: {follow or 'none'}; ledger transactions for the rule: "
          f"{r.ledger_transactions} (expected {r.expected}); board total of the {r.members} members "
          f"{r.board} (expected {r.board_expected})")
    print(f"   dispatched more than once: {r.redispatched_inputs} inputs, {again} follow-ups")
    print("   CPU during the run (share of one core): " + ", ".join(
        f"{k} {v:.0%}" for k, v in r.cpu.items()) + f"  [wall {r.wall:.1f}s]")
    if r.done:
        per_event = {k: v * r.wall / r.count * 1000 for k, v in r.cpu.items()}
        total = sum(per_event.values())
        print("   CPU per input event: " + ", ".join(f"{k} {v:.1f} ms" for k, v in per_event.items())
              + f"; total {total:.1f} ms -> at most {2000 / total:.0f} events/s on 2 cores if "
              "nothing waited")
    if r.commits is not None:
        print(f"   PostgreSQL commits: {r.commits} ({r.commits / r.count:.1f} per input event)")
    print(f"   inputs dispatched per second: {_timeline(r.progress, r.count)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--phase", choices=["sweep", "drain", "dispatch", "all"],
                        default="all", help="drain is embedded only, dispatch scaled only")
    parser.add_argument("--events", type=int, default=0,
                        help="events per phase (default: --embedded-events / --scaled-events)")
    parser.add_argument("--embedded-events", type=int, default=5000)
    parser.add_argument("--scaled-events", type=int, default=10000)
    parser.add_argument("--chunk", type=int, default=1,
                        help="event ids per hearth.dispatch task in the scaled dispatch phase")
    parser.add_argument("--timeout", type=float, default=75.0, help="per phase, seconds")
    parser.add_argument("--members", type=int, default=100,
                        help="authors the events are spread over (each batch locks every one "
                             "it touches, so few authors means concurrent batches wait)")
    parser.add_argument("--worker-concurrency", type=int, default=2,
                        help="Celery worker processes in scaled mode")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    add_target_options(parser)
    args = parser.parse_args()
    for name in ("events", "embedded_events", "scaled_events"):
        setattr(args, name, min(max(getattr(args, name), 0), 200_000))
    args.chunk = min(max(args.chunk, 1), 10_000)
    args.worker_concurrency = min(max(args.worker_concurrency, 1), 16)
    args.members = min(max(args.members, 1), 10_000)
    args.timeout = min(max(args.timeout, 5.0), 600.0)
    print("events_throughput: post.created events/s, outbox -> rules -> ledger -> leaderboard")
    print(machine_note())
    modes = list(MODES) if args.mode == "both" else [args.mode]
    phases: list[PhaseResult] = []
    for mode in modes:
        try:
            phases.extend(bench_mode(mode, args))
        except RuntimeError as exc:
            print(f"\n== {mode} mode: skipped: {exc}")
    print()
    summary("events_throughput, post.created events/s end to end (outbox -> rules -> ledger -> "
            "leaderboard)", ", ".join(
                f"{r.mode}/{r.phase} {r.rate:.0f}" for r in phases
            ) + f" [target scaled >= {TARGET_SCALED:.0f}: " + ", ".join(
                f"{r.phase} {'met' if r.rate >= TARGET_SCALED else 'MISSED'}"
                for r in phases if r.mode == "scaled") + "]" if phases else "nothing measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
