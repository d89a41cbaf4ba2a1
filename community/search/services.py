"""Full-text search over posts: what the searcher may read, best matches first.

The index (migration 2026-11-26T22:00) holds each live post's words, and for a thread's
first post its title; database triggers keep it current in the transaction of every write.
Everything else a search filters on is read from the forum tables as the search runs, so a
post moved, hidden or restored is found (or not) accordingly the moment that commits.

Bounded work: the matches are taken newest first, up to REACH of them that the searcher may
read and the filters keep, and only those are ranked (bm25 on SQLite, ts_rank on PostgreSQL,
the newer first among equals). A rare word's matches are all ranked; a common word's newest
REACH are, so it costs no more than a rare one, and the count stops at REACH.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from community.forums.services import authors_by_id, readable_category, readable_visibilities
from community.search import highlight
from community.search.query import Query, parse
from community.search.schemas import SearchHit, SearchPage
from server import db
from server.accounts.services import active_member_ids_by_handle
from server.auth import Actor
from server.errors import Forbidden, Invalid, NotFound

REACH = 1000
MAX_LIMIT = 50
# The title counts four times the body in SQLite's bm25 (PostgreSQL: weight A against B).
_BM25 = "bm25(forum_search, 4.0, 1.0)"
_HEADLINE = ("MaxWords=30, MinWords=12, ShortWord=2, MaxFragments=2, "
             f'FragmentDelimiter=" … ", StartSel={highlight.START}, StopSel={highlight.STOP}')
_TITLE_HEADLINE = f"HighlightAll=true, StartSel={highlight.START}, StopSel={highlight.STOP}"


def _invalid(name: str, message: str) -> Invalid:
    return Invalid(f"{name} {message}", [{"key": name, "message": message}])


@dataclass
class _Filters:
    """SQL conditions on p (post), t (thread), c (category) with {} placeholders: what the
    actor may read, narrowed by the filters; and what the plan may start from."""

    where: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    author_id: int | None = None
    category_id: int | None = None
    hidden_only: bool = False
    # Post ids outside this range cannot have been written between since and until.
    first_id: int | None = None
    last_id: int | None = None


# The days a filter may name: dates farther out overflow the times they become.
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(9999, 12, 30)

async def _filters(actor: Actor, category_id: int | None, author: str | None,
                   since: dt.date | None, until: dt.date | None, status: str | None) -> _Filters:
    visibilities = ", ".join(f"'{v}'" for v in readable_visibilities(actor))
    f = _Filters(where=["p.deleted_at IS NULL", "t.deleted_at IS NULL",
                        f"c.visibility IN ({visibilities})"])
    if not (actor.person_id is not None and actor.is_moderator):
        # Out-of-view posts and threads, as community.forums.services.sees_hidden decides:
        # their authors see their own; brand staff (people, not tokens) those of their
        # brand's categories too.
        me = actor.person_id or 0
        own = "(p.hidden_at IS NULL OR p.author = {}) AND (t.hidden_at IS NULL OR t.author = {})"
        if actor.person_id is not None and actor.role == "brand_staff" \
                and actor.brand_id is not None:
            f.where.append(f"(c.brand = {{}} OR ({own}))")
            f.args += [actor.brand_id, me, me]
        else:
            f.where.append(f"({own})")
            f.args += [me, me]
    if status is not None:
        if not actor.is_staff:
            raise Forbidden("only staff filter search results by status")
        f.where.append({
            "visible": "p.hidden_at IS NULL AND t.hidden_at IS NULL",
            "hidden": "p.hidden_at IS NOT NULL AND p.hidden_reason <> 'held'",
            "held": "p.hidden_at IS NOT NULL AND p.hidden_reason = 'held'",
        }[status])
        f.hidden_only = status != "visible"
    if category_id is not None:
        await readable_category(actor, category_id)
        # A category's results include its subcategories'.
        f.where.append("(c.id = {} OR c.parent = {})")
        f.args += [category_id, category_id]
        f.category_id = category_id
    if author is not None:
        handle = author.strip().lstrip("@").lower()
        found = await active_member_ids_by_handle({handle})
        if handle not in found:
            raise NotFound(f"no member has the handle '{author[:40]}'")
        f.where.append("p.author = {}")
        f.args.append(found[handle])
        f.author_id = found[handle]
    for key, day in (("since", since), ("until", until)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise _invalid(key, f"must be a day from {EARLIEST} to {LATEST}")
    if since is not None and until is not None and since > until:
        raise _invalid("since", "is after until: no day is in between")
    if since is not None:
        moment = dt.datetime.combine(since, dt.time(), dt.UTC)
        f.where.append("p.created_at >= {}")
        f.args.append(moment)
        f.first_id = await _first_id_from(moment - _SKEW)
    if until is not None:
        moment = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        f.where.append("p.created_at < {}")
        f.args.append(moment)
        f.last_id = await _first_id_from(moment + _SKEW) - 1
    return f


# Posts are numbered as they are written, so ids follow creation times, give or take the
# moments between a writer reading the clock and inserting (and clocks of processes apart).
_SKEW = dt.timedelta(minutes=5)


async def _first_id_from(moment: dt.datetime) -> int:
    """The lowest post id written at or after the moment (past the last post if none), by
    bisecting the ids in one statement: some twenty primary-key reads, however many posts
    there are."""
    probe = "(SELECT {col} FROM forum_post WHERE id >= (b.lo + b.hi) / 2 ORDER BY id LIMIT 1)"
    rows = await db.fetch(
        "WITH RECURSIVE b(lo, hi) AS (SELECT MIN(id), MAX(id) + 1 FROM forum_post "
        f"UNION ALL SELECT CASE WHEN {probe.format(col='created_at')} >= {{}} THEN b.lo "
        f"ELSE {probe.format(col='id')} + 1 END, "
        f"CASE WHEN {probe.format(col='created_at')} >= {{}} THEN (b.lo + b.hi) / 2 "
        "ELSE b.hi END FROM b WHERE b.lo < b.hi) "
        "SELECT MIN(hi) AS first FROM b", moment, moment)
    return int(rows[0]["first"]) if rows and rows[0]["first"] is not None else 1


async def _at_most(sql: str, args: list[Any], bound: int) -> bool:
    """Whether the query has at most `bound` rows, reading no more than one past it."""
    rows = await db.fetch_small(f"SELECT COUNT(*) AS n FROM ({sql} LIMIT {bound + 1}) AS x", *args)
    return int(rows[0]["n"]) <= bound


# SQLite's planner cannot weigh a full-text match against an index, so the plan is chosen
# here. By default the matches are read newest first and joined. A new member's few posts
# are read from the author index instead and each looked up in the full-text index (a lookup
# costs far more than reading a match). Hidden posts, a member's and a small category's are
# gathered first, and each match is checked against them as the full-text index yields it,
# before any join (`+` keeps SQLite from handing the IN to FTS5 as one lookup per id).
AUTHOR_LOOKUPS = 50
AUTHOR_FIRST = 5000
CATEGORY_FIRST = 300
_MATCHES = ("forum_search JOIN forum_post p ON p.id = forum_search.rowid "
            "JOIN forum_thread t ON t.id = p.thread JOIN forum_category c ON c.id = t.category")
_AUTHORS = ("forum_post p CROSS JOIN forum_search JOIN forum_thread t ON t.id = p.thread "
            "JOIN forum_category c ON c.id = t.category")


async def _plan(f: _Filters) -> tuple[str, str, list[str], list[Any]]:
    """Where to start (FROM), the key to take newest first, and conditions to add."""
    if f.hidden_only:
        return _MATCHES, "forum_search.rowid", [
            "+forum_search.rowid IN (SELECT id FROM forum_post WHERE hidden_at IS NOT NULL)"], []
    if f.author_id is not None:
        authored = "SELECT id FROM forum_post WHERE author = {}"
        if await _at_most(authored, [f.author_id], AUTHOR_LOOKUPS):
            return _AUTHORS, "p.id", ["forum_search.rowid = p.id"], []
        if await _at_most(authored, [f.author_id], AUTHOR_FIRST):
            return _MATCHES, "forum_search.rowid", [f"+forum_search.rowid IN ({authored})"], [
                f.author_id]
    categories = "SELECT id FROM forum_category WHERE id = {} OR parent = {}"
    if f.category_id is not None and await _at_most(
            f"SELECT 1 FROM forum_thread WHERE category IN ({categories})",
            [f.category_id, f.category_id], CATEGORY_FIRST):
        return _MATCHES, "forum_search.rowid", [
            "+forum_search.rowid IN (SELECT p2.id FROM forum_thread t2 JOIN forum_post p2 "
            f"ON p2.thread = t2.id WHERE t2.category IN ({categories}))"], [
            f.category_id, f.category_id]
    return _MATCHES, "forum_search.rowid", [], []


def _id_range(f: _Filters, key: str) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if f.first_id is not None:
        where.append(f"{key} >= {{}}")
        args.append(f.first_id)
    if f.last_id is not None:
        where.append(f"{key} <= {{}}")
        args.append(f.last_id)
    return where, args


async def _starts_from_filter(f: _Filters) -> bool:
    """Whether a filter keeps few enough posts that PostgreSQL should start from them (a
    member's posts, the hidden ones, a small category's) rather than from the matches."""
    if f.author_id is not None or f.hidden_only:
        return True
    return f.category_id is not None and await _at_most(
        "SELECT 1 FROM forum_thread WHERE category IN "
        "(SELECT id FROM forum_category WHERE id = {} OR parent = {})",
        [f.category_id, f.category_id], CATEGORY_FIRST)


# On PostgreSQL the planner cannot be left to choose how to find the newest matches: joined
# to the forum tables it hash-joins every post first, and it misjudges what reading a word's
# GIN entries costs. So the path is chosen here, from the planner's own estimate of how many
# posts hold the words (the lexeme statistics ANALYZE keeps):
# - dense words (in DENSE of the posts or more): walk the posts newest first, testing each,
#   which meets REACH matches within REACH / DENSE posts;
# - the rest: take matches from the GIN index within windows of post ids, intersected with
#   the primary key, so only a window's matches are read from the table. The first window is
#   sized to hold REACH-and-a-half matches by the estimate, each next one by the matches
#   found so far. A word in 2% of a million posts thus reads about 1,500 rows, not 20,000.
DENSE = 0.05
SMALLEST_WINDOW = 10_000


def _candidates_postgres(tsquery: str, f: _Filters, path: str) -> str:
    """Matches between two post ids ({} placeholders: the query's values, the lowest and the
    highest id, the filters' arguments, the most to return), newest first."""
    window = ["s.post_id >= {}", "s.post_id <= {}"]
    if path == "filter":
        # A filter that keeps few posts (an author's, the hidden ones, a small category's):
        # the planner starts from them.
        return (
            "SELECT s.post_id AS id FROM forum_search s "
            "JOIN forum_post p ON p.id = s.post_id JOIN forum_thread t ON t.id = p.thread "
            "JOIN forum_category c ON c.id = t.category WHERE "
            + " AND ".join([f"s.document @@ {tsquery}", *window, *f.where])
            + " ORDER BY s.post_id DESC LIMIT {}")
    # The function behind @@ is a test no index answers, so the dense path walks.
    match = f"ts_match_vq(s.document, {tsquery})" if path == "walk" \
        else f"s.document @@ {tsquery}"
    # "May read" is checked per match; OFFSET 0 keeps it from being pulled up into a join.
    return (
        "SELECT s.post_id AS id FROM forum_search s WHERE "
        + " AND ".join([match, *window])
        + " AND EXISTS (SELECT 1 FROM forum_post p JOIN forum_thread t ON t.id = p.thread "
        "JOIN forum_category c ON c.id = t.category WHERE p.id = s.post_id AND "
        + " AND ".join(f.where) + " OFFSET 0) ORDER BY s.post_id DESC LIMIT {}")


async def _estimated_matches(tsquery: str, values: list[Any], low: int, high: int) -> float:
    rows = await db.fetch(
        f"EXPLAIN (FORMAT JSON) SELECT 1 FROM forum_search s WHERE s.document @@ {tsquery} "
        "AND s.post_id >= {} AND s.post_id <= {}", *values, low, high)
    plan = rows[0]["QUERY PLAN"]
    return float((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])


async def _ranked_postgres(query: Query, f: _Filters, limit: int,
                           offset: int) -> tuple[int, list[int]]:
    tsquery, values = query.tsquery()
    bounds = await db.fetch("SELECT MIN(post_id) AS lo, MAX(post_id) AS hi FROM forum_search")
    if bounds[0]["hi"] is None:
        return 0, []
    lowest = max(int(bounds[0]["lo"]), f.first_id or 0)
    top = int(bounds[0]["hi"]) if f.last_id is None else min(int(bounds[0]["hi"]), f.last_id)
    span = top - lowest + 1
    found: list[int] = []
    async with db.transaction():
        # A prepared statement run often gets a generic plan, which cannot weigh words it
        # does not see: each statement here is planned for its own words and range.
        await db.fetch("SET LOCAL plan_cache_mode = force_custom_plan")
        if await _starts_from_filter(f):
            path, size = "filter", span
        else:
            density = await _estimated_matches(tsquery, values, lowest, top) / max(span, 1)
            path = "walk" if density >= DENSE else "index"
            size = span if path == "walk" else max(
                SMALLEST_WINDOW, int(REACH * 1.5 / max(density, 1e-9)))
        sql = _candidates_postgres(tsquery, f, path)
        high = top
        while high >= lowest and len(found) < REACH:
            low = max(lowest, high - size + 1)
            rows = await db.fetch(sql, *values, low, high, *f.args, REACH - len(found))
            found += [int(r["id"]) for r in rows]
            high = low - 1
            # As many more ids as the density found so far says hold the rest and half as
            # many again, within 2 to 8 times the last window.
            wanted = (REACH - len(found)) * (top - high) // max(len(found), 1)
            size = min(max(wanted * 3 // 2, size * 2), size * 8)
    if not found:
        return 0, []
    match, id_args = db.values_in(found, "bigint")
    rows = await db.fetch(
        f"SELECT post_id AS id FROM forum_search WHERE post_id {match} "
        f"ORDER BY ts_rank(document, {tsquery}, 1) DESC, post_id DESC LIMIT {{}} OFFSET {{}}",
        *id_args, *values, limit, offset)
    return len(found), [int(r["id"]) for r in rows]


async def _ranked_sqlite(query: Query, f: _Filters, limit: int,
                         offset: int) -> tuple[int, list[int]]:
    source, key, planned, planned_args = await _plan(f)
    ids, id_args = _id_range(f, key)
    conditions = " AND ".join([*planned, "forum_search MATCH {}", *ids, *f.where])
    rows = await db.fetch(
        "WITH m AS (SELECT forum_search.rowid AS id, " + _BM25 + f" AS score FROM {source} "
        f"WHERE {conditions} ORDER BY {key} DESC LIMIT {REACH}) "
        "SELECT n.n AS n, r.id AS id FROM (SELECT count(*) AS n FROM m) AS n LEFT JOIN "
        "(SELECT id, score FROM m ORDER BY score, id DESC LIMIT {} OFFSET {}) AS r ON 1 = 1 "
        "ORDER BY r.score, r.id DESC",
        *planned_args, query.fts5(), *id_args, *f.args, limit, offset)
    return int(rows[0]["n"]), [int(r["id"]) for r in rows if r["id"] is not None]


async def _marked(query: Query, ids: list[int]) -> dict[int, tuple[str, str]]:
    """Each post's title and snippet with the markers of highlight around its matches."""
    match, id_args = db.values_in(ids, "bigint")
    if db.is_sqlite():
        rows = await db.fetch(
            "SELECT rowid AS id, highlight(forum_search, 0, {}, {}) AS title, "
            "snippet(forum_search, 1, {}, {}, ' … ', 24) AS snippet FROM forum_search "
            "WHERE forum_search MATCH {} AND rowid " + match,
            highlight.START, highlight.STOP, highlight.START, highlight.STOP, query.fts5(),
            *id_args)
    else:
        tsquery, values = query.tsquery()
        rows = await db.fetch(
            f"WITH q AS (SELECT {tsquery} AS q) SELECT p.id AS id, "
            "CASE WHEN p.post_number = 1 THEN ts_headline('english'::regconfig, t.title, q.q, {}) "
            "ELSE '' END AS title, ts_headline('english'::regconfig, p.markdown, q.q, {}) AS snippet "
            "FROM q, forum_post p JOIN forum_thread t ON t.id = p.thread WHERE p.id " + match,
            *values, _TITLE_HEADLINE, _HEADLINE, *id_args)
    return {int(r["id"]): (r["title"] or "", r["snippet"] or "") for r in rows}


async def search(actor: Actor, q: str, *, category_id: int | None = None,
                 author: str | None = None, since: dt.date | None = None,
                 until: dt.date | None = None, status: str | None = None, page: int = 1,
                 limit: int = 20) -> SearchPage:
    query = parse(q)
    if page < 1:
        raise _invalid("page", "must be 1 or more")
    if not 1 <= limit <= MAX_LIMIT:
        raise _invalid("limit", f"must be from 1 to {MAX_LIMIT}")
    offset = (page - 1) * limit
    if offset >= REACH:
        raise _invalid("page", f"reaches past the first {REACH:,} matches: narrow the search")
    filters = await _filters(actor, category_id, author, since, until, status)
    ranked = _ranked_sqlite if db.is_sqlite() else _ranked_postgres
    total, ids = await ranked(query, filters, min(limit, REACH - offset), offset)
    items = await _hits(query, ids)
    more = offset + len(ids) < total
    return SearchPage(items=items, page=page, limit=limit, total=total,
                      total_exact=total < REACH, next_page=page + 1 if more else None)


async def _hits(query: Query, ids: list[int]) -> list[SearchHit]:
    if not ids:
        return []
    match, id_args = db.values_in(ids, "bigint")
    rows = await db.fetch(
        "SELECT p.id AS id, p.post_number AS post_number, p.thread AS thread, "
        "p.author AS author, p.created_at AS created_at, p.hidden_at AS hidden_at, "
        "p.hidden_reason AS hidden_reason, t.title AS title, t.category AS category "
        "FROM forum_post p JOIN forum_thread t ON t.id = p.thread WHERE p.id " + match, *id_args)
    by_id = {int(r["id"]): r for r in rows}
    marked = await _marked(query, ids)
    authors = await authors_by_id({int(r["author"]) for r in rows})
    hits = []
    for post_id in ids:
        row = by_id.get(post_id)
        if row is None:
            continue
        title, snippet = marked.get(post_id, ("", ""))
        hits.append(SearchHit(
            post_id=post_id, post_number=row["post_number"], thread_id=row["thread"],
            thread_title=row["title"], category_id=row["category"],
            author=authors[int(row["author"])], created_at=row["created_at"],
            title_html=highlight.to_html(title) if title else highlight.plain(row["title"]),
            snippet_html=highlight.to_html(snippet),
            hidden=(row["hidden_reason"] or "moderator") if row["hidden_at"] is not None
            else None,
        ))
    return hits
