"""Rules for members, roles, brands and API tokens."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Collection
from typing import Any, NamedTuple

from server import clock, db, events, outbox, staff_log, watched_words
from server.accounts import sanctions
from server.accounts.passwords import check_password
from server.accounts.schemas import (
    BrandIn,
    BrandOut,
    MemberAdminOut,
    MemberOut,
    MemberPage,
    MemberSuggestion,
    ProfileIn,
    ProfileOut,
    RegisterIn,
    RoleIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)
from server.auth import TOKEN_PREFIX, TOKEN_SCOPES, Actor, forget_member, forget_token
from server.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from server.security import hash_password, new_secret, sha256, verify_password
from server.tables import ApiToken, Brand, Member
from server.text import require_plain

# The member table's display_name column (a watched word's replacement can lengthen it).
DISPLAY_NAME_LENGTH = 80

MEMBER_PAGE_LIMIT = 100
# The member lookup counts and pages this far into a search's matches (search_members).
LOOKUP_REACH = 10_000
SUGGESTIONS = 8
_HANDLE_KEY = re.compile(r"[a-z0-9_]{1,32}")


def member_out(row: dict[str, Any]) -> MemberOut:
    return MemberOut(
        id=row["id"], handle=row["handle"], display_name=row["display_name"], bio=row["bio"],
        role=row["role"], brand_id=row["brand"], created_at=row["created_at"],
    )


async def get_member(member_id: int) -> dict[str, Any]:
    rows = await Member.select().where(Member.id == member_id)
    if not rows:
        raise NotFound(f"member {member_id} does not exist")
    return rows[0]


async def public_member(member_id: int) -> None:
    """404 unless the member exists and is active: what profiles show of anyone."""
    rows = await Member.select(Member.is_active).where(Member.id == member_id)
    if not rows or not rows[0]["is_active"]:
        raise NotFound(f"member {member_id} does not exist")


async def profile(handle: str) -> ProfileOut:
    """A member's public profile by handle, in any case; suspended members have none."""
    key = handle.lower()
    rows = await Member.select(
        Member.id, Member.handle, Member.display_name, Member.bio, Member.role,
        Member.created_at, Member.is_active, Member.profile_hidden_at,
    ).where(Member.handle_key == key) if _HANDLE_KEY.fullmatch(key) else []
    if not rows or not rows[0]["is_active"]:
        raise NotFound(f"no member has the handle '{handle[:40]}'")
    row = rows[0]
    if row["profile_hidden_at"] is not None:
        return ProfileOut(id=row["id"], handle=row["handle"], display_name=row["handle"], bio="",
                          role=row["role"], created_at=row["created_at"], hidden=True)
    return ProfileOut(id=row["id"], handle=row["handle"], display_name=row["display_name"],
                      bio=row["bio"], role=row["role"], created_at=row["created_at"])


async def profiles_for_review(ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """What the review queue shows of members' profiles: id, handle, display name, bio,
    whether the account is active and since when the profile is hidden."""
    if not ids:
        return {}
    rows = await Member.select(
        Member.id, Member.handle, Member.display_name, Member.bio, Member.is_active,
        Member.profile_hidden_at).where(Member.id.is_in(sorted(set(ids))))
    return {int(r["id"]): r for r in rows}


async def set_profile_hidden(member_id: int, hidden: bool) -> bool:
    """Hide or show a member's display name and bio (the review queue's profile target).
    False when there was nothing to change (or no such member)."""
    changed = await Member.update(
        {Member.profile_hidden_at: clock.now() if hidden else None}
    ).where((Member.id == member_id) & (
        Member.profile_hidden_at.is_null() if hidden else Member.profile_hidden_at.is_not_null()
    )).returning(Member.id)
    return bool(changed)


# --- prefix lookups --------------------------------------------------------------------------
# A prefix match is a range on an index: key >= prefix AND key < the prefix's successor. The
# range must compare code points (byte-wise in UTF-8), as SQLite's BINARY collation does; a
# PostgreSQL database collation (en_US, say) ignores punctuation at first and would miss
# "ab_c" for "ab_". So on PostgreSQL the comparisons say COLLATE "C", and the server
# migration "member prefix indexes" indexes handle_key and email in that collation.


def _after(prefix: str) -> str | None:
    """The least string above every string that starts with prefix (None: there is none)."""
    for i in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[i]) + 1
        if 0xD800 <= code <= 0xDFFF:
            code = 0xE000  # surrogates are not characters, and not valid UTF-8
        if code <= 0x10FFFF:
            return prefix[:i] + chr(code)
    return None


