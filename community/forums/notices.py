"""How the forum's notifications read (the community plugin's notification_texts): each
from the data stored with it, as it was when the post was made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _by(data: dict[str, Any]) -> str:
    return f"@{data['by_handle']}" if data.get("by_handle") else "Someone"


def _in(data: dict[str, Any]) -> str:
    return f"'{data['thread_title']}'" if data.get("thread_title") else "a thread"


_REACTED = {
    "like": "liked your post",
    "love": "loved your post",
    "laugh": "laughed at your post",
    "insightful": "found your post insightful",
    "thanks": "thanked you for your post",
}


def _reaction(data: dict[str, Any]) -> str:
    done = _REACTED.get(data["kind"], f"reacted '{data['kind']}' to your post")
    return f"{_by(data)} {done} in {_in(data)}"


TEXTS: dict[str, Callable[[dict[str, Any]], str]] = {
    # A reply to one of their posts.
    "reply": lambda data: f"{_by(data)} replied to your post in {_in(data)}",
    # A new post in a thread they watch (their own, by default).
    "posted": lambda data: f"{_by(data)} replied to {_in(data)}",
    # A new thread in a category they watch.
    "new_thread": lambda data: f"{_by(data)} started {_in(data)}",
    "mention": lambda data: f"{_by(data)} mentioned you in {_in(data)}",
    "reaction": _reaction,
    # A moderator edited one of their posts.
    "moderator_edit": lambda data: (f"{_by(data)} (a moderator) edited your post in {_in(data)}: "
                                    f"{data.get('reason') or 'no reason given'}"),
}
