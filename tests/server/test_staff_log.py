"""The staff audit log: every staff act writes exactly one entry in its own transaction (who,
on what, before and after, why, for which brand); staff read it by their scope, members and
API tokens not at all; nothing can change or remove an entry, not even raw SQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.harness import ADMIN_HANDLE, Client, Server, Stack


def log(reader: Client, **filters: Any) -> list[dict[str, Any]]:
    response = reader.get("/api/staff-log", params={"limit": 100, **filters})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["items"]
    return entries


def about(reader: Client, target_type: str, target_id: Any, **filters: Any) -> list[dict]:
    return log(reader, target_type=target_type, target_id=str(target_id), **filters)


def one(reader: Client, target_type: str, target_id: Any, action: str) -> dict[str, Any]:
    """The single entry of this action on this target (and there must be exactly one)."""
    found = about(reader, target_type, target_id, action=action)
    assert [e["action"] for e in found] == [action], found
    return found[0]


def brand_with_staff(admin: Client, server: Server) -> dict[str, Any]:
    made = admin.post("/api/brands", {"name": "Audit " + uuid.uuid4().hex[:4],
                                      "slug": "a-" + uuid.uuid4().hex[:8]})
    assert made.status_code == 201, made.text
    staff = server.client().register()
    changed = admin.put(f"/api/members/{staff.member['id']}/role",
                        {"role": "brand_staff", "brand_id": made.json()["id"]})
    assert changed.status_code == 200, changed.text
    return {"brand": made.json(), "staff": staff}


@pytest.fixture
def ours(admin: Client, server: Server) -> dict[str, Any]:
    return brand_with_staff(admin, server)


@pytest.fixture
def theirs(admin: Client, server: Server) -> dict[str, Any]:
    return brand_with_staff(admin, server)


def key() -> str:
    return "k-" + uuid.uuid4().hex


# --- reading ------------------------------------------------------------------------------


def test_members_anonymous_readers_and_api_tokens_are_refused(
        ours: dict, member: Client, anon: Client, server: Server) -> None:
    assert member.get("/api/staff-log").status_code == 403
    assert anon.get("/api/staff-log").status_code == 401
    brand_id = ours["brand"]["id"]
    made = ours["staff"].post(f"/api/brands/{brand_id}/tokens",
                              {"name": "Audit reader", "scopes": ["read"]})
    assert made.status_code == 201, made.text
    integration = server.client()
    integration.token = made.json()["secret"]
    refused = integration.get("/api/staff-log", params={"brand_id": brand_id})
    assert refused.status_code == 403, refused.text
    assert "API tokens" in refused.json()["error"]["message"]


def test_brand_staff_read_their_brand_only_while_admins_and_moderators_read_all(
        admin: Client, moderator: Client, ours: dict, theirs: dict) -> None:
    staff, brand_id = ours["staff"], ours["brand"]["id"]
    made = staff.post("/api/gamification/rules", {
        "name": "Audited rule", "event_types": ["post.created"], "points": 2,
        "brand_id": brand_id})
    assert made.status_code == 201, made.text
    rule_id = made.json()["id"]

    seen = one(staff, "rule", rule_id, "rule.create")
    assert seen["brand_id"] == brand_id
    assert seen["actor_label"] == f"@{staff.member['handle']}"
    assert seen["actor_id"] == staff.member["id"]
    # Everything brand staff read is their brand's.
    assert {e["brand_id"] for e in log(staff)} == {brand_id}
    assert about(theirs["staff"], "rule", rule_id) == []
    other_brand = theirs["staff"].get("/api/staff-log", params={"brand_id": brand_id})
    assert other_brand.status_code == 403, other_brand.text
    assert one(admin, "rule", rule_id, "rule.create")["id"] == seen["id"]
    assert one(moderator, "rule", rule_id, "rule.create")["id"] == seen["id"]
    # An admin narrows to a brand.
    assert {e["brand_id"] for e in log(admin, brand_id=brand_id)} == {brand_id}


def test_filters_and_pages_newest_first(admin: Client, ours: dict) -> None:
    staff, brand_id = ours["staff"], ours["brand"]["id"]
    tokens = []
    for name in ("One", "Two", "Three"):
        made = staff.post(f"/api/brands/{brand_id}/tokens", {"name": name, "scopes": ["read"]})
        assert made.status_code == 201, made.text
        tokens.append(made.json()["token"]["id"])
    mine = {"actor": staff.member["handle"], "action": "token.", "brand_id": brand_id}
    first = admin.get("/api/staff-log", params={**mine, "limit": 2}).json()
    assert [e["target_id"] for e in first["items"]] == [str(tokens[2]), str(tokens[1])]
    assert first["next_cursor"] == first["items"][-1]["id"]
    rest = admin.get("/api/staff-log", params={**mine, "limit": 2,
                                               "before": first["next_cursor"]}).json()
    assert [e["target_label"] for e in rest["items"]] == ["token 'One'"]
    assert rest["next_cursor"] is None
    # The action filter is a prefix of whole actions, and the actor filter takes "@".
    assert log(admin, action="token.create", actor="@" + staff.member["handle"],
               brand_id=brand_id) == first["items"] + rest["items"]
    assert log(admin, action="token.revoke", brand_id=brand_id) == []
    # Times: everything so far is before a minute from now, nothing after it.
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)).isoformat()
    assert log(admin, brand_id=brand_id, since=later) == []
    assert len(log(admin, brand_id=brand_id, until=later, action="token.")) == 3


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"action": "Token!"}, 422, "action"),
    ({"target_id": "5"}, 422, "target_type"),
    ({"target_type": "Not a type"}, 422, "target_type"),
    ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 422, "since"),
    ({"since": "2026-02-01T00:00:00"}, 422, "time zone"),
    ({"since": "yesterday"}, 400, "since"),
    ({"actor": "nobody_" + uuid.uuid4().hex[:8]}, 404, "no member"),
    ({"actor": "not a handle"}, 422, "handle"),
    ({"limit": 0}, 400, "limit"),
    ({"limit": 101}, 400, "limit"),
    ({"before": 2**63}, 400, "before"),
    ({"brand_id": 0}, 400, "brand_id"),
])
def test_bad_filters_get_a_clear_4xx(admin: Client, params: dict, status: int,
                                     message: str) -> None:
    response = admin.get("/api/staff-log", params=params)
    assert response.status_code == status, response.text
    assert message in response.text


# --- append-only --------------------------------------------------------------------------


def test_raw_sql_cannot_change_or_remove_an_entry(admin: Client, stack: Stack,
                                                  ours: dict) -> None:
    entry = one(admin, "brand", ours["brand"]["id"], "brand.create")
    for statement in (f"UPDATE staff_log SET reason = 'covered up' WHERE id = {entry['id']}",
                      f"DELETE FROM staff_log WHERE id = {entry['id']}",
                      "DELETE FROM staff_log"):
        with pytest.raises((sqlite3.DatabaseError, subprocess.CalledProcessError)):
            stack.sql(statement)
    if stack.mode == "scaled":
        with pytest.raises(subprocess.CalledProcessError):
            stack.sql("TRUNCATE staff_log")
    assert one(admin, "brand", ours["brand"]["id"], "brand.create") == entry


# --- each staff act, one entry ------------------------------------------------------------


def test_role_changes_and_brands(admin: Client, ours: dict, member: Client) -> None:
    brand = ours["brand"]
    created = one(admin, "brand", brand["id"], "brand.create")
    assert created["target_label"] == f"brand '{brand['name']}'"
    assert created["after"] == {"name": brand["name"], "slug": brand["slug"]}
    assert created["before"] is None and created["actor_label"] == f"@{ADMIN_HANDLE}"

    staff = ours["staff"]
    joined = one(admin, "member", staff.member["id"], "member.role")
    assert joined["before"] == {"role": "member", "brand_id": None}
    assert joined["after"] == {"role": "brand_staff", "brand_id": brand["id"]}
    assert joined["brand_id"] == brand["id"]
    assert joined["target_label"] == f"@{staff.member['handle']}"

    promoted = admin.put(f"/api/members/{member.member['id']}/role", {"role": "moderator"})
    assert promoted.status_code == 200, promoted.text
    entry = one(admin, "member", member.member["id"], "member.role")
    assert (entry["before"], entry["after"]) == ({"role": "member"}, {"role": "moderator"})
    # The same role again changes nothing and records nothing.
    assert admin.put(f"/api/members/{member.member['id']}/role",
                     {"role": "moderator"}).status_code == 200
    assert len(about(admin, "member", member.member["id"], action="member.role")) == 1
    # A refused change writes nothing.
    assert admin.put(f"/api/members/{member.member['id']}/role",
                     {"role": "brand_staff"}).status_code == 422
    assert len(about(admin, "member", member.member["id"], action="member.role")) == 1


def test_tokens_created_and_revoked(ours: dict, admin: Client) -> None:
    staff, brand_id = ours["staff"], ours["brand"]["id"]
    made = staff.post(f"/api/brands/{brand_id}/tokens", {"name": "Shop sync",
                                                         "scopes": ["write", "read"]})
    assert made.status_code == 201, made.text
    token_id = made.json()["token"]["id"]
    created = one(staff, "token", token_id, "token.create")
    assert created["target_label"] == "token 'Shop sync'"
    assert created["after"] == {"name": "Shop sync", "scopes": ["read", "write"]}
    assert made.json()["secret"] not in str(created)
    for _ in range(2):
        revoked = staff.post(f"/api/brands/{brand_id}/tokens/{token_id}/revoke")
        assert revoked.status_code == 200, revoked.text
    entry = one(admin, "token", token_id, "token.revoke")
    assert (entry["before"], entry["after"], entry["brand_id"]) == (
        {"revoked": False}, {"revoked": True}, brand_id)
    refused = staff.post(f"/api/brands/{brand_id}/tokens", {"name": "x", "scopes": ["root"]})
    assert refused.status_code == 422
    assert log(staff, action="token.create", target_type="token") == [created]


def test_badges_defined_granted_and_revoked(admin: Client, ours: dict, member: Client) -> None:
    made = admin.post("/api/gamification/badges", {
        "slug": "audit-" + uuid.uuid4().hex[:8], "name": "Helper", "criteria": {"type": "manual"}})
    assert made.status_code == 201, made.text
    badge = made.json()
    created = one(admin, "badge", badge["id"], "badge.create")
    assert created["target_label"] == "badge 'Helper'"
    assert created["after"]["criteria"] == {"type": "manual"}
    renamed = admin.patch(f"/api/gamification/badges/{badge['id']}", {"name": "Kind helper"})
    assert renamed.status_code == 200, renamed.text
    updated = one(admin, "badge", badge["id"], "badge.update")
    assert (updated["before"], updated["after"]) == ({"name": "Helper"}, {"name": "Kind helper"})

    staff, handle = ours["staff"], member.member["handle"]
    granted = staff.post(f"/api/gamification/badges/{badge['id']}/grants",
                         {"member_id": member.member["id"], "reason": "answered everyone"})
    assert granted.status_code == 201, granted.text
    grant_id = granted.json()["id"]
    entry = one(staff, "badge_grant", grant_id, "badge.grant")
    assert entry["target_label"] == f"badge 'Kind helper' to @{handle}"
    assert entry["reason"] == "answered everyone"
    assert entry["brand_id"] == ours["brand"]["id"]
    again = staff.post(f"/api/gamification/badges/{badge['id']}/grants",
                       {"member_id": member.member["id"], "reason": "twice"})
    assert again.status_code == 409
    revoked = staff.post(f"/api/gamification/badges/{badge['id']}/grants/{grant_id}/revoke",
                         {"reason": "granted by mistake"})
    assert revoked.status_code == 200, revoked.text
    gone = one(staff, "badge_grant", grant_id, "badge.revoke")
    assert (gone["reason"], gone["after"]) == ("granted by mistake", {"revoked": True})
    assert len(about(admin, "badge_grant", grant_id)) == 2


def test_points_adjusted_funded_and_reversed(admin: Client, ours: dict,
                                             member: Client) -> None:
    brand_id = ours["brand"]["id"]
    funding = {"amount": 100, "reason": "Q4 budget", "idempotency_key": key()}
    for _ in range(2):  # a retry under the same key is the same act
        funded = admin.post(f"/api/gamification/brands/{brand_id}/budget", funding)
        assert funded.status_code == 201, funded.text
    entry = one(ours["staff"], "brand", brand_id, "budget.fund")
    assert entry["after"] == {"points": 100, "transaction": funded.json()["id"]}
    assert entry["reason"] == "Q4 budget"

    staff = ours["staff"]
    body = {"member_id": member.member["id"], "amount": 30, "reason": "service recovery",
            "idempotency_key": key()}
    adjusted = staff.post("/api/gamification/adjustments", body)
    assert adjusted.status_code == 201, adjusted.text
    assert staff.post("/api/gamification/adjustments", body).status_code == 201
    entry = one(staff, "member", member.member["id"], "points.adjust")
    assert entry["after"] == {"points": 30, "from": f"brand:{brand_id}:budget",
                              "transaction": adjusted.json()["id"]}
    assert entry["target_label"] == f"@{member.member['handle']}"
    assert entry["brand_id"] == brand_id

    # Refused for want of points: no act, no entry.
    too_much = staff.post("/api/gamification/adjustments", {**body, "amount": 10_000,
                                                            "idempotency_key": key()})
    assert too_much.status_code == 409, too_much.text
    assert len(about(admin, "member", member.member["id"], action="points.")) == 1

    transaction_id = adjusted.json()["id"]
    for _ in range(2):
        reversed_ = staff.post(f"/api/gamification/transactions/{transaction_id}/reverse",
                               {"reason": "wrong member"})
        assert reversed_.status_code == 201, reversed_.text
    entry = one(staff, "transaction", transaction_id, "points.reverse")
    assert entry["after"]["reversal"] == reversed_.json()["id"]
    assert entry["before"]["postings"][f"member:{member.member['id']}"] == 30
    assert (entry["reason"], entry["brand_id"]) == ("wrong member", brand_id)


def test_rules_tiers_seasons_and_exclusions(admin: Client, member: Client) -> None:
    made = admin.post("/api/gamification/rules", {
        "name": "Replies", "event_types": ["post.created"], "points": 3, "enabled": False})
    assert made.status_code == 201, made.text
    rule_id = made.json()["id"]
    created = one(admin, "rule", rule_id, "rule.create")
    assert created["after"]["points"] == "3" and created["brand_id"] is None
    changed = admin.patch(f"/api/gamification/rules/{rule_id}", {"points": 4, "name": "Replies!"})
    assert changed.status_code == 200, changed.text
    entry = one(admin, "rule", rule_id, "rule.update")
    assert entry["before"] == {"name": "Replies", "points": "3"}
    assert entry["after"] == {"name": "Replies!", "points": "4"}
    assert entry["target_label"] == "rule 'Replies!'"

    ladder = admin.get("/api/gamification/tiers").json()
    count = len(log(admin, target_type="tier_ladder"))
    try:
        moved = admin.put("/api/gamification/tiers", {**ladder,
                                                      "grace_days": ladder["grace_days"] + 1})
        assert moved.status_code == 200, moved.text
        entry = log(admin, target_type="tier_ladder")[0]
        assert (entry["before"], entry["after"]) == (
            {"grace_days": ladder["grace_days"]}, {"grace_days": ladder["grace_days"] + 1})
    finally:
        assert admin.put("/api/gamification/tiers", ladder).status_code == 200
    assert len(log(admin, target_type="tier_ladder")) == count + 2

    season = admin.post("/api/leaderboards/seasons", {
        "name": "Audit season", "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2026-03-01T00:00:00Z"})
    assert season.status_code == 201, season.text
    assert one(admin, "season", season.json()["id"], "season.create")["target_label"] == \
        "season 'Audit season'"

    member_id = member.member["id"]
    for _ in range(2):
        assert admin.put(f"/api/leaderboards/exclusions/{member_id}").status_code == 204
    assert admin.delete(f"/api/leaderboards/exclusions/{member_id}").status_code == 204
    assert [e["action"] for e in about(admin, "member", member_id, action="leaderboard.")] == [
        "leaderboard.include", "leaderboard.exclude"]


def test_challenges_and_the_label_outlives_a_deleted_draft(admin: Client, ours: dict,
                                                          stack: Stack) -> None:
    staff, brand_id = ours["staff"], ours["brand"]["id"]
    now = stack.now()
    body = {"brand_id": brand_id, "title": "Spring sprint", "time_zone": "UTC",
            "starts_at": (now + dt.timedelta(days=1)).isoformat(),
            "ends_at": (now + dt.timedelta(days=8)).isoformat(),
            "tasks": [{"name": "Start a thread", "event_types": ["thread.created"],
                       "target": 1}]}
    made = staff.post("/api/challenges", body)
    assert made.status_code == 201, made.text
    challenge_id = made.json()["id"]
    assert one(staff, "challenge", challenge_id, "challenge.create")["after"]["title"] == \
        "Spring sprint"
    edited = staff.put(f"/api/challenges/{challenge_id}", {**body, "title": "Spring dash"})
    assert edited.status_code == 200, edited.text
    entry = one(staff, "challenge", challenge_id, "challenge.update")
    assert (entry["before"], entry["after"]) == ({"title": "Spring sprint"},
                                                 {"title": "Spring dash"})
    # Refused (a draft is deleted, not cancelled): nothing recorded.
    assert staff.post(f"/api/challenges/{challenge_id}/cancel").status_code == 409
    published = staff.post(f"/api/challenges/{challenge_id}/publish")
    assert published.status_code == 200, published.text
    assert one(staff, "challenge", challenge_id, "challenge.publish")["after"]["status"] == \
        "scheduled"
    assert staff.post(f"/api/challenges/{challenge_id}/cancel").status_code == 200
    cancelled = one(staff, "challenge", challenge_id, "challenge.cancel")
    assert cancelled["after"] == {"status": "cancelled"}

    draft = staff.post("/api/challenges", {**body, "title": "Never run"}).json()
    assert staff.delete(f"/api/challenges/{draft['id']}").status_code == 204
    assert staff.get(f"/api/challenges/{draft['id']}").status_code == 404
    deleted = one(admin, "challenge", draft["id"], "challenge.delete")
    assert deleted["target_label"] == "challenge 'Never run'"
    assert one(admin, "challenge", draft["id"], "challenge.create")["target_label"] == \
        "challenge 'Never run'"


def test_categories_created_updated_and_arranged(admin: Client, ours: dict) -> None:
    slug = "audit-" + uuid.uuid4().hex[:8]
    made = admin.post("/api/categories", {"name": "Audit " + slug, "slug": slug,
                                          "brand_id": ours["brand"]["id"]})
    assert made.status_code == 201, made.text
    category = made.json()
    created = one(ours["staff"], "category", category["id"], "category.create")
    assert created["after"]["slug"] == slug
    assert admin.post("/api/categories", {"name": "Twice", "slug": slug}).status_code == 409
    changed = admin.patch(f"/api/categories/{category['id']}", {"description": "Now described"})
    assert changed.status_code == 200, changed.text
    entry = one(admin, "category", category["id"], "category.update")
    assert (entry["before"], entry["after"]) == ({"description": ""},
                                                 {"description": "Now described"})
    before = len(log(admin, action="category.arrange"))
    arranged = admin.put("/api/categories/order", {"items": [
        {"id": category["id"], "position": category["position"] + 7, "parent_id": None}]})
    assert arranged.status_code == 200, arranged.text
    entry = log(admin, action="category.arrange")[0]
    assert len(log(admin, action="category.arrange")) == before + 1
    label = f"'Audit {slug}' ({category['id']})"
    assert entry["after"] == {label: {"position": category["position"] + 7, "parent_id": None}}


def test_outbox_retry_and_discard(admin: Client, stack: Stack) -> None:
    rows = stack.sql("INSERT INTO outbox_event (type, payload, created_at, attempts) VALUES "
                     "('post.created', 'not json', '2026-01-01 00:00:00+00:00', 25) RETURNING id")
    event_id = int(rows[0][0])
    assert admin.post(f"/api/admin/outbox/{event_id}/retry").status_code == 200
    retried = one(admin, "outbox_event", event_id, "outbox.retry")
    assert retried["before"]["attempts"] == 25 and retried["after"] == {"attempts": 0}
    assert retried["target_label"] == f"post.created event {event_id}"
    assert admin.post(f"/api/admin/outbox/{event_id}/discard").status_code == 200
    discarded = one(admin, "outbox_event", event_id, "outbox.discard")
    assert discarded["after"] == {"dispatched": True}
    # Discarded already: refused, and nothing more recorded.
    assert admin.post(f"/api/admin/outbox/{event_id}/discard").status_code == 409
    assert len(about(admin, "outbox_event", event_id)) == 2


# --- races: one act, one entry --------------------------------------------------------------


def test_concurrent_repeats_of_one_act_write_one_entry(admin: Client, ours: dict,
                                                       member: Client) -> None:
    staff, brand_id = ours["staff"], ours["brand"]["id"]
    made = staff.post(f"/api/brands/{brand_id}/tokens", {"name": "Raced", "scopes": ["read"]})
    assert made.status_code == 201, made.text
    token_id = made.json()["token"]["id"]
    body = {"member_id": member.member["id"], "amount": 5, "reason": "raced goodwill",
            "idempotency_key": key()}
    assert admin.post(f"/api/gamification/brands/{brand_id}/budget",
                      {"amount": 50, "reason": "float", "idempotency_key": key()}).status_code == 201

    def revoke() -> int:
        return staff.post(f"/api/brands/{brand_id}/tokens/{token_id}/revoke").status_code

    def adjust() -> int:
        return staff.post("/api/gamification/adjustments", body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        revokes = [pool.submit(revoke) for _ in range(4)]
        adjusts = [pool.submit(adjust) for _ in range(4)]
        assert [f.result() for f in revokes] == [200] * 4
        assert [f.result() for f in adjusts] == [201] * 4
    one(admin, "token", token_id, "token.revoke")
    one(admin, "member", member.member["id"], "points.adjust")
