"""How the review queue's notifications read (the community plugin's notification_texts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_VERDICTS = {
    "agreed": "Moderators agreed with your flag on {label}",
    "disagreed": "Moderators disagreed with your flag on {label}",
    "ignored": "Moderators reviewed your flag on {label} and left it as it is",
}
_DONE = {
    "hide": "Your {label} was hidden by a moderator",
    "delete": "Your {label} was deleted by a moderator",
    "restore": "Your {label} is shown again: a moderator reviewed it",
    "silence": "Your {label} was hidden and you were silenced by a moderator",
}


def _why(data: dict[str, Any]) -> str:
    return f": {data['reason']}" if data.get("reason") else ""


def _flag_outcome(data: dict[str, Any]) -> str:
    text = _VERDICTS.get(data.get("status", ""), "Moderators decided on your flag on {label}")
    return text.format(label=data.get("label", "content")) + _why(data)


def _moderation_outcome(data: dict[str, Any]) -> str:
    if data.get("status") == "approved":
        return f"Your {data.get('label', 'post')} was approved and is shown to everyone"
    text = _DONE.get(data.get("action", ""), "A moderator reviewed your {label}")
    return text.format(label=data.get("label", "content")) + _why(data)


TEXTS: dict[str, Callable[[dict[str, Any]], str]] = {
    # To each flagger when a moderator decides the item their flag is on.
    "flag_outcome": _flag_outcome,
    # To the author when a moderator's decision changed their content.
    "moderation_outcome": _moderation_outcome,
    # To the author when members' flags hid their content, until a moderator decides.
    "content_hidden": lambda data: (f"Your {data.get('label', 'content')} was hidden after "
                                    "members flagged it; a moderator will review it"),
}
