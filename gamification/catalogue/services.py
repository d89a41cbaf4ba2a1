"""The rewards catalogue's rules.

A redemption is one database transaction: the member's ledger account is locked first (so a
member's redemptions, their limit and their idempotency keys are serial), then the reward's
row is updated on the condition that stock is left, then one available code is taken (on
PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite's write lock already excludes every other
writer), then the ledger debits the points, which refuses a balance below zero. Any refusal
rolls all of it back. Locks are always taken in the order member account, reward, ledger
accounts, in refunds too, so concurrent redemptions and refunds cannot deadlock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from gamification.badges import services as badges
from gamification.catalogue.schemas import (
    MAX_CSV_CHARS,
    CatalogueItem,
    CodesOut,
    RedemptionOut,
    RedemptionPage,
    RewardIn,
    RewardOut,
)
from gamification.catalogue.tables import Redemption, Reward, RewardCode
from gamification.ledger import services as ledger
from gamification.tiers import services as tiers
from server import clock, db, events, outbox, staff_log
from server.accounts.services import get_brand, member_names
from server.auth import Actor
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.types import MAX_ID

# A code pool upload holds at most this many codes.
MAX_CODES_PER_UPLOAD = 20_000
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/+=#-]{0,99}")
OUT_OF_STOCK = "this reward is out of stock"
NO_CODES = "this reward has no codes left"
# Reported bad lines are capped: a file that is wrong everywhere needs fixing, not a list.
MAX_REPORTED_LINES = 100


def _may_manage(actor: Actor, brand_id: int) -> None:
    if not actor.manages_brand(brand_id):
        raise Forbidden("only this brand's staff or an admin manage its rewards")


async def _reward_row(reward_id: int) -> dict[str, Any]:
    rows = await Reward.select().where(Reward.id == reward_id)
    if not rows:
        raise NotFound(f"reward {reward_id} does not exist")
    return rows[0]


async def _brand_reward(brand_id: int, reward_id: int) -> dict[str, Any]:
    row = await _reward_row(reward_id)
    if int(row["brand"]) != brand_id:
        raise NotFound(f"reward {reward_id} does not exist in brand {brand_id}")
    return row


async def _counts(reward_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Codes available and redemptions standing, by reward."""
    if not reward_ids:
        return {}, {}
    match, args = db.values_in(reward_ids, "bigint")
    codes = await db.fetch("SELECT reward, COUNT(*) AS n FROM gamification_reward_code "
                           "WHERE status = 'available' AND reward " + match + " GROUP BY reward", *args)
    redeemed = await db.fetch("SELECT reward, COUNT(*) AS n FROM gamification_redemption "
                              "WHERE status = 'redeemed' AND reward " + match + " GROUP BY reward",
                              *args)
    return ({int(r["reward"]): int(r["n"]) for r in codes},
            {int(r["reward"]): int(r["n"]) for r in redeemed})


def _out(row: dict[str, Any], codes: dict[int, int], redeemed: dict[int, int]) -> RewardOut:
    return RewardOut(
        id=row["id"], brand_id=row["brand"], title=row["title"], description=row["description"],
        image_url=row["image_url"], price=row["price"], stock=row["stock"],
        per_member_limit=row["per_member_limit"], min_tier=row["min_tier"], badge_id=row["badge"],
        starts_at=row["starts_at"], ends_at=row["ends_at"], fulfilment=row["fulfilment"],
        published=bool(row["published"]), codes_available=codes.get(row["id"], 0),
        redeemed=redeemed.get(row["id"], 0))


async def _outs(rows: list[dict[str, Any]]) -> list[RewardOut]:
    codes, redeemed = await _counts([int(r["id"]) for r in rows])
    return [_out(r, codes, redeemed) for r in rows]


def _in_range(when: dt.datetime) -> bool:
    # At the edges of datetime's range an offset moves the UTC instant past year 1 or 9999,
    # and comparing or storing it raises OverflowError.
    try:
        return 1970 <= when.astimezone(dt.UTC).year <= 9998
    except OverflowError:
        return False


