"""Gamification commands added to `hearth` that span its parts."""

from __future__ import annotations

import click

from gamification.audit import ledger_check as check
from server.cli import with_runtime


@click.command("ledger-check")
def ledger_check() -> None:
    """Verify the points ledger: balances equal their postings, lifetime points their
    earnings, no act paid twice, boards equal the ledger. Exits 1 listing what is wrong."""
    result = with_runtime(check)
    for line in result.notes:
        click.echo(f"note: {line}")
    for line in result.found:
        click.echo(line)
    if result.found:
        raise click.exceptions.Exit(1)
    click.echo("ledger check: no discrepancies")
