"""The whole ledger checked against itself and against what is derived from it: after an
outage, an operator (or a fault test) asks whether any point was lost, paid twice or shown
wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

from gamification.leaderboards import services as leaderboards
from gamification.ledger import services as ledger
from gamification.rules import services as rules
from gamification.tiers import services as tiers


@dataclass
class Check:
    """Every discrepancy found, one line each (none when the ledger is sound), and notes on
    what could not be compared, which are not discrepancies."""

    found: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def ledger_check() -> Check:
    """Run it once the outbox is drained: the derived views lag their events until then."""
    check = Check()
    found = check.found
    invariants = await ledger.check_invariants()
    if invariants.postings_sum:
        found.append(f"the postings sum to {invariants.postings_sum}, not 0")
    found += [f"transaction {t} does not balance" for t in invariants.unbalanced_transactions]
    found += [f"account {code}: its balance is not the sum of its postings"
              for code in invariants.balances_not_matching_postings]
    found += [f"account {code} is below its floor" for code in invariants.accounts_below_minimum]
    found += [f"account {code}: its lots or held points do not match its balance and holds"
              for code in invariants.lots_or_holds_not_matching]
    earned, counted = await ledger.lifetime_earned(), await tiers.counted_earnings()
    for member_id in sorted(set(earned) | set(counted)):
        if earned.get(member_id, 0) != counted.get(member_id, 0):
            found.append(f"member {member_id}: lifetime points {earned.get(member_id, 0)}, "
                         f"but their earning days add up to {counted.get(member_id, 0)}")
    found += await rules.duplicate_awards()
    drifted = await leaderboards.drifted_boards()
    if drifted is None:
        check.notes.append("leaderboards: boards not built yet (rebuilding), not compared")
    else:
        found += drifted
    return check
