"""Signed-in thread reads against anonymous ones and the ping ceiling (issue 10).

For each mode (embedded: SQLite + in-memory backends; scaled: PostgreSQL + Redis, with a Celery
worker and beat as in the test harness) this starts one server process (one uvicorn worker) on
a fresh database and makes, over the API unless said otherwise:

    an admin (`hearth create-admin`) and a public category;
    an author, who writes thread A: 20 posts of about 430 characters;
    thread B: 2,000 posts. The author writes the first; posts 2..1,999 are inserted by SQL,
        copies of a reply of thread A (so their HTML is the server's), with the thread's post
        count, highest post number and last post set to match; the author writes the 2,000th
        over the API, so that the server's own write path renews whatever it caches;
    a reader: a second member who registers, then signs in (POST /api/session) from a fresh
        client; its `hearth_session` cookie is what wrk sends. It reacts to three posts of the
        first page of each thread, so its overlay is not empty.

Then --rounds rounds; each round runs `wrk -t1 -c50 -d<duration>s --latency` once over each
target, the order rotating from round to round:

    GET /api/ping                        the ceiling: routing, auth hook, JSON, no database
    GET /api/threads/<A>?limit=20        anonymous
    GET /api/threads/<A>?limit=20        signed in (the reader's cookie)
    GET /api/threads/<B>?limit=20        signed in, the first page of the 2,000-post thread

and prints, per target, the medians over the rounds of req/s and p99, the ratios to ping
(median of each round's ratio), the cost of a 2,000-post first page against a 20-post one
(req/s of A over req/s of B, signed in), the sequence values (scaled: pg_sequences) that moved
during the signed-in measurements and, as a control, during the others, and whether the
issue's targets are met. Figures are printed, never asserted.

With --attach it starts nothing: it measures the Hearth already listening on --port (its mode
read from /health), seeding the same data into the database it names with --database and
--redis-prefix (scaled) or --data-dir (embedded). That server's rate limits apply: a run
registers two members and makes about 30 writes.

    .venv/bin/python bench/signed_in.py [--mode embedded|scaled|both] [--duration 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    MODES,
    Deployment,
    add_target_options,
    admin_client,
    build_stack,
    cpu_seconds,
    deployment,
    log,
    machine_note,
    parse_wrk,
    run_wrk,
    summary,
    target_of,
)

from tests import harness
from tests.harness import Client, Process, Server

SMALL, LARGE, PAGE = 20, 2000, 20
SIGNED_IN_RATIO, SIGNED_IN_P99_MS, ANONYMOUS_RATIO, LARGE_COST = 0.25, 50.0, 0.6, 1.10
PING, ANONYMOUS, SIGNED_IN, SIGNED_IN_LARGE = "ping", "anonymous 20", "signed-in 20", "signed-in 2000"
LABELS = {
    PING: "GET /api/ping",
    ANONYMOUS: f"GET /api/threads/<{SMALL}>, anonymous",
    SIGNED_IN: f"GET /api/threads/<{SMALL}>, signed in",
    SIGNED_IN_LARGE: f"GET /api/threads/<{LARGE}>, signed in",
}
# About 430 characters of ordinary markdown: what a real reply weighs on the page.
BODY = ("Reply {n}. I tried the **new filter** on the blue model last weekend and it fits "
        "well, though the seal needs a firm push before it clicks. Two things worth knowing: "
        "first, rinse it before use, or the first cup tastes of plastic; second, the "
        "[guide](https://example.test/guide) skips the step where you prime it. After a week "
        "of daily use the flow is still good and nothing leaks. Would buy again, and I "
        "already recommended it to a friend.")


@dataclass
class Measured:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    server_cpu: float  # NaN when the server's process is not ours (--attach)


@dataclass
class Scene:
    """What the rounds need: where to send requests and what to send."""

    mode: str
    stack: harness.Stack
    url: str
    pid: int | None
    small: int
    large: int
    cookie: str
    results: dict[str, list[Measured]] = field(default_factory=dict)
    moved_signed_in: dict[str, int] = field(default_factory=dict)
    moved_other: dict[str, int] = field(default_factory=dict)
    wrote_signed_in: bool | None = None
    wrote_other: bool | None = None
    # SQLite has sequences only for AUTOINCREMENT tables; without any, there is none to watch.
    watch_sequences: bool = True


def thread_with_posts(author: Client, category: int, title: str, posts: int) -> dict[str, Any]:
    response = author.post(f"/api/categories/{category}/threads",
                           {"title": title, "body": BODY.format(n="zero, the first post")})
    assert response.status_code == 201, response.text
    thread: dict[str, Any] = response.json()["thread"]
    for n in range(1, posts):
        response = author.post(f"/api/threads/{thread['id']}/posts", {"body": BODY.format(n=n)})
        assert response.status_code == 201, response.text
    return thread


def bulk_posts(stack: harness.Stack, thread: int, source_post: int, upto: int) -> None:
    """Posts 2..upto of `thread` as copies of `source_post`, by SQL (the API would take
    minutes and its rate limits), and the thread's counters set as the API would leave them.
    One statement each, valid on SQLite and PostgreSQL."""
    stack.sql(
        f"WITH RECURSIVE n(x) AS (SELECT 2 UNION ALL SELECT x + 1 FROM n WHERE x < {upto}) "
        "INSERT INTO forum_post (thread, author, post_number, markdown, html, revision, "
        f"created_at) SELECT {thread}, p.author, n.x, p.markdown, p.html, 1, p.created_at "
        f"FROM n, forum_post p WHERE p.id = {source_post}")
    stack.sql(
        f"UPDATE forum_thread SET post_count = {upto}, highest_post_number = {upto}, "
        f"last_post_id = (SELECT MAX(id) FROM forum_post WHERE thread = {thread}) "
        f"WHERE id = {thread}")


def seed(dep: Deployment, server: Server) -> tuple[int, int, str]:
    """Threads A (20 posts) and B (2,000 posts) and a signed-in reader; returns their ids and
    the reader's session cookie."""
    admin = admin_client(dep, server)
    slug = "bench-" + uuid.uuid4().hex[:8]
    response = admin.post("/api/categories", {"name": "Bench " + slug, "slug": slug})
    assert response.status_code == 201, response.text
    category = int(response.json()["id"])
    author = server.client().register()
    small = thread_with_posts(author, category, f"A thread of {SMALL} posts", SMALL)
    large = thread_with_posts(author, category, f"A thread of {LARGE} posts", 1)
    source = author.get(f"/api/threads/{small['id']}?limit={PAGE}").json()["items"][1]["id"]
    log(f"[{dep.mode}] inserting posts 2..{LARGE - 1} of thread {large['id']} by SQL")
    bulk_posts(dep.stack, int(large["id"]), int(source), LARGE - 1)
    response = author.post(f"/api/threads/{large['id']}/posts", {"body": BODY.format(n=LARGE)})
    assert response.status_code == 201, response.text
    last = author.get(f"/api/threads/{large['id']}?after={LARGE - PAGE}&limit={PAGE}").json()
    numbers = [post["post_number"] for post in last["items"]]
    assert numbers == list(range(LARGE - PAGE + 1, LARGE + 1)), numbers

    # The reader signs in as a browser does; wrk sends only the session cookie.
    handle = "r" + uuid.uuid4().hex[:10]
    password = "reader password 123"
    server.client().register(handle, password)
    reader = server.client()
    response = reader.login(handle, password)
    assert response.status_code == 200, response.text
    cookie = reader.http.cookies.get("hearth_session")
    assert cookie, "signing in set no hearth_session cookie"
    for thread in (small, large):
        page = reader.get(f"/api/threads/{thread['id']}?limit={PAGE}").json()
        for post in page["items"][:3]:
            response = reader.post(f"/api/posts/{post['id']}/reactions", {"kind": "like"})
            assert response.status_code in (200, 201), response.text
    for client in (admin, author, reader):
        client.http.close()
    return int(small["id"]), int(large["id"]), cookie


