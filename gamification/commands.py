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


@click.command("points-expire")
def points_expire() -> None:
    """Run the points sweep once, now: void expired holds, post due expirations, send the
    30- and 7-day notices (the scheduled job does the same; running both at once is safe)."""
    from gamification.ledger import expiry, holds

    async def run() -> tuple[int, int, int]:
        return await holds.expire_due(), await expiry.expire_due(), await expiry.send_notices()

    voided, expired, notices = with_runtime(run)
    click.echo(f"holds expired: {voided}, lots expired: {expired}, notices: {notices}")
