"""Badge rules. A member deserves a number of grants of each badge (0 or 1, or more for a
repeatable count badge); `sync` makes the grants match: it grants what is missing and, for
auto-revoking badges, revokes what is no longer deserved. Activity the criteria read is
gamification's own log, written from committed events."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from gamification.badges.schemas import (
    BackfillOut,
    BadgeIn,
    BadgeOut,
    BadgePatch,
    ChallengeCriteria,
    CountCriteria,
    Criteria,
    EarnedBadge,
    FirstCriteria,
    GrantListed,
    GrantOut,
    GrantPage,
    ManualCriteria,
    MyBadges,
    PointsCriteria,
    Progress,
    StreakCriteria,
    UnearnedBadge,
)
from gamification.badges.tables import Activity, Badge, BadgeBackfill, BadgeGrant, FeaturedBadge
from gamification.ledger import services as ledger
from gamification.rules import expressions, removals
from gamification.rules.scorables import CUSTOM, SCORABLES, credit, names
from server import clock, db, events, outbox, runtime, schedule, staff_log
from server.accounts.services import brand_staff_ids, get_member, members_by_id
from server.auth import Actor
from server.errors import Conflict, Forbidden, Invalid, NotFound

log = logging.getLogger("hearth.badges")
_criteria = msgspec.json.Decoder(Criteria)  # type: ignore[var-annotated]
COMPLETED = "challenge.completed"
# Challenges sit above badges and tell them which challenges exist (for challenge criteria).
_challenges: dict[str, Callable[[int], Awaitable[bool]]] = {}


def register_challenges(exists: Callable[[int], Awaitable[bool]]) -> None:
    _challenges["exists"] = exists



# --- definitions ---------------------------------------------------------------------------


def _badge_out(row: dict[str, Any]) -> BadgeOut:
    return BadgeOut(
        id=row["id"], slug=row["slug"], name=row["name"], description=row["description"],
        icon=row["icon"], level=row["level"], grouping=row["grouping"], enabled=bool(row["enabled"]),
        repeatable=bool(row["repeatable"]), secret=bool(row["secret"]), points=row["points"],
        auto_revoke=bool(row["auto_revoke"]), criteria=_criteria.decode(row["criteria"]),
    )


async def get_badge(badge_id: int) -> BadgeOut:
    return _badge_out(await _badge_row(badge_id))


async def holds(member_id: int, badge_id: int) -> bool:
    return bool(await BadgeGrant.exists().where(
        (BadgeGrant.member == member_id) & (BadgeGrant.badge == badge_id)
        & BadgeGrant.revoked_at.is_null()))


async def _badge_row(badge_id: int) -> dict[str, Any]:
    rows = await Badge.select().where(Badge.id == badge_id)
    if not rows:
        raise NotFound(f"badge {badge_id} does not exist")
    return rows[0]


async def _validate(criteria: Criteria) -> None:
    if isinstance(criteria, ChallengeCriteria):
        exists = _challenges.get("exists")
        if exists is None or not await exists(criteria.challenge_id):
            raise NotFound(f"challenge {criteria.challenge_id} does not exist")
    if isinstance(criteria, CountCriteria | StreakCriteria | FirstCriteria):
        unknown = [t for t in criteria.event_types if t not in SCORABLES]
        if unknown:
            raise Invalid(f"badges cannot count these events: {', '.join(unknown)}; "
                          f"use {', '.join(SCORABLES)}")
        if criteria.condition.strip():
            expressions.check_syntax(criteria.condition, "condition")
            for event_type in criteria.event_types:
                # A custom event's fields are what its brand declared: no sample holds them.
                if event_type not in CUSTOM:
                    expressions.trial(criteria.condition, "1", names(SCORABLES[event_type].sample))


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only admins define badges")


async def list_badges(actor: Actor) -> list[BadgeOut]:
    rows = await Badge.select().order_by(Badge.id)
    return [_badge_out(r) for r in rows if actor.is_admin or (r["enabled"] and not r["secret"])]


async def create_badge(actor: Actor, data: BadgeIn) -> BadgeOut:
    _require_admin(actor)
    await _validate(data.criteria)
    try:
        async with outbox.unit_of_work():
            rows = await Badge.insert(Badge(
                slug=data.slug, name=data.name, description=data.description, icon=data.icon,
                level=data.level, grouping=data.grouping, enabled=data.enabled,
                repeatable=data.repeatable, secret=data.secret, points=data.points,
                auto_revoke=data.auto_revoke,
                criteria=msgspec.json.encode(data.criteria).decode(),
            )).returning(Badge.id)
            badge_id = int(rows[0]["id"])
            await staff_log.record(actor, "badge.create", "badge", badge_id,
                                   f"badge '{data.name}'", after=msgspec.to_builtins(data))
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict(f"a badge with slug '{data.slug}' exists") from None
        raise
    await start_backfill(badge_id)
    return _badge_out(await _badge_row(badge_id))


async def update_badge(actor: Actor, badge_id: int, data: BadgePatch) -> BadgeOut:
    _require_admin(actor)
    row = await _badge_row(badge_id)
    changes: dict[Any, Any] = {}
    for field in ("name", "description", "icon", "level", "grouping", "enabled", "repeatable",
                  "secret", "points", "auto_revoke"):
        value = getattr(data, field)
        if value is not None:
            changes[getattr(Badge, field)] = value
    if data.criteria is not None:
        await _validate(data.criteria)
        changes[Badge.criteria] = msgspec.json.encode(data.criteria).decode()
    if changes:
        async with outbox.unit_of_work():
            await Badge.update(changes).where(Badge.id == badge_id)
            before, after = staff_log.changes(
                {**row, "criteria": msgspec.json.decode(row["criteria"])},
                {c._meta.name: msgspec.json.decode(v) if c is Badge.criteria else v
                 for c, v in changes.items()})
            if after:
                await staff_log.record(actor, "badge.update", "badge", badge_id,
                                       f"badge '{data.name or row['name']}'", before=before,
                                       after=after)
        await start_backfill(badge_id)
    return _badge_out(await _badge_row(badge_id))


# --- activity ------------------------------------------------------------------------------


async def record_activity(batch: list[outbox.Delivery]) -> dict[int, set[str]]:
    """Log scorable events for their beneficiaries; returns each member's event types."""
    now = clock.now()
    rows: list[tuple[Any, ...]] = []
    touched: dict[int, set[str]] = {}
    credited = [(d, c) for d in batch if (c := credit(d.event)) is not None]
    gone = await removals.taken_back([(c.scorable.source(d.event), d.event_id) for d, c in credited])
    for delivery, earned in credited:
        if (earned.scorable.source(delivery.event), delivery.event_id) in gone:
            continue
        rows.append((earned.member_id, delivery.event_id, earned.event_type,
                     earned.scorable.source(delivery.event),
                     msgspec.json.encode(earned.fields).decode(), now))
        touched.setdefault(earned.member_id, set()).add(earned.event_type)
    await db.insert_rows(
        "gamification_activity",
        ["member", "event_id", "event_type", "source", "fields", "occurred_at"],
        ["bigint", "bigint", "text", "text", "text", "timestamptz"], rows,
        "ON CONFLICT DO NOTHING")
    return touched


