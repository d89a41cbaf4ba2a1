"""Real concurrent requests against the running server."""

import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.harness import Client, Server


def parallel(count: int, fn) -> list:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: fn(), range(count)))


def test_concurrent_replies_get_distinct_post_numbers(server: Server, thread: dict) -> None:
    writers = [server.client().register() for _ in range(4)]
    thread_id = thread["thread"]["id"]
    counter = iter(range(1000))

    def write() -> int:
        return writers[next(counter) % 4].post(f"/api/threads/{thread_id}/posts",
                                               {"body": "at once"}).status_code

    assert parallel(20, write) == [201] * 20
    page = writers[0].get(f"/api/threads/{thread_id}?limit=100").json()
    assert [p["post_number"] for p in page["items"]] == list(range(1, 22))
    assert page["thread"]["post_count"] == 21


def test_double_reaction_race_records_one(other: Client, thread: dict) -> None:
    post_id = thread["post"]["id"]
    statuses = parallel(12, lambda: other.post(f"/api/posts/{post_id}/reactions",
                                               {"kind": "like"}).status_code)
    assert sorted(statuses) == [201] + [409] * 11
    assert other.get(f"/api/posts/{post_id}").json()["reactions"] == {"like": 1}


def test_same_handle_registered_at_once_creates_one_account(server: Server) -> None:
    handle = "race" + uuid.uuid4().hex[:6]

    def register() -> int:
        return server.client().post("/api/register", {
            "handle": handle, "email": f"{uuid.uuid4().hex[:8]}@x.test",
            "password": "long enough pass"}).status_code

    statuses = parallel(8, register)
    assert sorted(statuses) == [201] + [409] * 7


def test_concurrent_deletes_count_once(member: Client, other: Client, thread: dict) -> None:
    thread_id = thread["thread"]["id"]
    post = other.post(f"/api/threads/{thread_id}/posts", {"body": "delete me"}).json()
    statuses = parallel(8, lambda: other.delete(f"/api/posts/{post['id']}").status_code)
    assert sorted(statuses) == [204] + [404] * 7
    assert member.get(f"/api/threads/{thread_id}").json()["thread"]["post_count"] == 1