def _bytewise(column: str) -> str:
    return column if db.is_sqlite() else f'{column} COLLATE "C"'


def _starts_with(column: str, prefix: str, args: list[object]) -> str:
    """SQL for `column` starting with prefix, adding its parameters to args."""
    key, upper = _bytewise(column), _after(prefix)
    args.append(prefix)
    if upper is None:
        return f"{key} >= {{}}"
    args.append(upper)
    return f"({key} >= {{}} AND {key} < {{}})"


def _invalid_parameter(name: str, message: str) -> Invalid:
    return Invalid(f"{name} {message}", [{"key": name, "message": message}])


async def search_members(actor: Actor, search: str, page: int, limit: int) -> MemberPage:
    """Admins: members whose handle or email starts with `search` (any case), by handle.
    Counting stops at LOOKUP_REACH and pages end there: past it, a narrower search finds a
    member sooner than paging would, and every request stays a bounded index read."""
    if not actor.signed_in:
        raise Unauthenticated("sign in first")
    if not actor.is_admin:
        raise Forbidden("only admins look members up")
    if page < 1:
        raise _invalid_parameter("page", "must be 1 or more")
    if not 1 <= limit <= MEMBER_PAGE_LIMIT:
        raise _invalid_parameter("limit", f"must be from 1 to {MEMBER_PAGE_LIMIT}")
    offset = (page - 1) * limit
    if offset >= LOOKUP_REACH:
        raise _invalid_parameter(
            "page", f"reaches past the first {LOOKUP_REACH:,} members: narrow the search")
    if len(search) > 254:
        raise _invalid_parameter("search", "must be at most 254 characters")
    require_plain(search=search)
    key = search.strip().lower()
    # Emails are stored lower-cased (register), handles have their lower-cased key.
    branches = [] if not key else ["email"] + (["handle_key"] if _HANDLE_KEY.fullmatch(key)
                                               else [])
    count_sql, count_args = _count_matches(branches, key)
    page_sql, page_args = _page_of_matches(branches, key, offset, limit)
    # One statement, one round trip: the count, and the page's rows by handle (none when the
    # page is empty: the count's row then stands alone).
    rows = await db.fetch(
        "SELECT c.n AS n, m.id AS id, m.handle AS handle, m.display_name AS display_name, "
        "m.email AS email, m.role AS role, m.brand AS brand, m.is_active AS is_active, "
        f"m.created_at AS created_at FROM ({count_sql}) AS c LEFT JOIN ({page_sql}) AS p "
        "ON 1 = 1 LEFT JOIN member m ON m.id = p.id ORDER BY p.k", *count_args, *page_args)
    counted = int(rows[0]["n"])
    items = [MemberAdminOut(
        id=int(r["id"]), handle=r["handle"], display_name=r["display_name"], email=r["email"],
        role=r["role"], brand_id=r["brand"], is_active=bool(r["is_active"]),
        created_at=r["created_at"]) for r in rows if r["id"] is not None]
    total = min(counted, LOOKUP_REACH)
    return MemberPage(items=items, total=total, total_exact=counted <= LOOKUP_REACH, page=page,
                      limit=limit, pages=math.ceil(total / limit))


