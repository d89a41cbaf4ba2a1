"""Challenge rules. Brand staff write a challenge as a draft and publish it; the scheduler
moves it scheduled -> active -> ended. While active, committed events advance the tasks of
entered (or auto-enrolled, eligible) members; finishing every task completes the entry once,
paying the reward from the brand's budget and granting the reward badge."""

from __future__ import annotations

import logging
import zoneinfo
from typing import Any

import msgspec

from gamification.badges import services as badges
from gamification.challenges.schemas import (
    ChallengeIn,
    ChallengeOut,
    EntriesPage,
    EntryOut,
    MyChallenge,
    StandingOut,
    TaskOut,
    TaskProgress,
)
from gamification.challenges.tables import (
    Challenge,
    ChallengeEntry,
    ChallengeProgress,
    ChallengeTask,
)
from gamification.leaderboards import services as leaderboards
from gamification.ledger import services as ledger
from gamification.rules import expressions, removals
from gamification.rules.scorables import CUSTOM, SCORABLES, Removal, credit, names, removal
from gamification.tiers import services as tiers
from server import clock, db, events, outbox, runtime, staff_log
from server.accounts.services import brands_staffed, get_brand, members_by_id
from server.auth import Actor
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.notifications import notify
from server.types import parse_id

log = logging.getLogger("hearth.challenges")
# Each challenge's board is `challenge:ID` among the leaderboards, ranked by progress.
BOARDS = "challenge"



# --- definitions ---------------------------------------------------------------------------


async def _row(challenge_id: int) -> dict[str, Any]:
    rows = await Challenge.select().where(Challenge.id == challenge_id)
    if not rows:
        raise NotFound(f"challenge {challenge_id} does not exist")
    return rows[0]


async def brand_of(challenge_id: int) -> int:
    """The brand a challenge belongs to (reward hooks send its completions to that brand)."""
    return int((await _row(challenge_id))["brand"])


async def _tasks(challenge_id: int) -> list[dict[str, Any]]:
    return await ChallengeTask.select().where(ChallengeTask.challenge == challenge_id).order_by(
        ChallengeTask.position)


async def _out(row: dict[str, Any]) -> ChallengeOut:
    return ChallengeOut(
        id=row["id"], brand_id=row["brand"], title=row["title"], description=row["description"],
        image_url=row["image_url"], starts_at=row["starts_at"], ends_at=row["ends_at"],
        time_zone=row["time_zone"], status=row["status"], eligibility=row["eligibility"],
        eligibility_value=row["eligibility_value"], auto_enroll=bool(row["auto_enroll"]),
        ordered=bool(row["ordered"]), reward_points=int(row["reward_points"]),
        reward_badge_id=row["reward_badge"],
        tasks=[TaskOut(id=t["id"], position=t["position"], name=t["name"],
                       event_types=t["event_types"].split(), condition=t["condition"],
                       target=t["target"]) for t in await _tasks(row["id"])],
    )


def _staff_of(actor: Actor, brand_id: int) -> bool:
    return actor.manages_brand(brand_id)


def _visible(actor: Actor, row: dict[str, Any]) -> bool:
    return row["status"] != "draft" or _staff_of(actor, row["brand"])


async def _managed(actor: Actor, challenge_id: int) -> dict[str, Any]:
    """The challenge, for its brand's staff or an admin to change."""
    row = await _row(challenge_id)
    if not _staff_of(actor, row["brand"]):
        raise Forbidden("only this brand's staff or an admin run its challenges")
    return row


async def _validate(actor: Actor, data: ChallengeIn) -> None:
    for when in (data.starts_at, data.ends_at):
        if when.tzinfo is None:
            raise Invalid("starts_at and ends_at need a time zone offset")
    if data.ends_at <= data.starts_at:
        raise Invalid("ends_at must be after starts_at")
    try:
        zoneinfo.ZoneInfo(data.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"{data.time_zone!r} is not a time zone (use e.g. Europe/Paris)") from None
    for task in data.tasks:
        unknown = [t for t in task.event_types if t not in SCORABLES]
        if unknown:
            raise Invalid(f"tasks cannot count these events: {', '.join(unknown)}")
        if task.condition.strip():
            expressions.check_syntax(task.condition, "task condition")
            for event_type in task.event_types:
                # A custom event's fields are what its brand declared: no sample holds them.
                if event_type not in CUSTOM:
                    expressions.trial(task.condition, "1", names(SCORABLES[event_type].sample))
    if data.eligibility == "tier":
        ladder = [t.name for t in (await tiers.ladder()).tiers]
        if data.eligibility_value not in ladder:
            raise Invalid(f"eligibility_value must be a tier: {', '.join(ladder)}")
    if data.eligibility == "badge":
        badge_id = parse_id(data.eligibility_value)
        if badge_id is None:
            raise Invalid("eligibility_value must be a badge id")
        await badges.get_badge(badge_id)
    if data.reward_badge_id is not None:
        await badges.check_reward(actor, data.reward_badge_id)


