"""requirements.txt pins exactly what the server needs at run time; requirements-dev.txt adds
the tools. The image installs only the first, so a dev tool there would ship to production,
and an unpinned runtime dependency would be resolved afresh at every build."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEV_TOOLS = {"pytest", "ruff", "mypy", "playwright", "black"}


def _pins(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line == "-r requirements.txt":
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+-]+)", line)
        assert match, f"{name}: {line!r} is not an exact pin"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _needed_at_run_time() -> set[str]:
    """pyproject's dependencies and everything they require, with the extras asked for."""
    needed: set[str] = set()
    todo = [Requirement(r) for r in _pyproject()["dependencies"]]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        extras = {"", *req.extras}
        for child in map(Requirement, metadata.requires(name) or []):
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                todo.append(child)
        needed.add(name)
    return needed


def test_runtime_pins_hold_no_dev_tools_except_what_runtime_needs() -> None:
    runtime = _pins("requirements.txt")
    needed = _needed_at_run_time()
    # black is a dev tool, but piccolo formats the migrations it writes with it.
    shipped_tools = {t for t in DEV_TOOLS if t in runtime and t not in needed}
    assert not shipped_tools, f"dev tools in requirements.txt: {sorted(shipped_tools)}"
    assert not {"pytest", "ruff", "mypy", "playwright"} & runtime.keys()


def test_every_runtime_dependency_is_pinned_and_nothing_else() -> None:
    runtime = _pins("requirements.txt")
    direct = {canonicalize_name(Requirement(r).name) for r in _pyproject()["dependencies"]}
    assert direct <= runtime.keys(), f"unpinned: {sorted(direct - runtime.keys())}"
    needed = _needed_at_run_time()
    assert needed - runtime.keys() == set(), "transitive dependencies left unpinned"
    assert runtime.keys() - needed == set(), "pinned in requirements.txt but not needed at run time"


def test_dev_pins_extend_the_runtime_ones() -> None:
    text = (ROOT / "requirements-dev.txt").read_text()
    assert re.search(r"^-r requirements\.txt$", text, flags=re.M)
    runtime, dev = _pins("requirements.txt"), _pins("requirements-dev.txt")
    assert not runtime.keys() & dev.keys(), "pinned twice"
    extra = {canonicalize_name(Requirement(r).name) for r in _pyproject()["optional-dependencies"]["dev"]}
    assert extra <= (runtime | dev).keys(), f"dev extra unpinned: {sorted(extra - (runtime | dev).keys())}"


def test_the_virtualenv_runs_the_pinned_versions() -> None:
    pins = _pins("requirements.txt") | _pins("requirements-dev.txt")
    drift = {n: (v, metadata.version(n)) for n, v in pins.items() if metadata.version(n) != v}
    assert not drift, f"pinned vs installed (re-run make): {drift}"


def test_the_servers_redis_client_parses_replies_with_hiredis() -> None:
    # redis-py uses hiredis only when it is installed, and silently falls back to its pure
    # Python parser otherwise: a leaderboard page parses a few hundred reply items.
    from redis._parsers.hiredis import _AsyncHiredisParser

    from server.runtime import redis_client

    assert "hiredis" in _pins("requirements.txt")
    client = redis_client("redis://127.0.0.1:1/0")
    assert isinstance(client.connection_pool.make_connection()._parser, _AsyncHiredisParser)
