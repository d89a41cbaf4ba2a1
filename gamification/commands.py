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