async def record_completions(batch: list[outbox.Delivery]) -> set[int]:
    """Log completed challenges (what challenge criteria read); returns their members."""
    now = clock.now()
    done = [(d.event_id, d.event) for d in batch if isinstance(d.event, events.ChallengeCompleted)]
    await db.insert_rows(
        "gamification_activity",
        ["member", "event_id", "event_type", "source", "fields", "occurred_at"],
        ["bigint", "bigint", "text", "text", "text", "timestamptz"],
        [(e.member_id, event_id, COMPLETED, f"challenge:{e.challenge_id}",
          msgspec.json.encode({"challenge_id": e.challenge_id}).decode(), now)
         for event_id, e in done],
        "ON CONFLICT DO NOTHING")
    return {e.member_id for _, e in done}


async def remove_activity(source: str, removal_event_id: int) -> set[int]:
    """Mark activity tied to a removed source (and anything under it), logged before the
    removal, as removed; returns its members."""
    match = ((Activity.source == source) | Activity.source.like(source + ":%")) \
        & (Activity.event_id < removal_event_id)
    rows = await Activity.select(Activity.member).where(match & Activity.removed_at.is_null())
    await Activity.update({Activity.removed_at: clock.now()}).where(match & Activity.removed_at.is_null())
    return {int(r["member"]) for r in rows}


