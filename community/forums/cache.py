"""The page cache every reader of a thread shares, and how writes announce that pages changed.

A thread page is the same for every reader, so each process keeps recent ones. Two keys
lead to them:
- Anonymous readers ask no database at all: their key carries this process's count of
  announcements for the thread. A write bumps it in its own process before answering and
  announces it on the internal `sys:forum-version` channel, which reaches the other
  processes over Redis within milliseconds; a lost announcement costs at most
  PAGE_CACHE_SECONDS of staleness, for anonymous readers only.
- Signed-in readers ask the database for the thread's `version` in the one query they make
  (community.forums.pages), which every write bumps in its own transaction: they see every
  committed change, in every process. Their entries are also renewed after
  SHARED_PAGE_SECONDS, which bounds how long an author's new display name takes to show.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import msgspec

from community.forums.schemas import PostOut, PostPage
from server import runtime
from server.security import new_secret

PAGE_CACHE_SECONDS = 30
SHARED_PAGE_SECONDS = 10
PAGE_CACHE_SIZE = 2000
PAGE_CACHE_BYTES = 64 * 1024 * 1024
VERSION_CHANNEL = "sys:forum-version"

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class SharedPage:
    """A page as an anonymous reader sees it, and what a member's overlay needs besides."""

    page: PostPage
    # forum_thread.version when the page was read (its content is at least that new).
    version: int
    # The category's visibility, checked against each reader.
    visibility: str
    # Whether the page holds the thread's last live post.
    at_end: bool
    # Numbers of deleted posts after the page's start, sorted: unread counts subtract them.
    deleted: list[int]
    post_ids: list[int] = field(default_factory=list)
    # Posts in the page's range out of view (community.forums.hiding), with why: shown only
    # to their authors and the category's moderators.
    hidden: list[PostOut] = field(default_factory=list)
    # The thread itself is out of view (its first post is), and whose it is.
    thread_hidden: bool = False
    author_id: int = 0
    # Bytes it holds, roughly: the caches are bounded by these as well as by count.
    weight: int = 0
    built: float = field(default_factory=time.monotonic)


class Recent(Generic[K, V]):
    """The newest entries, at most PAGE_CACHE_SIZE of them and PAGE_CACHE_BYTES in all (a
    reader chooses `after` and `limit`, so the keys are theirs to multiply), each good for
    `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.weight = 0
        self._entries: OrderedDict[K, tuple[float, V, int]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None or time.monotonic() - found[0] >= self.seconds:
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: K, value: V, weight: int) -> None:
        replaced = self._entries.pop(key, None)
        if replaced is not None:
            self.weight -= replaced[2]
        self._entries[key] = (time.monotonic(), value, weight)
        self.weight += weight
        while len(self._entries) > 1 and (len(self._entries) > PAGE_CACHE_SIZE
                                          or self.weight > PAGE_CACHE_BYTES):
            self.weight -= self._entries.popitem(last=False)[1][2]


# Anonymous: (thread, after, limit, announcements for it, announcements for all).
anonymous: Recent[tuple[int, int, int, int, int], SharedPage] = Recent(PAGE_CACHE_SECONDS)
# Signed-in: the newest page built for (thread, after, limit), whatever its version; kept
# while it is current, and renewed behind the reads after SHARED_PAGE_SECONDS.
signed_in: Recent[tuple[int, int, int], SharedPage] = Recent(float("inf"))

_versions: dict[int, int] = {}
_listening: set[int] = set()


def _on_version(channel: str, seq: int, frame: bytes) -> None:
    thread_id = int(msgspec.json.decode(frame)["data"]["thread_id"])
    _versions[thread_id] = _versions.get(thread_id, 0) + 1


def _listen() -> None:
    hub = runtime.current().broker.hub
    if id(hub) not in _listening:
        _listening.add(id(hub))
        hub.add(VERSION_CHANNEL, _on_version)


def anonymous_key(thread_id: int, after: int, limit: int) -> tuple[int, int, int, int, int]:
    _listen()
    return thread_id, after, limit, _versions.get(thread_id, 0), _versions.get(0, 0)


async def changed(thread_id: int | None) -> None:
    """Announce a committed change; thread None means every thread (a category's
    visibility changed)."""
    key = thread_id or 0
    _versions[key] = _versions.get(key, 0) + 1
    await runtime.current().broker.publish(VERSION_CHANNEL, "changed", {"thread_id": key},
                                           message_id=new_secret(6))
