"""The ledger, called directly: idempotent posts, no member below zero, reversals that
recover only what is left, and every invariant intact after each."""

from __future__ import annotations

import pytest

from gamification.ledger import services as ledger
from server.errors import Conflict, Invalid
from tests.service.support import Hearth, register

pytestmark = pytest.mark.anyio


async def award(member_id: int, amount: int, key: str) -> ledger.TransactionOut:
    return await ledger.post(key=key, kind="award", reason="service test", source=f"test:{key}",
                             postings=[(ledger.member_account(member_id), amount),
                                       (ledger.ISSUANCE, -amount)])


async def spend(member_id: int, amount: int, key: str) -> ledger.TransactionOut:
    return await ledger.post(key=key, kind="redemption", reason="a mug", source=f"shop:{key}",
                             postings=[(ledger.member_account(member_id), -amount),
                                       (ledger.ISSUANCE, amount)])


async def balance(member_id: int) -> tuple[int, int]:
    found = await ledger.balance(member_id)
    return found.balance, found.lifetime_earned


async def assert_invariants() -> None:
    checked = await ledger.check_invariants()
    assert checked.ok, checked


async def test_a_post_repeated_under_its_key_is_recorded_once(hearth: Hearth) -> None:
    member = (await register()).member_id
    assert member is not None
    first = await award(member, 10, "award-once-1")
    again = await award(member, 10, "award-once-1")
    assert again.id == first.id
    assert await balance(member) == (10, 10)
    # The same key with other inputs is a client bug, not a replay.
    with pytest.raises(Conflict, match="different inputs"):
        await award(member, 11, "award-once-1")
    assert await balance(member) == (10, 10)
    await assert_invariants()


async def test_no_member_balance_goes_below_zero(hearth: Hearth) -> None:
    member = (await register()).member_id
    assert member is not None
    await award(member, 5, "small-award-1")
    with pytest.raises(Conflict, match="not enough points"):
        await spend(member, 6, "too-dear-1")
    # Refused whole: nothing of it was recorded.
    assert await ledger.find("too-dear-1") is None
    assert await balance(member) == (5, 5)
    await spend(member, 5, "exactly-1")
    assert await balance(member) == (0, 5)
    await assert_invariants()


async def test_a_reversal_recovers_only_what_is_left_and_happens_once(hearth: Hearth) -> None:
    member = (await register()).member_id
    assert member is not None
    earned = await award(member, 10, "to-reverse-1")
    await spend(member, 7, "spent-most-1")
    reversal = await ledger.reverse(earned.id, "post deleted")
    assert reversal.kind == "reversal" and reversal.reverses == earned.id
    assert {p.account: p.amount for p in reversal.postings} == {
        ledger.member_account(member): -3, ledger.ISSUANCE: 3}
    assert "7 points already spent" in reversal.reason
    # Spent points stay spent; what was earned is net of the reversal.
    assert await balance(member) == (0, 7)
    assert (await ledger.reverse(earned.id, "post deleted")).id == reversal.id
    with pytest.raises(Invalid, match="cannot itself be reversed"):
        await ledger.reverse(reversal.id, "undo the undo")
    await assert_invariants()
