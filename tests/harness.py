"""Test harness: real Hearth processes over loopback, in the mode HEARTH_TEST_MODE names.

embedded: a SQLite file in a temp dir, in-memory channels, the in-process runner.
scaled:   a fresh PostgreSQL database, Redis under a unique prefix, a real Celery worker and
          beat. Tests talk HTTP and websockets to the servers, exactly as clients do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from websockets.sync.client import ClientConnection, connect

from server.clock import REFRESH_SECONDS as CLOCK_REFRESH_SECONDS

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODE = os.environ.get("HEARTH_TEST_MODE", "embedded")
PG_ADMIN_URL = os.environ.get("HEARTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("HEARTH_TEST_REDIS", "redis://127.0.0.1:6379/0")
ADMIN_HANDLE, ADMIN_PASSWORD = "root_admin", "admin password 123"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Poll until check() returns a truthy value without raising; fail with the last error.
    The check must name the exact state awaited (a score, a count, a status): "something
    changed" passes on the first intermediate state a loaded machine shows."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
            last = AssertionError(f"still falsy: {value!r}")
        except AssertionError as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s: {last}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Stack:
    """The backing services and environment shared by every process of one test session."""

    mode: str
    workdir: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    database_name: str = ""

    @property
    def clock_file(self) -> Path:
        return Path(self.env["HEARTH_TEST_CLOCK_FILE"])

    def clock_offset(self) -> dt.timedelta:
        text = self.clock_file.read_text().strip() if self.clock_file.exists() else ""
        return dt.timedelta(seconds=float(text or 0))

    def now(self) -> dt.datetime:
        """The stack's time (server.clock): what its processes see as now."""
        return dt.datetime.now(dt.UTC) + self.clock_offset()

    def advance(self, days: float = 0, hours: float = 0, minutes: float = 0,
                seconds: float = 0) -> dt.datetime:
        """Move every process of the stack forward in time; returns the new now. Only
        forward: what the clock governs (deadlines, periods, retention) must not re-open."""
        step = dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if step <= dt.timedelta():
            raise ValueError(f"time only moves forward, not by {step}")
        offset = self.clock_offset() + step
        staged = self.clock_file.with_suffix(".new")
        staged.write_text(repr(offset.total_seconds()))
        # A new file, not a rewrite: readers notice by inode, and never read it half-written.
        os.replace(staged, self.clock_file)
        # Each process re-reads the file at most REFRESH_SECONDS after its last look; past
        # twice that, every later reading anywhere sees the new offset.
        time.sleep(2 * CLOCK_REFRESH_SECONDS)
        return self.now()

    def advance_to(self, when: dt.datetime) -> dt.datetime:
        """Move the stack's clock forward to `when` (an aware datetime)."""
        return self.advance(seconds=(when - self.now()).total_seconds())

    def advance_to_next(self, hour: int) -> dt.datetime:
        """Forward to the next HH:00 UTC on a later day: tests that count days start well
        clear of midnight, whenever they run."""
        midnight = self.now().replace(hour=0, minute=0, second=0, microsecond=0)
        return self.advance_to(midnight + dt.timedelta(days=1, hours=hour))

    def run(self, *args: str, env: dict[str, str] | None = None,
            check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "hearth"), *args], cwd=ROOT, env={**self.env, **(env or {})},
            capture_output=True, text=True, timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"hearth {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        """Run SQL straight on the stack's database (to read state for an assertion, or to
        stage what the API cannot, e.g. a broken event; time moves with advance(), not SQL);
        returns the rows, as text on PostgreSQL."""
        if self.mode == "scaled":
            out = subprocess.run(["psql", self.env["HEARTH_DATABASE_URL"], "-qAt", "-c", statement],
                                 capture_output=True, text=True, check=True).stdout
            return [tuple(line.split("|")) for line in out.splitlines()]
        with sqlite3.connect(self.workdir / "data" / "hearth.db", timeout=30) as db:
            return db.execute(statement).fetchall()

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> Process:
        log_path = self.workdir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        handle = log_path.open("wb")
        popen = subprocess.Popen(
            [str(BIN / "hearth"), *args], cwd=ROOT, env={**self.env, **(env or {})},
            stdout=handle, stderr=subprocess.STDOUT,
        )
        process = Process(name, popen, log_path)
        self.processes.append(process)
        return process

    def start_server(self, env: dict[str, str] | None = None, wait: bool = True) -> Server:
        port = free_port()
        process = self.spawn("server", "serve", "--port", str(port), env=env)
        server = Server(f"http://127.0.0.1:{port}", process)
        if wait:
            server.wait_healthy()
        return server

    def start_worker(self, env: dict[str, str] | None = None, concurrency: int = 2) -> Process:
        """A Celery worker, returned once it reports ready (its first start imports a lot)."""
        process = self.spawn("worker", "worker", "--concurrency", str(concurrency),
                             env={"HEARTH_LOG_LEVEL": "info", **(env or {})})
        deadline = time.monotonic() + 60
        while " ready." not in process.log():
            if process.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not become ready:\n{process.log()}")
            time.sleep(0.1)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@dataclass
class Server:
    url: str
    process: Process

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def wait_healthy(self, timeout: float = 90) -> None:
        # Generous: on a loaded machine (both halves of `make test` at once, or others' work)
        # a first start's imports alone have taken over 30 s. A server that never answers
        # still fails; a healthy one returns at its first answer.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.popen.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.process.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"server not healthy in {timeout}s:\n{self.process.log()}")

    def client(self) -> Client:
        return Client(self)


class Client:
    """One browser-like user agent: keeps cookies, echoes the CSRF token on writes."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.member: dict[str, Any] = {}
        self.token: str | None = None

    def on(self, server: Server) -> Client:
        """The same browser (its cookies) talking to another server process of the stack."""
        moved = Client(server)
        moved.http.cookies.update(self.http.cookies)
        moved.member = self.member
        moved.token = self.token
        return moved

    def _headers(self, method: str) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        csrf = self.http.cookies.get("hearth_csrf")
        if csrf and method not in ("GET", "HEAD"):
            headers["X-CSRF-Token"] = csrf
        return headers

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._headers(method), **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, json=json, **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def register(self, handle: str | None = None, password: str = "correct horse battery") -> Client:
        handle = handle or "u" + uuid.uuid4().hex[:10]
        response = self.post("/api/register", {
            "handle": handle, "email": f"{handle}@example.test", "password": password,
        })
        assert response.status_code == 201, response.text
        self.member = response.json()["member"]
        return self

    def login(self, login: str, password: str) -> httpx.Response:
        response = self.post("/api/session", {"login": login, "password": password})
        if response.status_code == 200:
            self.member = response.json()["member"]
        return response

    def ticket(self, token: str | None = None) -> httpx.Response:
        """Ask for a websocket ticket, as this client's session or as the API token given."""
        if token:
            # Not through self.http: its cookies would make this the session's ticket.
            return httpx.post(self.server.url + "/api/realtime/ticket", timeout=30,
                              headers={"Authorization": f"Bearer {token}"})
        return self.post("/api/realtime/ticket")

    def websocket(self, token: str | None = None, origin: str | None = None,
                  ticket: str | None = None) -> Socket:
        """Open /ws: with the given ticket, as the API token given (through a ticket it asks
        for), or else with this client's cookies."""
        if token:
            response = self.ticket(token)
            assert response.status_code == 201, response.text
            ticket = response.json()["ticket"]
        url = self.server.ws_url + (f"?ticket={ticket}" if ticket else "")
        headers = {}
        cookies = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        if cookies and not ticket:
            headers["Cookie"] = cookies
        return Socket(connect(url, additional_headers=headers, origin=origin,  # type: ignore[arg-type]
                              open_timeout=10, legacy=True))


