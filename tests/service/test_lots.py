"""Lots and expiry, called directly on a manual clock: spending takes what expires soonest,
a reversal takes its own lot, the `activity` policy moves expiries, the sweep posts each
expiration once and the 30- and 7-day notices go out once per lot."""

from __future__ import annotations

import datetime as dt

import pytest

from gamification.ledger import expiry, holds, liability
from gamification.ledger import services as ledger
from server import db, notifications
from server.settings import get_settings
from tests.service.support import START, Hearth, register

pytestmark = pytest.mark.anyio


def policy(monkeypatch: pytest.MonkeyPatch, kind: str, months: int = 12) -> None:
    monkeypatch.setenv("HEARTH_POINTS_EXPIRY", kind)
    monkeypatch.setenv("HEARTH_POINTS_EXPIRY_MONTHS", str(months))
    get_settings.cache_clear()


async def new_member() -> int:
    member = (await register()).member_id
    assert member is not None
    return member


async def award(member_id: int, amount: int, key: str) -> ledger.TransactionOut:
    return await ledger.post(key=key, kind="award", reason="service test", source=f"test:{key}",
                             postings=[(ledger.member_account(member_id), amount),
                                       (ledger.ISSUANCE, -amount)])


async def spend(member_id: int, amount: int, key: str) -> ledger.TransactionOut:
    return await ledger.post(key=key, kind="redemption", reason="a mug", source=f"shop:{key}",
                             postings=[(ledger.member_account(member_id), -amount),
                                       (ledger.ISSUANCE, amount)])


async def lots(member_id: int) -> list[tuple[int, int]]:
    """(amount, remaining) of each lot, oldest first."""
    rows = await db.fetch("SELECT amount, remaining FROM ledger_lot WHERE member = {} "
                          "ORDER BY id", member_id)
    return [(int(r["amount"]), int(r["remaining"])) for r in rows]


async def assert_invariants() -> None:
    checked = await ledger.check_invariants()
    assert checked.ok, checked