def check_cookie(url: str, cookie: str) -> None:
    """The request wrk sends is a signed-in one: without this, an expired or refused cookie
    would quietly measure anonymous reads."""
    response = httpx.get(url + "/api/me", headers={"Cookie": f"hearth_session={cookie}"},
                         timeout=30)
    assert response.status_code == 200, f"the reader's cookie is not signed in: {response.text}"


def sequences(scene: Scene) -> dict[str, int]:
    """Each sequence's last value (scaled), or SQLite's AUTOINCREMENT counters if any."""
    if scene.mode == "scaled":
        rows = scene.stack.sql("SELECT schemaname || '.' || sequencename, "
                               "COALESCE(last_value, 0) FROM pg_sequences")
    else:
        rows = scene.stack.sql("SELECT name, seq FROM sqlite_sequence") if scene.stack.sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'") else []
    return {str(name): int(value) for name, value in rows}


@contextlib.contextmanager
def sqlite_commits(scene: Scene) -> Iterator[list[bool]]:
    """Embedded: whether any other connection committed while the block ran (PRAGMA
    data_version moves on each such commit), the SQLite stand-in for a sequence check."""
    found: list[bool] = []
    if scene.mode != "embedded":
        yield found
        return
    db = sqlite3.connect(scene.stack.workdir / "data" / "hearth.db", timeout=30)
    try:
        before = db.execute("PRAGMA data_version").fetchone()[0]
        yield found
        found.append(db.execute("PRAGMA data_version").fetchone()[0] != before)
    finally:
        db.close()


