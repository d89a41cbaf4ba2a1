"""The review queue's rules: flagging, items and their explained scores, claims, the
moderators' actions, and auto-hide.

Every change that races is one conditional UPDATE, never a read then a write: the flag
whose weight crosses the threshold is the one whose `hidden_by_flags = false` UPDATE
matches; the moderator whose `status = 'open'` UPDATE matches is the one who decided.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import msgspec

from community.moderation import scores
from community.moderation.schemas import (
    ActionIn,
    BulkIn,
    BulkOut,
    BulkResult,
    Flagger,
    FlagIn,
    FlagOut,
    ItemDetail,
    ItemFlag,
    ItemOut,
    ItemPage,
)
from community.moderation.scores import Line
from community.moderation.tables import Flag, ReviewItem
from server import clock, db, events, outbox, reviewables, runtime, staff_log
from server.accounts import sanctions
from server.accounts.services import member_names
from server.auth import Actor
from server.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from server.pubsub import Message
from server.reviewables import TargetInfo
from server.types import MAX_ID, MAX_INT32

_lines = msgspec.json.Decoder(list[Line])
_encoder = msgspec.json.Encoder()

FLAG_ACTIONS = ("agree_hide", "agree_delete", "disagree", "ignore", "silence")
HELD_ACTIONS = ("approve", "reject")
# What each action makes of the item, and of its flags.
ITEM_STATUS = {"agree_hide": "agreed", "agree_delete": "agreed", "silence": "agreed",
               "disagree": "disagreed",
               "ignore": "ignored", "approve": "approved", "reject": "rejected"}
FLAG_EVENTS: dict[str, type[events.FlagAgreed | events.FlagDisagreed | events.FlagIgnored]] = {
    "agreed": events.FlagAgreed, "disagreed": events.FlagDisagreed, "ignored": events.FlagIgnored}


def threshold() -> int:
    return runtime.current().settings.flag_hide_threshold


def _claim_seconds() -> int:
    return runtime.current().settings.review_claim_seconds


def actions_for(row: dict[str, Any]) -> list[str]:
    if row["status"] != "open":
        return []
    if row["source"] == "held":
        return list(HELD_ACTIONS)
    return list(FLAG_ACTIONS)


# --- who may review --------------------------------------------------------------------------


def require_reviewer(actor: Actor) -> int:
    """Staff only, and people only: an API token never reviews."""
    member_id = actor.member()
    if not actor.is_staff:
        raise Forbidden("only moderators and brand staff review flagged content")
    return member_id


def check_scope(actor: Actor, brand_id: int | None) -> None:
    if not actor.moderates(brand_id):
        raise Forbidden("brand staff review only the content of their own brand's categories"
                        if actor.role == "brand_staff" else "only moderators review this item")


async def _item_row(item_id: int) -> dict[str, Any]:
    rows = await ReviewItem.select().where(ReviewItem.id == item_id)
    if not rows:
        raise NotFound(f"review item {item_id} does not exist")
    return rows[0]


async def _reviewable_item(actor: Actor, item_id: int) -> tuple[int, dict[str, Any]]:
    member_id = require_reviewer(actor)
    row = await _item_row(item_id)
    check_scope(actor, row["brand_id"])
    # The target may have moved (a thread into another brand's category) since the item was
    # made: its moderators now are those of where it is.
    current = (await reviewables.get(row["target_type"]).describe(
        [int(row["target_id"])])).get(int(row["target_id"]))
    if current is not None:
        check_scope(actor, current.brand_id)
    return member_id, row


# --- the live staff channel ----------------------------------------------------------------
# Moderators follow `moderation:all`; a brand's staff `moderation:{brand_id}`, which carries
# the items of their brand's categories. Each message is the item as the queue lists it.

ALL = "all"


def channels(brand_id: int | None) -> list[str]:
    return [f"moderation:{ALL}"] + ([f"moderation:{brand_id}"] if brand_id is not None else [])


async def _announce(item_id: int) -> None:
    """Once the unit of work commits: the item as it is then, on its staff channels."""

    async def push() -> None:
        item = await item_out(item_id)
        data = msgspec.to_builtins(item)
        await runtime.current().broker.publish_many([
            Message(channel, "review.item", data, f"r{item_id}-{item.version}")
            for channel in channels(item.brand_id)])

    await outbox.after_commit(push)


# --- shaping ---------------------------------------------------------------------------------


async def _people(ids: set[int | None]) -> dict[int, Flagger]:
    found = await member_names({i for i in ids if i is not None})
    return {i: Flagger(id=i, handle=m.handle) for i, m in found.items()}


async def _reasons(item_ids: list[int]) -> dict[int, dict[str, int]]:
    if not item_ids:
        return {}
    match, args = db.values_in(item_ids, "bigint")
    rows = await db.fetch("SELECT item, reason, COUNT(*) AS n FROM moderation_flag WHERE item "
                          + match + " GROUP BY item, reason", *args)
    out: dict[int, dict[str, int]] = {i: {} for i in item_ids}
    for r in rows:
        out[int(r["item"])][r["reason"]] = int(r["n"])
    return out


async def items_out(rows: Sequence[dict[str, Any]]) -> list[ItemOut]:
    people = await _people({p for r in rows for p in (r["author_id"], r["claimed_by"],
                                                      r["resolved_by"])})
    reasons = await _reasons([int(r["id"]) for r in rows])
    now = clock.now()
    out = []
    for r in rows:
        claimed = r["claimed_by"] is not None and r["claimed_until"] is not None \
            and r["claimed_until"] > now
        out.append(ItemOut(
            id=int(r["id"]), target_type=r["target_type"], target_id=int(r["target_id"]),
            source=r["source"], status=r["status"], score=int(r["score"]), threshold=threshold(),
            hidden_by_flags=bool(r["hidden_by_flags"]), flag_count=int(r["flag_count"]),
            reasons=reasons.get(int(r["id"]), {}), label=r["label"], excerpt=r["excerpt"],
            url=r["url"], author=people.get(r["author_id"]), brand_id=r["brand_id"],
            category_id=r["category_id"], held_reason=r["held_reason"],
            claimed_by=people.get(r["claimed_by"]) if claimed else None,
            claimed_until=r["claimed_until"] if claimed else None,
            resolved_by=people.get(r["resolved_by"]), resolved_at=r["resolved_at"],
            resolution_action=r["resolution_action"], resolution_reason=r["resolution_reason"],
            created_at=r["created_at"], updated_at=r["updated_at"], version=int(r["version"]),
            actions=actions_for(r),
        ))
    return out


async def item_out(item_id: int) -> ItemOut:
    return (await items_out([await _item_row(item_id)]))[0]


def _flag_out(row: dict[str, Any]) -> FlagOut:
    return FlagOut(id=int(row["id"]), item_id=int(row["item"]), target_type=row["target_type"],
                   target_id=int(row["target_id"]), reason=row["reason"], text=row["text"],
                   weight=int(row["weight"]), breakdown=_lines.decode(row["breakdown"]),
                   status=row["status"], created_at=row["created_at"])


# --- items -----------------------------------------------------------------------------------


async def _open_item(info: TargetInfo, source: str, held_reason: str = "") -> int:
    """The target's open item, made if it has none. Inside a unit of work. Two flags at once
    make one item: the partial unique index on open items lets one insert through, and the
    other reads the winner's row once it commits."""
    now = clock.now()
    inserted = await db.fetch(
        "INSERT INTO moderation_review_item (target_type, target_id, source, status, score, "
        "flag_count, brand_id, category_id, author_id, label, excerpt, url, held_reason, "
        "hidden_by_flags, resolution_action, resolution_reason, created_at, updated_at, version) "
        "VALUES ({}, {}, {}, 'open', 0, 0, {}, {}, {}, {}, {}, {}, {}, {}, '', '', {}, {}, 0) "
        "ON CONFLICT (target_type, target_id) WHERE status = 'open' DO NOTHING RETURNING id",
        info.kind, info.id, source, info.brand_id, info.category_id, info.author_id,
        info.label[:200], info.excerpt, info.url[:200], held_reason, False, now, now)
    if inserted:
        return int(inserted[0]["id"])
    rows = await db.fetch("SELECT id FROM moderation_review_item WHERE target_type = {} AND "
                          "target_id = {} AND status = 'open'", info.kind, info.id)
    return int(rows[0]["id"])


