"""The plugin contract: packages are found through entry points and ordered by what they
declare they need."""

from __future__ import annotations

import pytest

from server.plugins import Plugin, PluginError, discover, ordered


def plugin(name: str, requires: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> Plugin:
    return Plugin(name=name, piccolo_app=f"{name}.piccolo_app", requires=requires, after=after)


def names(plugins: list[Plugin]) -> list[str]:
    return [p.name for p in plugins]


def test_the_installed_packages_are_found_through_entry_points() -> None:
    found = ordered(discover())
    assert names(found) == ["gamification", "community"]
    gamification = found[0]
    assert "leaderboards-rebuild" in [c.name for c in gamification.cli_commands]
    assert {job.name for job in gamification.jobs} == {
        "tiers.review", "challenges.lifecycle", "challenges.rewards", "ledger.holds",
        "ledger.expiry", "hooks.deliver", "hooks.prune"}


def test_dependencies_come_first_and_the_rest_by_name() -> None:
    found = ordered([plugin("zines", requires=("kernelish",)), plugin("arcade"),
                     plugin("kernelish"), plugin("moderation", after=("zines", "absent"))])
    assert names(found) == ["arcade", "kernelish", "zines", "moderation"]


def test_a_missing_requirement_is_named() -> None:
    with pytest.raises(PluginError, match="'ugc' requires 'photos', which is not installed"):
        ordered([plugin("gamification"), plugin("ugc", requires=("gamification", "photos"))])


def test_a_cycle_is_named() -> None:
    with pytest.raises(PluginError, match="cycle: a after c, c after a"):
        ordered([plugin("a", requires=("c",)), plugin("b"), plugin("c", after=("a",))])


def test_two_plugins_with_one_name_are_refused() -> None:
    with pytest.raises(PluginError, match="two plugins are named 'a'"):
        ordered([plugin("a"), plugin("a")])
