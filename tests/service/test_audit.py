"""`hearth ledger-check`'s service: silent on a sound ledger, and it names each kind of
discrepancy planted in one."""

from __future__ import annotations

import pytest

from gamification.audit import ledger_check
from gamification.leaderboards import services as leaderboards
from gamification.leaderboards.store import BoardPosting
from gamification.rules import services as rules
from gamification.rules.schemas import RuleIn
from server import db, events, outbox
from tests.service.support import CATEGORY, Hearth, register, thread_created

pytestmark = pytest.mark.anyio


async def test_a_sound_ledger_passes_and_each_planted_discrepancy_is_named(hearth: Hearth) -> None:
    rule = await rules.create_rule(hearth.admin, RuleIn(
        name="A thread", event_types=["thread.created"], points="10"))  # type: ignore[arg-type]
    member = await register()
    assert member.member_id is not None
    post_id = await thread_created(member)
    await thread_created(member)
    await hearth.relay()
    assert (await ledger_check()).found == []

    # The same thread announced twice (a relay that lost its receipts would look the same
    # to the member): two awards for one act.
    async with outbox.unit_of_work():
        await outbox.emit(events.ThreadCreated(thread_id=post_id, category_id=CATEGORY,
                                               author_id=member.member_id, post_id=post_id))
    await hearth.relay()
    [paid_twice] = (await ledger_check()).found
    assert paid_twice.startswith(f"post:{post_id} paid 2 times under rule {rule.id} ")

    account = f"member:{member.member_id}"
    await db.fetch("UPDATE ledger_account SET balance = balance + 5 WHERE code = {}", account)
    await db.fetch("UPDATE gamification_earning_day SET points = points + 1 WHERE member = {}",
                   member.member_id)
    await leaderboards.store().add([BoardPosting(["all-time"], member.member_id, 7, 10**9)])
    found = (await ledger_check()).found
    assert found == [
        f"account {account}: its balance is not the sum of its postings",
        f"account {account}: its lots or held points do not match its balance and holds",
        f"member {member.member_id}: lifetime points 30, but their earning days add up to 31",
        paid_twice,
        f"board all-time: member {member.member_id} shows 37, the ledger gives 30",
    ]