class Socket:
    """A websocket client that keeps every frame it received, for assertions."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []

    def send(self, **message: Any) -> None:
        self.connection.send(json.dumps(message))

    def subscribe(self, channel: str, since: int | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"op": "subscribe", "channel": channel}
        if since is not None:
            message["since"] = since
        self.send(**message)
        return self.wait_for(lambda f: f.get("channel") == channel
                             and f["type"] in ("subscribed", "error"))

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool],
                 timeout: float = 15.0) -> dict[str, Any]:
        for frame in self.frames:
            if predicate(frame):
                return frame
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = self.connection.recv(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            frame = json.loads(raw)
            self.frames.append(frame)
            if predicate(frame):
                return frame
        raise AssertionError(f"no matching frame within {timeout}s; got {self.frames}")

    def messages(self, channel: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == "message" and f["channel"] == channel]

    def drain(self, seconds: float = 0.3) -> None:
        deadline = time.monotonic() + seconds
        with contextlib.suppress(TimeoutError):
            while time.monotonic() < deadline:
                self.frames.append(json.loads(self.connection.recv(
                    timeout=max(0.01, deadline - time.monotonic()))))

    def close(self) -> None:
        self.connection.close()


def build_stack(workdir: Path) -> Stack:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update({
        "HEARTH_DATA_DIR": str(workdir / "data"),
        "HEARTH_LOG_LEVEL": "warning",
        "HEARTH_SWEEP_INTERVAL_SECONDS": "1",
        # Every process of the stack reads its time offset here (server.clock).
        "HEARTH_TEST_CLOCK_FILE": str(workdir / "clock"),
        # Tests register many accounts from one address; the limits get their own tests.
        "HEARTH_REGISTER_RATE_LIMIT": "100000/60",
        "HEARTH_LOGIN_RATE_LIMIT": "100000/60",
        "HEARTH_WRITE_RATE_LIMIT": "100000/60",
        "HEARTH_SEARCH_RATE_LIMIT": "100000/60",
        # Tests move the clock by weeks; a signed-in client must outlive that unless a test
        # is about expiry (it sets its own lifetime).
        "HEARTH_SESSION_TTL_SECONDS": str(3650 * 86400),
        # Every test signs members up: at argon2id's full cost that was minutes of CPU a run.
        "HEARTH_TEST_LIGHT_PASSWORD_HASHES": "true",
        # Webhook receivers in tests listen on 127.0.0.1 over plain http.
        "HEARTH_WEBHOOKS_ALLOW_LOOPBACK": "true",
    })
    stack = Stack(mode=MODE, workdir=workdir, env=env)
    if MODE == "scaled":
        stack.database_name = f"hearth_test_{uuid.uuid4().hex[:10]}"
        admin_conn_args = ["psql", PG_ADMIN_URL, "-q", "-c"]
        subprocess.run([*admin_conn_args, f"CREATE DATABASE {stack.database_name}"], check=True,
                       capture_output=True)
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        env["HEARTH_DATABASE_URL"] = f"{base}/{stack.database_name}"
        env["HEARTH_REDIS_URL"] = REDIS_URL
        env["HEARTH_REDIS_PREFIX"] = f"t{uuid.uuid4().hex[:10]}"
    return stack


def drop_stack(stack: Stack) -> None:
    stack.stop_all()
    if stack.database_name:
        subprocess.run(["psql", PG_ADMIN_URL, "-q", "-c",
                        f"DROP DATABASE IF EXISTS {stack.database_name} WITH (FORCE)"],
                       capture_output=True)
        prefix = stack.env.get("HEARTH_REDIS_PREFIX")
        if prefix:
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            # Kombu keeps queue bindings outside the prefix, named after the queue.
            keys = [*client.scan_iter(f"{prefix}*", count=1000),
                    *client.scan_iter(f"_kombu.binding*{prefix}-tasks", count=1000)]
            if keys:
                client.delete(*keys)


def services_reachable() -> str | None:
    """None when PostgreSQL and Redis answer; otherwise what is missing."""
    import redis

    missing = []
    result = subprocess.run(["psql", PG_ADMIN_URL, "-q", "-c", "SELECT 1"], capture_output=True)
    if result.returncode != 0:
        missing.append(f"PostgreSQL at {PG_ADMIN_URL}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        missing.append(f"Redis at {REDIS_URL}")
    return ", ".join(missing) or None
