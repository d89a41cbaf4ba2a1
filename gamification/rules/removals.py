"""Removals remembered: relays may handle batches side by side, so a removal can be handled
before the act it takes back. Both sides hold the member's lock, so whichever comes second
sees the other: a removal reverses the awards already made, and an act handled after its own
removal earns nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gamification.ledger import services as ledger
from gamification.rules.scorables import Removal, credit, removal
from server import clock, db, outbox


async def remember(source: str, event_id: int) -> None:
    await db.insert_rows("gamification_removal", ["source", "event_id", "removed_at"],
                         ["text", "bigint", "timestamptz"],
                         [(source, event_id, clock.now())], "ON CONFLICT DO NOTHING")


def _ancestors(source: str) -> list[str]:
    """"post:4:reaction:7:like" is removed with "post:4" too."""
    parts = source.split(":")
    return [":".join(parts[:i]) for i in range(2, len(parts) + 1)]


async def taken_back(acts: list[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which (source, event id) acts a later event has already removed."""
    if not acts:
        return set()
    sources = sorted({a for source, _ in acts for a in _ancestors(source)})
    match, args = db.values_in(sources, "text")
    rows = await db.fetch("SELECT source, MAX(event_id) AS last FROM gamification_removal "
                          "WHERE source " + match + " GROUP BY source", *args)
    last = {str(r["source"]): int(r["last"]) for r in rows}
    if not last:
        return set()
    return {(source, event_id) for source, event_id in acts
            if any(last.get(a, 0) > event_id for a in _ancestors(source))}


async def in_order(batch: list[outbox.Delivery],
                   acts: Callable[[list[outbox.Delivery]], Awaitable[None]],
                   taken_back: Callable[[outbox.Delivery, Removal], Awaitable[None]]) -> None:
    """Walk a batch in event order, as one event at a time would: runs of acts together, each
    removal on its own (remembered first). Every member involved is locked up front, so no
    member lock is taken after the issuance account's (the global lock order)."""
    await ledger.lock_members(
        {r.member_id for d in batch if (r := removal(d.event)) is not None}
        | {c.member_id for d in batch if (c := credit(d.event)) is not None})
    run: list[outbox.Delivery] = []
    for delivery in batch:
        gone = removal(delivery.event)
        if gone is None:
            run.append(delivery)
            continue
        if run:
            await acts(run)
            run = []
        await remember(gone.source, delivery.event_id)
        await taken_back(delivery, gone)
    if run:
        await acts(run)