async def _validate(data: RewardIn) -> None:
    for name, when in (("starts_at", data.starts_at), ("ends_at", data.ends_at)):
        if when is not None and when.tzinfo is None:
            raise Invalid(f"{name} needs a UTC offset, e.g. 2030-01-01T09:00:00+01:00",
                          [{"key": name, "message": "no UTC offset"}])
        if when is not None and not _in_range(when):
            raise Invalid(f"{name} must be in the years 1970 to 9998 (UTC)",
                          [{"key": name, "message": "out of range"}])
    if data.min_tier:
        ladder = [t.name for t in (await tiers.ladder()).tiers]
        if data.min_tier not in ladder:
            raise Invalid(f"min_tier must be a tier: {', '.join(ladder)}",
                          [{"key": "min_tier", "message": "not a tier"}])
    if data.badge_id is not None:
        await badges.get_badge(data.badge_id)
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        raise Invalid("ends_at must be after starts_at",
                      [{"key": "ends_at", "message": "must be after starts_at"}])


def _columns(data: RewardIn) -> dict[str, Any]:
    return {"title": data.title, "description": data.description, "image_url": data.image_url,
            "price": data.price, "stock": data.stock, "per_member_limit": data.per_member_limit,
            "min_tier": data.min_tier, "badge": data.badge_id, "starts_at": data.starts_at,
            "ends_at": data.ends_at, "fulfilment": data.fulfilment, "published": data.published}


def _logged(columns: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in columns.items()}


async def create(actor: Actor, brand_id: int, data: RewardIn) -> RewardOut:
    await get_brand(brand_id)
    _may_manage(actor, brand_id)
    await _validate(data)
    columns = _columns(data)
    async with outbox.unit_of_work():
        rows = await Reward.insert(Reward(brand=brand_id, created_by=actor.accountable(),
                                          **columns)).returning(Reward.id)
        reward_id = int(rows[0]["id"])
        await staff_log.record(actor, "reward.create", "reward", reward_id, data.title,
                               after=_logged(columns), brand_id=brand_id)
    return (await _outs([await _reward_row(reward_id)]))[0]


async def update(actor: Actor, brand_id: int, reward_id: int, data: RewardIn) -> RewardOut:
    """Rewrite a reward. Redemptions made stand; the new price applies to the next ones."""
    await get_brand(brand_id)
    _may_manage(actor, brand_id)
    before = await _brand_reward(brand_id, reward_id)
    if data.fulfilment != before["fulfilment"] and await Redemption.exists().where(
            Redemption.reward == reward_id):
        raise Conflict("a reward's fulfilment cannot change once it has been redeemed")
    await _validate(data)
    columns = _columns(data)
    async with outbox.unit_of_work():
        await Reward.update({getattr(Reward, k): v for k, v in columns.items()}).where(
            Reward.id == reward_id)
        old, new = staff_log.changes(
            _logged({k: before[k] for k in columns}), _logged(columns))
        await staff_log.record(actor, "reward.update", "reward", reward_id, data.title,
                               before=old, after=new, brand_id=brand_id)
    return (await _outs([await _reward_row(reward_id)]))[0]


async def staff_list(actor: Actor, brand_id: int) -> list[RewardOut]:
    """Every reward of the brand, drafts included, newest first."""
    await get_brand(brand_id)
    _may_manage(actor, brand_id)
    rows = await Reward.select().where(Reward.brand == brand_id).order_by(Reward.id, ascending=False)
    return await _outs(rows)