async def _restored_before(info: TargetInfo) -> bool:
    """Whether a moderator's last decision on the target was to disagree with its flags:
    flags alone then never hide it again (a moderator still can), so that a handful of
    accounts cannot undo the decision."""
    rows = await db.fetch(
        "SELECT status FROM moderation_review_item WHERE target_type = {} AND target_id = {} "
        "AND status <> 'open' ORDER BY id DESC LIMIT 1", info.kind, info.id)
    return bool(rows) and rows[0]["status"] == "disagreed"


async def _add_flag(item_id: int, info: TargetInfo, flagger_id: int | None, reason: str,
                    text: str, weight: int, lines: list[Line]) -> dict[str, Any]:
    """Inside a unit of work: the flag, the item's new score, and the auto-hide if this flag
    carried the score over the threshold."""
    now = clock.now()
    try:
        async with db.transaction():
            rows = await Flag.insert(Flag(
                item=item_id, target_type=info.kind, target_id=info.id, flagger=flagger_id,
                reason=reason, text=text, weight=weight,
                breakdown=_encoder.encode(lines).decode(), status="open", created_at=now,
            )).returning(*Flag.all_columns())
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict(f"you flagged this {info.kind} already; a moderator has not "
                           "decided on it yet") from None
        raise
    flag = rows[0]
    scored = await db.fetch(
        "UPDATE moderation_review_item SET score = score + {}, flag_count = flag_count + 1, "
        "updated_at = {}, version = version + 1 WHERE id = {} AND status = 'open' "
        "RETURNING score", weight, now, item_id)
    if not scored:
        raise Conflict(f"a moderator decided on this {info.kind} just now; flag it again if "
                       "it still needs a look")
    if int(scored[0]["score"]) >= threshold() and not await _restored_before(info):
        crossed = await db.fetch(
            "UPDATE moderation_review_item SET hidden_by_flags = {} WHERE id = {} AND "
            "hidden_by_flags = {} RETURNING id", True, item_id, False)
        hidden = bool(crossed) and await reviewables.get(info.kind).hide(None, info.id, "flags")
        if crossed and not hidden:
            # Out of view already (by a moderator, or held): a disagree must not restore it.
            await db.fetch("UPDATE moderation_review_item SET hidden_by_flags = {} "
                           "WHERE id = {}", False, item_id)
        if hidden:
            await staff_log.record(
                None, f"{info.kind}.hide", info.kind, info.id, info.label,
                before={"hidden": False}, after={"hidden": True, "reason": "flags"},
                reason=f"its flags' score reached {scored[0]['score']} "
                       f"(the threshold is {threshold()})", brand_id=info.brand_id)
    await outbox.emit(events.FlagCreated(
        flag_id=int(flag["id"]), item_id=item_id, target_type=info.kind, target_id=info.id,
        reason=reason, weight=weight, flagger_id=flagger_id, author_id=info.author_id,
        category_id=info.category_id, brand_id=info.brand_id))
    await _announce(item_id)
    return flag


