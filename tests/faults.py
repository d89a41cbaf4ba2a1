"""Backing services a test may break: a Redis and a PostgreSQL of the test's own, on their
own ports, that it can kill, stop and start again without touching the shared ones.

    with private_redis(tmp) as redis, private_postgres(tmp) as pg:
        stack = private_stack(tmp / "stack", redis=redis, postgres=pg)
        ...
        redis.kill(); ...; redis.start()
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.harness import MODE, Stack, build_stack, free_port


def _pg_bin() -> Path:
    """Where initdb and pg_ctl are: pg_config says, else Debian's newest server install."""
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if (Path(found.stdout.strip()) / "initdb").exists():
            return Path(found.stdout.strip())
    installed = sorted(Path("/usr/lib/postgresql").glob("[0-9]*/bin/initdb"),
                       key=lambda initdb: int(initdb.parent.parent.name))
    if not installed:
        raise AssertionError("fault tests need PostgreSQL's initdb and pg_ctl")
    return installed[-1].parent


PG_BIN = _pg_bin()


def _wait(check: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not come up within {timeout}s")


@dataclass
class PrivateRedis:
    """A redis-server that keeps nothing on disk, like the shared one."""

    workdir: Path
    port: int = field(default_factory=free_port)
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        result = subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                                capture_output=True, text=True)
        return result.stdout.strip() == "PONG"

    def start(self) -> None:
        """Start (or start again, on the same port, empty)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "redis.log").open("ab")
        self.popen = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT)
        _wait(self.ping, f"private Redis on port {self.port}")

    def kill(self) -> None:
        """Gone at once, with everything it held (kill -9)."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()

    def down(self) -> bool:
        return self.popen is None or self.popen.poll() is not None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster made with initdb in a temporary directory, run as the postgres
    user (initdb refuses root) on its own port, with trust auth on loopback."""

    port: int = field(default_factory=free_port)
    datadir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hearth-pg-")))
    database: str = field(default_factory=lambda: f"hearth_{uuid.uuid4().hex[:8]}")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "postgres", "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.datadir / "data"), "-U",
                          "postgres", "--auth=trust", "--no-sync")
        self.start()
        subprocess.run(["psql", f"postgresql://postgres@127.0.0.1:{self.port}/postgres", "-q",
                        "-c", f"CREATE DATABASE {self.database}"], check=True,
                       capture_output=True)

    def start(self) -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.datadir / "data"), "-l",
            str(self.datadir / "server.log"), "-w", "-t", "60", "-o",
            f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start")

    def stop(self, mode: str = "fast") -> None:
        """mode: "fast" (a clean restart's first half) or "immediate" (a crash)."""
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.datadir / "data"), "-m", mode,
                          "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.datadir, ignore_errors=True)


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(workdir / "redis")
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    postgres = PrivatePostgres()
    try:
        postgres.init()
        yield postgres
    finally:
        postgres.remove()


def private_stack(workdir: Path, redis: PrivateRedis,
                  postgres: PrivatePostgres | None = None) -> Stack:
    """A scaled stack on the private Redis and on the private PostgreSQL (or, without one, a
    fresh database on the shared PostgreSQL), migrated, with no process started yet. Drop it
    with tests.harness.drop_stack."""
    assert MODE == "scaled", "private services are for scaled-mode tests"
    workdir.mkdir(parents=True, exist_ok=True)
    stack = build_stack(workdir)
    stack.env["HEARTH_REDIS_URL"] = redis.url
    if postgres is not None:
        stack.env["HEARTH_DATABASE_URL"] = postgres.url
    stack.run("migrate")
    return stack
