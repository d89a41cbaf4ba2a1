"""Leaderboards: who counts, how boards are kept in step with the ledger, how they are read
and rebuilt. Staff and excluded members never appear."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any, TypeVar

import msgspec

from gamification.leaderboards import boards, fallback
from gamification.leaderboards.store import (
    STORE,
    BoardPosting,
    LeaderboardStore,
    Snapshot,
    Standing,
    StoreCold,
)
from gamification.leaderboards.tables import LeaderboardExclusion, Season
from gamification.ledger import services as ledger
from server import clock, db, events, outbox, runtime, schedule, staff_log, visibility
from server.accounts.services import (
    get_member,
    member_names,
    plain_member_ids,
    staff_member_ids,
)
from server.auth import Actor
from server.errors import Forbidden, Invalid, NotFound, ServiceUnavailable, unavailable
from server.text import require_plain

log = logging.getLogger("hearth.leaderboards")
T = TypeVar("T")
# An outage is logged once a minute, not once a read.
UNREACHABLE_NOTE_SECONDS = 60
_unreachable_noted = -math.inf

RANKING = "competition: equal scores share a rank and the next rank skips (1, 2, 2, 4)"
LIVE_THROTTLE_SECONDS = 1

# Boards a higher module keeps, ranked by something other than points (a challenge's board
# ranks progress). It registers a family of boards, named `family:KEY`, with the scores to
# rebuild them from: {KEY: {member: score}}, for everyone (None) or for one member.
BoardScores = Callable[[int | None], Awaitable[dict[str, dict[int, int]]]]
_registered: dict[str, BoardScores] = {}


def register_boards(family: str, scores: BoardScores) -> None:
    _registered[family] = scores


class BoardMember(msgspec.Struct):
    id: int
    handle: str
    display_name: str


class BoardRow(msgspec.Struct):
    rank: int
    score: int
    member: BoardMember


class BoardPage(msgspec.Struct):
    board: str
    ranking: str
    items: list[BoardRow]


class AroundPage(msgspec.Struct):
    board: str
    ranking: str
    me: BoardRow | None
    items: list[BoardRow]


def store() -> LeaderboardStore:
    return runtime.current().backend(STORE)


# --- the top-page cache --------------------------------------------------------------------
# Every reader of a board gets the same top page, names included, so each process keeps each
# board's first TOP_PAGE rows for TOP_CACHE_SECONDS: a crowd reading a board costs one store
# read and one member lookup a second, not one per request. Changes this process makes to the
# store clear it at once; changes from other processes (a Celery worker applying points,
# another server) show within TOP_CACHE_SECONDS. The web app refetches a board when told it
# changed, so push_board() first announces the change on CHANGED_CHANNEL, which every process
# hears before the push itself (one Redis subscription, in order) and drops that board's page.
# Who may read a board is checked on every request before the cache, and around-me pages, the
# reader's own, are never cached.
TOP_CACHE_SECONDS = 1.0
CHANGED_CHANNEL = "sys:leaderboard-changed"
TOP_PAGE = 100
# Board names are many (every week, month, season, category): the least recently read go.
TOP_CACHE_BOARDS = 1000


class _TopPages:
    def __init__(self) -> None:
        self.pages: OrderedDict[str, tuple[float, list[BoardRow]]] = OrderedDict()
        # Bumped by every change, so a read that overlapped one does not cache what it read.
        self.version = 0

    def forget(self, boards: Iterable[str] | None = None) -> None:
        """Drop these boards' pages (None: every board's)."""
        if boards is None:
            self.pages.clear()
        for board in boards or ():
            self.pages.pop(board, None)
        self.version += 1

    def heard(self, channel: str, seq: int, frame: bytes) -> None:
        self.forget([msgspec.json.decode(frame)["data"]["board"]])


# One per store: each runtime (and each test's database) has its own.
_top_pages: weakref.WeakKeyDictionary[object, _TopPages] = weakref.WeakKeyDictionary()


def _cache() -> _TopPages:
    owner = store()
    pages = _top_pages.get(owner)
    if pages is None:
        pages = _top_pages[owner] = _TopPages()
        hub = runtime.current().broker.hub
        hub.add(CHANGED_CHANNEL, pages.heard)
        # Announcements may have been lost, and clients are told to refetch: start afresh.
        hub.watch_gaps(pages.forget)
    return pages


def _changed(boards: Iterable[str] | None = None) -> None:
    _cache().forget(boards)


async def _top_rows(name: str) -> list[BoardRow]:
    """The board's first TOP_PAGE rows, at most TOP_CACHE_SECONDS old."""
    cache = _cache()
    now = time.monotonic()
    cached = cache.pages.get(name)
    if cached is not None and now - cached[0] < TOP_CACHE_SECONDS:
        cache.pages.move_to_end(name)
        return cached[1]
    version = cache.version
    rows = await _rows(await _standings(name, TOP_PAGE, 0))
    if cache.version == version:
        cache.pages[name] = (now, rows)
        cache.pages.move_to_end(name)
        if len(cache.pages) > TOP_CACHE_BOARDS:
            cache.pages.popitem(last=False)
    return rows