async def create(actor: Actor, data: ChallengeIn) -> ChallengeOut:
    await get_brand(data.brand_id)
    if not _staff_of(actor, data.brand_id):
        raise Forbidden("only this brand's staff or an admin run its challenges")
    await _validate(actor, data)
    async with outbox.unit_of_work():
        rows = await Challenge.insert(Challenge(
            brand=data.brand_id, title=data.title, description=data.description,
            image_url=data.image_url, starts_at=data.starts_at, ends_at=data.ends_at,
            time_zone=data.time_zone, eligibility=data.eligibility,
            eligibility_value=data.eligibility_value, auto_enroll=data.auto_enroll,
            ordered=data.ordered, reward_points=data.reward_points,
            reward_badge=data.reward_badge_id, created_by=actor.accountable(),
        )).returning(Challenge.id)
        challenge_id = int(rows[0]["id"])
        await ChallengeTask.insert(*_task_rows(challenge_id, data))
        created = await _out(await _row(challenge_id))
        await staff_log.record(actor, "challenge.create", "challenge", challenge_id,
                               _label(created.title), after=_audited(created),
                               brand_id=data.brand_id)
    return created


def _label(title: str) -> str:
    return f"challenge '{title}'"


def _audited(challenge: ChallengeOut) -> dict[str, Any]:
    """What a staff log entry shows of a challenge: its fields and tasks, not row ids (a
    rewrite renumbers the tasks without changing them)."""
    fields = msgspec.structs.asdict(challenge)
    fields.pop("id")
    fields["tasks"] = [{k: v for k, v in msgspec.structs.asdict(t).items() if k != "id"}
                       for t in challenge.tasks]
    return fields


def _task_rows(challenge_id: int, data: ChallengeIn) -> list[ChallengeTask]:
    return [ChallengeTask(challenge=challenge_id, position=i, name=t.name,
                          event_types=" ".join(dict.fromkeys(t.event_types)),
                          condition=t.condition, target=t.target)
            for i, t in enumerate(data.tasks)]


async def update(actor: Actor, challenge_id: int, data: ChallengeIn) -> ChallengeOut:
    """Rewrite a draft or scheduled challenge; once it runs, members' progress depends on it."""
    row = await _managed(actor, challenge_id)
    if data.brand_id != row["brand"]:
        raise Invalid("a challenge stays with its brand: brand_id cannot change")
    if row["status"] not in ("draft", "scheduled"):
        raise Conflict(f"the challenge is {row['status']}; only drafts and scheduled "
                       "challenges can be changed (cancel it instead)")
    await _validate(actor, data)
    was = _audited(await _out(row))
    async with outbox.unit_of_work():
        changed = await Challenge.update({
            Challenge.title: data.title, Challenge.description: data.description,
            Challenge.image_url: data.image_url, Challenge.starts_at: data.starts_at,
            Challenge.ends_at: data.ends_at, Challenge.time_zone: data.time_zone,
            Challenge.eligibility: data.eligibility,
            Challenge.eligibility_value: data.eligibility_value,
            Challenge.auto_enroll: data.auto_enroll, Challenge.ordered: data.ordered,
            Challenge.reward_points: data.reward_points, Challenge.reward_badge: data.reward_badge_id,
        }).where((Challenge.id == challenge_id)
                 & Challenge.status.is_in(["draft", "scheduled"])).returning(Challenge.id)
        if not changed:
            raise Conflict("the challenge started meanwhile; it can no longer be changed")
        await ChallengeTask.delete().where(ChallengeTask.challenge == challenge_id)
        await ChallengeTask.insert(*_task_rows(challenge_id, data))
        before, after = staff_log.changes(was, _audited(await _out(await _row(challenge_id))))
        if after:
            await staff_log.record(actor, "challenge.update", "challenge", challenge_id,
                                   _label(data.title), before=before, after=after,
                                   brand_id=row["brand"])
    if row["status"] == "scheduled":
        await advance()
    return await _out(await _row(challenge_id))


