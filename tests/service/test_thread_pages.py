"""The shared page cache: a reader who knows of a change never gets a page built before it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from community.forums import pages, services
from community.forums.cache import SharedPage
from community.forums.schemas import CategoryIn, PostIn, ThreadIn
from server.auth import ANONYMOUS
from tests.service.support import Hearth, register

pytestmark = pytest.mark.anyio


async def test_an_anonymous_reader_never_joins_a_build_begun_before_a_change(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    author = await register()
    category = await services.create_category(hearth.admin, CategoryIn(name="Pages", slug="pages"))
    thread, _ = await services.create_thread(author, category.id, ThreadIn(title="Pages", body="one"))
    doomed = await services.reply(author, thread.id, PostIn(body="soon gone"))

    builds: list[tuple[int, ...]] = []
    held = asyncio.Event()
    build = pages._build

    async def slow_first(*key: Any) -> SharedPage:
        builds.append(key)
        if len(builds) == 1:
            await held.wait()
        return await build(*key)

    monkeypatch.setattr(pages, "_build", slow_first)
    early = asyncio.ensure_future(pages.read(ANONYMOUS, thread.id, 0, 20))
    while not builds:
        await asyncio.sleep(0)
    # The early build has not read the posts yet; the deletion commits and is announced.
    await services.delete_post(author, doomed.id)
    # Joining the early build would wait for it: past the deletion, and forever here.
    late = await asyncio.wait_for(pages.read(ANONYMOUS, thread.id, 0, 20), timeout=10)
    assert [p.id for p in late.items if p.id == doomed.id] == []
    assert len(builds) == 2
    held.set()
    await early