async def heal() -> None:
    """The store is cold: have it rebuilt in the background, by one process at a time."""
    try:
        if await store().ask_rebuild():
            log.warning("the leaderboard store has no complete boards: rebuilding them")
            await runtime.current().runner.submit("leaderboards.heal")
    except Exception:
        # Reads go on from the ledger; the next one to find the store cold asks again.
        log.exception("asking for a leaderboard rebuild failed")


async def _read(name: str, read: Callable[[LeaderboardStore], Awaitable[T]],
                instead: Callable[[fallback.Board], T]) -> T:
    """A read from the store, or from the board's sources while the store is cold (members
    never see a half-built board) or unreachable."""
    try:
        return await read(store())
    except StoreCold:
        await heal()
    except ServiceUnavailable:
        global _unreachable_noted
        if time.monotonic() - _unreachable_noted > UNREACHABLE_NOTE_SECONDS:
            _unreachable_noted = time.monotonic()
            log.warning("the leaderboard store is unreachable: boards are read from the ledger")
    return instead(await fallback.board(name, lambda: _from_sources(name)))


async def _from_sources(name: str) -> fallback.Board:
    return await fallback.load(await _source(name), await _excluded())


async def _write(change: Awaitable[None]) -> None:
    """A change to the store; while it is cold the rebuild under way (or asked for now)
    carries it."""
    try:
        await change
    except StoreCold:
        await heal()
    finally:
        _changed()


async def _source(name: str) -> fallback.Source:
    """Where a board's scores come from when the store cannot say."""
    family, _, key = name.partition(":")
    if family in _registered:
        return (await _registered[family](None)).get(key, {})
    if family == "category":
        return fallback.Window(category_id=int(key))
    if family == "season":
        season = await Season.select(Season.starts_at, Season.ends_at).where(
            Season.id == int(key)).first()
        return fallback.Window(season["starts_at"], season["ends_at"]) if season else {}
    if family == "week":
        iso_year, iso_week = key.split("-W")
        since = dt.datetime.fromisocalendar(int(iso_year), int(iso_week), 1).replace(tzinfo=dt.UTC)
        return fallback.Window(since, _until(lambda: since + dt.timedelta(days=7)))
    if family == "month":
        year, month = (int(part) for part in key.split("-"))
        return fallback.Window(dt.datetime(year, month, 1, tzinfo=dt.UTC), _until(
            lambda: dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)))
    return fallback.Window()


def _until(end: Callable[[], dt.datetime]) -> dt.datetime | None:
    """A period's end; None (no end) for the last period of year 9999, which ends past the
    largest date Python has."""
    try:
        return end()
    except (ValueError, OverflowError):
        return None


async def readable_board(actor: Actor, board: str) -> str:
    """The board's resolved name, when the actor may read it: a category's board is read
    by whoever may read the category's threads (refused with the forum's own 404 or 403)."""
    name = boards.resolve(board)
    category_id = boards.category_of(name)
    if category_id is not None:
        await visibility.require_category_readable(actor, category_id)
    return name


async def _rows(standings: list[Standing]) -> list[BoardRow]:
    members = await member_names([s.member_id for s in standings])
    return [
        BoardRow(rank=s.rank, score=s.score, member=BoardMember(
            id=s.member_id, handle=members[s.member_id].handle,
            display_name=members[s.member_id].display_name))
        for s in standings if s.member_id in members
    ]


