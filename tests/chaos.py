"""What the fault tests (tests/server/test_chaos.py) and bench/recovery.py share: a scaled
stack on a private Redis (two app servers, two workers, beat), members replying in a thread
through both servers while processes and services die, every answer recorded, and the state
that must hold once the dust has settled.

    with chaos_stack(workdir) as chaos:
        stream = chaos.stream()
        with stream.running():
            ...kill things, start replacements (chaos.replace_server(old, stream))...
        eventually(lambda: settled(chaos.stack, stream.thread_id), timeout=...)
        assert_nothing_lost(chaos.stack, stream, stream.thread_id)
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import signed_in_admin
from tests.faults import PrivatePostgres, PrivateRedis, private_redis, private_stack
from tests.harness import Client, Process, Server, Stack, drop_stack

# "Posted a reply" without the default's daily cap: every reply earns exactly one award.
REPLY_RULE = {"name": "Chaos reply", "event_types": ["post.created"],
              "condition": "post_number > 1", "points": "1"}


@dataclass(frozen=True)
class Answer:
    """One request of the stream and what came back (status None: no answer at all)."""

    method: str
    server: str
    token: str
    status: int | None
    retry_after: str | None
    at: float
    seconds: float
    detail: str = ""


@dataclass
class ReplyStream:
    """Each writer (a signed-in member) posts a reply, then reads the thread, again and again,
    taking the servers in turn; `pace` seconds between rounds keeps a loaded machine usable."""

    servers: list[Server]
    writers: list[Client]
    thread_id: int
    pace: float = 0.05
    answers: list[Answer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def replace(self, old: Server, new: Server) -> None:
        """From now on, requests that went to `old` go to `new`."""
        with self._lock:
            self.servers[self.servers.index(old)] = new

    def _server(self, turn: int) -> Server:
        with self._lock:
            return self.servers[turn % len(self.servers)]

    def _send(self, writer: Client, method: str, server: Server, path: str, token: str,
              body: dict[str, str] | None = None) -> None:
        sent = time.monotonic()
        try:
            response = writer.request(method, server.url + path, json=body, timeout=30)
            now = time.monotonic()
            answer = Answer(method, server.url, token, response.status_code,
                            response.headers.get("retry-after"), now, now - sent,
                            response.text[:200] if response.status_code >= 400 else "")
        except httpx.HTTPError as exc:
            now = time.monotonic()
            answer = Answer(method, server.url, token, None, None, now, now - sent,
                            f"{type(exc).__name__}: {exc}")
        with self._lock:
            self.answers.append(answer)

    def _write(self, index: int, writer: Client) -> None:
        turn = index
        while not self._stop.is_set():
            server = self._server(turn)
            token = f"chaos reply {index}-{turn}-{uuid.uuid4().hex[:8]}"
            self._send(writer, "POST", server, f"/api/threads/{self.thread_id}/posts", token,
                       {"body": token})
            self._send(writer, "GET", self._server(turn + 1),
                       f"/api/threads/{self.thread_id}?limit=5", "")
            turn += 1
            self._stop.wait(self.pace)

    @contextmanager
    def running(self) -> Iterator[ReplyStream]:
        self._stop.clear()
        threads = [threading.Thread(target=self._write, args=(i, w), daemon=True)
                   for i, w in enumerate(self.writers)]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=60)

    def since(self, start: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.at >= start]

    def accepted(self) -> list[str]:
        """The replies the servers said they took (2xx)."""
        with self._lock:
            return [a.token for a in self.answers
                    if a.method == "POST" and a.status is not None and 200 <= a.status < 300]

    def wait_for_replies(self, count: int, timeout: float = 60) -> None:
        """Until `count` more replies than now were accepted."""
        target = len(self.accepted()) + count
        deadline = time.monotonic() + timeout
        while len(self.accepted()) < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"the stream got {len(self.accepted())} replies accepted, "
                                     f"not {target}, within {timeout}s")
            time.sleep(0.05)


@dataclass
class Chaos:
    stack: Stack
    redis: PrivateRedis
    servers: list[Server]
    workers: list[Process]
    beat: Process
    admin: Client
    writers: list[Client]
    category_id: int

    def thread(self) -> int:
        # Through a server alive now: the one a writer registered on may have been killed.
        response = self.writers[0].post(
            f"{self.servers[0].url}/api/categories/{self.category_id}/threads",
            {"title": "Chaos " + uuid.uuid4().hex[:6], "body": "Reply here, whatever happens"})
        assert response.status_code == 201, response.text
        return int(response.json()["thread"]["id"])

    def stream(self) -> ReplyStream:
        """A stream of replies in a new thread, through every server."""
        return ReplyStream(list(self.servers), self.writers, self.thread())

    def replace_server(self, old: Server, *streams: ReplyStream) -> Server:
        new = self.stack.start_server()
        self.servers[self.servers.index(old)] = new
        for stream in streams:
            stream.replace(old, new)
        return new


@contextmanager
def chaos_stack(workdir: Path, writers: int = 6,
                postgres: PrivatePostgres | None = None) -> Iterator[Chaos]:
    """Two workers, beat and two app servers on a private Redis (and the private PostgreSQL
    given, else a new database on the shared one); an admin, a rule paying a point for each
    reply, a category, and `writers` members signed in, registered through both servers."""
    with private_redis(workdir) as redis:
        stack = private_stack(workdir / "stack", redis, postgres)
        try:
            workers = [stack.start_worker(), stack.start_worker()]
            beat = stack.spawn("beat", "beat")
            servers = [stack.start_server(), stack.start_server()]
            yield populate(stack, redis, servers, workers, beat, writers)
        finally:
            drop_stack(stack)


def populate(stack: Stack, redis: PrivateRedis, servers: list[Server], workers: list[Process],
             beat: Process, writers: int) -> Chaos:
    """What the chaos runs share on a started stack: an admin, a rule paying a point for each
    reply, a category, and `writers` members registered through both servers."""
    admin = signed_in_admin(servers[0], stack)
    rule = admin.post("/api/gamification/rules", REPLY_RULE)
    assert rule.status_code == 201, rule.text
    slug = "chaos-" + uuid.uuid4().hex[:8]
    category = admin.post("/api/categories", {"name": "Chaos " + slug, "slug": slug})
    assert category.status_code == 201, category.text
    members = [servers[i % 2].client().register() for i in range(writers)]
    return Chaos(stack, redis, servers, workers, beat, admin, members, int(category.json()["id"]))


def pending_events(stack: Stack) -> int:
    return int(stack.sql("SELECT COUNT(*) FROM outbox_event WHERE dispatched_at IS NULL")[0][0])


def replies(stack: Stack, thread_id: int) -> dict[int, str]:
    """Each reply in the thread that exists, by post id: its text."""
    rows = stack.sql(f"SELECT id, markdown FROM forum_post WHERE thread = {thread_id} "
                     "AND post_number > 1")
    return {int(row[0]): str(row[1]) for row in rows}


def live_awards(stack: Stack, thread_id: int) -> Counter[int]:
    """How many unreversed awards each reply of the thread earned, by post id."""
    rows = stack.sql(
        "SELECT p.id, COUNT(*) FROM forum_post p JOIN ledger_transaction t "
        "ON t.source = 'post:' || p.id AND t.kind = 'award' "
        f"WHERE p.thread = {thread_id} AND p.post_number > 1 AND NOT EXISTS "
        "(SELECT 1 FROM ledger_transaction r WHERE r.reverses = t.id) GROUP BY p.id")
    return Counter({int(row[0]): int(row[1]) for row in rows})


def settled(stack: Stack, thread_id: int) -> bool:
    """The exact state a recovered stack reaches: nothing left in the outbox, and every reply
    of the thread awarded (once: more is caught by assert_nothing_lost). Raises, saying how
    far it is, until then."""
    pending, count = pending_events(stack), len(replies(stack, thread_id))
    awarded = sum(live_awards(stack, thread_id).values())
    assert (pending, awarded) == (0, count), \
        f"{pending} events pending, {awarded} awards for {count} replies"
    return True


def assert_nothing_lost(stack: Stack, stream: ReplyStream, thread_id: int) -> None:
    """Every accepted reply exists once, every reply earned one award, the ledger check finds
    nothing and each writer's all-time score is their count of replies (in every thread)."""
    texts = Counter(replies(stack, thread_id).values())
    assert [t for t, n in texts.items() if n > 1] == [], "replies stored twice"
    assert [t for t in stream.accepted() if t not in texts] == [], "accepted replies lost"
    awards = live_awards(stack, thread_id)
    assert {p: n for p, n in awards.items() if n != 1} == {}, "replies awarded twice"
    assert set(awards) == set(replies(stack, thread_id)), "replies never awarded"
    check = stack.run("ledger-check", check=False)
    assert check.returncode == 0, f"ledger-check found:\n{check.stdout}{check.stderr}"
    # Every reply of theirs, in this thread and earlier ones, earned a point.
    authors = dict(stack.sql("SELECT author, COUNT(*) FROM forum_post WHERE post_number > 1 "
                             "GROUP BY author"))
    board = httpx.get(stream.servers[0].url + "/api/leaderboards/all-time",
                      params={"limit": 100}, timeout=30)
    assert board.status_code == 200, board.text
    scores = {row["member"]["id"]: row["score"] for row in board.json()["items"]}
    assert {w.member["id"]: scores.get(w.member["id"]) for w in stream.writers} == \
        {w.member["id"]: int(authors.get(str(w.member["id"]), 0)) for w in stream.writers}


def process_tree(pid: int) -> list[int]:
    """pid and every process descended from it (a Celery worker's pool children too)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def signal_tree(pid: int, sig: int) -> None:
    """Send sig to a process and all its descendants at once (kill -9 of a machine's worker
    leaves no pool child behind to finish its task)."""
    for member in process_tree(pid):
        with suppress(ProcessLookupError):
            os.kill(member, sig)
