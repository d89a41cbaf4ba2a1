"""SQLite under contention: 500 writes arriving at once at one embedded server all succeed.

Embedded mode only: the question is whether one process's writers queue for SQLite's single
write lock or fail with "database is locked" (PostgreSQL has row locks and its own tests)."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.harness import Client, Server, Stack

pytestmark = [
    pytest.mark.own_stack,
    # SQLite's write lock exists in embedded mode only.
    pytest.mark.embedded_only,
]

MEMBERS = 25
THREADS = 5
REPLIES = 430
REACTIONS = 50
REGISTRATIONS = 20
TOTAL = REPLIES + REACTIONS + REGISTRATIONS


def _session(server: Server, member: Client) -> httpx.AsyncClient:
    """An async client sharing a signed-in member's cookies and CSRF header. No connection
    limit: every request gets its own connection, as 500 browsers would."""
    return httpx.AsyncClient(
        base_url=server.url, cookies=member.http.cookies, timeout=120,
        headers={"X-CSRF-Token": member.http.cookies["hearth_csrf"]},
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=None))


async def _burst(server: Server, members: list[Client], threads: list[int],
                 first_posts: list[int]) -> list[tuple[str, Any]]:
    """Every write started together; returns (what, status code or the exception)."""
    sessions = [_session(server, m) for m in members]
    anonymous = httpx.AsyncClient(base_url=server.url, timeout=120,
                                  limits=httpx.Limits(max_connections=None))
    go = asyncio.Event()

    async def one(what: str, client: httpx.AsyncClient, path: str, body: dict[str, Any]
                  ) -> tuple[str, Any]:
        await go.wait()
        try:
            return what, (await client.post(path, json=body)).status_code
        except httpx.HTTPError as exc:
            return what, exc

    jobs = []
    for i in range(REPLIES):
        jobs.append(one("reply", sessions[i % MEMBERS], f"/api/threads/{threads[i % THREADS]}/posts",
                        {"body": f"reply {i}"}))
    for i in range(REACTIONS):
        # Each member reacts once to one thread's opening post: all distinct, all accepted.
        jobs.append(one("reaction", sessions[i % MEMBERS],
                        f"/api/posts/{first_posts[i // MEMBERS]}/reactions", {"kind": "like"}))
    for i in range(REGISTRATIONS):
        handle = f"burst{i}_{uuid.uuid4().hex[:6]}"
        jobs.append(one("registration", anonymous, "/api/register", {
            "handle": handle, "email": f"{handle}@example.test", "password": "correct horse battery"}))
    tasks = [asyncio.create_task(job) for job in jobs]
    await asyncio.sleep(0)
    go.set()
    try:
        return await asyncio.gather(*tasks)
    finally:
        for client in [*sessions, anonymous]:
            await client.aclose()


def test_500_concurrent_writes_all_succeed_and_are_all_kept(server: Server, admin: Client,
                                                            stack: Stack) -> None:
    slug = "c-" + uuid.uuid4().hex[:8]
    category = admin.post("/api/categories", {"name": "Busy " + slug, "slug": slug}).json()
    with ThreadPoolExecutor(max_workers=8) as pool:
        members = list(pool.map(lambda _: server.client().register(), range(MEMBERS)))
    threads, first_posts = [], []
    for i in range(THREADS):
        created = members[i].post(f"/api/categories/{category['id']}/threads",
                                  {"title": f"Busy thread {i}", "body": "Everyone at once"})
        assert created.status_code == 201, created.text
        threads.append(created.json()["thread"]["id"])
        first_posts.append(created.json()["post"]["id"])

    results = asyncio.run(_burst(server, members, threads, first_posts))

    # A connection reset shows as an httpx error here, a "database is locked" as a 500.
    failures = [(what, outcome) for what, outcome in results if outcome != 201]
    assert failures == [], f"{len(failures)} of {TOTAL} writes failed: {failures[:10]}"
    reader = members[0]
    for i, thread_id in enumerate(threads):
        page = reader.get(f"/api/threads/{thread_id}?limit=100").json()
        expected = 1 + REPLIES // THREADS
        assert page["thread"]["post_count"] == expected
        numbers = [p["post_number"] for p in page["items"]]
        while page["next_cursor"] is not None:
            page = reader.get(f"/api/threads/{thread_id}?limit=100&after={page['next_cursor']}").json()
            numbers += [p["post_number"] for p in page["items"]]
        assert numbers == list(range(1, expected + 1))
        likes = reader.get(f"/api/posts/{first_posts[i]}").json()["reactions"].get("like", 0)
        assert likes == min(MEMBERS, max(0, REACTIONS - i * MEMBERS))
    assert stack.sql("SELECT count(*) FROM member WHERE handle LIKE 'burst%'") == [(REGISTRATIONS,)]
    log = server.process.log()
    assert "database is locked" not in log
    assert "Traceback" not in log