async def flag(actor: Actor, data: FlagIn) -> FlagOut:
    member_id = actor.member()
    target_type = reviewables.get(data.target_type)
    text = data.text.strip()
    if data.reason == "other" and not text:
        raise Invalid("say what is wrong: a flag for 'other' needs a text",
                      [{"key": "text", "message": "required when the reason is 'other'"}])
    info = await target_type.readable(actor, data.target_id)
    if info.deleted:
        raise NotFound(f"{info.kind} {info.id} does not exist")
    if info.author_id == member_id:
        raise Forbidden(f"you cannot flag your own {info.kind}")
    mine = await Flag.count().where(
        (Flag.target_type == info.kind) & (Flag.target_id == info.id)
        & (Flag.flagger == member_id) & (Flag.status == "open"))
    if mine:
        raise Conflict(f"you flagged this {info.kind} already; a moderator has not decided "
                       "on it yet")
    await sanctions.require_may_participate(actor)
    weight, lines = await scores.flag_weight(actor, info.brand_id)
    async with outbox.unit_of_work():
        item_id = await _open_item(info, "flags")
        row = await _add_flag(item_id, info, member_id, data.reason, text, weight, lines)
    return _flag_out(row)


async def system_flag(info: TargetInfo, reason: str) -> None:
    """A flag by the system (a watched word set to "flag"), inside the caller's unit of work."""
    weight, lines = scores.system_weight(reason)
    item_id = await _open_item(info, "flags")
    await _add_flag(item_id, info, None, "system", reason, weight, lines)


