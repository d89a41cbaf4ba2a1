"""Bad input gets a clear 4xx in the one error shape; nothing produces a 500."""

import itertools

from tests.harness import ADMIN_HANDLE, ADMIN_PASSWORD, Client


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"] and error["message"]
    return error


def test_unknown_route_wrong_method_and_malformed_bodies(member: Client, thread: dict) -> None:
    assert_error_shape(member.get("/api/nothing-here"), 404)
    assert_error_shape(member.request("PUT", "/api/categories"), 405)
    bad_json = member.request("POST", f"/api/threads/{thread['thread']['id']}/posts",
                              content=b"{not json", headers={"content-type": "application/json"})
    assert_error_shape(bad_json, 400)
    wrong_type = member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": 12})
    assert "body" in assert_error_shape(wrong_type, 400)["message"]
    unknown = member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "x", "admin": True})
    assert "admin" in assert_error_shape(unknown, 400)["message"]
    huge = member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "x" * 2_000_000})
    assert_error_shape(huge, 413)
    too_long = member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "x" * 60_000})
    assert_error_shape(too_long, 400)
    assert_error_shape(member.get("/api/threads/99999999"), 404)
    assert_error_shape(member.get("/api/threads/1?after=-1"), 400)


JUNK_BODIES = [None, {}, [], "text", 0, -1, 10**30, {"title": None, "body": None},
               {"body": ""}, {"kind": "like" * 100}, {"name": "x", "slug": "Bad Slug!"},
               {"title": "\x00" * 10, "body": "\u202e\ufeff"}, {"scopes": ["read"] * 50, "name": "x"},
               {"role": "admin", "brand_id": "one"}, {"parent_id": 2**63}]
JUNK_IDS = ["0", "-1", "99999999999999999999", "abc"]


def test_no_input_from_the_api_schema_produces_a_500(admin: Client, anon: Client) -> None:
    """Walk every operation in the OpenAPI schema with junk ids and bodies, as two users."""
    # Its own admin session: the walk signs out, which must not sign out other tests.
    admin = Client(admin.server)
    assert admin.login(ADMIN_HANDLE, ADMIN_PASSWORD).status_code == 200
    schema = anon.get("/schema/openapi.json").json()
    failures = []
    for path, operations in schema["paths"].items():
        for method, junk_id in itertools.product(operations, JUNK_IDS):
            if method.upper() not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
                continue
            url = path
            for name in ("thread_id", "post_id", "category_id", "member_id", "brand_id", "token_id"):
                url = url.replace("{" + name + "}", junk_id)
            url = url.replace("{kind}", "like")
            for client, body in itertools.product((admin, anon), JUNK_BODIES):
                kwargs = {"json": body} if method.upper() in ("POST", "PATCH", "PUT") else {}
                response = client.request(method.upper(), url, **kwargs)
                if response.status_code >= 500 or (
                        response.status_code >= 400 and "error" not in response.json()):
                    failures.append((method, url, body, response.status_code, response.text[:200]))
    assert failures == []