async def cancel(actor: Actor, challenge_id: int) -> ChallengeOut:
    """Stop a challenge for good: no more progress or joining; completions made stand."""
    row = await _managed(actor, challenge_id)
    async with outbox.unit_of_work():
        cancelled = await Challenge.update({Challenge.status: "cancelled"}).where(
            (Challenge.id == challenge_id) & Challenge.status.is_in(["scheduled", "active"])
        ).returning(Challenge.id)
        if not cancelled:
            hint = " (delete a draft instead)" if row["status"] == "draft" else ""
            raise Conflict(f"the challenge is {row['status']}; it cannot be cancelled{hint}")
        # The status it had an instant ago may have moved on (scheduled to active) meanwhile.
        await staff_log.record(actor, "challenge.cancel", "challenge", challenge_id,
                               _label(row["title"]), before={"status": row["status"]},
                               after={"status": "cancelled"}, brand_id=row["brand"])
    await runtime.current().broker.publish(
        f"challenge:{challenge_id}", "challenge.status", {"status": "cancelled"},
        message_id=f"challenge:{challenge_id}:cancelled")
    return await _out(await _row(challenge_id))


async def delete_draft(actor: Actor, challenge_id: int) -> None:
    row = await _managed(actor, challenge_id)
    async with outbox.unit_of_work():
        # Undone with the rest if the challenge turns out not to be a draft.
        await ChallengeTask.delete().where(ChallengeTask.challenge == challenge_id)
        gone = await Challenge.delete().where(
            (Challenge.id == challenge_id) & (Challenge.status == "draft")).returning(Challenge.id)
        if not gone:
            raise Conflict(f"the challenge is {row['status']}; only drafts are deleted "
                           "(cancel a published one)")
        await staff_log.record(actor, "challenge.delete", "challenge", challenge_id,
                               _label(row["title"]), before={"status": "draft"},
                               brand_id=row["brand"])


async def publish(actor: Actor, challenge_id: int) -> ChallengeOut:
    row = await _managed(actor, challenge_id)
    if row["status"] != "draft":
        raise Conflict(f"the challenge is {row['status']}, not a draft")
    async with outbox.unit_of_work():
        published = await Challenge.update({Challenge.status: "scheduled"}).where(
            (Challenge.id == challenge_id) & (Challenge.status == "draft")
        ).returning(Challenge.id)
        if not published:
            raise Conflict("the challenge was published or deleted meanwhile")
        await staff_log.record(actor, "challenge.publish", "challenge", challenge_id,
                               _label(row["title"]), before={"status": "draft"},
                               after={"status": "scheduled", "starts_at": row["starts_at"]},
                               brand_id=row["brand"])
    await advance()
    return await _out(await _row(challenge_id))


async def get(actor: Actor, challenge_id: int) -> ChallengeOut:
    row = await _row(challenge_id)
    if not _visible(actor, row):
        raise NotFound(f"challenge {challenge_id} does not exist")
    return await _out(row)


async def list_challenges(actor: Actor) -> list[ChallengeOut]:
    rows = await Challenge.select().order_by(Challenge.starts_at)
    return [await _out(r) for r in rows if _visible(actor, r)]


async def advance() -> int:
    """Start what is due and end what is over; returns how many changed."""
    now = clock.now()
    changed = 0
    for status, target, due in (("scheduled", "active", Challenge.starts_at <= now),
                                ("active", "ended", Challenge.ends_at <= now),
                                ("scheduled", "ended", Challenge.ends_at <= now)):
        moved = await Challenge.update({Challenge.status: target}).where(
            (Challenge.status == status) & due).returning(Challenge.id)
        for row in moved:
            changed += 1
            await runtime.current().broker.publish(
                f"challenge:{row['id']}", "challenge.status", {"status": target},
                message_id=f"challenge:{row['id']}:{target}")
    return changed


# --- entering ------------------------------------------------------------------------------


async def _runs_it(member_id: int, row: dict[str, Any]) -> bool:
    """The brand's own staff: its budget never pays them, so a reward would stay owed forever."""
    return (await brands_staffed([member_id])).get(member_id) == row["brand"]