async def _seasons() -> list[boards.SeasonSpan]:
    rows = await Season.select(Season.id, Season.starts_at, Season.ends_at)
    return [(int(r["id"]), r["starts_at"], r["ends_at"]) for r in rows]


class SeasonIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    starts_at: dt.datetime
    ends_at: dt.datetime

    def __post_init__(self) -> None:
        require_plain(name=self.name)


class SeasonOut(msgspec.Struct):
    id: int
    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    board: str


async def list_seasons() -> list[SeasonOut]:
    rows = await Season.select().order_by(Season.starts_at)
    return [SeasonOut(id=r["id"], name=r["name"], starts_at=r["starts_at"], ends_at=r["ends_at"],
                      board=f"season:{r['id']}") for r in rows]


async def create_season(actor: Actor, data: SeasonIn) -> SeasonOut:
    """A season board counts points earned inside its dates, from the ledger."""
    if not actor.is_admin:
        raise Forbidden("only admins define seasons")
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise Invalid("starts_at and ends_at need a time zone offset")
    if data.ends_at <= data.starts_at:
        raise Invalid("ends_at must be after starts_at")
    async with outbox.unit_of_work():
        rows = await Season.insert(Season(name=data.name, starts_at=data.starts_at,
                                          ends_at=data.ends_at)).returning(Season.id)
        await staff_log.record(actor, "season.create", "season", rows[0]["id"],
                               f"season '{data.name}'",
                               after={"name": data.name, "starts_at": data.starts_at,
                                      "ends_at": data.ends_at})
    await runtime.current().runner.submit("leaderboards.rebuild")
    return next(s for s in await list_seasons() if s.id == int(rows[0]["id"]))


async def _eligible_among(member_ids: set[int]) -> set[int]:
    """Which of these are plain members not excluded from the boards."""
    plain = await plain_member_ids(member_ids)
    if not plain:
        return plain
    match, args = db.values_in(sorted(plain), "bigint")
    rows = await db.fetch("SELECT member FROM leaderboard_exclusion WHERE member " + match, *args)
    return plain - {int(r["member"]) for r in rows}


async def on_boards(member_id: int) -> bool:
    """Whether the boards show the member (a plain member not excluded): their points are
    public then."""
    return bool(await _eligible_among({member_id}))


def _when(value: dt.datetime | str) -> dt.datetime:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


async def record(postings: list[events.PointsPosted]) -> set[str]:
    """Apply earning postings to their boards; returns the boards that changed."""
    if not postings:
        return set()
    eligible = await _eligible_among({p.member_id for p in postings})
    postings = [p for p in postings if p.member_id in eligible]
    reversals = {p.transaction_id for p in postings if p.kind == "reversal"}
    dated = await ledger.reversed_award_dates(reversals) if reversals else {}
    seasons = await _seasons()
    moves = [
        BoardPosting(boards.boards_for(dated.get(p.transaction_id) or _when(p.posted_at),
                                       p.category_id, seasons),
                     p.member_id, p.amount, p.transaction_id)
        for p in postings
    ]
    try:
        return await store().add(moves)
    except StoreCold:
        await heal()
        # Read from the ledger meanwhile, these boards did change.
        return {board for move in moves for board in move.boards}
    finally:
        _changed({board for move in moves for board in move.boards})


async def top(actor: Actor, board: str, limit: int, offset: int) -> BoardPage:
    name = await readable_board(actor, board)
    if offset == 0 and limit <= TOP_PAGE:
        return BoardPage(board=name, ranking=RANKING, items=(await _top_rows(name))[:limit])
    return await _top(name, limit, offset)


async def _top(name: str, limit: int, offset: int) -> BoardPage:
    return BoardPage(board=name, ranking=RANKING, items=await _rows(await _standings(
        name, limit, offset)))


async def _standings(name: str, limit: int, offset: int) -> list[Standing]:
    return await _read(name, lambda s: s.top(name, limit, offset),
                       lambda board: board.top(limit, offset))


