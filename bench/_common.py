"""Shared set-up for the benchmarks: real Hearth processes started the way the tests start them
(tests/harness.py), in a chosen mode, with a member, a category and a thread made over the API.

Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import harness  # noqa: E402
from tests.harness import Client, Server, Stack  # noqa: E402

MODES = ("embedded", "scaled")
ADMIN_PASSWORD = "bench admin password 1"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Target:
    """Where a bench's deployment lives, named on the command line so that a reviewer can
    point the bench somewhere and look at it while it runs, or after: what is named here is
    never removed. None: a fresh one, removed at the end."""

    port: int | None = None
    database: str | None = None
    data_dir: Path | None = None
    redis_prefix: str | None = None


FRESH = Target()


def _port(raw: str) -> int:
    port = int(raw)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1..65535, not {port}")
    return port


def _database_name(raw: str) -> str:
    # Interpolated into CREATE DATABASE and URLs: a plain lower-case identifier only.
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", raw):
        raise argparse.ArgumentTypeError(f"a database name is [a-z_][a-z0-9_]*, not {raw!r}")
    if raw in ("postgres", "template0", "template1"):
        raise argparse.ArgumentTypeError(f"{raw} is PostgreSQL's own database: name another")
    return raw


def _redis_prefix(raw: str) -> str:
    # What server.settings accepts for HEARTH_REDIS_PREFIX.
    if not raw.replace("-", "").replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(f"a Redis prefix is letters, digits, - or _, not {raw!r}")
    return raw


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """--port, --database, --data-dir and --redis-prefix, the same in every bench script."""
    group = parser.add_argument_group(
        "where it runs (what is named is created when missing, reused, and left in place)")
    group.add_argument("--port", type=_port, default=None,
                       help="port of the (first) server process the bench starts; more servers "
                            "take the next ports (default: free ports)")
    group.add_argument("--database", type=_database_name, default=None,
                       help="scaled mode: the PostgreSQL database, on the HEARTH_TEST_PG server "
                            "(default: a fresh hearth_test_<random>, dropped at the end)")
    group.add_argument("--data-dir", type=Path, default=None,
                       help="embedded mode: the data directory, SQLite file and media "
                            "(default: a temporary one, removed at the end)")
    group.add_argument("--redis-prefix", type=_redis_prefix, default=None,
                       help="scaled mode: the Redis key prefix (default: a fresh t<random>, "
                            "its keys removed at the end)")


def target_of(args: argparse.Namespace) -> Target:
    data_dir = args.data_dir.resolve() if args.data_dir else None
    return Target(args.port, args.database, data_dir, args.redis_prefix)


def describe(stack: Stack) -> str:
    """Where a stack's data lives, for the report."""
    if stack.mode == "scaled":
        return (f"database {stack.database_name}, Redis prefix "
                f"{stack.env['HEARTH_REDIS_PREFIX']}")
    return f"data dir {os.path.realpath(stack.env['HEARTH_DATA_DIR'])}"


def build_stack(mode: str, workdir: Path, target: Target = FRESH) -> Stack:
    """harness.build_stack for an explicit mode (the harness reads HEARTH_TEST_MODE once), on
    the database, data dir and Redis prefix the target names, else on fresh ones as the
    harness makes them."""
    previous = harness.MODE
    # The harness's embedded environment is the common base; the scaled parts are added here
    # so that the target can name them.
    harness.MODE = "embedded"
    try:
        stack = harness.build_stack(workdir)
    finally:
        harness.MODE = previous
    stack.mode = mode
    if mode == "embedded" and target.data_dir is not None:
        target.data_dir.mkdir(parents=True, exist_ok=True)
        # Stack.sql opens <workdir>/data/hearth.db: the named directory is linked there.
        (workdir / "data").symlink_to(target.data_dir, target_is_directory=True)
    if mode == "scaled":
        stack.database_name = target.database or f"hearth_test_{uuid.uuid4().hex[:10]}"
        exists = subprocess.run(
            ["psql", harness.PG_ADMIN_URL, "-qAt", "-c",
             f"SELECT 1 FROM pg_database WHERE datname = '{stack.database_name}'"],
            capture_output=True, text=True, check=True).stdout.strip() == "1"
        if exists:
            log(f"reusing the existing database {stack.database_name}")
        else:
            subprocess.run(["psql", harness.PG_ADMIN_URL, "-q", "-c",
                            f"CREATE DATABASE {stack.database_name}"],
                           check=True, capture_output=True)
        base = harness.PG_ADMIN_URL.rsplit("/", 1)[0]
        stack.env["HEARTH_DATABASE_URL"] = f"{base}/{stack.database_name}"
        stack.env["HEARTH_REDIS_URL"] = harness.REDIS_URL
        stack.env["HEARTH_REDIS_PREFIX"] = target.redis_prefix or f"t{uuid.uuid4().hex[:10]}"
    return stack


@dataclass
class Deployment:
    mode: str
    stack: Stack
    servers: list[Server] = field(default_factory=list)
    target: Target = FRESH

    def start_server(self, env: dict[str, str] | None = None, port: int | None = None) -> Server:
        """One more server process: on `port`, else on the target's next port (its --port
        plus the servers started so far), else on a free one."""
        if port is None and self.target.port is not None:
            port = self.target.port + len(self.servers)
        if port is None:
            server = self.stack.start_server(env=env)
        else:
            process = self.stack.spawn("server", "serve", "--port", str(port), env=env)
            server = Server(f"http://127.0.0.1:{port}", process)
            server.wait_healthy()
        log(f"[{self.mode}] server process {server.process.popen.pid} on {server.url}")
        self.servers.append(server)
        return server


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