async def hold(info: TargetInfo, reason: str) -> None:
    """A held post's item (approve or reject), inside the caller's unit of work."""
    item_id = await _open_item(info, "held", reason)
    await _announce(item_id)


# --- the queue -------------------------------------------------------------------------------


def _encode_cursor(*values: int) -> str:
    return base64.urlsafe_b64encode(":".join(map(str, values)).encode()).decode()


_CURSOR = re.compile(r"-?[0-9]{1,19}(:[0-9]{1,19})?")


def _decode_cursor(cursor: str, parts: int) -> list[int]:
    try:
        text = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    # A score cursor is (score, id), an age cursor (id): each within its column's range.
    bounds = (MAX_INT32, MAX_ID)[-parts:]
    if (not _CURSOR.fullmatch(text) or text.count(":") != parts - 1
            or any(abs(int(v)) > bound
                   for v, bound in zip(text.split(":"), bounds, strict=True))):
        raise Invalid("cursor is not one this queue handed out; start from the first page",
                      [{"key": "cursor", "message": "pass back next_cursor as it was given"}])
    return [int(v) for v in text.split(":")]


async def list_items(actor: Actor, status: str, kind: str | None, category_id: int | None,
                     brand_id: int | None, sort: str, cursor: str | None,
                     limit: int) -> ItemPage:
    """Brand staff see their brand's items only (asking for another brand's is a 403)."""
    require_reviewer(actor)
    if not actor.is_moderator:
        if brand_id is not None and brand_id != actor.brand_id:
            raise Forbidden("brand staff review only their own brand's items")
        brand_id = actor.brand_id
    if kind is not None:
        reviewables.get(kind)
    where: list[str] = ["status = {}"]
    args: list[Any] = [status]
    for column, value in (("target_type", kind), ("category_id", category_id),
                          ("brand_id", brand_id)):
        if value is not None:
            where.append(f"{column} = {{}}")
            args.append(value)
    if sort == "score":
        order = "score DESC, id DESC"
        if cursor is not None:
            score, last = _decode_cursor(cursor, 2)
            where.append("(score < {} OR (score = {} AND id < {}))")
            args += [score, score, last]
    else:
        order = "id"
        if cursor is not None:
            where.append("id > {}")
            args += _decode_cursor(cursor, 1)
    rows = await db.fetch("SELECT * FROM moderation_review_item WHERE " + " AND ".join(where)
                          + f" ORDER BY {order} LIMIT {{}}", *args, limit + 1)
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last_row = page[-1]
        next_cursor = (_encode_cursor(int(last_row["score"]), int(last_row["id"]))
                       if sort == "score" else _encode_cursor(int(last_row["id"])))
    return ItemPage(items=await items_out(page), next_cursor=next_cursor)


async def item_detail(actor: Actor, item_id: int) -> ItemDetail:
    _, row = await _reviewable_item(actor, item_id)
    flags = await Flag.select().where(Flag.item == item_id).order_by(Flag.id)
    people = await _people({f["flagger"] for f in flags})
    shaped, lines = [], []
    for f in flags:
        breakdown = _lines.decode(f["breakdown"])
        who = people.get(f["flagger"])
        shaped.append(ItemFlag(id=int(f["id"]), flagger=who, reason=f["reason"], text=f["text"],
                               weight=int(f["weight"]), breakdown=breakdown, status=f["status"],
                               created_at=f["created_at"]))
        prefix = f"@{who.handle}" if who else "system"
        lines += [Line(f"{prefix}: {line.label}", line.points) for line in breakdown]
    target = (await reviewables.get(row["target_type"]).describe(
        [int(row["target_id"])])).get(int(row["target_id"]))
    return ItemDetail(item=(await items_out([row]))[0], flags=shaped, score_lines=lines,
                      target_hidden=bool(target and target.hidden),
                      target_deleted=target is None or target.deleted)