async def _eligible(member_id: int, row: dict[str, Any]) -> bool:
    if row["eligibility"] == "tier":
        ladder = [t.name for t in (await tiers.ladder()).tiers]
        held = (await tiers.mine(member_id)).tier
        return held is not None and held.name in ladder and \
            ladder.index(held.name) >= ladder.index(row["eligibility_value"])
    if row["eligibility"] == "badge":
        return await badges.holds(member_id, int(row["eligibility_value"]))
    return True


async def join(actor: Actor, challenge_id: int) -> MyChallenge:
    member_id = actor.member()
    row = await _row(challenge_id)
    if not _visible(actor, row):
        raise NotFound(f"challenge {challenge_id} does not exist")
    if row["status"] not in ("scheduled", "active"):
        raise Conflict(f"the challenge is {row['status']}; it cannot be joined")
    if await _runs_it(member_id, row):
        raise Forbidden("a brand's staff run its challenges; they cannot enter them")
    if not await _eligible(member_id, row):
        raise Forbidden(f"this challenge is for members with the {row['eligibility']} "
                        f"'{row['eligibility_value']}'")
    await ChallengeEntry.insert(ChallengeEntry(challenge=challenge_id, member=member_id)).on_conflict(
        action="DO NOTHING")
    return await mine(member_id, challenge_id)


async def mine(member_id: int, challenge_id: int) -> MyChallenge:
    tasks = await _tasks(challenge_id)
    entries = await ChallengeEntry.select().where(
        (ChallengeEntry.challenge == challenge_id) & (ChallengeEntry.member == member_id))
    entry = entries[0] if entries else None
    counts: dict[int, int] = {}
    if entry:
        counts = {r["task"]: r["amount"] for r in await ChallengeProgress.select().where(
            ChallengeProgress.entry == entry["id"])}
    return MyChallenge(
        challenge_id=challenge_id, joined=entry is not None,
        joined_at=entry["joined_at"] if entry else None,
        completed_at=entry["completed_at"] if entry else None,
        reward_pending=bool(entry and entry["completed_at"] is not None
                            and entry["reward_paid_at"] is None
                            and (await _row(challenge_id))["reward_points"]),
        tasks=[TaskProgress(task_id=t["id"], name=t["name"], count=counts.get(t["id"], 0),
                            target=t["target"], done=counts.get(t["id"], 0) >= t["target"])
               for t in tasks],
    )


async def standings(actor: Actor, challenge_id: int, limit: int) -> list[StandingOut]:
    """The challenge's leaderboard: progress made, competition ranking; staff left out."""
    await get(actor, challenge_id)
    top = await leaderboards.registered_top(BOARDS, challenge_id, limit)
    if not top:
        return []
    ids = {s.member_id for s in top}
    members = await members_by_id(ids)
    completed = {int(r["member"]) for r in await ChallengeEntry.select(ChallengeEntry.member).where(
        (ChallengeEntry.challenge == challenge_id) & ChallengeEntry.member.is_in(sorted(ids))
        & ChallengeEntry.completed_at.is_not_null())}
    return [StandingOut(rank=s.rank, member_id=s.member_id, handle=members[s.member_id].handle,
                        score=s.score, completed=s.member_id in completed)
            for s in top if s.member_id in members]


async def entries(actor: Actor, challenge_id: int, before: int | None,
                  limit: int) -> EntriesPage:
    """Who entered and how far each got, newest entry first: for the brand's staff."""
    row = await _managed(actor, challenge_id)
    of_challenge = ChallengeEntry.challenge == challenge_id
    query = ChallengeEntry.select().where(of_challenge)
    if before is not None:
        query = query.where(ChallengeEntry.id < before)
    rows = await query.order_by(ChallengeEntry.id, ascending=False).limit(limit + 1)
    page = rows[:limit]
    tasks = await _tasks(challenge_id)
    counts: dict[tuple[int, int], int] = {}
    if page:
        for r in await ChallengeProgress.select().where(
                ChallengeProgress.entry.is_in([e["id"] for e in page])):
            counts[(int(r["entry"]), int(r["task"]))] = int(r["amount"])
    members = await members_by_id({int(e["member"]) for e in page})
    entered = await ChallengeEntry.count().where(of_challenge)
    completed = await ChallengeEntry.count().where(
        of_challenge & ChallengeEntry.completed_at.is_not_null())
    items = []
    for entry in page:
        member = members.get(int(entry["member"]))
        progress = [TaskProgress(task_id=t["id"], name=t["name"],
                                 count=counts.get((entry["id"], t["id"]), 0), target=t["target"],
                                 done=counts.get((entry["id"], t["id"]), 0) >= t["target"])
                    for t in tasks]
        items.append(EntryOut(
            id=entry["id"], member_id=entry["member"], handle=member.handle if member else "",
            joined_at=entry["joined_at"], completed_at=entry["completed_at"],
            reward_pending=bool(entry["completed_at"] is not None
                                and entry["reward_paid_at"] is None and row["reward_points"]),
            tasks=progress))
    return EntriesPage(entered=entered, completed=completed, items=items,
                       next_cursor=page[-1]["id"] if len(rows) > limit else None)