def settle(scene: Scene, timeout: float = 10.0) -> None:
    """Until the server has finished the requests wrk left in flight when it stopped (its
    CPU under a tenth of a core and no sequence moving, over a quarter second), so that what
    they wrote counts for the measurement that sent them, not for the next one."""
    step = 0.25
    deadline = time.monotonic() + timeout
    seqs, cpu = sequences(scene), cpu_seconds(scene.pid) if scene.pid else 0.0
    while time.monotonic() < deadline:
        time.sleep(step)
        now_seqs, now_cpu = sequences(scene), cpu_seconds(scene.pid) if scene.pid else 0.0
        if now_seqs == seqs and now_cpu - cpu < 0.1 * step:
            return
        seqs, cpu = now_seqs, now_cpu
    log(f"[{scene.mode}] the server was still busy {timeout:g}s after wrk stopped")


def measure(scene: Scene, target: str, args: argparse.Namespace) -> Measured:
    paths = {PING: "/api/ping", ANONYMOUS: f"/api/threads/{scene.small}?limit={PAGE}",
             SIGNED_IN: f"/api/threads/{scene.small}?limit={PAGE}",
             SIGNED_IN_LARGE: f"/api/threads/{scene.large}?limit={PAGE}"}
    signed_in = target in (SIGNED_IN, SIGNED_IN_LARGE)
    headers = [f"Cookie: hearth_session={scene.cookie}"] if signed_in else []
    seqs = sequences(scene)
    cpu0, wall0 = (cpu_seconds(scene.pid) if scene.pid else float("nan")), time.monotonic()
    with sqlite_commits(scene) as wrote:
        output = run_wrk(scene.url + paths[target], args.duration, args.connections, 1, headers)
        cpu = ((cpu_seconds(scene.pid) if scene.pid else float("nan")) - cpu0) / (
            time.monotonic() - wall0)
        settle(scene)
    moved = scene.moved_signed_in if signed_in else scene.moved_other
    for name, value in sequences(scene).items():
        if value != seqs.get(name, 0):
            moved[name] = moved.get(name, 0) + value - seqs.get(name, 0)
    if wrote:
        if signed_in:
            scene.wrote_signed_in = bool(scene.wrote_signed_in) or wrote[0]
        else:
            scene.wrote_other = bool(scene.wrote_other) or wrote[0]
    rps, p50, p99, requests, errors = parse_wrk(output)
    return Measured(rps, p50, p99, requests, errors, cpu)


def rounds(scene: Scene, args: argparse.Namespace) -> None:
    targets = [PING, ANONYMOUS, SIGNED_IN, SIGNED_IN_LARGE]
    check_cookie(scene.url, scene.cookie)
    log(f"[{scene.mode}] warm-up: {args.warmup:g}s on each target")
    for target in targets:
        headers = ([f"Cookie: hearth_session={scene.cookie}"]
                   if target in (SIGNED_IN, SIGNED_IN_LARGE) else [])
        path = (f"/api/threads/{scene.large if target == SIGNED_IN_LARGE else scene.small}"
                f"?limit={PAGE}" if target != PING else "/api/ping")
        run_wrk(scene.url + path, args.warmup, args.connections, 1, headers)
        settle(scene)
    for n in range(args.rounds):
        # Rotated, so that no target always follows the same one.
        order = targets[n % len(targets):] + targets[:n % len(targets)]
        for target in order:
            log(f"[{scene.mode}] round {n + 1}/{args.rounds}: {LABELS[target]}, "
                f"{args.duration:g}s at {args.connections} connections")
            scene.results.setdefault(target, []).append(measure(scene, target, args))
    check_cookie(scene.url, scene.cookie)


