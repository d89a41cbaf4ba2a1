"""A post in a watched category reaches every watcher who may hear of it, in as many
statements for thousands of watchers as for three."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from piccolo.engine.sqlite import SQLiteEngine

from community.forums import services
from community.forums.schemas import CategoryIn, PostIn, ThreadIn
from server import clock, db, outbox
from server.auth import Actor
from tests.service.support import Hearth, register

pytestmark = pytest.mark.anyio

_counting: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("counting", default=None)


@contextmanager
def statements_of_notify() -> Iterator[list[str]]:
    """The SQL the notifying handler runs while the block relays."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _record(monkeypatch)


def _record(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    handler = outbox._handlers["forums.notify"]

    async def counted(batch: list[outbox.Delivery]) -> None:
        token = _counting.set(seen)
        try:
            await handler.fn(batch)
        finally:
            _counting.reset(token)

    for name in ("_run_in_existing_connection", "_run_in_new_connection"):
        original = getattr(SQLiteEngine, name)

        async def run(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            found = _counting.get()
            if found is not None:
                found.append(str(kwargs.get("query", args[1:2]))[:120])
            return await _original(self, *args, **kwargs)

        monkeypatch.setattr(SQLiteEngine, name, run)
    monkeypatch.setitem(outbox._handlers, "forums.notify",
                       outbox.Handler(handler.name, handler.event_types, counted))
    yield seen


async def _members(count: int, active: bool = True) -> list[int]:
    """Accounts made in one statement (registering hashes a password each)."""
    now = clock.now()
    rows = []
    for _ in range(count):
        handle = "w" + uuid.uuid4().hex[:12]
        rows.append((handle, handle, f"{handle}@example.test", "x", handle, "", "member", active, now))
    made = await db.insert_rows(
        "member", ["handle", "handle_key", "email", "password_hash", "display_name", "bio", "role",
                   "is_active", "created_at"],
        ["text", "text", "text", "text", "text", "text", "text", "boolean", "timestamptz"],
        rows, "RETURNING id")
    return [int(r["id"]) for r in made]


async def _watch_category(category_id: int, members: list[int]) -> None:
    await db.insert_rows("forum_category_watch", ["category", "member", "level"],
                         ["bigint", "bigint", "text"], [(category_id, m, "watching") for m in members])


async def _told(post_id: int) -> set[int]:
    rows = await db.fetch("SELECT member FROM notification WHERE kind = 'posted' "
                          "AND data LIKE {}", f'%"post_id":{post_id},%')
    return {int(r["member"]) for r in rows}


async def _category_with_thread(admin: Actor, author: Actor) -> tuple[int, int]:
    slug = "w" + uuid.uuid4().hex[:8]
    category = await services.create_category(admin, CategoryIn(name="Watched", slug=slug))
    thread, _ = await services.create_thread(author, category.id, ThreadIn(title="Busy", body="hi"))
    return category.id, thread.id


async def test_thousands_of_watchers_cost_what_three_do(
        hearth: Hearth) -> None:
    author = await register()
    few_category, few_thread = await _category_with_thread(hearth.admin, author)
    many_category, many_thread = await _category_with_thread(hearth.admin, author)
    few = await _members(3)
    many = await _members(3_000)
    gone = await _members(1, active=False)
    await _watch_category(few_category, few)
    await _watch_category(many_category, many + gone)
    await hearth.relay()

    with statements_of_notify() as small:
        post = await services.reply(author, few_thread, PostIn(body="to three"))
        await hearth.relay()
    assert await _told(post.id) == set(few)
    with statements_of_notify() as large:
        post = await services.reply(author, many_thread, PostIn(body="to thousands"))
        await hearth.relay()
    # Everyone watching but the poster and an account no longer active.
    assert await _told(post.id) == set(many)
    assert len(large) == len(small), (small, large)
