"""Leaderboard commands added to `hearth`."""

from __future__ import annotations

import click

from gamification.leaderboards.services import rebuild
from server.cli import with_runtime


@click.command("leaderboards-rebuild")
def leaderboards_rebuild() -> None:
    """Recompute every leaderboard from the points ledger now (boards also heal by themselves
    when their store is found empty)."""
    count = with_runtime(rebuild)
    click.echo(f"leaderboards rebuilt from {count} ledger transactions")