async def _qualifying(member_id: int, event_types: list[str], condition: str,
                      since: dt.datetime | None = None) -> list[dt.datetime]:
    query = Activity.select(Activity.fields, Activity.occurred_at).where(
        (Activity.member == member_id) & Activity.event_type.is_in(event_types)
        & Activity.removed_at.is_null()
    )
    if since is not None:
        query = query.where(Activity.occurred_at >= since)
    times = []
    for row in await query.order_by(Activity.occurred_at):
        try:
            if expressions.matches(condition, msgspec.json.decode(row["fields"])):
                times.append(row["occurred_at"])
        except Exception:
            continue
    return times


def _longest_streak(times: list[dt.datetime], unit: str) -> int:
    if unit == "week":
        periods = sorted({(t.isocalendar()[0], t.isocalendar()[1]) for t in times})
        ordinals = [dt.date.fromisocalendar(y, w, 1).toordinal() // 7 for y, w in periods]
    else:
        ordinals = sorted({t.date().toordinal() for t in times})
    best = run = 0
    for i, ordinal in enumerate(ordinals):
        run = run + 1 if i and ordinal == ordinals[i - 1] + 1 else 1
        best = max(best, run)
    return best


async def progress(member_id: int, criteria: Criteria) -> Progress | None:
    """How far the member is toward one grant; None for manual badges."""
    if isinstance(criteria, CountCriteria):
        since = clock.now() - dt.timedelta(days=criteria.window_days) if criteria.window_days else None
        found = await _qualifying(member_id, criteria.event_types, criteria.condition, since)
        return Progress(current=len(found), needed=criteria.count)
    if isinstance(criteria, FirstCriteria):
        found = await _qualifying(member_id, criteria.event_types, criteria.condition)
        return Progress(current=min(1, len(found)), needed=1)
    if isinstance(criteria, StreakCriteria):
        found = await _qualifying(member_id, criteria.event_types, criteria.condition)
        return Progress(current=_longest_streak(found, criteria.unit), needed=criteria.length)
    if isinstance(criteria, PointsCriteria):
        earned = (await ledger.balance(member_id)).lifetime_earned
        return Progress(current=earned, needed=criteria.threshold)
    if isinstance(criteria, ChallengeCriteria):
        completed = await _challenge_completed(member_id, criteria.challenge_id)
        return Progress(current=int(completed), needed=1)
    return None


async def _challenge_completed(member_id: int, challenge_id: int) -> bool:
    return bool(await Activity.exists().where(
        (Activity.member == member_id) & (Activity.event_type == COMPLETED)
        & (Activity.source == f"challenge:{challenge_id}") & Activity.removed_at.is_null()))


async def _deserved(member_id: int, badge: dict[str, Any]) -> int | None:
    """How many grants the member deserves; None when only staff decide (manual)."""
    criteria = _criteria.decode(badge["criteria"])
    done = await progress(member_id, criteria)
    if done is None:
        return None
    if badge["repeatable"] and isinstance(criteria, CountCriteria):
        return done.current // done.needed
    return 1 if done.current >= done.needed else 0


# --- grants --------------------------------------------------------------------------------


async def _active_grants(member_id: int, badge_id: int) -> list[dict[str, Any]]:
    return await BadgeGrant.select().where(
        (BadgeGrant.member == member_id) & (BadgeGrant.badge == badge_id)
        & BadgeGrant.revoked_at.is_null()
    ).order_by(BadgeGrant.number)


async def _grant(member_id: int, badge: dict[str, Any], number: int, reason: str,
                 granted_by: int | None) -> int | None:
    async with outbox.unit_of_work():
        # The member's lock before the grant row, as the relay takes them (no lock cycle).
        await ledger.lock_members({member_id})
        rows = await BadgeGrant.insert(BadgeGrant(
            badge=badge["id"], member=member_id, number=number, reason=reason,
            granted_by=granted_by, granted_at=clock.now(),
        )).on_conflict(action="DO NOTHING").returning(BadgeGrant.id)
        if not rows:
            return None
        grant_id = int(rows[0]["id"])
        if badge["points"]:
            await ledger.post(
                key=f"badge-grant:{grant_id}", kind="award", reason=f"Badge: {badge['name']}",
                source=f"badge-grant:{grant_id}",
                postings=[(ledger.member_account(member_id), badge["points"]),
                          (ledger.ISSUANCE, -badge["points"])],
            )
        await outbox.emit(events.BadgeGranted(member_id=member_id, badge_id=badge["id"],
                                              grant_id=grant_id, name=badge["name"], number=number))
    return grant_id


async def _revoke(grant: dict[str, Any], badge: dict[str, Any], reason: str,
                  revoked_by: int | None = None) -> bool:
    """False when the grant was revoked already (by a concurrent revocation, say)."""
    async with outbox.unit_of_work():
        await ledger.lock_members({int(grant["member"])})
        revoked = await BadgeGrant.update({
            BadgeGrant.revoked_at: clock.now(), BadgeGrant.revoked_reason: reason,
            BadgeGrant.revoked_by: revoked_by,
        }).where(
            (BadgeGrant.id == grant["id"]) & BadgeGrant.revoked_at.is_null()
        ).returning(BadgeGrant.id)
        if not revoked:
            return False
        await ledger.reverse_source(f"badge-grant:{grant['id']}", reason)
        if not await holds(int(grant["member"]), badge["id"]):
            # Shown first no longer; earned again, it waits to be chosen again.
            await FeaturedBadge.delete().where((FeaturedBadge.member == grant["member"])
                                               & (FeaturedBadge.badge == badge["id"]))
        await outbox.emit(events.BadgeRevoked(member_id=grant["member"], badge_id=badge["id"],
                                              grant_id=grant["id"], name=badge["name"]))
    return True


def _grant_label(badge: dict[str, Any], handle: str) -> str:
    return f"badge '{badge['name']}' to @{handle}"


async def sync(member_id: int, badge: dict[str, Any]) -> int:
    """Make the member's grants of this badge match what they deserve; returns grants made."""
    if not badge["enabled"]:
        return 0
    deserved = await _deserved(member_id, badge)
    if deserved is None:
        return 0
    active = await _active_grants(member_id, badge["id"])
    made = 0
    for number in range(len(active) + 1, deserved + 1):
        if await _grant(member_id, badge, number, "criteria met", None) is not None:
            made += 1
    if badge["auto_revoke"]:
        for grant in reversed(active[deserved:]):
            await _revoke(grant, badge, "badge criteria no longer met")
    return made


def _moved_by(criteria: Criteria, event_types: set[str] | None) -> bool:
    """Whether events of these types (None: anything, e.g. a removal) may move a badge."""
    if isinstance(criteria, ManualCriteria):
        return False
    if event_types is None:
        return True
    reads_events = getattr(criteria, "event_types", None) or []
    return bool(event_types & set(reads_events)) or (
        isinstance(criteria, PointsCriteria) and "points.posted" in event_types) or (
        isinstance(criteria, ChallengeCriteria) and COMPLETED in event_types)


async def sync_members(moved: dict[int, set[str] | None]) -> None:
    """Re-check the automatic badges that these members' events may have moved. Under the
    members' locks, so concurrent events each count what the other committed."""
    if not moved:
        return
    badges = [(b, _criteria.decode(b["criteria"]))
              for b in await Badge.select().where(Badge.enabled == True)]  # noqa: E712
    if not any(_moved_by(c, t) for _, c in badges for t in moved.values()):
        return
    await ledger.lock_members(set(moved))
    for member_id in sorted(moved):
        for badge, criteria in badges:
            if _moved_by(criteria, moved[member_id]):
                await sync(member_id, badge)


async def grant_manually(actor: Actor, badge_id: int, member_id: int, reason: str) -> GrantOut:
    if not (actor.is_admin or actor.is_moderator or actor.role == "brand_staff"):
        raise Forbidden("only staff grant badges")
    badge = await _badge_row(badge_id)
    may_grant(actor, badge)
    if not badge["enabled"]:
        raise Conflict("this badge is disabled; enable it before granting it")
    member = await get_member(member_id)
    active = await _active_grants(member_id, badge_id)
    if active and not badge["repeatable"]:
        raise Conflict("the member already has this badge")
    number = len(active) + 1
    async with outbox.unit_of_work():
        grant_id = await _grant(member_id, badge, number, reason, actor.accountable())
        if grant_id is None:
            raise Conflict("the badge was granted at the same moment; reload")
        await staff_log.record(actor, "badge.grant", "badge_grant", grant_id,
                               _grant_label(badge, member["handle"]),
                               after={"badge": badge["name"], "member": f"@{member['handle']}",
                                      "number": number},
                               reason=reason, brand_id=staff_log.acting_brand(actor))
    log.info("badge %s granted to member %s by %s: %s", badge_id, member_id, actor.member_id, reason)
    return _grant_out((await BadgeGrant.select().where(BadgeGrant.id == grant_id))[0])


async def _granters(actor: Actor) -> set[int] | None:
    """Whose manual grants the actor answers for: None for an admin (everyone's), the staff
    of their brand for brand staff."""
    if actor.is_admin:
        return None
    if actor.role != "brand_staff" or actor.brand_id is None:
        raise Forbidden("only admins and brand staff manage badge grants")
    return await brand_staff_ids(actor.brand_id)


async def revoke_manually(actor: Actor, badge_id: int, grant_id: int, reason: str) -> GrantOut:
    """Admins revoke any grant; brand staff those their brand's staff made."""
    if not (actor.is_admin or actor.role == "brand_staff"):
        raise Forbidden("only admins and brand staff revoke badges")
    granters = await _granters(actor)
    badge = await _badge_row(badge_id)
    rows = await BadgeGrant.select().where((BadgeGrant.id == grant_id) & (BadgeGrant.badge == badge_id))
    if not rows:
        raise NotFound(f"grant {grant_id} of badge {badge_id} does not exist")
    if granters is not None and rows[0]["granted_by"] not in granters:
        raise Forbidden("brand staff revoke only the grants their brand's staff made")
    member = await get_member(int(rows[0]["member"]))
    async with outbox.unit_of_work():
        revoked = await _revoke(rows[0], badge, reason, actor.member())
        if revoked:
            await staff_log.record(actor, "badge.revoke", "badge_grant", grant_id,
                                   _grant_label(badge, member["handle"]),
                                   before={"revoked": False}, after={"revoked": True},
                                   reason=reason, brand_id=staff_log.acting_brand(actor))
    log.info("badge %s grant %s of member %s revoked by %s: %s", badge_id, grant_id,
             rows[0]["member"], actor.member_id, reason)
    return _grant_out((await BadgeGrant.select().where(BadgeGrant.id == grant_id))[0])


async def grants(actor: Actor, badge_id: int, before: int | None, limit: int) -> GrantPage:
    """A badge's grants, newest first, revoked ones included: all of them for admins, those
    made by their brand's staff for brand staff."""
    granters = await _granters(actor)
    await _badge_row(badge_id)
    if granters == set():
        return GrantPage(items=[], next_cursor=None)
    query = BadgeGrant.select().where(BadgeGrant.badge == badge_id)
    if granters is not None:
        query = query.where(BadgeGrant.granted_by.is_in(sorted(granters)))
    if before is not None:
        query = query.where(BadgeGrant.id < before)
    rows = await query.order_by(BadgeGrant.id, ascending=False).limit(limit + 1)
    page = rows[:limit]
    members = await members_by_id({int(r["member"]) for r in page})
    return GrantPage(
        items=[GrantListed(**msgspec.structs.asdict(_grant_out(r)),
                           handle=members[r["member"]].handle if r["member"] in members else "")
               for r in page],
        next_cursor=page[-1]["id"] if len(rows) > limit else None)


def may_grant(actor: Actor, badge: dict[str, Any]) -> None:
    """Moderators and brand staff recognise members with manual badges that pay no points:
    a badge's points are new points from issuance, which only admins may create."""
    if actor.is_admin:
        return
    if not isinstance(_criteria.decode(badge["criteria"]), ManualCriteria):
        raise Forbidden("only admins grant a badge that members earn by its criteria")
    if badge["points"]:
        raise Forbidden("only admins grant a badge that pays points")


async def check_reward(actor: Actor, badge_id: int) -> None:
    """A challenge may reward only a badge its author could grant by hand."""
    badge = await _badge_row(badge_id)
    may_grant(actor, badge)
    if not badge["enabled"]:
        raise Conflict("this badge is disabled; enable it before offering it as a reward")


async def grant_for_challenge(member_id: int, badge_id: int, title: str) -> None:
    """A challenge's reward badge: granted once, whatever its own criteria say (unless an
    admin has disabled it since)."""
    badge = await _badge_row(badge_id)
    if badge["enabled"] and not await holds(member_id, badge_id):
        await _grant(member_id, badge, 1, f"completed the challenge {title!r}", None)


def _grant_out(row: dict[str, Any]) -> GrantOut:
    return GrantOut(id=row["id"], badge_id=row["badge"], member_id=row["member"],
                    number=row["number"], reason=row["reason"], granted_by=row["granted_by"],
                    granted_at=row["granted_at"], revoked_at=row["revoked_at"],
                    revoked_reason=row["revoked_reason"], revoked_by=row["revoked_by"])


# --- reading -------------------------------------------------------------------------------


async def earned(member_id: int) -> list[EarnedBadge]:
    """The badges the member holds: the ones they feature first, in their order, then the
    rest by when first granted."""
    grants = await BadgeGrant.select().where(
        (BadgeGrant.member == member_id) & BadgeGrant.revoked_at.is_null()
    ).order_by(BadgeGrant.granted_at)
    by_badge: dict[int, list[dict[str, Any]]] = {}
    for grant in grants:
        by_badge.setdefault(grant["badge"], []).append(grant)
    featured = {int(r["badge"]): int(r["position"]) for r in await FeaturedBadge.select(
        FeaturedBadge.badge, FeaturedBadge.position).where(FeaturedBadge.member == member_id)}
    out = []
    for badge_id, rows in by_badge.items():
        badge = await _badge_row(badge_id)
        out.append(EarnedBadge(badge=_badge_out(badge), times=len(rows),
                               first_granted_at=rows[0]["granted_at"],
                               featured=badge_id in featured))
    # Stable: the rest keep their order.
    out.sort(key=lambda e: featured.get(e.badge.id, len(featured)))
    return out


async def feature(member_id: int, badge_ids: list[int]) -> list[EarnedBadge]:
    """Show these badges, which the member must hold, first on their profile, in this order."""
    async with db.transaction():
        # The member's lock, as revocations take it: a badge revoked meanwhile is either
        # seen as gone here or dropped from the featured ones after this commits.
        await ledger.lock_members({member_id})
        for badge_id in badge_ids:
            if not await holds(member_id, badge_id):
                raise Invalid(f"you do not hold badge {badge_id}",
                              [{"key": "badge_ids", "message": f"{badge_id} is not yours"}])
        await FeaturedBadge.delete().where(FeaturedBadge.member == member_id)
        if badge_ids:
            await FeaturedBadge.insert(*[FeaturedBadge(member=member_id, badge=badge_id,
                                                       position=position)
                                         for position, badge_id in enumerate(badge_ids)])
    return await earned(member_id)


async def mine(member_id: int) -> MyBadges:
    have = await earned(member_id)
    held = {e.badge.id for e in have}
    unearned = []
    for badge in await Badge.select().where(Badge.enabled == True).order_by(Badge.id):  # noqa: E712
        if badge["id"] in held or badge["secret"]:
            continue
        out = _badge_out(badge)
        unearned.append(UnearnedBadge(badge=out, progress=await progress(member_id, out.criteria)))
    return MyBadges(earned=have, unearned=unearned)


# --- backfill ------------------------------------------------------------------------------


async def start_backfill(badge_id: int) -> None:
    await runtime.current().runner.submit("badges.backfill", badge_id=badge_id)


@schedule.task("badges.backfill")
async def backfill(badge_id: int) -> int:
    """Grant (or, if auto-revoking, take back) the badge for everyone with any history."""
    badge = await _badge_row(badge_id)
    members = {int(r["member"]) for r in await Activity.select(Activity.member).distinct()}
    members |= {int(r["member"]) for r in await BadgeGrant.select(BadgeGrant.member).where(
        BadgeGrant.badge == badge_id).distinct()}
    members |= await ledger.member_ids()
    rows = await BadgeBackfill.insert(BadgeBackfill(badge=badge_id, total=len(members))).returning(
        BadgeBackfill.id)
    run = BadgeBackfill.id == rows[0]["id"]
    granted = 0
    for done, member_id in enumerate(sorted(members), start=1):
        granted += await sync(member_id, badge)
        if done % 25 == 0 or done == len(members):
            await BadgeBackfill.update({BadgeBackfill.done: done, BadgeBackfill.granted: granted}).where(run)
    await BadgeBackfill.update({BadgeBackfill.finished_at: clock.now()}).where(run)
    return granted


async def backfill_progress(actor: Actor, badge_id: int) -> BackfillOut:
    _require_admin(actor)
    await _badge_row(badge_id)
    rows = await BadgeBackfill.select().where(BadgeBackfill.badge == badge_id).order_by(
        BadgeBackfill.id, ascending=False).limit(1)
    if not rows:
        return BackfillOut(badge_id=badge_id, total=0, done=0, granted=0, finished=False, run=None)
    row = rows[0]
    return BackfillOut(badge_id=badge_id, total=row["total"], done=row["done"],
                       granted=row["granted"], finished=row["finished_at"] is not None,
                       run=int(row["id"]))