# --- claims ----------------------------------------------------------------------------------


_FREE = "(claimed_by IS NULL OR claimed_by = {} OR claimed_until IS NULL OR claimed_until <= {})"


async def _refusal(item_id: int) -> Conflict:
    """Why an item could not be claimed or acted on: decided already, or claimed."""
    row = await _item_row(item_id)
    people = await _people({row["resolved_by"], row["claimed_by"]})
    if row["status"] != "open":
        by = people.get(row["resolved_by"])
        return Conflict(f"this item was decided already ({row['status']}"
                        + (f" by @{by.handle}" if by else "") + "); nothing was changed")
    holder = people.get(row["claimed_by"])
    until = row["claimed_until"]
    if until is None:
        return Conflict("the item changed while you acted on it; reload it and try again")
    return Conflict(f"@{holder.handle if holder else 'another moderator'} has claimed this item "
                    f"until {until:%H:%M:%S} UTC; ask them, or wait until the claim lapses")


async def claim(actor: Actor, item_id: int) -> ItemOut:
    """The claim keeps other moderators from acting on the item for review_claim_seconds;
    claiming again renews it."""
    member_id, _ = await _reviewable_item(actor, item_id)
    now = clock.now()
    async with outbox.unit_of_work():
        rows = await db.fetch(
            "UPDATE moderation_review_item SET claimed_by = {}, claimed_until = {}, "
            "updated_at = {}, version = version + 1 WHERE id = {} AND status = 'open' AND "
            + _FREE + " RETURNING id", member_id, now + dt.timedelta(seconds=_claim_seconds()),
            now, item_id, member_id, now)
        if not rows:
            raise await _refusal(item_id)
        await _announce(item_id)
    return await item_out(item_id)


async def release(actor: Actor, item_id: int) -> ItemOut:
    member_id, row = await _reviewable_item(actor, item_id)
    now = clock.now()
    async with outbox.unit_of_work():
        rows = await db.fetch(
            "UPDATE moderation_review_item SET claimed_by = NULL, claimed_until = NULL, "
            "updated_at = {}, version = version + 1 WHERE id = {} AND claimed_by = {} "
            "RETURNING id", now, item_id, member_id)
        if rows:
            await _announce(item_id)
    if not rows and row["claimed_by"] not in (None, member_id) and row["claimed_until"] \
            and row["claimed_until"] > now:
        raise await _refusal(item_id)
    return await item_out(item_id)


# --- actions ---------------------------------------------------------------------------------


def _check_action(row: dict[str, Any], action: str) -> None:
    """An action the item never takes is a 422; acting on a decided item is the 409 the
    conditional UPDATE answers."""
    allowed = actions_for(row)
    if row["status"] == "open" and action not in allowed:
        raise Invalid(f"'{action}' is not an action for this item; choose one of: "
                      + ", ".join(allowed), [{"key": "action", "message": "not allowed here"}])


async def _target_change(actor: Actor, member_id: int, row: dict[str, Any],
                         data: ActionIn) -> str:
    """What the action does to the target, inside the unit of work; returns what was done."""
    target = reviewables.get(row["target_type"])
    target_id = int(row["target_id"])
    action = data.action
    if action in ("agree_hide", "silence"):
        hidden = await target.hide(member_id, target_id, "moderator")
        if action == "silence":
            # Moderators only, never staff: sanctions refuse otherwise, and the whole act
            # rolls back with it.
            await sanctions.impose(actor, int(row["author_id"]), "silence",
                                   data.reason or f"silenced for {row['label']}",
                                   duration_seconds=data.duration_seconds,
                                   source=f"review item {row['id']}")
            return "silence"
        return "hide" if hidden or row["hidden_by_flags"] else "none"
    if action in ("agree_delete", "reject"):
        return "delete" if await target.delete(member_id, target_id) else "none"
    if action == "approve" or (action == "disagree" and row["hidden_by_flags"]):
        return "restore" if await target.restore(member_id, target_id) else "none"
    return "none"