@contextlib.contextmanager
def deployment(mode: str, servers: int = 1, keep: bool = False,
               server_env: dict[str, str] | None = None,
               worker_concurrency: int = 2, target: Target = FRESH) -> Iterator[Deployment]:
    """A database (a fresh SQLite file or a new PostgreSQL database + Redis prefix, or the
    ones the target names), migrated; in scaled mode a Celery worker (concurrency 2 unless
    told, as the test fixtures run it) and beat;
    then `servers` server processes (one uvicorn worker each, on the target's ports), with
    `server_env` added to their environment. Torn down on exit: what the target named stays."""
    if mode == "scaled":
        missing = harness.services_reachable()
        if missing:
            raise RuntimeError(f"scaled mode needs {missing}")
    workdir = Path(tempfile.mkdtemp(prefix=f"hearth-bench-{mode}-"))
    stack = build_stack(mode, workdir, target)
    log(f"[{mode}] {describe(stack)}")
    try:
        stack.run("migrate")
        if mode == "scaled":
            stack.spawn("worker", "worker", "--concurrency", str(worker_concurrency))
            stack.spawn("beat", "beat")
        dep = Deployment(mode, stack, target=target)
        for _ in range(servers):
            dep.start_server(env=server_env)
        yield dep
    finally:
        stack.stop_all()
        if mode == "scaled" and target.database is None:
            subprocess.run(["psql", harness.PG_ADMIN_URL, "-q", "-c",
                            f"DROP DATABASE IF EXISTS {stack.database_name} WITH (FORCE)"],
                           capture_output=True)
        if mode == "scaled" and target.redis_prefix is None:
            drop_prefix(stack)
            drop_queue_bindings(stack)
        if keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def drop_prefix(stack: Stack) -> None:
    """Every key under the stack's Redis prefix."""
    import redis

    prefix = stack.env["HEARTH_REDIS_PREFIX"]
    client = redis.Redis.from_url(harness.REDIS_URL)
    try:
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError as exc:
        log(f"could not remove the keys of {prefix}: {exc}")
    finally:
        client.close()


def drop_queue_bindings(stack: Stack) -> None:
    """kombu keeps `_kombu.binding.<queue>` keys outside the stack's prefix (the Celery queue
    is `<prefix>-tasks`), which harness.drop_stack does not match: remove them too."""
    prefix = stack.env.get("HEARTH_REDIS_PREFIX")
    if not stack.database_name or not prefix:
        return
    import redis

    client = redis.Redis.from_url(harness.REDIS_URL)
    try:
        keys = list(client.scan_iter(f"_kombu.binding*.{prefix}-tasks", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError as exc:
        log(f"could not remove the kombu bindings of {prefix}: {exc}")
    finally:
        client.close()


def admin_client(dep: Deployment, server: Server) -> Client:
    """An admin made with `hearth create-admin` (there is no API for the first admin); a new
    one each run, as a database named with --database may hold an earlier run's."""
    handle = "bench_admin_" + uuid.uuid4().hex[:8]
    dep.stack.run("create-admin", "--handle", handle, "--email", f"{handle}@example.test",
                  "--password", ADMIN_PASSWORD)
    client = server.client()
    response = client.login(handle, ADMIN_PASSWORD)
    assert response.status_code == 200, response.text
    return client


def seed_thread(dep: Deployment, server: Server, replies: int) -> tuple[Client, dict[str, Any]]:
    """Over the API: a member, a public category and a thread with 1 + `replies` posts.
    Returns the member's client and the created thread."""
    admin = admin_client(dep, server)
    slug = "bench-" + uuid.uuid4().hex[:8]
    response = admin.post("/api/categories", {"name": "Bench " + slug, "slug": slug})
    assert response.status_code == 201, response.text
    category = response.json()
    member = server.client().register()
    body = ("A first post with a little **markdown**, a [link](https://example.test/) and a list:\n\n"
            "- one\n- two\n- three\n")
    response = member.post(f"/api/categories/{category['id']}/threads",
                           {"title": "A thread to benchmark", "body": body})
    assert response.status_code == 201, response.text
    thread = response.json()["thread"]
    for n in range(replies):
        response = member.post(f"/api/threads/{thread['id']}/posts", {
            "body": f"Reply number {n + 1}. Some *emphasis*, some `code` and a second sentence "
                    "so the post is not trivially short.",
        })
        assert response.status_code == 201, response.text
    return member, thread


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def machine_note() -> str:
    load1, load5, _ = os.getloadavg()
    return (f"machine: {os.cpu_count()} cores, load average {load1:.2f} (1 min) {load5:.2f} (5 min) "
            f"at {time.strftime('%Y-%m-%d %H:%M:%S')}; other work on the machine (e.g. a test run) "
            "makes these figures noisy")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    """(requests/s, p50 ms, p99 ms, requests, errors) from `wrk --latency` output."""
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(g) for g in match.groups())
    return rps, p50, p99, total, errors


def run_wrk(url: str, seconds: float, connections: int, threads: int,
            headers: Sequence[str] = ()) -> str:
    """`wrk --latency` for `seconds` at `connections` keep-alive connections; its output."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--timeout", "10s", "--latency"]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    return result.stdout


def summary(what: str, figures: str) -> None:
    """The last line of every bench's output: what it measured, its headline figures and the
    load average they were measured under."""
    load1, load5, _ = os.getloadavg()
    print(f"summary: {what}: {figures}; load average {load1:.2f} (1 min) {load5:.2f} (5 min)",
          flush=True)
