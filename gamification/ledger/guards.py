"""Who may do what with points. Controllers call these before a service; the services trust
their arguments.

- A member's points are theirs to see, and staff's (brand staff look members up at checkout);
  brand staff see only the part of a member's history their own brand's budget paid or took.
- A staff act on a member's points draws on one budget: the brand named, else a brand staff
  member's (or API token's) own brand, else, for an admin, issuance.
- Brand staff give points from their budget and correct only what their brand paid, by
  reversing it; taking points away is for admins.
- Nobody moves their own points: not staff, and not an API token for the staff member who
  created it.
"""

from __future__ import annotations

from gamification.ledger.schemas import HoldOut, TransactionOut
from gamification.ledger.services import brand_budget_account
from server.accounts.services import get_brand
from server.auth import Actor
from server.errors import Forbidden

# What brand staff may reverse: what their brand's budget paid to a member.
REVERSIBLE_BY_BRANDS = ("award", "adjustment")


def _is_brand_staff(actor: Actor) -> bool:
    return actor.role == "brand_staff" and actor.brand_id is not None


def may_see_points(actor: Actor, member_id: int) -> None:
    if actor.person_id != member_id and not actor.is_admin and not _is_brand_staff(actor):
        raise Forbidden("a member's points are visible to them and to staff")


def history_seen_by(actor: Actor, member_id: int) -> str | None:
    """The budget account that bounds what of a member's history the actor sees; None: all."""
    may_see_points(actor, member_id)
    if actor.person_id == member_id or actor.is_admin:
        return None
    assert actor.brand_id is not None
    return brand_budget_account(actor.brand_id)


async def budget_for(actor: Actor, brand_id: int | None, what: str) -> int | None:
    """The brand whose budget a staff act uses (None: issuance, for admins only)."""
    if brand_id is None and _is_brand_staff(actor):
        brand_id = actor.brand_id
    if brand_id is None:
        if not actor.is_admin:
            raise Forbidden(f"only admins and brand staff {what}")
        return None
    await get_brand(brand_id)
    if not actor.manages_brand(brand_id):
        raise Forbidden(f"only this brand's staff or an admin may {what} for it")
    return brand_id


async def staff_act(actor: Actor, member_id: int, brand_id: int | None, what: str) -> int | None:
    """budget_for(), for an act on a member's points, which must not be the actor's own."""
    budget = await budget_for(actor, brand_id, what)
    if member_id == actor.member_id:
        raise Forbidden(f"nobody may {what} for their own account "
                        "(an API token's own account is its creator's)")
    return budget


async def may_adjust(actor: Actor, member_id: int, amount: int,
                     brand_id: int | None) -> int | None:
    """The budget an adjustment uses. Only admins take points away."""
    if amount < 0 and not actor.is_admin:
        raise Forbidden("only admins take points away; to correct what your brand paid, "
                        "reverse that transaction")
    return await staff_act(actor, member_id, brand_id, "adjust points")


async def may_redeem(actor: Actor, member_id: int, brand_id: int | None) -> int | None:
    return await staff_act(actor, member_id, brand_id, "redeem points")


async def may_hold(actor: Actor, member_id: int, brand_id: int | None) -> int | None:
    """The brand a new hold is for: a checkout holds at its own brand (admins, any)."""
    return await staff_act(actor, member_id, brand_id, "hold points")


def may_act_on_hold(actor: Actor, hold: HoldOut) -> None:
    """A hold is seen, posted and voided by its brand's staff and tokens, and admins."""
    if hold.brand_id is None and not actor.is_admin:
        raise Forbidden("only admins act on holds made for no brand")
    if hold.brand_id is not None and not actor.manages_brand(hold.brand_id):
        raise Forbidden("only this brand's staff or an admin may act on its holds")


def may_fund(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only admins fund brand budgets")


def may_see_budget(actor: Actor, brand_id: int) -> None:
    if not actor.manages_brand(brand_id):
        raise Forbidden("only this brand's staff or an admin may see its budget")


def may_reverse(actor: Actor, original: TransactionOut) -> None:
    """Admins reverse anything; brand staff only what their brand's budget paid."""
    if actor.is_admin:
        return
    if not _is_brand_staff(actor):
        raise Forbidden("only admins and brand staff reverse ledger transactions")
    assert actor.brand_id is not None
    budget = brand_budget_account(actor.brand_id)
    paid = original.kind in REVERSIBLE_BY_BRANDS and any(
        p.account == budget and p.amount < 0 for p in original.postings)
    if not paid:
        raise Forbidden("brand staff reverse only what their brand's budget paid")


def may_check(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only admins check the ledger")


def may_see_all_liability(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only admins see every brand's liability; brand staff see their own")
