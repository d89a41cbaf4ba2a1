"""The admins' member lookup (GET /api/members), handle autocomplete for @mentions, and
changing a member's role and brand from the lookup."""

import uuid

import pytest

from tests.harness import Client, Server


def _register(server: Server, handle: str, email: str) -> Client:
    client = server.client()
    response = client.post("/api/register", {"handle": handle, "email": email,
                                             "password": "correct horse battery"})
    assert response.status_code == 201, response.text
    client.member = response.json()["member"]
    return client


@pytest.fixture
def brand(admin: Client) -> int:
    slug = "lb-" + uuid.uuid4().hex[:6]
    response = admin.post("/api/brands", {"name": "Lookup brand", "slug": slug})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def brand_staff(server: Server, admin: Client, brand: int) -> Client:
    client = server.client().register()
    response = admin.put(f"/api/members/{client.member['id']}/role",
                         {"role": "brand_staff", "brand_id": brand})
    assert response.status_code == 200, response.text
    return client


def _handles(response: object) -> list[str]:
    return [m["handle"] for m in response.json()["items"]]  # type: ignore[attr-defined]


def test_only_admins_look_members_up(admin: Client, member: Client, moderator: Client,
                                     brand_staff: Client, anon: Client, brand: int) -> None:
    assert admin.get("/api/members").status_code == 200
    assert anon.get("/api/members").status_code == 401
    for client in (member, moderator, brand_staff):
        response = client.get("/api/members", params={"search": "a"})
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
    # An API token acts as its brand's staff, never as the admin who made it.
    token = admin.post(f"/api/brands/{brand}/tokens", {"name": "crm", "scopes": ["read"]})
    assert token.status_code == 201, token.text
    integration = admin.server.client()
    integration.token = token.json()["secret"]
    assert integration.get("/api/members").status_code == 403