async def _settle_flags(item: dict[str, Any], status: str, member_id: int) -> None:
    """Close every open flag of the item with the verdict, count it in each flagger's
    record (their accuracy), and emit one event per flag."""
    if status not in FLAG_EVENTS:
        return
    flags = await db.fetch("UPDATE moderation_flag SET status = {} WHERE item = {} AND "
                           "status = 'open' RETURNING id, flagger", status, int(item["id"]))
    counts = Counter(int(f["flagger"]) for f in flags if f["flagger"] is not None)
    if counts:
        column = status
        await db.insert_rows(
            "moderation_flagger_record", ["member", "agreed", "disagreed", "ignored"],
            ["bigint", "int", "int", "int"],
            [(m, n if column == "agreed" else 0, n if column == "disagreed" else 0,
              n if column == "ignored" else 0) for m, n in sorted(counts.items())],
            f"ON CONFLICT (member) DO UPDATE SET {column} = "
            f"moderation_flagger_record.{column} + excluded.{column}")
    event = FLAG_EVENTS[status]
    await outbox.emit_many([
        event(flag_id=int(f["id"]), item_id=int(item["id"]), target_type=item["target_type"],
              target_id=int(item["target_id"]), flagger_id=int(f["flagger"]),
              by_member_id=member_id, author_id=item["author_id"],
              category_id=item["category_id"], brand_id=item["brand_id"])
        for f in sorted(flags, key=lambda f: int(f["id"])) if f["flagger"] is not None])


async def act(actor: Actor, item_id: int, data: ActionIn) -> ItemOut:
    """One action resolves the item and every flag on it. A decided item, or one another
    moderator holds a claim on, is a 409 and nothing changes."""
    member_id, row = await _reviewable_item(actor, item_id)
    _check_action(row, data.action)
    if data.action == "silence" and row["author_id"] is None:
        raise Invalid("this item has no author to silence")
    status = ITEM_STATUS[data.action]
    reason = data.reason.strip()
    now = clock.now()
    async with outbox.unit_of_work():
        decided = await db.fetch(
            "UPDATE moderation_review_item SET status = {}, resolved_by = {}, resolved_at = {}, "
            "resolution_action = {}, resolution_reason = {}, claimed_by = NULL, "
            "claimed_until = NULL, updated_at = {}, version = version + 1 "
            "WHERE id = {} AND status = 'open' AND " + _FREE + " RETURNING *",
            status, member_id, now, data.action, reason, now, item_id, member_id, now)
        if not decided:
            raise await _refusal(item_id)
        item = decided[0]
        done = await _target_change(actor, member_id, item, data)
        await _settle_flags(item, status, member_id)
        await outbox.emit(events.ReviewResolved(
            item_id=item_id, target_type=item["target_type"], target_id=int(item["target_id"]),
            status=status, action=done, by_member_id=member_id, reason=reason,
            author_id=item["author_id"], brand_id=item["brand_id"]))
        await staff_log.record(
            actor, f"review.{data.action}", item["target_type"], int(item["target_id"]),
            item["label"], before={"status": "open", "score": int(item["score"]),
                                   "hidden_by_flags": bool(item["hidden_by_flags"])},
            after={"status": status, "done": done}, reason=reason, brand_id=item["brand_id"])
        await _announce(item_id)
    return await item_out(item_id)


async def act_in_bulk(actor: Actor, data: BulkIn) -> BulkOut:
    """The action on each item in turn, each in its own unit of work: an item that cannot
    take it (decided, claimed, out of scope) is reported and leaves the others be."""
    require_reviewer(actor)
    results = []
    for item_id in dict.fromkeys(data.item_ids):
        try:
            item = await act(actor, item_id, ActionIn(action=data.action, reason=data.reason))
            results.append(BulkResult(item_id=item_id, status=200, message="done", item=item))
        except DomainError as exc:
            results.append(BulkResult(item_id=item_id, status=exc.status,
                                      message=exc.message, item=None))
    return BulkOut(results=results)

