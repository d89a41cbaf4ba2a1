"""The points liability: what is owed in points, by whom it was issued, how much of it gets
spent, and what will expire.

- Outstanding: brand budgets (funded, not yet given out) and member balances. Member points
  are one currency, so a brand's share is attributed, not partitioned: what its budget paid
  members (awards and adjustments, net of their reversals) less what was redeemed at it
  (redemptions with the brand as source or posted from its holds, net of refunds) and less
  what expired of it. Points paid from issuance (platform rules, badges) belong to no brand.
- Redemption rate per UTC month: points redeemed / points issued in that month (None when
  nothing was issued). A reversal or refund counts in the month it was made.
- Expiring within 30, 60 and 90 days: from the expiry lots (`expiring_within`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

from gamification.ledger.schemas import (
    BrandLiability,
    Expiring,
    LiabilityReport,
    MonthFigures,
)
from gamification.ledger.services import brand_budget_account
from server import clock, db
from server.accounts.services import get_brand

EXPIRY_HORIZONS = (30, 60, 90)

# Kinds that issue points to members (negative when a reversal takes them back).
ISSUING = "('award', 'adjustment', 'reversal')"
_MEMBER_POSTINGS = ("FROM ledger_posting p JOIN ledger_account a ON a.id = p.account "
                    "JOIN ledger_transaction t ON t.id = p.ledger_transaction "
                    "WHERE a.kind = 'member'")
# A redemption, or the refund of one (a refund keeps its redemption's source).
_REDEEMING = ("(t.kind = 'redemption' OR (t.kind = 'refund' AND EXISTS (SELECT 1 FROM "
              "ledger_transaction o WHERE o.id = t.reverses AND o.kind = 'redemption')))")
# Driven by the budget's own postings (indexed by account), not a test of every posting.
_PAID_BY_BUDGET = ("p.ledger_transaction IN (SELECT b.ledger_transaction FROM ledger_posting b "
                   "WHERE b.account = {})")


# A brand's redemption: recorded as its own, or the posting of one of its holds (source
# "hold:<id>"), or the refund of either.
_AT_BRAND = ("(t.source = {} OR t.id IN (SELECT h.ledger_transaction FROM ledger_hold h "
             "WHERE h.brand = {}) OR t.reverses IN (SELECT h.ledger_transaction "
             "FROM ledger_hold h WHERE h.brand = {}))")
_BRAND_LOTS = ("l.ledger_transaction IN (SELECT b.ledger_transaction FROM ledger_posting b "
               "JOIN ledger_account a ON a.id = b.account WHERE a.code = {})")


async def expired_of_brand(brand_id: int) -> int:
    """Points that expired of the lots the brand's budget paid: no longer owed."""
    rows = await db.fetch("SELECT COALESCE(SUM(l.expired), 0) AS total FROM ledger_lot l "
                          "WHERE " + _BRAND_LOTS, brand_budget_account(brand_id))
    return int(rows[0]["total"])


async def expiring_within(days: int, brand_id: int | None) -> int:
    """Points left in the expiry lots that expire within `days` from now: all of them with
    None, else a brand's share (the lots whose credit its budget paid)."""
    where = ["l.remaining > 0", "l.expires_at IS NOT NULL", "l.expires_at <= {}"]
    args: list[object] = [clock.now() + dt.timedelta(days=days)]
    if brand_id is not None:
        where.append(_BRAND_LOTS)
        args.append(brand_budget_account(brand_id))
    rows = await db.fetch("SELECT COALESCE(SUM(l.remaining), 0) AS total FROM ledger_lot l "
                          "WHERE " + " AND ".join(where), *args)
    return int(rows[0]["total"])


def _month_of(column: str) -> str:
    if db.is_sqlite():
        # Stored as ISO text in UTC: "2026-11-27 ...".
        return f"substr({column}, 1, 7)"
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"


def _months(count: int) -> list[str]:
    """The last `count` UTC months, oldest first, this one last."""
    today = clock.today()
    index = today.year * 12 + today.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


async def _by_month(where: str, args: list[object], negate: bool,
                    since: dt.datetime) -> dict[str, int]:
    rows = await db.fetch(
        f"SELECT {_month_of('t.created_at')} AS month, COALESCE(SUM(p.amount), 0) AS points "
        f"{_MEMBER_POSTINGS} AND {where} AND t.created_at >= {{}} GROUP BY 1", *args, since)
    return {str(r["month"]): (-1 if negate else 1) * int(r["points"]) for r in rows}


async def _total(where: str, args: list[object], negate: bool) -> int:
    rows = await db.fetch(f"SELECT COALESCE(SUM(p.amount), 0) AS points {_MEMBER_POSTINGS} "
                          f"AND {where}", *args)
    return (-1 if negate else 1) * int(rows[0]["points"])


async def _account_id(code: str) -> int | None:
    rows = await db.fetch("SELECT id FROM ledger_account WHERE code = {}", code)
    return int(rows[0]["id"]) if rows else None