# --- progress ------------------------------------------------------------------------------


Active = list[tuple[dict[str, Any], list[dict[str, Any]]]]


async def on_events(batch: list[outbox.Delivery]) -> None:
    """Advance every active challenge each event counts for, and take back what removed acts
    counted (while the entry is not complete), in event order."""
    if not any(credit(d.event) is not None or removal(d.event) is not None for d in batch):
        return
    active: Active = [(c, await _tasks(c["id"]))
                      for c in await Challenge.select().where(Challenge.status == "active")]
    if not active:
        return
    counted = {t for _, tasks in active for task in tasks for t in task["event_types"].split()}
    relevant = [d for d in batch if removal(d.event) is not None
                or ((earned := credit(d.event)) is not None and earned.event_type in counted)]
    if not relevant:
        return

    async def acts(run: list[outbox.Delivery]) -> None:
        await _count_acts(run, active)

    async def take_back(delivery: outbox.Delivery, gone: Removal) -> None:
        await _take_back({c["id"]: c for c, _ in active}, gone, delivery.event_id)

    await removals.in_order(relevant, acts, take_back)


async def _count_acts(run: list[outbox.Delivery], active: Active) -> None:
    acts = [(d, earned, earned.scorable.source(d.event))
            for d in run if (earned := credit(d.event)) is not None]
    removed = await removals.taken_back([(source, d.event_id) for d, _, source in acts])
    for delivery, earned, source in acts:
        if (source, delivery.event_id) in removed:
            continue
        for challenge, tasks in active:
            if any(earned.event_type in t["event_types"].split() for t in tasks):
                await _advance_entry(challenge, earned.member_id, earned.fields,
                                     earned.event_type, source, delivery.event_id)


async def _entry_of(challenge: dict[str, Any], member_id: int) -> dict[str, Any] | None:
    entries = await ChallengeEntry.select().where(
        (ChallengeEntry.challenge == challenge["id"]) & (ChallengeEntry.member == member_id))
    return entries[0] if entries else None


async def _advance_entry(challenge: dict[str, Any], member_id: int, fields: dict[str, Any],
                         event_type: str, source: str, event_id: int) -> None:
    async with outbox.unit_of_work():
        # One member's progress moves one event at a time.
        await ledger.lock_account(ledger.member_account(member_id))
        entry = await _entry_of(challenge, member_id)
        if entry is None:
            if (not challenge["auto_enroll"] or await _runs_it(member_id, challenge)
                    or not await _eligible(member_id, challenge)):
                return
            await ChallengeEntry.insert(ChallengeEntry(challenge=challenge["id"], member=member_id))
            entry = await _entry_of(challenge, member_id)
            assert entry is not None
        if entry["completed_at"] is not None:
            return
        tasks = await _tasks(challenge["id"])
        counts = {r["task"]: r["amount"] for r in await ChallengeProgress.select().where(
            ChallengeProgress.entry == entry["id"])}
        gained = 0
        for task in tasks:
            done = counts.get(task["id"], 0) >= task["target"]
            if done:
                continue
            if event_type in task["event_types"].split() and _matches(task["condition"], fields) \
                    and await _record_act(entry["id"], task["id"], source, event_id):
                counts[task["id"]] = counts.get(task["id"], 0) + 1
                gained += 1
                await _save_progress(entry["id"], task["id"], counts[task["id"]])
            if challenge["ordered"]:
                break
        if not gained:
            return
        await _add_score(challenge, entry["id"], member_id, gained)
        complete = all(counts.get(t["id"], 0) >= t["target"] for t in tasks)
        if complete:
            await _complete(challenge, entry, member_id)
    await _push_progress(challenge, member_id, event_id)


