"""Workers survive what happens to them in production: the broker vanishing under them, a
worker killed mid-batch, a worker told to stop. Each test runs on a private Redis it may kill
(tests.faults) and its own database; a reply stream emits events that award points, and the
awards in the ledger show that every event was handled, once."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from celery import Celery

from server.outbox import CLAIM_SECONDS
from tests.conftest import signed_in_admin
from tests.faults import PrivateRedis, private_redis, private_stack
from tests.harness import (
    Client,
    Process,
    Server,
    Stack,
    drop_stack,
    eventually,
    services_reachable,
)

pytestmark = pytest.mark.scaled_only


@dataclass
class Scene:
    redis: PrivateRedis
    stack: Stack
    server: Server
    admin: Client
    thread_id: int
    rule_id: int

    def pending(self) -> int:
        return int(self.stack.sql(
            "SELECT COUNT(*) FROM outbox_event WHERE dispatched_at IS NULL")[0][0])

    def replies(self) -> int:
        return int(self.stack.sql(
            f"SELECT COUNT(*) FROM forum_post WHERE thread = {self.thread_id} AND post_number > 1"
        )[0][0])

    def awards(self) -> int:
        return int(self.stack.sql(
            "SELECT COUNT(*) FROM ledger_transaction WHERE idempotency_key LIKE "
            f"'award:event:%:rule:{self.rule_id}'")[0][0])

    def drained(self) -> bool:
        """The exact end state: nothing pending, and one award per reply in the ledger."""
        replies = self.replies()
        return self.pending() == 0 and replies > 0 and self.awards() == replies


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    missing = services_reachable()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"scaled mode needs {missing} (CI is set: missing services are a failure)")
        pytest.skip(f"scaled mode needs {missing}")
    with private_redis(tmp_path) as redis:
        stack = private_stack(tmp_path / "stack", redis)
        try:
            server = stack.start_server()
            admin = signed_in_admin(server, stack)
            slug = "w-" + uuid.uuid4().hex[:8]
            category = admin.post("/api/categories", {"name": "Work " + slug, "slug": slug}).json()
            rule = admin.post("/api/gamification/rules", {
                "name": "Reply", "category_id": category["id"], "event_types": ["post.created"],
                "condition": "post_number > 1", "points": 1})
            assert rule.status_code == 201, rule.text
            author = server.client().register()
            thread = author.post(f"/api/categories/{category['id']}/threads",
                                 {"title": "Busy thread", "body": "reply here"})
            assert thread.status_code == 201, thread.text
            yield Scene(redis, stack, server, admin, thread.json()["thread"]["id"],
                        rule.json()["id"])
        finally:
            drop_stack(stack)


@dataclass
class ReplyStream:
    """Members replying, each in a thread of its own, through outages: a refused reply is
    tried again. The pace keeps the worker busy without filling its prefetch, so that it is
    polling Redis when Redis goes."""

    scene: Scene
    members: int = 2
    pause: float = 0.25
    created: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> ReplyStream:
        for _ in range(self.members):
            client = self.scene.server.client().register()
            client.http.timeout = httpx.Timeout(10)
            worker = threading.Thread(target=self._reply, args=(client,), daemon=True)
            worker.start()
            self._threads.append(worker)
        return self

    def _reply(self, client: Client) -> None:
        handle = client.member["handle"]
        n = 0
        while not self._stop.is_set():
            n += 1
            try:
                response = client.post(f"/api/threads/{self.scene.thread_id}/posts",
                                       {"body": f"reply {n} from {handle}"})
                if response.status_code == 201:
                    self.created.append(response.json()["id"])
            except httpx.HTTPError:
                pass
            time.sleep(self.pause)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for worker in self._threads:
            worker.join(timeout=30)


def hold_delayed_tasks(stack: Stack, worker: Process, count: int) -> None:
    """Have the worker hold `count` unacknowledged messages while it keeps polling for more,
    as a throttled leaderboard push does for a second: delayed tasks (due long after the
    test) wait in the worker, not in Redis."""
    app = Celery("test", broker=stack.env["HEARTH_REDIS_URL"], set_as_current=False)
    for _ in range(count):
        app.send_task("hearth.task", args=["leaderboards.push", {"board": "all-time"}],
                      queue=f"{stack.env['HEARTH_REDIS_PREFIX']}-tasks", countdown=3600)
    eventually(lambda: worker.log().count("Task hearth.task[") >= count, timeout=60)


def test_the_worker_survives_losing_redis_and_the_outbox_drains_after_it_returns(
        scene: Scene) -> None:
    stack, redis = scene.stack, scene.redis
    worker = stack.start_worker()
    beat = stack.spawn("beat", "beat")
    with ReplyStream(scene) as stream:
        eventually(lambda: len(stream.created) >= 30, timeout=60)
        hold_delayed_tasks(stack, worker, 5)
        redis.kill()
        killed = len(stream.created)
        time.sleep(20)  # the outage itself: nothing to wait for but time
        assert worker.popen.poll() is None, f"the worker died without Redis:\n{worker.log()}"
        redis.start()
        returned = time.monotonic()
        # The stream goes on through the return.
        eventually(lambda: len(stream.created) >= killed + 10, timeout=60)
    eventually(scene.drained, timeout=120, interval=0.1)
    drained_after = time.monotonic() - returned
    print(f"\nredis back -> outbox drained: {drained_after:.1f}s "
          f"({scene.replies()} replies, {len(stream.created)} answered 201)")
    assert scene.replies() >= len(stream.created)
    # Failures while Redis was away used up no attempts: each event counts its one success.
    assert stack.sql("SELECT DISTINCT attempts FROM outbox_event") == [("1",)]
    assert worker.popen.poll() is None, worker.log()
    assert beat.popen.poll() is None, beat.log()


def kill_worker(worker: Process) -> None:
    """kill -9 a Celery worker and its pool processes, as a crashed host would."""
    listed = subprocess.run(["ps", "-o", "pid=", "--ppid", str(worker.popen.pid)],
                            capture_output=True, text=True).stdout.split()
    worker.popen.send_signal(signal.SIGKILL)
    worker.popen.wait()
    for pid in map(int, listed):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_dead_workers_batch_is_taken_over_by_another_worker(scene: Scene) -> None:
    stack = scene.stack
    doomed = stack.start_worker(env={"HEARTH_FAILPOINT": "mid-dispatch"})
    stack.spawn("beat", "beat")
    replier = scene.server.client().register()
    for n in range(10):
        response = replier.post(f"/api/threads/{scene.thread_id}/posts", {"body": f"reply {n}"})
        assert response.status_code == 201, response.text
    # Its relay claimed a batch and died after the batch's first handler.
    eventually(lambda: "failpoint mid-dispatch: exiting" in doomed.log(), timeout=60)
    kill_worker(doomed)
    died = time.monotonic()
    claimed = int(stack.sql("SELECT COUNT(*) FROM outbox_event WHERE dispatched_at IS NULL "
                            "AND claimed_until IS NOT NULL")[0][0])
    assert claimed > 0, "the dead worker held no claim: nothing to take over"

    stack.start_worker()
    eventually(scene.drained, timeout=120, interval=0.1)
    took = time.monotonic() - died
    print(f"\nworker died -> its events handled by another: {took:.1f}s "
          f"({claimed} claimed events, claims of {CLAIM_SECONDS}s)")
    # The claim lapses within CLAIM_SECONDS of its last renewal; slack for a loaded machine.
    assert took < CLAIM_SECONDS + 20


def test_a_worker_told_to_stop_finishes_or_returns_its_batch_and_exits_cleanly(
        scene: Scene) -> None:
    stack = scene.stack
    worker = stack.start_worker()
    stack.spawn("beat", "beat")
    with ReplyStream(scene, members=3, pause=0.05) as stream:
        eventually(lambda: len(stream.created) >= 30, timeout=60)
        worker.popen.send_signal(signal.SIGTERM)
        assert worker.popen.wait(timeout=60) == 0, worker.log()
        # What it had not finished, it gave back: no event waits on a claim of the dead.
        held = stack.sql("SELECT id FROM outbox_event WHERE dispatched_at IS NULL "
                         "AND claimed_until IS NOT NULL")
        assert held == [], f"events still claimed after the worker stopped: {held}"
        stack.start_worker()
    eventually(scene.drained, timeout=120, interval=0.1)
    # One award per reply: whatever the stopped worker had done was not done again.
    assert scene.awards() == scene.replies() >= len(stream.created)