def _count_matches(branches: list[str], key: str) -> tuple[str, list[object]]:
    """SQL and parameters counting the members matching any branch's prefix (every member
    with none), up to LOOKUP_REACH + 1 per branch, from the indexes alone: those whose handle
    matches, plus those whose email matches and handle does not (the email index carries
    handle_key), so that no member is counted twice and nothing needs deduplicating."""
    if not branches:
        return ("SELECT COUNT(*) AS n FROM (SELECT id FROM member LIMIT {}) AS c",
                [LOOKUP_REACH + 1])
    counts: list[str] = []
    args: list[object] = []
    email_args: list[object] = []
    emails = _starts_with("email", key, email_args)
    if "handle_key" in branches:
        handle_args: list[object] = []
        handles = _starts_with("handle_key", key, handle_args)
        counts.append(f"(SELECT COUNT(*) FROM (SELECT id FROM member WHERE {handles} "
                      "LIMIT {}) AS ch)")
        args += [*handle_args, LOOKUP_REACH + 1]
        emails += f" AND NOT {handles}"
        email_args += handle_args
    counts.append(f"(SELECT COUNT(*) FROM (SELECT id FROM member WHERE {emails} "
                  "LIMIT {}) AS ce)")
    args += [*email_args, LOOKUP_REACH + 1]
    return "SELECT " + " + ".join(counts) + " AS n", args


def _page_of_matches(branches: list[str], key: str, offset: int,
                     limit: int) -> tuple[str, list[object]]:
    """SQL and parameters for the ids of one page of matches, by handle. Each branch reads
    at most offset + limit entries of its own index in handle order (the email index carries
    handle_key, both carry id), so no table row is read before the page's own: sorting every
    match of a one-letter search by handle would cost tens of milliseconds."""
    handle_key = _bytewise("handle_key")
    if not branches:
        return (f"SELECT {handle_key} AS k, id FROM member ORDER BY {handle_key} "
                "LIMIT {} OFFSET {}", [limit, offset])
    args: list[object] = []
    selects = []
    for n, column in enumerate(branches):
        match = _starts_with(column, key, args)
        args.append(offset + limit)
        if column == "handle_key":
            selects.append(f"SELECT k, id FROM (SELECT {handle_key} AS k, id FROM member "
                           f"WHERE {match} ORDER BY {handle_key} LIMIT {{}}) AS b{n}")
            continue
        # Email matches are found by the email index, then sorted. PostgreSQL's generic plan
        # (a prepared statement's, after five runs) knows nothing of the prefix and would
        # walk the handle index in order instead, testing every member's email for a rare
        # prefix; OFFSET 0 keeps the inner query apart (SQLite plans each run and needs no
        # fence; it does not take OFFSET without LIMIT).
        fence = "" if db.is_sqlite() else " OFFSET 0"
        selects.append(f"SELECT k, id FROM (SELECT k, id FROM (SELECT {handle_key} AS k, id "
                       f"FROM member WHERE {match}{fence}) AS e{n} ORDER BY k LIMIT {{}}) "
                       f"AS b{n}")
    return " UNION ".join(selects) + " ORDER BY k LIMIT {} OFFSET {}", [*args, limit, offset]


async def suggest_handles(prefix: str) -> list[MemberSuggestion]:
    """Active members whose handle starts with prefix (any case), for @mentions."""
    key = prefix.lower()
    if not _HANDLE_KEY.fullmatch(key):
        raise _invalid_parameter("prefix", "must be 1 to 32 letters, digits or _")
    args: list[object] = []
    where = _starts_with("handle_key", key, args)
    rows = await db.fetch_small(
        f"SELECT id, handle, display_name FROM member WHERE {where} AND is_active = {{}} "
        f"ORDER BY {_bytewise('handle_key')} LIMIT {{}}", *args, True, SUGGESTIONS)
    return [MemberSuggestion(id=int(r["id"]), handle=r["handle"], display_name=r["display_name"])
            for r in rows]


