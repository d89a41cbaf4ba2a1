"""Gamification commands added to `hearth` that span its parts."""

from __future__ import annotations

import click

from gamification.audit import ledger_check as check
from gamification.ledger import chain
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


@click.command("ledger-verify")
def ledger_verify() -> None:
    """Walk the ledger's hash chain from its first transaction to its head. Exits 1 naming
    the first transaction whose hash does not hold (expected and stored)."""
    result = with_runtime(chain.verify)
    if result.broken is not None:
        broken = result.broken
        click.echo(f"chain broken at transaction {broken.transaction_id}: {broken.problem}")
        click.echo(f"expected {broken.expected}, stored {broken.stored or 'nothing'}")
        click.echo(f"{result.checked} transactions before it hold")
        raise click.exceptions.Exit(1)
    click.echo(f"ledger chain ok: {result.checked} transactions, head "
               f"{result.head_transaction} {result.head_hash}")


@click.command("points-expire")
def points_expire() -> None:
    """Run the points sweep once, now: void expired holds, post due expirations, send the
    30- and 7-day notices (the scheduled job does the same; running both at once is safe)."""
    from gamification.ledger import expiry, holds

    async def run() -> tuple[int, int, int]:
        return await holds.expire_due(), await expiry.expire_due(), await expiry.send_notices()

    voided, expired, notices = with_runtime(run)
    click.echo(f"holds expired: {voided}, lots expired: {expired}, notices: {notices}")