def parse_codes(text: str) -> list[tuple[int, str]]:
    """(line number, code) for each code in a CSV of one code per line, a first line "code"
    being a header and blank lines skipped. Invalid (422) naming every bad line (up to
    MAX_REPORTED_LINES): nothing is imported from a file with any."""
    if len(text) > MAX_CSV_CHARS:
        raise Invalid(f"csv is over {MAX_CSV_CHARS} characters: upload the codes in parts",
                      [{"key": "csv", "message": "too long"}])
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    codes: list[tuple[int, str]] = []
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise Invalid(f"the file is not CSV: {exc}", [{"key": "csv", "message": str(exc)}]) from None
    for line, row in enumerate(rows, 1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if line == 1 and [c.lower() for c in cells] == ["code"]:
            continue
        if len(cells) != 1:
            errors.append({"line": line, "message": "one code per line, no other columns"})
        elif not CODE_PATTERN.fullmatch(cells[0]):
            errors.append({"line": line, "message": "a code is 1 to 100 letters, digits or "
                           "_.:/+=#- and starts with a letter or digit"})
        elif cells[0].casefold() in seen:
            errors.append({"line": line,
                           "message": f"duplicate of line {seen[cells[0].casefold()]}"})
        else:
            # Case-blind: shops often match codes so, and SAVE10 and save10 would be one.
            seen[cells[0].casefold()] = line
            codes.append((line, cells[0]))
    if not errors and not codes:
        raise Invalid("the file has no codes", [{"key": "csv", "message": "no codes"}])
    if len(codes) > MAX_CODES_PER_UPLOAD:
        raise Invalid(f"at most {MAX_CODES_PER_UPLOAD} codes per upload",
                      [{"key": "csv", "message": "too many codes"}])
    _refuse_lines(errors)
    return codes


def _refuse_lines(errors: list[dict[str, Any]]) -> None:
    if not errors:
        return
    errors.sort(key=lambda e: e["line"])
    lines = ", ".join(str(e["line"]) for e in errors[:10])
    more = f" and {len(errors) - 10} more" if len(errors) > 10 else ""
    raise Invalid(f"{len(errors)} bad line(s), nothing imported: line {lines}{more}",
                  [{"key": "csv", **e} for e in errors[:MAX_REPORTED_LINES]])


async def upload_codes(actor: Actor, brand_id: int, reward_id: int, text: str) -> CodesOut:
    """Add codes to a reward's pool: all of them, or none when any line is bad or already in
    the pool (those lines are named)."""
    await get_brand(brand_id)
    _may_manage(actor, brand_id)
    row = await _brand_reward(brand_id, reward_id)
    if row["fulfilment"] != "codes":
        raise Conflict("this reward is fulfilled by webhook: it has no code pool")
    codes = parse_codes(text)
    async with outbox.unit_of_work():
        # Two uploads to one pool take turns, so each sees the other's codes.
        await db.lock_rows("gamification_reward", "id", [reward_id])
        values = [code for _, code in codes]
        # Codes are ASCII (CODE_PATTERN), so SQL's lower() agrees with casefold().
        folded = [code.casefold() for code in values]
        taken: set[str] = set()
        for start in range(0, len(folded), 1000):
            match, args = db.values_in(folded[start:start + 1000], "text")
            taken |= {str(r["code"]) for r in await db.fetch(
                "SELECT lower(code) AS code FROM gamification_reward_code "
                "WHERE reward = {} AND lower(code) " + match, reward_id, *args)}
        _refuse_lines([{"line": line, "message": "already in this reward's pool"}
                       for line, code in codes if code.casefold() in taken])
        now = clock.now()
        await db.insert_rows("gamification_reward_code",
                             ["reward", "code", "status", "created_at"],
                             ["bigint", "text", "text", "timestamptz"],
                             [(reward_id, code, "available", now) for code in values])
        await staff_log.record(actor, "reward.codes", "reward", reward_id, row["title"],
                               after={"codes_added": len(values)}, brand_id=brand_id)
    available, _ = await _counts([reward_id])
    return CodesOut(imported=len(values), codes_available=available.get(reward_id, 0))


def _off_window(row: dict[str, Any]) -> str | None:
    """Why the reward is not on offer now, if it is not."""
    now = clock.now()
    if row["starts_at"] is not None and now < row["starts_at"]:
        return f"available from {row['starts_at'].isoformat()}"
    if row["ends_at"] is not None and now >= row["ends_at"]:
        return f"no longer available since {row['ends_at'].isoformat()}"
    return None


async def _ineligible(member_id: int, row: dict[str, Any],
                      memo: dict[str, Any] | None = None) -> str | None:
    """Why the member may not have this reward at all. `memo` keeps the ladder and the
    member's tier across the rewards of one listing."""
    memo = {} if memo is None else memo
    if row["min_tier"]:
        if "ladder" not in memo:
            memo["ladder"] = [t.name for t in (await tiers.ladder()).tiers]
            held = (await tiers.mine(member_id)).tier
            memo["held"] = held.name if held is not None else None
        ladder, held_name = memo["ladder"], memo["held"]
        if row["min_tier"] not in ladder:
            # The tier left the ladder after the reward named it: nobody qualifies until
            # staff pick another, rather than everybody.
            return f"for members of the {row['min_tier']} tier, which no longer exists"
        if held_name not in ladder or ladder.index(held_name) < ladder.index(row["min_tier"]):
            return f"for members of the {row['min_tier']} tier or higher"
    if row["badge"] is not None and not await badges.holds(member_id, int(row["badge"])):
        name = (await badges.get_badge(int(row["badge"]))).name
        return f"for members holding the badge '{name}'"
    return None


async def _mine(member_id: int, reward_ids: list[int]) -> dict[int, int]:
    if not reward_ids:
        return {}
    match, args = db.values_in(reward_ids, "bigint")
    rows = await db.fetch("SELECT reward, COUNT(*) AS n FROM gamification_redemption "
                          "WHERE member = {} AND status = 'redeemed' AND reward " + match
                          + " GROUP BY reward", member_id, *args)
    return {int(r["reward"]): int(r["n"]) for r in rows}


def _sold_out(reward: RewardOut) -> str | None:
    if reward.stock is not None and reward.stock <= 0:
        return "out of stock"
    if reward.fulfilment == "codes" and reward.codes_available <= 0:
        return "no codes left"
    return None


async def catalogue(actor: Actor, brand_id: int | None) -> list[CatalogueItem]:
    """Published rewards (of one brand, when given), each with whether the member may redeem
    it now and why not."""
    query = Reward.select().where(Reward.published == True)  # noqa: E712
    if brand_id is not None:
        query = query.where(Reward.brand == brand_id)
    rows = await query.order_by(Reward.price).order_by(Reward.id)
    outs = await _outs(rows)
    member_id = actor.person_id
    mine = await _mine(member_id, [o.id for o in outs]) if member_id is not None else {}
    # What pending holds reserve cannot be spent here either.
    available = (await ledger.balance(member_id)).available if member_id is not None else 0
    items = []
    memo: dict[str, Any] = {}
    for row, reward in zip(rows, outs, strict=True):
        why: str | None
        if member_id is None:
            why = "sign in to redeem"
        else:
            why = _off_window(row) or await _ineligible(member_id, row, memo) or _sold_out(reward)
            if why is None and reward.per_member_limit is not None \
                    and mine.get(reward.id, 0) >= reward.per_member_limit:
                why = f"you have redeemed it {reward.per_member_limit} time(s), the limit"
            if why is None and available < reward.price:
                why = f"you need {reward.price - available} more points"
        items.append(CatalogueItem(reward=reward, available=why is None, why_not=why,
                                   mine=mine.get(reward.id, 0)))
    return items


def _masked(code: str) -> str:
    """A code as staff see it: enough to match a member's report, not enough to use it."""
    return "" if not code else "\u2022" * 4 + code[-4:] if len(code) > 6 else "\u2022" * 4


def _redemption_out(row: dict[str, Any], title: str, fulfilment: str,
                    handle: str | None = None) -> RedemptionOut:
    """handle None: the owner's view, with the code; else a staff view, the code masked."""
    return RedemptionOut(
        id=row["id"], reward_id=row["reward"], brand_id=row["brand"], member_id=row["member"],
        title=title, points=row["points"],
        code=row["code"] if handle is None else _masked(row["code"]), fulfilment=fulfilment,
        status=row["status"], transaction_id=row["transaction_id"], created_at=row["created_at"],
        refunded_at=row["refunded_at"], refund_reason=row["refund_reason"], member_handle=handle or "")


async def _existing(member_id: int, key: str, reward_id: int) -> RedemptionOut | None:
    rows = await Redemption.select().where(
        (Redemption.member == member_id) & (Redemption.idempotency_key == key))
    if not rows:
        return None
    if int(rows[0]["reward"]) != reward_id:
        raise Conflict(f"idempotency key {key!r} was already used for another reward")
    reward = await _reward_row(reward_id)
    return _redemption_out(rows[0], reward["title"], reward["fulfilment"])


async def redeem(actor: Actor, reward_id: int, key: str) -> RedemptionOut:
    """Spend the member's points on a reward; the response holds the code. Replaying the
    key returns the same redemption. 403 when not eligible, 409 when not on offer now, sold
    out, over the member's limit or short of points: and then nothing has changed."""
    member_id = actor.member()
    row = await _reward_row(reward_id)
    if not row["published"]:
        raise NotFound(f"reward {reward_id} does not exist")
    found = await _existing(member_id, key, reward_id)
    if found is not None:
        return found
    closed = _off_window(row)
    if closed is not None:
        raise Conflict(f"this reward is {closed}")
    why = await _ineligible(member_id, row)
    if why is not None:
        raise Forbidden(f"this reward is {why}")
    # Sold out is the common refusal when many ask at once: answered without taking a lock
    # (the checks that count are the ones under the locks below).
    if row["stock"] is not None and int(row["stock"]) <= 0:
        raise Conflict(OUT_OF_STOCK)
    if row["fulfilment"] == "codes" and not await db.fetch_small(
            "SELECT 1 FROM gamification_reward_code WHERE reward = {} AND status = 'available' "
            "LIMIT 1", reward_id):
        raise Conflict(NO_CODES)
    async with outbox.unit_of_work():
        await ledger.lock_account(ledger.member_account(member_id))
        found = await _existing(member_id, key, reward_id)
        if found is not None:
            return found
        # Read again under the lock: staff may have changed the price (or withdrawn the
        # reward) while this request waited for it.
        row = await _reward_row(reward_id)
        if not row["published"]:
            raise NotFound(f"reward {reward_id} does not exist")
        if row["per_member_limit"] is not None:
            mine = (await _mine(member_id, [reward_id])).get(reward_id, 0)
            if mine >= int(row["per_member_limit"]):
                raise Conflict(f"you have redeemed this reward {mine} time(s), its limit")
        if row["stock"] is not None:
            # A conditional update under the reward row's lock: never below zero.
            taken = await db.fetch("UPDATE gamification_reward SET stock = stock - 1 "
                                   "WHERE id = {} AND stock > 0 RETURNING id", reward_id)
            if not taken:
                raise Conflict(OUT_OF_STOCK)
        code_id, code = None, ""
        if row["fulfilment"] == "codes":
            skip = "" if db.is_sqlite() else " FOR UPDATE SKIP LOCKED"
            codes = await db.fetch(
                "UPDATE gamification_reward_code SET status = 'issued' WHERE id = ("
                "SELECT id FROM gamification_reward_code WHERE reward = {} AND status = 'available' "
                "ORDER BY id LIMIT 1" + skip + ") RETURNING id, code", reward_id)
            if not codes:
                raise Conflict(NO_CODES)
            code_id, code = int(codes[0]["id"]), str(codes[0]["code"])
        brand_id, price = int(row["brand"]), int(row["price"])
        done = await ledger.redeem(member_id=member_id, amount=price,
                                   reason=f"reward: {row['title']}"[:500],
                                   key=f"reward:{member_id}:{key}", brand_id=brand_id, by=member_id)
        now = clock.now()
        rows = await Redemption.insert(Redemption(
            reward=reward_id, brand=brand_id, member=member_id, idempotency_key=key, points=price,
            code=code, status="redeemed", transaction_id=done.id, created_at=now,
        )).returning(Redemption.id)
        redemption_id = int(rows[0]["id"])
        if code_id is not None:
            await RewardCode.update({RewardCode.redemption: redemption_id}).where(
                RewardCode.id == code_id)
        await outbox.emit(events.RewardRedeemed(
            redemption_id=redemption_id, reward_id=reward_id, brand_id=brand_id,
            member_id=member_id, points=price, fulfilment=str(row["fulfilment"]),
            redeemed_at=now.isoformat()))
    return RedemptionOut(
        id=redemption_id, reward_id=reward_id, brand_id=brand_id, member_id=member_id,
        title=str(row["title"]), points=price, code=code, fulfilment=str(row["fulfilment"]),
        status="redeemed", transaction_id=done.id, created_at=now, refunded_at=None,
        refund_reason="")


def _handle(names: dict[int, Any], member_id: int) -> str:
    return str(names[member_id].handle) if member_id in names else f"member {member_id}"


async def _page(query: Any, before: int | None, limit: int,
                with_handles: bool) -> RedemptionPage:
    if before is not None:
        query = query.where(Redemption.id < before)
    rows = await query.order_by(Redemption.id, ascending=False).limit(limit + 1)
    shown = rows[:limit]
    rewards = {int(r["id"]): r for r in await Reward.select(
        Reward.id, Reward.title, Reward.fulfilment).where(
        Reward.id.is_in(sorted({int(r["reward"]) for r in shown}) or [0]))}
    names = await member_names({int(r["member"]) for r in shown}) if with_handles else {}
    items = [_redemption_out(r, rewards[int(r["reward"])]["title"],
                             rewards[int(r["reward"])]["fulfilment"],
                             _handle(names, int(r["member"])) if with_handles else None)
             for r in shown]
    return RedemptionPage(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


async def my_redemptions(actor: Actor, before: int | None, limit: int) -> RedemptionPage:
    """The member's own redemptions with their codes, newest first."""
    member_id = actor.member()
    return await _page(Redemption.select().where(Redemption.member == member_id), before, limit,
                       with_handles=False)


async def brand_redemptions(actor: Actor, brand_id: int, reward_id: int | None,
                            before: int | None, limit: int) -> RedemptionPage:
    await get_brand(brand_id)
    _may_manage(actor, brand_id)
    query = Redemption.select().where(Redemption.brand == brand_id)
    if reward_id is not None:
        query = query.where(Redemption.reward == reward_id)
    return await _page(query, before, limit, with_handles=True)


async def refund(actor: Actor, brand_id: int, redemption_id: int, reason: str) -> RedemptionOut:
    """Give the points and the stock back; the code, if any, is void (never issued again).
    409 when it was already refunded."""
    await get_brand(brand_id)
    _may_manage(actor, brand_id)
    if not 1 <= redemption_id <= MAX_ID:
        raise NotFound(f"redemption {redemption_id} does not exist")
    rows = await Redemption.select().where(
        (Redemption.id == redemption_id) & (Redemption.brand == brand_id))
    if not rows:
        raise NotFound(f"redemption {redemption_id} does not exist in brand {brand_id}")
    member_id, reward_id = int(rows[0]["member"]), int(rows[0]["reward"])
    if member_id == actor.member_id:
        # Staff would give themselves points back (an API token's account is its creator's).
        raise Forbidden("nobody refunds their own redemption")
    async with outbox.unit_of_work():
        await ledger.lock_account(ledger.member_account(member_id))
        current = await Redemption.select().where(Redemption.id == redemption_id)
        if current[0]["status"] != "redeemed":
            raise Conflict(f"redemption {redemption_id} was already refunded")
        await db.fetch("UPDATE gamification_reward SET stock = stock + 1 "
                       "WHERE id = {} AND stock IS NOT NULL", reward_id)
        await RewardCode.update({RewardCode.status: "void"}).where(
            RewardCode.redemption == redemption_id)
        back = await ledger.reverse(int(current[0]["transaction_id"]), f"refund: {reason}",
                                    actor.accountable())
        now = clock.now()
        await Redemption.update({
            Redemption.status: "refunded", Redemption.refund_transaction_id: back.id,
            Redemption.refund_reason: reason, Redemption.refunded_at: now,
        }).where(Redemption.id == redemption_id)
        reward = await _reward_row(reward_id)
        await staff_log.record(
            actor, "reward.refund", "redemption", redemption_id, f"{reward['title']} #{redemption_id}",
            before={"status": "redeemed"},
            after={"status": "refunded", "points": int(current[0]["points"]), "transaction": back.id},
            reason=reason, brand_id=brand_id)
        await outbox.emit(events.RewardRefunded(
            redemption_id=redemption_id, reward_id=reward_id, brand_id=brand_id,
            member_id=member_id, points=int(current[0]["points"]), refunded_at=now.isoformat()))
    final = await Redemption.select().where(Redemption.id == redemption_id)
    names = await member_names({member_id})
    return _redemption_out(final[0], reward["title"], reward["fulfilment"],
                           _handle(names, member_id))
