"""Shared set-up for the benchmarks: real Hearth processes started the way the tests start them
(tests/harness.py), in a chosen mode, with a member, a category and a thread made over the API.

Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import statistics
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
ADMIN_HANDLE, ADMIN_PASSWORD = "bench_admin", "bench admin password 1"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_stack(mode: str, workdir: Path) -> Stack:
    """harness.build_stack for an explicit mode (the harness reads HEARTH_TEST_MODE once)."""
    previous = harness.MODE
    harness.MODE = mode
    try:
        return harness.build_stack(workdir)
    finally:
        harness.MODE = previous


@dataclass
class Deployment:
    mode: str
    stack: Stack
    servers: list[Server] = field(default_factory=list)


@contextlib.contextmanager
def deployment(mode: str, servers: int = 1, keep: bool = False,
               server_env: dict[str, str] | None = None,
               worker_concurrency: int = 2) -> Iterator[Deployment]:
    """A fresh database (SQLite file or a new PostgreSQL database + Redis prefix), migrated;
    in scaled mode a Celery worker (concurrency 2 unless told, as the test fixtures run it)
    and beat;
    then `servers` server processes (one uvicorn worker each), with `server_env` added to their
    environment. Torn down on exit."""
    if mode == "scaled":
        missing = harness.services_reachable()
        if missing:
            raise RuntimeError(f"scaled mode needs {missing}")
    workdir = Path(tempfile.mkdtemp(prefix=f"hearth-bench-{mode}-"))
    stack = build_stack(mode, workdir)
    try:
        stack.run("migrate")
        if mode == "scaled":
            stack.spawn("worker", "worker", "--concurrency", str(worker_concurrency))
            stack.spawn("beat", "beat")
        dep = Deployment(mode, stack)
        for _ in range(servers):
            dep.servers.append(stack.start_server(env=server_env))
        yield dep
    finally:
        harness.drop_stack(stack)
        drop_queue_bindings(stack)
        if keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


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
    """An admin made with `hearth create-admin` (there is no API for the first admin)."""
    dep.stack.run("create-admin", "--handle", ADMIN_HANDLE, "--email", "bench-admin@example.test",
                  "--password", ADMIN_PASSWORD)
    client = server.client()
    response = client.login(ADMIN_HANDLE, ADMIN_PASSWORD)
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
