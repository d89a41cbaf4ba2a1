"""How gamification's notifications read (the plugin's notification_texts): from the names
stored with each one when it was made, so renaming a badge or tier later does not rewrite
what a member was told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _badge(data: dict[str, Any]) -> str:
    again = " again" if int(data.get("times") or 1) > 1 else ""
    return f"You earned {data['name']}{again}"


def _tier(data: dict[str, Any]) -> str:
    if data.get("to_tier") is None:
        return f"You are no longer {data['from_tier']}"
    if data.get("promoted"):
        return f"You reached {data['to_tier']}"
    return f"You moved down to {data['to_tier']}"


def _challenge(data: dict[str, Any]) -> str:
    text = f"You completed the challenge '{data['title']}'"
    points = int(data.get("reward_points") or 0)
    if points and data.get("reward_pending"):
        return f"{text} ({points:,} points pending)"
    return f"{text} (+{points:,} points)" if points else text


TEXTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "badge": _badge,
    "tier": _tier,
    "challenge": _challenge,
    "points_expiring": lambda data: f"{int(data['amount']):,} of your points expire on "
                                    f"{data['expires_on']}",
    "webhook_disabled": lambda data: f"Webhook endpoint {data['url']} was disabled: "
                                     f"{data['reason']}",
    "challenge_reward": lambda data: f"Your {int(data['reward_points']):,} points for "
                                     f"'{data['title']}' arrived",
}