async def _record_act(entry_id: int, task_id: int, source: str, event_id: int) -> bool:
    """One act counts once per task: a replayed event, or a second event about the same act
    (a thread's first post is also a post), adds nothing."""
    rows = await db.insert_rows(
        "gamification_challenge_act", ["entry", "task", "source", "event_id", "counted_at"],
        ["bigint", "bigint", "text", "bigint", "timestamptz"],
        [(entry_id, task_id, source, event_id, clock.now())], "ON CONFLICT DO NOTHING RETURNING id")
    return bool(rows)


async def _add_score(challenge: dict[str, Any], entry_id: int, member_id: int, delta: int) -> None:
    scored = await ChallengeEntry.update(
        {ChallengeEntry.score: ChallengeEntry.score + delta}
    ).where(ChallengeEntry.id == entry_id).returning(ChallengeEntry.score)
    await leaderboards.set_scores(BOARDS, challenge["id"], {member_id: int(scored[0]["score"])})


async def _take_back(challenges: dict[int, dict[str, Any]], gone: Removal,
                     event_id: int) -> None:
    """A removed post, reaction or helpful mark stops counting in the member's open entries
    (a completed entry, and its reward, stand)."""
    entries = {int(r["id"]): int(r["challenge"]) for r in await ChallengeEntry.select(
        ChallengeEntry.id, ChallengeEntry.challenge).where(
            (ChallengeEntry.member == gone.member_id) & ChallengeEntry.completed_at.is_null()
            & ChallengeEntry.challenge.is_in(sorted(challenges)))}
    if not entries:
        return
    under = gone.source + ":"
    match, args = db.values_in(sorted(entries), "bigint")
    moved: set[int] = set()
    async with outbox.unit_of_work():
        acts = await db.fetch(
            "DELETE FROM gamification_challenge_act WHERE entry " + match
            + " AND (source = {} OR substr(source, 1, {}) = {}) RETURNING entry, task",
            *args, gone.source, len(under), under)
        lost: dict[tuple[int, int], int] = {}
        for act in acts:
            key = (int(act["entry"]), int(act["task"]))
            lost[key] = lost.get(key, 0) + 1
        for (entry_id, task_id), count in lost.items():
            await ChallengeProgress.update({
                ChallengeProgress.amount: ChallengeProgress.amount - count,
            }).where((ChallengeProgress.entry == entry_id) & (ChallengeProgress.task == task_id))
        for entry_id in {e for e, _ in lost}:
            taken = sum(n for (e, _), n in lost.items() if e == entry_id)
            await _add_score(challenges[entries[entry_id]], entry_id, gone.member_id, -taken)
            moved.add(entries[entry_id])
    for challenge_id in sorted(moved):
        await _push_progress(challenges[challenge_id], gone.member_id, event_id)


async def _push_progress(challenge: dict[str, Any], member_id: int, event_id: int) -> None:
    progress = await mine(member_id, challenge["id"])

    async def push() -> None:
        await runtime.current().broker.publish(
            f"challenge:{challenge['id']}", "challenge.progress",
            {"member_id": member_id, "completed": progress.completed_at is not None,
             "tasks": msgspec.to_builtins(progress.tasks)},
            # The event that moved it: counts can go back down, so they cannot name a message.
            message_id=f"cp:{challenge['id']}:{member_id}:{event_id}")

    await outbox.after_commit(push)


def _matches(condition: str, fields: dict[str, Any]) -> bool:
    try:
        return expressions.matches(condition, fields)
    except Exception:
        return False


async def _save_progress(entry_id: int, task_id: int, count: int) -> None:
    updated = await ChallengeProgress.update({ChallengeProgress.amount: count}).where(
        (ChallengeProgress.entry == entry_id) & (ChallengeProgress.task == task_id)
    ).returning(ChallengeProgress.id)
    if not updated:
        await ChallengeProgress.insert(ChallengeProgress(entry=entry_id, task=task_id, amount=count))