async def around(actor: Actor, board: str, member_id: int, n: int) -> AroundPage:
    """The member's rank with n members above and below: read fresh, never from the cache.
    A member is in their own neighbourhood exactly when ranked, so that one read says both."""
    name = await readable_board(actor, board)
    rows = await _rows(await _read(name, lambda s: s.around(name, member_id, n),
                                   lambda board: board.around(member_id, n)))
    mine = next((r for r in rows if r.member.id == member_id), None)
    return AroundPage(board=name, ranking=RANKING, me=mine, items=rows)


async def around_member(actor: Actor, board: str, member_id: int, n: int) -> AroundPage:
    """around() for any member; 404 for one that does not exist (looked up only when the
    board does not show them)."""
    page = await around(actor, board, member_id, n)
    if page.me is None and not await member_names([member_id]):
        raise NotFound(f"member {member_id} does not exist")
    return page


def _aggregate(entries: list[dict[str, Any]], excluded: set[int],
               seasons: list[boards.SeasonSpan]) -> dict[str, dict[int, int]]:
    """Board scores from ledger postings, each on the boards record() puts it on."""
    scores: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for entry in entries:
        member_id = int(entry["member_id"])
        if member_id in excluded:
            continue
        for name in boards.boards_for(_when(entry["earned_at"]), entry["category_id"], seasons):
            scores[name][member_id] += int(entry["amount"])
    return {name: dict(members) for name, members in scores.items()}


async def _excluded() -> set[int]:
    rows = await LeaderboardExclusion.select(LeaderboardExclusion.member)
    return await staff_member_ids() | {int(r["member"]) for r in rows}


async def _registered_scores(member_id: int | None = None) -> dict[str, dict[int, int]]:
    """The registered boards' scores, from their owners (they are not kept in the ledger)."""
    scores: dict[str, dict[int, int]] = {}
    for family, source in _registered.items():
        for key, members in (await source(member_id)).items():
            scores[f"{family}:{key}"] = members
    return scores


def _registered_board(family: str, key: int | str) -> str:
    if family not in _registered:
        raise RuntimeError(f"no leaderboards are registered as {family!r}")
    return f"{family}:{key}"


async def _snapshot() -> Snapshot:
    """Every board from the ledger (and registered boards from their owners)."""
    entries = await ledger.earnings()
    excluded = await _excluded()
    scores = _aggregate(entries, excluded, await _seasons())
    for name, members in (await _registered_scores()).items():
        scores[name] = {m: s for m, s in members.items() if m not in excluded}
    return Snapshot(scores, {int(e["transaction_id"]) for e in entries})


@schedule.task("leaderboards.rebuild")
async def rebuild() -> int:
    """Recompute every board from the ledger (and registered boards from their owners),
    after any rebuild under way and once Redis and the database answer; returns how many
    ledger transactions were counted."""
    waiting = False
    while True:
        try:
            snap = await store().rebuild(_snapshot)
        except Exception as exc:
            # A warm store would keep lacking what this was asked for (a season defined
            # during an outage): try again until the services are back.
            if unavailable(exc) is None:
                raise
            if not waiting:
                log.warning("the leaderboard rebuild waits for a service: %s", exc)
            waiting, snap = True, None
        if snap is not None:
            _changed()
            return len(snap.transactions)
        # Or another rebuild read the sources before this one was asked for.
        await asyncio.sleep(1)


@schedule.task("leaderboards.heal")
async def heal_now() -> None:
    """Rebuild a cold store, unless a rebuild is under way already. Asks queued before one
    started find the store warm once they hold its lock, and leave it be."""
    snap = await store().rebuild(_snapshot, cold_only=True)
    if snap is not None:
        _changed()
        log.info("leaderboards rebuilt from %d ledger transactions", len(snap.transactions))


async def set_scores(family: str, key: int | str, scores: dict[int, int]) -> None:
    """Members' scores on a registered board; staff and excluded members stay off it."""
    eligible = await _eligible_among(set(scores)) if scores else set()
    await _write(store().set_scores(_registered_board(family, key),
                                    {m: s for m, s in scores.items() if m in eligible}))


async def registered_top(family: str, key: int | str, limit: int) -> list[Standing]:
    return await _standings(_registered_board(family, key), limit, 0)


