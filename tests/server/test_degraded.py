"""Backing services going away: while Redis is down the forums keep working on PostgreSQL;
while PostgreSQL restarts requests answer 503 with Retry-After, never 500; afterwards
everything works again without restarting the app or the worker (issue 9).

Each test breaks a Redis or PostgreSQL of its own (tests/faults.py), never the shared ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import asyncpg
import httpx
import pytest

from server.db import HearthPostgresEngine
from server.errors import ServiceUnavailable, unavailable
from server.kv import RedisKeyValue
from server.outbox import CLAIM_SECONDS
from server.pubsub import RedisBroker
from server.runtime import redis_client
from tests.conftest import signed_in_admin
from tests.faults import private_postgres, private_redis, private_stack
from tests.harness import Client, Server, Stack, drop_stack, eventually

pytestmark = pytest.mark.scaled_only

REDIS_OUTAGE_SECONDS = 20


@dataclass
class Answer:
    what: str
    status: int  # 0: no HTTP answer at all (a transport error)
    retry_after: str | None
    seconds: float
    body: str


@dataclass
class Traffic:
    """Requests made over and over from a thread while a service is broken, each answer kept."""

    steps: list[tuple[str, Callable[[], httpx.Response]]]
    answers: list[Answer] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        while not self._stop.is_set():
            for what, step in self.steps:
                started = time.monotonic()
                try:
                    response = step()
                except httpx.HTTPError as exc:
                    self.answers.append(Answer(what, 0, None, time.monotonic() - started,
                                               repr(exc)))
                    continue
                self.answers.append(Answer(what, response.status_code,
                                           response.headers.get("retry-after"),
                                           time.monotonic() - started, response.text[:300]))
                if what == "reply" and response.status_code == 201:
                    self.created.append(int(response.json()["id"]))

    @contextmanager
    def running(self) -> Iterator[Traffic]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(timeout=60)

    def since(self, mark: int) -> list[Answer]:
        return self.answers[mark:]

    def server_errors(self, answers: list[Answer] | None = None) -> list[Answer]:
        return [a for a in (self.answers if answers is None else answers)
                if a.status == 0 or a.status >= 500]


def _category_and_thread(admin: Client, member: Client) -> tuple[int, int]:
    slug = "c-" + uuid.uuid4().hex[:8]
    category = admin.post("/api/categories", {"name": "Talk " + slug, "slug": slug})
    assert category.status_code == 201, category.text
    made = member.post(f"/api/categories/{category.json()['id']}/threads",
                       {"title": "Still here", "body": "first"})
    assert made.status_code == 201, made.text
    return int(category.json()["id"]), int(made.json()["thread"]["id"])


def _forum_traffic(writer: Client, reader: Client, anon: Client, thread_id: int) -> Traffic:
    count = iter(range(1_000_000))
    return Traffic([
        ("reply", lambda: writer.post(f"/api/threads/{thread_id}/posts",
                                      {"body": f"reply {next(count)}"})),
        ("signed-in read", lambda: reader.get(f"/api/threads/{thread_id}")),
        ("anonymous read", lambda: anon.get(f"/api/threads/{thread_id}")),
    ])


def _health(server: Server) -> httpx.Response:
    return httpx.get(server.url + "/health", timeout=10)


def _status_is(server: Server, status: str) -> bool:
    return bool(_health(server).json()["status"] == status)


def _failed_logins(server: Server, handle: str, times: int) -> list[int]:
    client = server.client()
    return [client.login(handle, "not the password").status_code for _ in range(times)]


def test_a_redis_outage_leaves_the_forums_working_and_everything_recovers(
        tmp_path: Path) -> None:
    with private_redis(tmp_path) as redis:
        stack = private_stack(tmp_path / "stack", redis=redis)
        # Five sign-in attempts a minute, per address and per account; open sockets re-check
        # their access every two seconds, so the outage meets that check too.
        stack.env.update({"HEARTH_LOGIN_RATE_LIMIT": "5/60",
                          "HEARTH_REALTIME_REAUTH_SECONDS": "2"})
        try:
            one, two = stack.start_server(), stack.start_server()
            admin = signed_in_admin(one, stack)
            writer, reader = one.client().register(), two.client().register()
            _, thread_id = _category_and_thread(admin, writer)
            channel = f"thread:{thread_id}"
            # A signed-in socket: its session is re-checked during the outage too.
            listener = one.client().register().websocket()
            assert listener.subscribe(channel)["type"] == "subscribed"
            traffic = _forum_traffic(writer, reader, two.client(), thread_id)

            with traffic.running():
                eventually(lambda: len(traffic.created) >= 3, timeout=60)
                redis.kill()
                down_at = time.monotonic()
                before_outage = len(traffic.answers)

                def degraded() -> dict[str, dict[str, bool]]:
                    response = _health(two)
                    assert response.status_code == 200, response.text
                    assert response.json()["status"] == "degraded", response.text
                    return dict(response.json()["services"])

                services = eventually(degraded, timeout=20)
                assert services["redis"]["ok"] is False and services["database"]["ok"] is True
                # Each process counts sign-in attempts on its own meanwhile: still limited.
                assert _failed_logins(one, "nobody_" + uuid.uuid4().hex[:6], 6) == [
                    401, 401, 401, 401, 401, 429]
                # A websocket ticket lives in Redis: it cannot be had now, and says when to
                # try again.
                ticket = writer.ticket()
                assert ticket.status_code == 503, ticket.text
                assert ticket.json()["error"]["code"] == "unavailable"
                assert int(ticket.headers["retry-after"]) > 0
                # A season's board is built by a background task: with the broker gone the
                # app runs it itself, rather than fail a definition it has already saved.
                now = stack.now()
                season = admin.post("/api/leaderboards/seasons", {
                    "name": "Outage", "starts_at": (now - dt.timedelta(days=1)).isoformat(),
                    "ends_at": (now + dt.timedelta(days=30)).isoformat()})
                assert season.status_code == 201, season.text
                replies_in_outage = len(traffic.created)
                eventually(lambda: len(traffic.created) >= replies_in_outage + 3, timeout=30)
                # The outage lasts its length whatever the machine's speed.
                time.sleep(max(0.0, REDIS_OUTAGE_SECONDS - (time.monotonic() - down_at)))
                during = traffic.since(before_outage)
                redis.start()

                for server in (one, two):
                    eventually(partial(_status_is, server, "ok"), timeout=30)
                # The open socket is told that messages may have been lost meanwhile.
                listener.wait_for(lambda f: f["type"] == "refetch" and f["channel"] == channel,
                                  timeout=20)
                after_outage = len(traffic.answers)
                eventually(lambda: len(traffic.answers) >= after_outage + 6, timeout=60)

            print(f"\nRedis outage of {REDIS_OUTAGE_SECONDS} s: {len(during)} requests, "
                  f"{len(traffic.server_errors(during))} answered 5xx; slowest: " + ", ".join(
                      f"{what} {max(a.seconds for a in during if a.what == what):.2f} s"
                      for what in ("reply", "signed-in read", "anonymous read")))
            assert traffic.server_errors() == []
            assert {a.status for a in during} <= {200, 201}, during[:5]

            # Back on Redis: one limit across both processes again (3 + 3 attempts).
            handle = "nobody_" + uuid.uuid4().hex[:6]
            assert _failed_logins(one, handle, 3) + _failed_logins(two, handle, 3) == [
                401, 401, 401, 401, 401, 429]
            # Live updates resume: a reply made now reaches the socket opened before.
            stack.start_worker()
            assert writer.post(f"/api/threads/{thread_id}/posts",
                               {"body": "after the outage"}).status_code == 201
            listener.wait_for(lambda f: f.get("event") == "post.created"
                              and f["data"]["raw"] == "after the outage", timeout=30)
            listener.close()
            # Every reply that was answered 201 is there, once.
            posts = stack.sql(f"SELECT id FROM forum_post WHERE thread = {thread_id}")
            ids = [int(row[0]) for row in posts]
            assert set(traffic.created) <= set(ids)
            assert len(ids) == len(set(ids))
        finally:
            drop_stack(stack)


def _counts_agree(stack: Stack, thread_id: int) -> tuple[str, ...]:
    rows = stack.sql(
        "SELECT t.post_count, t.highest_post_number, count(p.id), max(p.post_number) "
        f"FROM forum_thread t JOIN forum_post p ON p.thread = t.id WHERE t.id = {thread_id} "
        "GROUP BY t.id")
    return rows[0]


def test_a_postgresql_restart_answers_503_never_500_and_nothing_is_half_written(
        tmp_path: Path) -> None:
    with private_redis(tmp_path) as redis, private_postgres() as pg:
        stack = private_stack(tmp_path / "stack", redis=redis, postgres=pg)
        try:
            worker = stack.start_worker()
            beat = stack.spawn("beat", "beat")
            server = stack.start_server()
            admin = signed_in_admin(server, stack)
            writer, reader = server.client().register(), server.client().register()
            _, thread_id = _category_and_thread(admin, writer)
            traffic = _forum_traffic(writer, reader, server.client(), thread_id)

            with traffic.running():
                eventually(lambda: len(traffic.created) >= 3, timeout=60)
                # A clean restart, then a crash (down a moment, as a crashed database is).
                made, restart_from = len(traffic.created), len(traffic.answers)
                pg.restart()
                # Working again without restarting the app: replies succeed once more.
                eventually(lambda: len(traffic.created) >= made + 3, timeout=60)
                made, crash_from = len(traffic.created), len(traffic.answers)
                pg.stop("immediate")
                eventually(lambda: len(traffic.answers) >= crash_from + 3, timeout=30)
                pg.start()
                eventually(lambda: len(traffic.created) >= made + 3, timeout=60)
                crash_to = len(traffic.answers)

            for name, answers in (("restart", traffic.answers[restart_from:crash_from]),
                                  ("crash", traffic.answers[crash_from:crash_to])):
                errors = traffic.server_errors(answers)
                print(f"\nPostgreSQL {name}: {len(answers)} requests, {len(errors)} answered 5xx "
                      f"({sum(1 for a in errors if a.status == 503)} of them 503 with "
                      "Retry-After)")
            errors = traffic.server_errors()
            unexpected = [a for a in errors if a.status != 503 or not a.retry_after]
            assert unexpected == [], unexpected[:5]
            assert all(a.status < 500 or "unavailable" in a.body for a in errors)
            assert {a.status for a in traffic.answers} <= {200, 201, 503}

            # The worker and beat carried on too: every event is handled (a batch the restart
            # interrupted is taken again once its claim lapses), nothing is half-written.
            assert worker.popen.poll() is None, worker.log()
            assert beat.popen.poll() is None, beat.log()
            eventually(lambda: stack.sql("SELECT count(*) FROM outbox_event "
                                         "WHERE dispatched_at IS NULL")[0][0] == "0",
                       timeout=CLAIM_SECONDS + 60)
            posts = {int(row[0]) for row in stack.sql(
                f"SELECT id FROM forum_post WHERE thread = {thread_id}")}
            assert set(traffic.created) <= posts
            post_count, highest, counted, top = _counts_agree(stack, thread_id)
            assert post_count == counted and highest == top
            # Every post's event was stored with it (one transaction): one per post.
            events = stack.sql("SELECT count(*) FROM outbox_event WHERE type = 'post.created'")
            assert events == stack.sql("SELECT count(*) FROM forum_post")
        finally:
            drop_stack(stack)


def test_redis_losing_a_channel_tells_a_client_with_since_to_refetch(tmp_path: Path) -> None:
    with private_redis(tmp_path) as redis:
        async def scenario() -> None:
            client = redis_client(redis.url)
            broker = RedisBroker(client, "t", history_size=200)
            kv = RedisKeyValue(client)
            try:
                seen = await broker.publish("thread:1", "post.created", {"n": 1}, "a")
                later = await broker.publish("thread:1", "post.created", {"n": 2}, "b")
                caught_up = await broker.history("thread:1", seen)
                assert caught_up.complete and [m.id for m in caught_up.messages] == ["b"]

                redis.kill()
                # Publishing never fails whoever publishes; the store says it is unreachable.
                assert await broker.publish("thread:1", "post.created", {"n": 3}, "c") == 0
                with pytest.raises(ServiceUnavailable):
                    await kv.get("anything")
                redis.start()  # empty: the channel is forgotten

                # The first command after the restart works, on a pooled connection the
                # restart cut (a store of its own: the first one skips Redis for a second).
                assert await RedisKeyValue(client).get("anything") is None
                fresh = await broker.publish("thread:1", "post.created", {"n": 4}, "d")
                assert fresh > later, "numbers start again above any a client saw"
                stale = await broker.history("thread:1", later)
                assert not stale.complete, "a client from before must refetch"
                assert [m.id for m in (await broker.history("thread:1", 0)).messages] == ["d"]
            finally:
                await client.aclose()

        asyncio.run(scenario())


def test_transactions_give_their_connection_back_to_the_pool_whatever_fails() -> None:
    with private_postgres() as pg:
        async def scenario() -> None:
            # A pool of one: a connection not given back makes the next query wait forever.
            engine = HearthPostgresEngine(config={"dsn": pg.url})
            await engine.start_connection_pool(min_size=1, max_size=1)

            async def pool_answers() -> None:
                rows = await asyncio.wait_for(engine._run_in_pool("SELECT 1 AS one"), timeout=10)
                assert rows[0]["one"] == 1

            try:
                # PostgreSQL cuts the connection mid-transaction (as a restart does): the
                # request learns the database is unavailable, and the pool carries on.
                with pytest.raises(Exception) as cut:
                    async with engine.transaction() as transaction:
                        pid = await transaction.connection.fetchval("SELECT pg_backend_pid()")
                        killer = await engine.get_new_connection()
                        await killer.execute(f"SELECT pg_terminate_backend({pid})")
                        await killer.close()
                        await transaction.connection.fetchval("SELECT 1")
                assert unavailable(cut.value) is not None, repr(cut.value)
                await pool_answers()

                # COMMIT fails on a connection that stays open (Piccolo kept those).
                await engine._run_in_pool("CREATE TABLE once (n int UNIQUE DEFERRABLE "
                                          "INITIALLY DEFERRED)")
                with pytest.raises(asyncpg.UniqueViolationError):
                    async with engine.transaction() as transaction:
                        await transaction.connection.execute("INSERT INTO once VALUES (1), (1)")
                await pool_answers()
            finally:
                await engine.close_connection_pool()

        asyncio.run(scenario())