async def test_spending_takes_the_soonest_expiring_points_not_the_oldest(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    member = await new_member()
    await award(member, 10, "lots-never-1")  # earned under `never`: expires last
    policy(monkeypatch, "earning", 12)
    hearth.clock.advance(days=40)
    await award(member, 10, "lots-late-1")
    hearth.clock.advance(days=1)
    await award(member, 10, "lots-later-1")
    await spend(member, 15, "lots-spend-1")
    assert await lots(member) == [(10, 10), (10, 0), (10, 5)]
    await spend(member, 10, "lots-spend-2")
    assert await lots(member) == [(10, 5), (10, 0), (10, 0)]
    await assert_invariants()


async def test_a_reversal_takes_its_own_lot_then_what_is_left(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "earning", 12)
    member = await new_member()
    first = await award(member, 10, "own-lot-a")
    hearth.clock.advance(days=1)
    second = await award(member, 10, "own-lot-b")
    await ledger.reverse(second.id, "post deleted")
    # Not the sooner-expiring lot: the one the award opened.
    assert await lots(member) == [(10, 10), (10, 0)]
    await award(member, 10, "own-lot-c")
    await spend(member, 15, "own-lot-spend")
    assert await lots(member) == [(10, 0), (10, 0), (10, 5)]
    # Its own lot is spent: the ledger recovers what is left, from the other lots.
    recovered = await ledger.reverse(first.id, "post deleted")
    assert {p.account: p.amount for p in recovered.postings}[ledger.member_account(member)] == -5
    assert await lots(member) == [(10, 0), (10, 0), (10, 0)]
    await assert_invariants()


async def test_expiry_posts_each_lot_once_and_leaves_what_was_earned(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "earning", 1)
    member = await new_member()
    await award(member, 30, "expire-once-a")
    hearth.clock.advance(days=10)
    await award(member, 20, "expire-once-b")
    await spend(member, 5, "expire-once-spend")
    hearth.clock.advance(days=25)  # past the first lot's month, not the second's
    assert await expiry.expire_due() == 1
    assert await expiry.expire_due() == 0
    found = await ledger.balance(member)
    assert (found.balance, found.lifetime_earned) == (20, 50)
    history = await ledger.history(ledger.member_account(member), None, 10)
    assert (history.items[0].kind, history.items[0].amount) == ("expiration", -25)
    hearth.clock.advance(days=10)
    assert await expiry.expire_due() == 1
    assert (await ledger.balance(member)).balance == 0
    assert (await expiry.upcoming(member)).upcoming == []
    await assert_invariants()


async def test_under_the_activity_policy_earning_or_spending_moves_every_expiry(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "activity", 12)
    member = await new_member()
    await award(member, 40, "active-a")
    hearth.clock.advance(days=200)
    await spend(member, 10, "active-spend")
    shown = await expiry.upcoming(member)
    moved = (START + dt.timedelta(days=200)).date().replace(year=START.year + 1)
    assert (shown.policy, shown.months) == ("activity", 12)
    assert [(e.date, e.amount) for e in shown.upcoming] == [(moved, 30)]
    hearth.clock.advance(days=300)  # a year after earning, not after the spend
    assert await expiry.expire_due() == 0
    hearth.clock.advance(days=70)
    assert await expiry.expire_due() == 1
    assert (await ledger.balance(member)).balance == 0
    await assert_invariants()


async def test_members_are_told_30_and_7_days_ahead_once_per_lot(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "earning", 2)
    member = await new_member()
    await award(member, 10, "notice-a")
    await award(member, 5, "notice-b")
    expires = START.replace(month=START.month + 2)
    assert await expiry.send_notices() == 0
    hearth.clock.current = expires - dt.timedelta(days=29)
    assert await expiry.send_notices() == 1  # both lots expire that day: one notice
    assert await expiry.send_notices() == 0
    hearth.clock.current = expires - dt.timedelta(days=6)
    assert await expiry.send_notices() == 1
    assert await expiry.send_notices() == 0
    await hearth.relay()
    texts = [n.text for n in (await notifications.page(member)).items]
    day = expires.date().isoformat()
    assert texts == [f"15 of your points expire on {day}"] * 2
    # The liability report's figure: what lapses within so many days.
    assert [await liability.expiring_within(d, None) for d in (5, 7, 30)] == [0, 15, 15]
    hearth.clock.current = expires
    assert await expiry.expire_due() == 2
    assert await expiry.send_notices() == 0
    await assert_invariants()


async def test_held_points_wait_for_their_hold_before_they_expire(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "earning", 1)
    member = await new_member()
    await award(member, 50, "held-expiry-a")
    held = await holds.create(member_id=member, amount=30, reason="cart 9", key="cart-9",
                              brand_id=None, timeout_seconds=90 * 86400, by=None)
    hearth.clock.advance(days=32)
    assert await expiry.expire_due() == 1
    found = await ledger.balance(member)
    assert (found.balance, found.available, found.pending) == (30, 0, 30)
    assert await expiry.expire_due() == 0
    await holds.void(held.id)
    assert await expiry.expire_due() == 1
    assert (await ledger.balance(member)).balance == 0
    history = await ledger.history(ledger.member_account(member), None, 10)
    assert [h.amount for h in history.items if h.kind == "expiration"] == [-30, -20]
    await assert_invariants()


async def test_lots_a_hold_keeps_from_expiring_do_not_stall_the_sweep(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "earning", 1)
    # One lot a page: the held lot comes first, and would be all the sweep reads.
    monkeypatch.setattr(expiry, "SWEEP_BATCH", 1)
    held_member, other = await new_member(), await new_member()
    await award(held_member, 20, "stall-held")
    await holds.create(member_id=held_member, amount=20, reason="cart 10", key="cart-10",
                       brand_id=None, timeout_seconds=90 * 86400, by=None)
    hearth.clock.advance(hours=1)
    await award(other, 15, "stall-other")
    hearth.clock.advance(days=32)
    assert await expiry.expire_due() == 1
    assert (await ledger.balance(other)).balance == 0
    assert (await ledger.balance(held_member)).balance == 20
    await assert_invariants()


async def test_under_the_activity_policy_activity_does_not_revive_points_past_due(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "activity", 1)
    member = await new_member()
    await award(member, 10, "revive-a")
    hearth.clock.advance(days=40)  # past due, not swept yet
    await award(member, 5, "revive-b")
    assert await expiry.expire_due() == 1
    found = await ledger.balance(member)
    assert (found.balance, found.lifetime_earned) == (5, 15)
    await assert_invariants()


async def test_undoing_an_expiration_is_a_refund_not_new_earnings(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "earning", 1)
    member = await new_member()
    await award(member, 10, "undo-expiry-a")
    hearth.clock.advance(days=32)
    assert await expiry.expire_due() == 1
    history = await ledger.history(ledger.member_account(member), None, 10)
    undone = await ledger.reverse(history.items[0].transaction_id, "expired by mistake")
    assert undone.kind == "refund"
    found = await ledger.balance(member)
    assert (found.balance, found.lifetime_earned) == (10, 10)
    await assert_invariants()


async def test_reversing_an_award_whose_points_expired_takes_only_what_did_not(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "earning", 1)
    member = await new_member()
    first = await award(member, 30, "expired-award-a")
    await spend(member, 10, "expired-award-spend")
    hearth.clock.advance(days=32)
    assert await expiry.expire_due() == 1  # 20 of the award's 30 expire
    await award(member, 50, "expired-award-b")
    undone = await ledger.reverse(first.id, "post deleted")
    # The 20 that expired left already; the 10 spent are recovered from what is left.
    assert {p.account: p.amount for p in undone.postings} == {
        ledger.member_account(member): -10, ledger.ISSUANCE: 10}
    assert "20 points expired" in undone.reason
    found = await ledger.balance(member)
    assert found.balance == 40
    await assert_invariants()


async def test_reversing_an_award_after_its_expiration_was_undone_takes_it_all(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    policy(monkeypatch, "earning", 1)
    member = await new_member()
    first = await award(member, 30, "refunded-expiry-a")
    hearth.clock.advance(days=32)
    assert await expiry.expire_due() == 1
    history = await ledger.history(ledger.member_account(member), None, 10)
    await ledger.reverse(history.items[0].transaction_id, "expired by mistake")
    undone = await ledger.reverse(first.id, "post deleted")
    assert {p.account: p.amount for p in undone.postings}[ledger.member_account(member)] == -30
    assert (await ledger.balance(member)).balance == 0
    await assert_invariants()


async def test_a_brands_liability_counts_its_posted_holds_and_what_expired(
        hearth: Hearth, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.accounts import services as accounts
    from server.accounts.schemas import BrandIn

    policy(monkeypatch, "earning", 1)
    brand = await accounts.create_brand(hearth.admin, BrandIn(name="Mugs", slug="mugs-liab"))
    await ledger.fund(hearth.admin, brand_id=brand.id, amount=1000, reason="Q1", key="liab-fund")
    member = await new_member()
    await ledger.post(key="liab-award", kind="award", reason="a review", source="test:liab",
                      postings=[(ledger.member_account(member), 100),
                                (ledger.brand_budget_account(brand.id), -100)])
    held = await holds.create(member_id=member, amount=30, reason="cart 11", key="cart-11",
                              brand_id=brand.id, timeout_seconds=3600, by=None)
    await holds.post(held.id, None, None)
    hearth.clock.advance(days=32)
    assert await expiry.expire_due() == 1  # the other 70
    figures = await liability.brand_liability(brand.id, 1)
    assert (figures.issued, figures.redeemed, figures.net_outstanding) == (100, 30, 0)
    await assert_invariants()
