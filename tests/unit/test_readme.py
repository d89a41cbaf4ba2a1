"""The README is what a newcomer reads first in a clone: its links lead somewhere and it
names every `hearth` command."""

from __future__ import annotations

import re
from pathlib import Path

from server.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_resolves_in_a_clone() -> None:
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", README, flags=re.M)}
    links = re.findall(r"\]\(([^)\s]+)\)", README)
    assert links, "the link pattern found nothing"
    for target in links:
        if re.match(r"[a-z]+://", target):
            continue
        path, _, fragment = target.partition("#")
        if path:
            resolved = (ROOT / path).resolve()
            assert resolved.is_relative_to(ROOT), f"{target} points outside the repository"
            assert resolved.exists(), f"{target} does not exist in the repository"
        else:
            assert fragment in anchors, f"#{fragment} is no heading in README.md"


def test_every_hearth_command_is_documented() -> None:
    documented = set(re.findall(r"^\| `hearth ([a-z-]+)", README, flags=re.M))
    assert set(main.commands) <= documented, sorted(set(main.commands) - documented)