@dataclass
class Verdict:
    signed_in_ratio: float
    signed_in_p99: float
    anonymous_ratio: float
    large_cost: float
    moved: int | None  # None: no sequence to watch (SQLite without AUTOINCREMENT)

    def headline(self) -> str:
        missed = sum(not met for _, met in self.checks())
        return (f"signed-in {self.signed_in_ratio:.3f} (p99 {self.signed_in_p99:.1f} ms), "
                f"anonymous {self.anonymous_ratio:.3f}, cost 2000/20 {self.large_cost:.2f}"
                + (f", sequences moved {self.moved}" if self.moved is not None else "")
                + (": all targets met" if not missed else f": {missed} target(s) MISSED"))

    def checks(self) -> list[tuple[str, bool]]:
        checks = [
            (f"signed-in 20 / ping {self.signed_in_ratio:.3f} >= {SIGNED_IN_RATIO}",
             self.signed_in_ratio >= SIGNED_IN_RATIO),
            (f"signed-in 20 p99 {self.signed_in_p99:.1f} ms <= {SIGNED_IN_P99_MS:g} ms",
             self.signed_in_p99 <= SIGNED_IN_P99_MS),
            (f"cost 2000/20 {self.large_cost:.2f} <= {LARGE_COST:.2f}",
             self.large_cost <= LARGE_COST),
            (f"anonymous / ping {self.anonymous_ratio:.3f} >= {ANONYMOUS_RATIO}",
             self.anonymous_ratio >= ANONYMOUS_RATIO),
        ]
        if self.moved is not None:
            checks.append((f"sequence values moved on signed-in reads {self.moved} = 0",
                           self.moved == 0))
        return checks


def per_round(scene: Scene, over: str, under: str) -> float:
    """The median of each round's ratio: a round's targets ran close together in time."""
    return statistics.median(a.rps / b.rps for a, b in zip(scene.results[over],
                                                            scene.results[under], strict=True))


def report(scene: Scene, args: argparse.Namespace) -> Verdict:
    title = ("SQLite + memory" if scene.mode == "embedded"
             else "PostgreSQL + Redis + Celery worker and beat")
    print(f"\n== {scene.mode} mode: one server process (1 uvicorn worker), {title}")
    print(f"   wrk -t1 -c{args.connections}, {args.rounds} round(s) of {args.duration:g}s per "
          f"target, alternating; medians over the rounds")
    print(f"   {'target':<40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'srv CPU':>9}"
          f"{'/ ping':>8}")
    for target, label in LABELS.items():
        measured = scene.results[target]
        cpu = statistics.median(m.server_cpu for m in measured)
        ratio = per_round(scene, target, PING)
        print(f"   {label:<40}{statistics.median(m.rps for m in measured):>9.0f}"
              f"{statistics.median(m.p50_ms for m in measured):>9.2f}"
              f"{statistics.median(m.p99_ms for m in measured):>9.2f}"
              f"{sum(m.errors for m in measured):>8}"
              f"{'n/a' if math.isnan(cpu) else f'{cpu:.0%}':>9}{ratio:>8.3f}")
    if len(scene.results[PING]) > 1:
        print("   req/s per round: " + "; ".join(
            f"{target} " + " ".join(f"{m.rps:.0f}" for m in scene.results[target])
            for target in LABELS))
    large_cost = per_round(scene, SIGNED_IN, SIGNED_IN_LARGE)
    print(f"   cost of a signed-in first page, {LARGE} posts vs {SMALL}: {large_cost:.2f}x "
          f"(req/s of the {SMALL}-post thread over the {LARGE}-post one)")
    moved: int | None = None
    if scene.watch_sequences:
        moved = sum(scene.moved_signed_in.values())
        reads = sum(m.requests for target in (SIGNED_IN, SIGNED_IN_LARGE)
                    for m in scene.results[target])
        # wrk counts the reads it saw answered; the up to 50 in flight when it stopped count
        # here too, since settle() waits for them.
        print(f"   sequence values taken during the signed-in measurements ({reads} reads "
              f"answered, plus up to {args.connections} in flight at each stop): {moved}"
              + (f" ({', '.join(f'{k} +{v}' for k, v in sorted(scene.moved_signed_in.items()))})"
                 if moved else "")
              + "; during the others (a control: background work): "
              + (", ".join(f"{k} +{v}" for k, v in sorted(scene.moved_other.items())) or "0"))
    if scene.wrote_signed_in is not None:
        print("   SQLite commits by others during the signed-in measurements: "
              f"{'yes' if scene.wrote_signed_in else 'none'}; during the others (control): "
              f"{'yes' if scene.wrote_other else 'none'}  (no AUTOINCREMENT sequences to watch)")
    verdict = Verdict(
        signed_in_ratio=per_round(scene, SIGNED_IN, PING),
        signed_in_p99=statistics.median(m.p99_ms for m in scene.results[SIGNED_IN]),
        anonymous_ratio=per_round(scene, ANONYMOUS, PING),
        large_cost=large_cost, moved=moved)
    for text, met in verdict.checks():
        print(f"   {'met   ' if met else 'MISSED'}  {text}")
    return verdict