async def _pay_reward(challenge: dict[str, Any], entry_id: int, member_id: int) -> bool:
    """Pay the reward points from the brand's budget, once (the key makes a retry a replay);
    False, and the entry stays unpaid, while the budget cannot cover them."""
    try:
        async with outbox.unit_of_work():
            await ledger.post(
                key=f"challenge:{challenge['id']}:member:{member_id}", kind="award",
                reason=f"Challenge completed: {challenge['title']}",
                source=f"challenge:{challenge['id']}",
                postings=[(ledger.member_account(member_id), challenge["reward_points"]),
                          (ledger.brand_budget_account(challenge["brand"]),
                           -challenge["reward_points"])],
            )
            await ChallengeEntry.update({ChallengeEntry.reward_paid_at: clock.now()}).where(
                ChallengeEntry.id == entry_id)
    except Conflict as exc:
        log.warning("challenge %s reward not paid to %s yet: %s", challenge["id"], member_id,
                    exc.message)
        return False
    return True


async def _complete(challenge: dict[str, Any], entry: dict[str, Any], member_id: int) -> None:
    finished = await ChallengeEntry.update({ChallengeEntry.completed_at: clock.now()}).where(
        (ChallengeEntry.id == entry["id"]) & ChallengeEntry.completed_at.is_null()
    ).returning(ChallengeEntry.id)
    if not finished:
        return
    await outbox.emit(events.ChallengeCompleted(member_id=member_id, challenge_id=challenge["id"]))
    paid = not challenge["reward_points"] or await _pay_reward(challenge, entry["id"], member_id)
    if challenge["reward_badge"] is not None:
        await badges.grant_for_challenge(member_id, challenge["reward_badge"], challenge["title"])
    await notify(member_id, "challenge", entry["id"], {
        "challenge_id": challenge["id"], "title": challenge["title"],
        "reward_points": int(challenge["reward_points"]), "reward_pending": not paid,
    })


async def pay_pending_rewards(limit: int = 200) -> int:
    """Rewards owed to members who completed while the brand's budget was short, paid once
    it has been topped up; returns how many were paid."""
    owed = ChallengeEntry.reward_paid_at.is_null() & ChallengeEntry.completed_at.is_not_null()
    owing = {int(r["challenge"]) for r in await ChallengeEntry.select(
        ChallengeEntry.challenge).where(owed).distinct()}
    if not owing:
        return 0
    loaded = {int(r["id"]): r for r in await Challenge.select().where(
        Challenge.id.is_in(sorted(owing)) & (Challenge.reward_points > 0))}
    budgets = await ledger.account_balances(
        {ledger.brand_budget_account(c["brand"]) for c in loaded.values()})
    # Only what the brand's budget covers now: a brand that never tops up must not keep
    # the job busy, nor hold up what other brands owe.
    covered = sorted(i for i, c in loaded.items()
                     if budgets.get(ledger.brand_budget_account(c["brand"]), 0) >= c["reward_points"])
    if not covered:
        return 0
    rows = await ChallengeEntry.select(
        ChallengeEntry.id, ChallengeEntry.member, ChallengeEntry.challenge,
    ).where(owed & ChallengeEntry.challenge.is_in(covered)).order_by(
        ChallengeEntry.completed_at).limit(limit)
    paid = 0
    for row in rows:
        challenge = loaded[int(row["challenge"])]
        member_id = int(row["member"])
        async with outbox.unit_of_work():
            await ledger.lock_members({member_id})
            if not await _pay_reward(challenge, int(row["id"]), member_id):
                continue
            await notify(member_id, "challenge_reward", int(row["id"]), {
                "challenge_id": challenge["id"], "title": challenge["title"],
                "reward_points": int(challenge["reward_points"])})
        paid += 1
    return paid


# --- what challenges offer the modules below them ------------------------------------------


async def exists(challenge_id: int) -> bool:
    return bool(await Challenge.exists().where(Challenge.id == challenge_id))


async def board_scores(member_id: int | None) -> dict[str, dict[int, int]]:
    """Challenge boards from the entries' progress (for everyone, or one member), to rebuild
    them: {challenge id: {member: score}}."""
    query = ChallengeEntry.select(ChallengeEntry.challenge, ChallengeEntry.member,
                                  ChallengeEntry.score).where(ChallengeEntry.score > 0)
    if member_id is not None:
        query = query.where(ChallengeEntry.member == member_id)
    scores: dict[str, dict[int, int]] = {}
    for row in await query:
        scores.setdefault(str(row["challenge"]), {})[int(row["member"])] = int(row["score"])
    return scores


def register() -> None:
    """Challenges sit above badges and leaderboards: they register with them, so neither
    reads challenge tables."""
    leaderboards.register_boards(BOARDS, board_scores)
    badges.register_challenges(exists)