async def refresh_member(member_id: int) -> None:
    """Recompute one member's boards (after a role change or exclusion ends)."""
    if member_id not in await _eligible_among({member_id}):
        await _write(store().remove_member(member_id))
        return
    entries = await ledger.earnings(member_id)
    scores = _aggregate(entries, set(), await _seasons())
    scores.update(await _registered_scores(member_id))
    await _write(store().set_member(member_id, {name: s[member_id] for name, s in scores.items()},
                                    {int(e["transaction_id"]) for e in entries}))


class ExclusionOut(msgspec.Struct):
    member_id: int
    handle: str
    display_name: str
    excluded_at: dt.datetime


async def list_exclusions(actor: Actor) -> list[ExclusionOut]:
    """Members kept off every board, most recently excluded first."""
    if not actor.is_admin:
        raise Forbidden("only admins see leaderboard exclusions")
    rows = await LeaderboardExclusion.select(
        LeaderboardExclusion.member, LeaderboardExclusion.excluded_at
    ).order_by(LeaderboardExclusion.id, ascending=False)
    names = await member_names({int(r["member"]) for r in rows})
    return [ExclusionOut(member_id=int(r["member"]), handle=names[int(r["member"])].handle,
                         display_name=names[int(r["member"])].display_name,
                         excluded_at=r["excluded_at"])
            for r in rows if int(r["member"]) in names]


async def set_excluded(actor: Actor, member_id: int, excluded: bool) -> None:
    if not actor.is_admin:
        raise Forbidden("only admins exclude members from leaderboards")
    member = await get_member(member_id)
    async with outbox.unit_of_work():
        if excluded:
            changed = await LeaderboardExclusion.insert(
                LeaderboardExclusion(member=member_id)
            ).on_conflict(action="DO NOTHING").returning(LeaderboardExclusion.member)
        else:
            changed = await LeaderboardExclusion.delete().where(
                LeaderboardExclusion.member == member_id).returning(LeaderboardExclusion.member)
        # Asking for what already holds is no act: nothing to record.
        if changed:
            await staff_log.record(
                actor, "leaderboard.exclude" if excluded else "leaderboard.include", "member",
                member_id, f"@{member['handle']}", before={"excluded": not excluded},
                after={"excluded": excluded})
    await refresh_member(member_id)


async def publish_changes(changed: set[str]) -> None:
    """Push each changed board's top ten at once, then at most once a second: changes that
    fall inside that second are pushed together when it ends."""
    rt = runtime.current()
    for name in sorted(changed):
        if await rt.kv.add(f"lb-live:{name}", b"1", LIVE_THROTTLE_SECONDS):
            await push_board(name)
        elif await rt.kv.add(f"lb-later:{name}", b"1", LIVE_THROTTLE_SECONDS):
            await rt.runner.submit("leaderboards.push", delay_seconds=LIVE_THROTTLE_SECONDS,
                                   board=name)


@schedule.task("leaderboards.push")
async def push_board(board: str) -> None:
    page = await _top(board, 10, 0)
    stamp = clock.now().timestamp()
    broker = runtime.current().broker
    await broker.publish(CHANGED_CHANNEL, "changed", {"board": board},
                         message_id=f"lbc:{board}:{stamp}")
    await broker.publish(f"leaderboard:{board}", "leaderboard.changed",
                         msgspec.to_builtins(page), message_id=f"lb:{board}:{stamp}")


async def drifted_boards() -> list[str] | None:
    """Where a points board shows other scores than the ledger gives (what rebuild() would
    put there): each line names the board and the member. None while the store holds no
    complete build: there is nothing to compare until it is rebuilt."""
    expected = _aggregate(await ledger.earnings(), await _excluded(), await _seasons())
    found = []
    for name, members in sorted(expected.items()):
        try:
            standings = await store().top(name, len(members) + 1, 0)
        except StoreCold:
            return None
        shown = {s.member_id: s.score for s in standings}
        wanted = {m: s for m, s in members.items() if s > 0}
        for member_id in sorted(set(shown) | set(wanted)):
            if shown.get(member_id, 0) != wanted.get(member_id, 0):
                found.append(f"board {name}: member {member_id} shows "
                             f"{shown.get(member_id, 0)}, the ledger gives {wanted.get(member_id, 0)}")
    return found