def bench_mode(mode: str, args: argparse.Namespace) -> Verdict:
    log(f"[{mode}] starting a fresh stack and one server process")
    with deployment(mode, servers=1, keep=args.keep, target=target_of(args)) as dep:
        server = dep.servers[0]
        log(f"[{mode}] seeding threads of {SMALL} and {LARGE} posts and a signed-in reader")
        small, large, cookie = seed(dep, server)
        scene = Scene(mode, dep.stack, server.url, server.process.popen.pid, small, large, cookie)
        scene.watch_sequences = mode == "scaled" or bool(sequences(scene))
        rounds(scene, args)
        return report(scene, args)


def bench_attached(args: argparse.Namespace) -> tuple[str, Verdict]:
    """The Hearth already on --port, its database named by the options."""
    url = f"http://127.0.0.1:{args.port}"
    try:
        mode = str(httpx.get(url + "/health", timeout=10).json()["mode"])
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise SystemExit(f"no Hearth answers /health on {url}: {exc}") from None
    target = target_of(args)
    if mode == "embedded":
        if target.data_dir is None or not (target.data_dir / "hearth.db").exists():
            raise SystemExit(f"{url} runs in embedded mode: --attach needs its --data-dir "
                             "(the directory holding hearth.db)")
    elif not (target.database and target.redis_prefix):
        raise SystemExit(f"{url} runs in scaled mode: --attach needs its --database and "
                         "--redis-prefix")
    else:
        found = subprocess.run(
            ["psql", harness.PG_ADMIN_URL, "-qAt", "-c",
             f"SELECT 1 FROM pg_database WHERE datname = '{target.database}'"],
            capture_output=True, text=True, check=True).stdout.strip()
        if not found:
            raise SystemExit(f"no database {target.database} on {harness.PG_ADMIN_URL}")
    workdir = Path(tempfile.mkdtemp(prefix="hearth-bench-attach-"))
    try:
        stack = build_stack(mode, workdir, target)
        # Neither started nor stopped here: a handle for create-admin and the admin's client.
        server = Server(url, Process("attached", None, workdir / "none.log"))  # type: ignore[arg-type]
        dep = Deployment(mode, stack, [server], target)
        log(f"[{mode}] attached to {url}; seeding threads of {SMALL} and {LARGE} posts and a "
            "signed-in reader")
        small, large, cookie = seed(dep, server)
        scene = Scene(mode, stack, url, None, small, large, cookie)
        scene.watch_sequences = mode == "scaled" or bool(sequences(scene))
        rounds(scene, args)
        return mode, report(scene, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the four targets")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="seconds of warm-up on each target before the first round")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--attach", action="store_true",
                        help="measure the Hearth already listening on --port instead of starting "
                             "one (--mode is then read from its /health)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    add_target_options(parser)
    args = parser.parse_args()
    args.duration = min(max(args.duration, 1.0), 600.0)
    args.rounds = min(max(args.rounds, 1), 50)
    args.warmup = min(max(args.warmup, 1.0), 60.0)
    args.connections = min(max(args.connections, 1), 1000)
    if args.attach and args.port is None:
        parser.error("--attach needs the --port of the running Hearth")
    if not shutil.which("wrk"):
        print("wrk not found: install it (apt-get install -y wrk); nothing measured")
        summary("signed_in", "nothing measured (no wrk)")
        return 1
    print("signed_in: signed-in and anonymous thread reads against the /api/ping ceiling")
    print(machine_note())
    verdicts: dict[str, Verdict] = {}
    if args.attach:
        mode, verdict = bench_attached(args)
        verdicts[mode] = verdict
    else:
        for mode in MODES if args.mode == "both" else [args.mode]:
            try:
                verdicts[mode] = bench_mode(mode, args)
            except RuntimeError as exc:
                print(f"\n== {mode} mode: skipped: {exc}")
    print()
    summary(
        f"signed_in, thread reads / GET /api/ping, wrk c{args.connections}, one server process, "
        f"{args.rounds}x{args.duration:g}s alternating, medians",
        "; ".join(f"{mode} {v.headline()}" for mode, v in verdicts.items())
        or "nothing measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