def test_page_limit_and_search_are_validated(admin: Client) -> None:
    for params, key in [({"page": 0}, "page"), ({"page": -1}, "page"), ({"page": 10_001}, "page"),
                        # Pages end 10,000 members in: past that, narrow the search.
                        ({"page": 101, "limit": 100}, "page"), ({"page": 501}, "page"),
                        ({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
                        ({"search": "x" * 255}, "search"), ({"search": "a\u202eb"}, "search")]:
        response = admin.get("/api/members", params=params)
        assert response.status_code == 422, (params, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid" and key in error["message"], (params, error)
        assert error["details"][0]["key"] == key
    # Not a number at all is malformed, as for every parameter.
    assert admin.get("/api/members", params={"page": "two"}).status_code == 400
    assert admin.get("/api/members", params={"limit": 100, "page": 100}).status_code == 200


def test_search_matches_handle_or_email_prefix_in_any_case(admin: Client, server: Server) -> None:
    tag = uuid.uuid4().hex[:6]
    alice = _register(server, f"Lk{tag}_Alice", f"alice.{tag}@example.test")
    alan = _register(server, f"lk{tag}_alan", f"ALAN.{tag}@Example.TEST")
    bob = _register(server, f"lk{tag}_bob", f"zed{tag}@example.test")
    # An underscore orders differently in most database collations: the prefix still holds.
    under = _register(server, f"lk{tag}__x", f"under.{tag}@example.test")

    found = admin.get("/api/members", params={"search": f"LK{tag}"}).json()
    assert _handles_of(found) == sorted(
        [c.member["handle"] for c in (alice, alan, bob, under)], key=str.lower)
    assert found["total"] == 4 and found["page"] == 1 and found["pages"] == 1
    item = next(i for i in found["items"] if i["id"] == alan.member["id"])
    assert item["email"] == f"alan.{tag}@example.test"
    assert item["role"] == "member" and item["brand_id"] is None and item["is_active"] is True

    assert _handles_of(admin.get("/api/members", params={"search": f"lk{tag}_a"}).json()) == [
        alan.member["handle"], alice.member["handle"]]
    assert _handles_of(admin.get("/api/members", params={"search": f"lk{tag}__"}).json()) == [
        under.member["handle"]]
    # Email prefixes, whatever case they were registered or searched in.
    assert _handles_of(admin.get("/api/members", params={"search": f"Alan.{tag}@EX"}).json()) == [
        alan.member["handle"]]
    assert _handles_of(admin.get("/api/members", params={"search": f"zed{tag}"}).json()) == [
        bob.member["handle"]]
    # A prefix, not a substring: the middle of a handle or email matches nothing.
    assert admin.get("/api/members", params={"search": f"{tag}_alice"}).json()["total"] == 0
    assert admin.get("/api/members", params={"search": "example.test"}).json()["total"] == 0


def _handles_of(page: dict) -> list[str]:
    return [m["handle"] for m in page["items"]]


def test_search_pages_through_every_match_once(admin: Client, server: Server) -> None:
    tag = uuid.uuid4().hex[:6]
    made = sorted(_register(server, f"pg{tag}{i:02d}", f"pg{tag}{i:02d}@example.test"
                            ).member["handle"] for i in range(7))
    pages = [admin.get("/api/members", params={"search": f"pg{tag}", "limit": 3, "page": p}).json()
             for p in (1, 2, 3, 4)]
    assert [(p["total"], p["total_exact"]) for p in pages] == [(7, True)] * 4
    assert [p["pages"] for p in pages] == [3, 3, 3, 3]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    assert [h for p in pages for h in _handles_of(p)] == made
    everyone = admin.get("/api/members", params={"limit": 1}).json()
    assert everyone["total"] >= 8 and len(everyone["items"]) == 1


def test_roles_and_brands_are_changed_from_the_lookup(admin: Client, server: Server,
                                                      moderator: Client, brand: int) -> None:
    tag = uuid.uuid4().hex[:6]
    target = _register(server, f"rb{tag}", f"rb{tag}@example.test")
    path = f"/api/members/{target.member['id']}/role"
    assert moderator.put(path, {"role": "moderator"}).status_code == 403
    needs_brand = admin.put(path, {"role": "brand_staff"})
    assert needs_brand.status_code == 422 and "brand_id" in needs_brand.json()["error"]["message"]
    assert admin.put(path, {"role": "moderator", "brand_id": brand}).status_code == 422
    assert admin.put(path, {"role": "brand_staff", "brand_id": 987_654_321}).status_code == 404
    assert admin.put(path, {"role": "brand_staff", "brand_id": brand}).status_code == 200
    listed = admin.get("/api/members", params={"search": f"rb{tag}"}).json()["items"]
    assert [(m["role"], m["brand_id"]) for m in listed] == [("brand_staff", brand)]
    assert target.get("/api/me").json()["member"]["brand_id"] == brand
    assert admin.put(path, {"role": "member"}).status_code == 200
    listed = admin.get("/api/members", params={"search": f"rb{tag}"}).json()["items"]
    assert [(m["role"], m["brand_id"]) for m in listed] == [("member", None)]


def test_autocomplete_offers_up_to_eight_active_handles(member: Client, server: Server,
                                                        admin: Client, brand: int) -> None:
    tag = uuid.uuid4().hex[:6]
    made = [_register(server, f"Ac{tag}{i:02d}", f"ac{tag}{i:02d}@example.test")
            for i in range(10)]
    response = member.get("/api/members/autocomplete", params={"prefix": f"ac{tag}"})
    assert response.status_code == 200, response.text
    offered = response.json()
    assert [o["handle"] for o in offered] == [c.member["handle"] for c in made[:8]]
    assert set(offered[0]) == {"id", "handle", "display_name"}
    exact = member.get("/api/members/autocomplete", params={"prefix": made[9].member["handle"]})
    assert [o["id"] for o in exact.json()] == [made[9].member["id"]]
    assert member.get("/api/members/autocomplete",
                      params={"prefix": "zz" + uuid.uuid4().hex[:8]}).json() == []
    for prefix in ("", "a b", "@ac", "x" * 33):
        bad = member.get("/api/members/autocomplete", params={"prefix": prefix})
        assert bad.status_code == 422, (prefix, bad.text)
        assert "prefix" in bad.json()["error"]["message"]


def test_autocomplete_is_for_signed_in_people(anon: Client, admin: Client, brand: int) -> None:
    assert anon.get("/api/members/autocomplete", params={"prefix": "ab"}).status_code == 401
    token = admin.post(f"/api/brands/{brand}/tokens", {"name": "bot", "scopes": ["read"]})
    integration = admin.server.client()
    integration.token = token.json()["secret"]
    assert integration.get("/api/members/autocomplete", params={"prefix": "ab"}).status_code == 403
