import uuid

import pytest

from tests.harness import Client, Server, Stack


def test_register_signs_in_and_me_shows_profile(anon: Client) -> None:
    handle = "Neo_" + uuid.uuid4().hex[:6]
    anon.register(handle)
    me = anon.get("/api/me")
    assert me.status_code == 200
    body = me.json()
    assert body["member"]["handle"] == handle
    assert body["member"]["role"] == "member"
    assert body["email"] == f"{handle}@example.test".lower()
    assert "password" not in me.text and "argon2" not in me.text


def test_session_cookie_is_httponly_and_csrf_cookie_is_readable(anon: Client) -> None:
    handle = "c" + uuid.uuid4().hex[:8]
    response = anon.post("/api/register", {"handle": handle, "email": f"{handle}@x.test",
                                           "password": "long enough pass"})
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("hearth_session="))
    csrf = next(c for c in cookies if c.startswith("hearth_csrf="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert "HttpOnly" not in csrf


def test_passwords_are_stored_as_argon2_hashes(stack: Stack, anon: Client) -> None:
    anon.register(password="my secret phrase 42")
    out = stack.sql(f"SELECT password_hash FROM member WHERE id = {int(anon.member['id'])}")[0][0]
    assert out.startswith("$argon2id$")
    assert "my secret phrase 42" not in out


def test_without_the_test_setting_passwords_get_argon2ids_full_cost(stack: Stack) -> None:
    # Test stacks hash at the lightest cost (HEARTH_TEST_LIGHT_PASSWORD_HASHES); unset, as in
    # production, a password costs argon2-cffi's defaults: 64 MiB, three passes, four lanes.
    handle = "full_" + uuid.uuid4().hex[:8]
    stack.run("create-admin", "--handle", handle, "--email", f"{handle}@example.test",
              "--password", "a password at full cost", env={"HEARTH_TEST_LIGHT_PASSWORD_HASHES": ""})
    stored = stack.sql(f"SELECT password_hash FROM member WHERE handle = '{handle}'")[0][0]
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), stored


def test_duplicate_handle_ignores_case_and_duplicate_email_conflict(anon: Client, server: Server) -> None:
    handle = "Dup" + uuid.uuid4().hex[:6]
    anon.register(handle)
    again = server.client().post("/api/register", {"handle": handle.upper(), "email": "other@x.test",
                                                   "password": "long enough pass"})
    assert again.status_code == 409
    assert "taken" in again.json()["error"]["message"]
    same_email = server.client().post("/api/register", {
        "handle": "z" + uuid.uuid4().hex[:8], "email": f"{handle}@example.test".upper(),
        "password": "long enough pass"})
    assert same_email.status_code == 409
    assert "email" in same_email.json()["error"]["message"]


def test_registration_validates_fields_with_clear_messages(anon: Client) -> None:
    cases = [
        ({"handle": "ab", "email": "a@b.co", "password": "long enough pass"}, "handle"),
        ({"handle": "bad handle!", "email": "a@b.co", "password": "long enough pass"}, "handle"),
        ({"handle": "goodhandle", "email": "not-an-email", "password": "long enough pass"}, "email"),
        ({"handle": "goodhandle", "email": "a@b.co", "password": "short"}, "password"),
        ({"handle": "goodhandle", "email": "a@b.co", "password": "x" * 300}, "password"),
        ({"handle": "goodhandle", "email": "a@b.co"}, "password"),
    ]
    for body, field in cases:
        response = anon.post("/api/register", body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert field in error["message"], (body, error)


def test_login_logout_and_wrong_password(server: Server) -> None:
    handle = "L" + uuid.uuid4().hex[:8]
    server.client().register(handle, password="the right password")
    client = server.client()
    wrong = client.login(handle, "the wrong password")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthenticated"
    assert client.login(handle.lower(), "the right password").status_code == 200
    assert client.get("/api/me").status_code == 200
    by_email = server.client()
    assert by_email.login(f"{handle}@example.test", "the right password").status_code == 200
    assert client.post("/api/session/logout").status_code == 204
    assert client.get("/api/me").status_code == 401


def test_cookie_writes_need_the_csrf_token(member: Client) -> None:
    no_token = member.http.patch("/api/me", json={"bio": "hi"})
    assert no_token.status_code == 403
    assert "CSRF" in no_token.json()["error"]["message"]
    wrong = member.http.patch("/api/me", json={"bio": "hi"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    ok = member.patch("/api/me", {"bio": "hi", "display_name": "Neo"})
    assert ok.status_code == 200
    assert ok.json()["bio"] == "hi" and ok.json()["display_name"] == "Neo"


def test_profile_is_public_and_roles_are_admin_only(member: Client, other: Client, admin: Client) -> None:
    profile = other.get(f"/api/members/{member.member['id']}")
    assert profile.status_code == 200
    assert profile.json()["handle"] == member.member["handle"]
    assert "email" not in profile.json()
    denied = member.put(f"/api/members/{other.member['id']}/role", {"role": "admin"})
    assert denied.status_code == 403
    promoted = admin.put(f"/api/members/{member.member['id']}/role", {"role": "moderator"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "moderator"
    assert member.get("/api/me").json()["member"]["role"] == "moderator"
    bad = admin.put(f"/api/members/{member.member['id']}/role", {"role": "emperor"})
    assert bad.status_code == 400


def test_brands_and_brand_scoped_tokens(admin: Client, member: Client, other: Client, server: Server) -> None:
    slug = "b-" + uuid.uuid4().hex[:6]
    assert member.post("/api/brands", {"name": "Nope", "slug": slug}).status_code == 403
    brand = admin.post("/api/brands", {"name": "Acme", "slug": slug})
    assert brand.status_code == 201
    brand_id = brand.json()["id"]
    assert admin.post("/api/brands", {"name": "Acme 2", "slug": slug}).status_code == 409
    other_brand = admin.post("/api/brands", {"name": "Other", "slug": slug + "-x"}).json()["id"]
    staff = admin.put(f"/api/members/{member.member['id']}/role",
                      {"role": "brand_staff", "brand_id": brand_id})
    assert staff.status_code == 200

    assert member.post(f"/api/brands/{other_brand}/tokens",
                       {"name": "x", "scopes": ["read"]}).status_code == 403
    assert other.post(f"/api/brands/{brand_id}/tokens",
                      {"name": "x", "scopes": ["read"]}).status_code == 403
    bad_scope = member.post(f"/api/brands/{brand_id}/tokens", {"name": "x", "scopes": ["root"]})
    assert bad_scope.status_code == 422 and "root" in bad_scope.json()["error"]["message"]

    created = member.post(f"/api/brands/{brand_id}/tokens", {"name": "crm", "scopes": ["read"]})
    assert created.status_code == 201
    secret = created.json()["secret"]
    token_id = created.json()["token"]["id"]
    assert secret.startswith("hth_")
    listed = member.get(f"/api/brands/{brand_id}/tokens").json()
    assert [t["name"] for t in listed] == ["crm"]
    assert secret not in str(listed)

    integration = server.client()
    integration.token = secret
    assert [t["name"] for t in integration.get(f"/api/brands/{brand_id}/tokens").json()] == ["crm"]
    write = integration.post(f"/api/brands/{brand_id}/tokens/{token_id}/revoke")
    assert write.status_code == 403 and "write" in write.json()["error"]["message"]

    revoked = member.post(f"/api/brands/{brand_id}/tokens/{token_id}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = integration.get(f"/api/brands/{brand_id}/tokens")
    assert after.status_code == 401 and "revoked" in after.json()["error"]["message"]

    integration.token = secret[:-2] + "zz"
    assert integration.get(f"/api/brands/{brand_id}/tokens").status_code == 401
    integration.token = "garbage"
    assert integration.get("/api/me").status_code == 401


def test_write_token_acts_for_its_brand_without_csrf(admin: Client, member: Client,
                                                     server: Server) -> None:
    slug = "w-" + uuid.uuid4().hex[:6]
    brand_id = admin.post("/api/brands", {"name": "W", "slug": slug}).json()["id"]
    admin.post(f"/api/gamification/brands/{brand_id}/budget",
               {"amount": 10, "reason": "bot budget", "idempotency_key": "w-" + uuid.uuid4().hex})
    secret = admin.post(f"/api/brands/{brand_id}/tokens",
                        {"name": "bot", "scopes": ["read", "write"]}).json()["secret"]
    bot = server.client()
    bot.token = secret
    credited = bot.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": 4, "reason": "welcome gift",
        "idempotency_key": "w-" + uuid.uuid4().hex})
    assert credited.status_code == 201, credited.text
    assert member.get("/api/me/points").json()["balance"] == 4


def test_a_token_is_refused_wherever_it_would_act_as_a_person(
        admin: Client, member: Client, thread: dict, server: Server) -> None:
    """A token made by an admin is still not that admin: nothing about "me", nothing a person
    does in the forums, no session."""
    brand = admin.post("/api/brands", {"name": "P", "slug": "p-" + uuid.uuid4().hex[:6]}).json()["id"]
    bot = server.client()
    bot.token = admin.post(f"/api/brands/{brand}/tokens",
                           {"name": "all", "scopes": ["read", "write"]}).json()["secret"]
    bio = admin.get("/api/me").json()["member"]["bio"]
    post_id, thread_id = thread["post"]["id"], thread["thread"]["id"]
    refused = [
        ("GET", "/api/me", None), ("PATCH", "/api/me", {"bio": "from a token"}),
        ("POST", "/api/session/logout", None),
        ("GET", "/api/me/points", None), ("GET", "/api/me/points/history", None),
        ("GET", "/api/me/tier", None), ("GET", "/api/me/badges", None),
        ("GET", "/api/notifications", None), ("POST", "/api/notifications/read", None),
        ("GET", "/api/leaderboards/all-time/around-me", None),
        ("POST", "/api/challenges/1/join", None), ("GET", "/api/challenges/1/me", None),
        ("POST", f"/api/categories/{thread['thread']['category_id']}/threads",
         {"title": "Posted by integration", "body": "hello"}),
        ("POST", f"/api/threads/{thread_id}/posts", {"body": "a reply"}),
        ("PATCH", f"/api/threads/{thread_id}", {"title": "Renamed by a token"}),
        ("PATCH", f"/api/posts/{post_id}", {"body": "edited"}),
        ("DELETE", f"/api/posts/{post_id}", None),
        ("POST", f"/api/posts/{post_id}/reactions", {"kind": "like"}),
        ("DELETE", f"/api/posts/{post_id}/reactions/like", None),
        ("PUT", f"/api/posts/{post_id}/helpful", None),
    ]
    for method, path, body in refused:
        response = bot.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert "not a person" in response.json()["error"]["message"], (method, path)
    assert admin.get("/api/me").json()["member"]["bio"] == bio
    page = bot.get(f"/api/threads/{thread_id}")
    assert page.status_code == 200 and page.json()["items"][0]["raw"] == "First post **here**"
    assert bot.get(f"/api/brands/{brand}/tokens").status_code == 200


def test_a_brand_token_acts_for_its_brand_only(admin: Client, member: Client, server: Server) -> None:
    brand = admin.post("/api/brands", {"name": "T1", "slug": "t1-" + uuid.uuid4().hex[:6]}).json()["id"]
    rival = admin.post("/api/brands", {"name": "T2", "slug": "t2-" + uuid.uuid4().hex[:6]}).json()["id"]
    secret = admin.post(f"/api/brands/{brand}/tokens",
                        {"name": "all", "scopes": ["read", "write", "realtime"]}).json()["secret"]
    bot = server.client()
    bot.token = secret
    assert bot.put(f"/api/members/{member.member['id']}/role", {"role": "admin"}).status_code == 403
    assert bot.post("/api/brands", {"name": "X", "slug": "x-" + uuid.uuid4().hex[:6]}).status_code == 403
    assert bot.get(f"/api/brands/{rival}/tokens").status_code == 403
    assert bot.get(f"/api/brands/{brand}/tokens").status_code == 200
    assert member.get("/api/me").json()["member"]["role"] == "member"
    socket = bot.websocket(token=secret)
    try:
        assert socket.subscribe(f"user:{admin.member['id']}")["type"] == "error"
    finally:
        socket.close()


def test_a_staff_token_dies_when_its_owner_leaves_the_brand(admin: Client, member: Client,
                                                            server: Server) -> None:
    brand = admin.post("/api/brands", {"name": "S1", "slug": "s1-" + uuid.uuid4().hex[:6]}).json()["id"]
    other_brand = admin.post("/api/brands", {"name": "S2", "slug": "s2-" + uuid.uuid4().hex[:6]}).json()["id"]
    admin.put(f"/api/members/{member.member['id']}/role", {"role": "brand_staff", "brand_id": brand})
    secret = member.post(f"/api/brands/{brand}/tokens", {"name": "x", "scopes": ["read"]}).json()["secret"]
    bot = server.client()
    bot.token = secret
    assert bot.get(f"/api/brands/{brand}/tokens").status_code == 200
    admin.put(f"/api/members/{member.member['id']}/role", {"role": "brand_staff", "brand_id": other_brand})
    moved = bot.get(f"/api/brands/{other_brand}/tokens")
    assert moved.status_code == 401
    assert "no longer manages" in moved.json()["error"]["message"]


def test_writes_must_be_json_so_cross_site_forms_cannot_sign_in(server: Server) -> None:
    handle = "f" + uuid.uuid4().hex[:8]
    server.client().register(handle, password="form password 1")
    forged = server.client().request(
        "POST", "/api/session", content=f'{{"login":"{handle}","password":"form password 1"}}',
        headers={"content-type": "text/plain"})
    assert forged.status_code == 415
    assert "application/json" in forged.json()["error"]["message"]
    assert "set-cookie" not in forged.headers


def test_nul_characters_are_refused_not_stored(member: Client, category: dict) -> None:
    body = member.post(f"/api/categories/{category['id']}/threads", {"title": "nul here", "body": "a\u0000b"})
    assert body.status_code == 422 and "NUL" in body.json()["error"]["message"]
    login = Client(member.server).post("/api/session", {"login": "x\u0000", "password": "whatever"})
    assert login.status_code == 422
    assert member.get(f"/api/categories/{category['id']}/threads?cursor=%00").status_code == 422


@pytest.mark.parametrize("common", ["1234567890", "PASSWORD123", "qwertyuiop", "Manchester"])
def test_common_passwords_are_refused(anon: Client, common: str) -> None:
    handle = "c" + uuid.uuid4().hex[:8]
    response = anon.post("/api/register", {"handle": handle, "email": f"{handle}@example.test",
                                           "password": common})
    assert response.status_code == 422, response.text
    assert "commonly used" in response.json()["error"]["message"]


def test_create_admin_refuses_a_common_password(stack: Stack) -> None:
    result = stack.run("create-admin", "--handle", "weak_admin", "--email", "weak@example.test",
                       "--password", "password123", check=False)
    assert result.returncode != 0 and "commonly used" in result.stderr