async def members_by_id(ids: set[int]) -> dict[int, MemberOut]:
    if not ids:
        return {}
    # Only what member_out shows: never drag password hashes and emails through hot paths.
    rows = await Member.select(
        Member.id, Member.handle, Member.display_name, Member.bio, Member.role, Member.brand,
        Member.created_at, Member.profile_hidden_at,
    ).where(Member.id.is_in(list(ids)))
    return {r["id"]: member_out(_shown(r)) for r in rows}


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A member as others see them: a hidden profile (a moderator's decision) shows only
    the handle, wherever the name appears."""
    if row.get("profile_hidden_at") is None:
        return row
    return {**row, "display_name": row["handle"], "bio": ""}


class MemberName(NamedTuple):
    handle: str
    display_name: str


async def member_names(ids: Collection[int]) -> dict[int, MemberName]:
    """Handles and display names by id, for lists of members on hot paths (a leaderboard
    page): one statement, three columns, without the query builder's cost."""
    if not ids:
        return {}
    match, args = db.values_in(sorted(ids), "bigint")
    rows = await db.fetch(
        "SELECT id, handle, CASE WHEN profile_hidden_at IS NULL THEN display_name ELSE handle "
        "END AS display_name FROM member WHERE id " + match, *args)
    return {int(r["id"]): MemberName(r["handle"], r["display_name"]) for r in rows}


async def active_member_roles(ids: Collection[int]) -> dict[int, str]:
    """The roles of those of these members whose accounts are active: whom a notification
    may reach, and what they may read."""
    ordered = sorted(ids)
    roles: dict[int, str] = {}
    # In slices: a popular thread's watchers would pass SQLite's limit on parameters.
    for start in range(0, len(ordered), 10_000):
        match, args = db.values_in(ordered[start:start + 10_000], "bigint")
        rows = await db.fetch("SELECT id, role FROM member WHERE is_active AND id " + match, *args)
        roles.update((int(r["id"]), r["role"]) for r in rows)
    return roles


async def active_member_ids_by_handle(handle_keys: Collection[str]) -> dict[str, int]:
    """Active members by lower-cased handle (handle_key); unknown handles are left out."""
    if not handle_keys:
        return {}
    match, args = db.values_in(sorted(handle_keys), "text")
    rows = await db.fetch("SELECT id, handle_key FROM member WHERE is_active AND handle_key "
                          + match, *args)
    return {r["handle_key"]: int(r["id"]) for r in rows}


async def register(data: RegisterIn, role: str = "member", brand_id: int | None = None) -> MemberOut:
    check_password(data.password)
    password_hash = await asyncio.to_thread(hash_password, data.password)
    email = data.email.strip().lower()
    try:
        async with outbox.unit_of_work():
            if await Member.exists().where(Member.handle_key == data.handle.lower()):
                raise Conflict(f"the handle '{data.handle}' is taken")
            if await Member.exists().where(Member.email == email):
                raise Conflict("an account with this email already exists")
            display_name = data.display_name or data.handle
            rows = await Member.insert(
                Member(handle=data.handle, handle_key=data.handle.lower(), email=email,
                       password_hash=password_hash, display_name=display_name,
                       role=role, brand=brand_id)
            ).returning(Member.id)
            member_id = int(rows[0]["id"])
            await _screened_display_name(member_id, display_name)
            await outbox.emit(events.MemberRegistered(member_id=member_id))
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict("the handle or email is taken") from None
        raise
    return member_out(await get_member(member_id))


async def authenticate(login: str, password: str) -> MemberOut:
    key = login.strip().lower()
    column = Member.email if "@" in key else Member.handle_key
    rows = await Member.select().where(column == key)
    row = rows[0] if rows else None
    ok = await asyncio.to_thread(verify_password, row["password_hash"] if row else None, password)
    if row is None or not ok:
        raise Unauthenticated("wrong handle/email or password")
    if not row["is_active"]:
        raise Forbidden("this account is suspended")
    if row["suspended_until"] is not None and row["suspended_until"] > clock.now():
        raise Forbidden(await sanctions.suspension_notice(row["id"])
                        or "this account is suspended")
    return member_out(row)


def _fits(display_name: str) -> None:
    if len(display_name) > DISPLAY_NAME_LENGTH:
        raise Invalid(f"with watched words replaced, the display name is longer than "
                      f"{DISPLAY_NAME_LENGTH} characters")


async def _screened_display_name(member_id: int, display_name: str) -> None:
    """Inside the registration's unit of work: the watched words apply to the new display
    name as to any profile change."""
    screened = await watched_words.screen_profile(member_id, {"display name": display_name})
    if screened["display name"] != display_name:
        _fits(screened["display name"])
        await Member.update({Member.display_name: screened["display name"]}).where(
            Member.id == member_id)


async def update_profile(actor: Actor, data: ProfileIn) -> MemberOut:
    member_id = actor.member()
    await sanctions.require_may_participate(actor)
    texts: dict[str, str] = {}
    if isinstance(data.display_name, str):
        texts["display name"] = data.display_name.strip() or actor.handle
    if isinstance(data.bio, str):
        texts["bio"] = data.bio.strip()
    if texts:
        async with outbox.unit_of_work():
            texts = await watched_words.screen_profile(member_id, texts)
            _fits(texts.get("display name", ""))
            columns = {"display name": Member.display_name, "bio": Member.bio}
            await Member.update({columns[what]: text for what, text in texts.items()}).where(
                Member.id == member_id)
    return member_out(await get_member(member_id))


async def set_role(actor: Actor, member_id: int, data: RoleIn) -> MemberOut:
    if not actor.is_admin:
        raise Forbidden("only admins change roles")
    if data.role == "brand_staff":
        if data.brand_id is None:
            raise Invalid("brand_staff needs a brand_id")
        await get_brand(data.brand_id)
    elif data.brand_id is not None:
        raise Invalid("only brand_staff is scoped to a brand")
    if member_id == actor.member_id and data.role != "admin":
        raise Conflict("admins cannot demote themselves")
    await get_member(member_id)
    async with outbox.unit_of_work():
        was = await get_member(member_id)
        await Member.update({Member.role: data.role, Member.brand: data.brand_id}).where(
            Member.id == member_id
        )
        await outbox.emit(events.MemberRoleChanged(member_id=member_id, role=data.role))
        before, after = staff_log.changes({"role": was["role"], "brand_id": was["brand"]},
                                          {"role": data.role, "brand_id": data.brand_id})
        if after:
            # The brand a member joins or leaves as staff sees it in its log.
            await staff_log.record(actor, "member.role", "member", member_id,
                                   f"@{was['handle']}", before=before, after=after,
                                   brand_id=data.brand_id or was["brand"])
    forget_member(member_id)
    return member_out(await get_member(member_id))


async def staff_member_ids() -> set[int]:
    """Everyone whose role is not plain member (kept off leaderboards, for instance)."""
    rows = await Member.select(Member.id).where(Member.role != "member")
    return {int(r["id"]) for r in rows}


async def brands_staffed(member_ids: Collection[int]) -> dict[int, int]:
    """The brand each of these members is staff of, for those who are brand staff."""
    if not member_ids:
        return {}
    rows = await Member.select(Member.id, Member.brand).where(
        Member.id.is_in(sorted(member_ids)) & (Member.role == "brand_staff"))
    return {int(r["id"]): int(r["brand"]) for r in rows if r["brand"] is not None}


async def brand_staff_ids(brand_id: int) -> set[int]:
    """Every member who is staff of this brand."""
    rows = await Member.select(Member.id).where(
        (Member.brand == brand_id) & (Member.role == "brand_staff"))
    return {int(r["id"]) for r in rows}


async def plain_member_ids(ids: set[int]) -> set[int]:
    """Which of these are plain members (not staff): on hot paths, so one statement."""
    if not ids:
        return set()
    match, args = db.values_in(sorted(ids), "bigint")
    rows = await db.fetch("SELECT id FROM member WHERE role = 'member' AND id " + match, *args)
    return {int(r["id"]) for r in rows}


def brand_out(row: dict[str, Any]) -> BrandOut:
    return BrandOut(id=row["id"], name=row["name"], slug=row["slug"])


async def get_brand(brand_id: int) -> BrandOut:
    rows = await Brand.select().where(Brand.id == brand_id)
    if not rows:
        raise NotFound(f"brand {brand_id} does not exist")
    return brand_out(rows[0])


async def list_brands() -> list[BrandOut]:
    return [brand_out(r) for r in await Brand.select().order_by(Brand.id)]


async def create_brand(actor: Actor, data: BrandIn) -> BrandOut:
    if not actor.is_admin:
        raise Forbidden("only admins create brands")
    try:
        async with outbox.unit_of_work():
            rows = await Brand.insert(Brand(name=data.name, slug=data.slug)).returning(Brand.id)
            brand_id = int(rows[0]["id"])
            await staff_log.record(actor, "brand.create", "brand", brand_id,
                                   f"brand '{data.name}'", after={"name": data.name,
                                                                  "slug": data.slug},
                                   brand_id=brand_id)
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict(f"a brand with slug '{data.slug}' exists") from None
        raise
    return await get_brand(brand_id)


def _may_manage_brand(actor: Actor, brand_id: int) -> None:
    if actor.manages_brand(brand_id):
        return
    raise Forbidden("only this brand's staff or an admin may do that")


def token_out(row: dict[str, Any]) -> TokenOut:
    return TokenOut(
        id=row["id"], brand_id=row["brand"], name=row["name"], scopes=row["scopes"].split(),
        created_at=row["created_at"], last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def create_token(actor: Actor, brand_id: int, data: TokenIn) -> TokenCreatedOut:
    if actor.via == "token":
        raise Forbidden("API tokens cannot mint other tokens")
    member_id = actor.member()
    await get_brand(brand_id)
    _may_manage_brand(actor, brand_id)
    unknown = set(data.scopes) - TOKEN_SCOPES
    if unknown:
        raise Invalid(f"unknown scopes: {', '.join(sorted(unknown))}; use {sorted(TOKEN_SCOPES)}")
    lookup, secret = new_secret(9), new_secret(24)
    lookup = lookup.replace("_", "x").replace("-", "y")
    scopes = " ".join(sorted(set(data.scopes)))
    async with outbox.unit_of_work():
        rows = await ApiToken.insert(
            ApiToken(brand=brand_id, created_by=member_id, name=data.name, lookup=lookup,
                     secret_hash=sha256(secret), scopes=scopes)
        ).returning(ApiToken.id)
        await staff_log.record(actor, "token.create", "token", rows[0]["id"],
                               f"token '{data.name}'", after={"name": data.name,
                                                              "scopes": scopes.split()},
                               brand_id=brand_id)
    row = (await ApiToken.select().where(ApiToken.id == rows[0]["id"]))[0]
    return TokenCreatedOut(token=token_out(row), secret=f"{TOKEN_PREFIX}_{lookup}_{secret}")


async def list_tokens(actor: Actor, brand_id: int) -> list[TokenOut]:
    _may_manage_brand(actor, brand_id)
    rows = await ApiToken.select().where(ApiToken.brand == brand_id).order_by(ApiToken.id)
    return [token_out(r) for r in rows]


async def revoke_token(actor: Actor, brand_id: int, token_id: int) -> TokenOut:
    _may_manage_brand(actor, brand_id)
    rows = await ApiToken.select().where((ApiToken.id == token_id) & (ApiToken.brand == brand_id))
    if not rows:
        raise NotFound(f"token {token_id} does not exist in brand {brand_id}")
    if rows[0]["revoked_at"] is None:
        async with outbox.unit_of_work():
            revoked = await ApiToken.update({ApiToken.revoked_at: clock.now()}).where(
                (ApiToken.id == token_id) & ApiToken.revoked_at.is_null()
            ).returning(ApiToken.id)
            if revoked:
                await staff_log.record(actor, "token.revoke", "token", token_id,
                                       f"token '{rows[0]['name']}'", before={"revoked": False},
                                       after={"revoked": True}, brand_id=brand_id)
        forget_token(token_id)
    return token_out((await ApiToken.select().where(ApiToken.id == token_id))[0])


async def set_password(member_id: int, password: str) -> None:
    """Give a member a new password (argon2id). Their open sessions stay open."""
    if len(password) < 10:
        raise Invalid("a password needs at least 10 characters")
    await get_member(member_id)
    password_hash = await asyncio.to_thread(hash_password, password)
    await Member.update({Member.password_hash: password_hash}).where(Member.id == member_id)


async def active_member_ids_by_email(emails: Collection[str]) -> dict[str, int]:
    """Active members by email, keyed as addresses are stored (trimmed, lower case)."""
    keys = sorted({e.strip().lower() for e in emails})
    if not keys:
        return {}
    rows = await Member.select(Member.id, Member.email).where(
        Member.email.is_in(keys) & (Member.is_active == True))  # noqa: E712
    return {str(r["email"]): int(r["id"]) for r in rows}