async def _figures(issued_where: str, issued_args: list[object], redeemed_where: str,
                   redeemed_args: list[object], months: int,
                   ) -> tuple[int, int, list[MonthFigures]]:
    """Issued and redeemed, all time and per month of the last `months`."""
    names = _months(months)
    since = dt.datetime.fromisoformat(names[0] + "-01T00:00:00+00:00")
    issued = await _by_month(issued_where, issued_args, False, since)
    redeemed = await _by_month(redeemed_where, redeemed_args, True, since)
    rows = [MonthFigures(month=m, issued=issued.get(m, 0), redeemed=redeemed.get(m, 0),
                         redemption_rate=_rate(redeemed.get(m, 0), issued.get(m, 0)))
            for m in names]
    return (await _total(issued_where, issued_args, False),
            await _total(redeemed_where, redeemed_args, True), rows)


def _rate(redeemed: int, issued: int) -> float | None:
    return round(redeemed / issued, 4) if issued > 0 else None


async def _expiring(brand_id: int | None) -> Expiring:
    within = [await expiring_within(days, brand_id) for days in EXPIRY_HORIZONS]
    return Expiring(within_30_days=within[0], within_60_days=within[1], within_90_days=within[2])


async def brand_liability(brand_id: int, months: int) -> BrandLiability:
    """One brand's figures (404 when the brand does not exist)."""
    brand = await get_brand(brand_id)
    budget = await _account_id(brand_budget_account(brand_id))
    balance = await db.fetch("SELECT balance FROM ledger_account WHERE id = {}", budget or 0)
    issued, redeemed, rows = await _figures(
        f"t.kind IN {ISSUING} AND {_PAID_BY_BUDGET}", [budget or 0],
        f"{_REDEEMING} AND {_AT_BRAND}", [f"brand:{brand_id}:redemption", brand_id, brand_id],
        months)
    expired = await expired_of_brand(brand_id)
    return BrandLiability(
        brand_id=brand_id, brand=str(brand.name), budget_balance=int(balance[0]["balance"]) if
        balance else 0, issued=issued, redeemed=redeemed,
        net_outstanding=issued - redeemed - expired,
        expiring=await _expiring(brand_id), months=rows)


async def report(months: int) -> LiabilityReport:
    """Every brand with a budget, and the whole program's figures (admins)."""
    totals = await db.fetch(
        "SELECT kind, COALESCE(SUM(balance), 0) AS balance FROM ledger_account "
        "WHERE kind IN ('member', 'brand_budget') GROUP BY kind")
    by_kind = {str(r["kind"]): int(r["balance"]) for r in totals}
    issued, redeemed, rows = await _figures(f"t.kind IN {ISSUING}", [], _REDEEMING, [], months)
    brands = await db.fetch("SELECT brand FROM ledger_account WHERE kind = 'brand_budget' "
                            "ORDER BY brand")
    return LiabilityReport(
        generated_at=clock.now(), members_outstanding=by_kind.get("member", 0),
        budgets_outstanding=by_kind.get("brand_budget", 0), issued=issued, redeemed=redeemed,
        expiring=await _expiring(None), months=rows,
        brands=[await brand_liability(int(r["brand"]), months) for r in brands])


# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        # Numbers are written as numbers (a negative one is not a formula).
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _brand_rows(brand: BrandLiability) -> Iterable[list[object]]:
    scope = ["brand", brand.brand_id, brand.brand]
    yield [*scope, "", "budget_balance", brand.budget_balance]
    yield [*scope, "", "issued", brand.issued]
    yield [*scope, "", "redeemed", brand.redeemed]
    yield [*scope, "", "net_outstanding", brand.net_outstanding]
    yield from _common_rows(scope, brand.expiring, brand.months)


def _common_rows(scope: list[object], expiring: Expiring,
                 months: list[MonthFigures]) -> Iterable[list[object]]:
    for days in EXPIRY_HORIZONS:
        yield [*scope, "", f"expiring_within_{days}_days",
               getattr(expiring, f"within_{days}_days")]
    for month in months:
        yield [*scope, month.month, "issued", month.issued]
        yield [*scope, month.month, "redeemed", month.redeemed]
        yield [*scope, month.month, "redemption_rate", month.redemption_rate]


def to_csv(figures: LiabilityReport | BrandLiability) -> str:
    """One figure per line (scope, brand, month, metric, value): the same columns whatever
    the report holds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["scope", "brand_id", "brand", "month", "metric", "value"])
    rows: list[list[object]] = []
    if isinstance(figures, BrandLiability):
        rows += _brand_rows(figures)
    else:
        scope: list[object] = ["all", "", ""]
        rows += [[*scope, "", "members_outstanding", figures.members_outstanding],
                 [*scope, "", "budgets_outstanding", figures.budgets_outstanding],
                 [*scope, "", "issued", figures.issued],
                 [*scope, "", "redeemed", figures.redeemed]]
        rows += _common_rows(scope, figures.expiring, figures.months)
        for brand in figures.brands:
            rows += _brand_rows(brand)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()
