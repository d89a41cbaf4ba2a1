"""The OpenAPI document tells the truth about errors: one ErrorResponse body for every error
status, and for each operation the statuses it can return."""

import pytest

from server import plugins
from server.openapi import EXTRA_STATUSES
from tests.harness import Client

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document(server) -> dict:
    return Client(server).get("/schema/openapi.json").json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def test_every_error_response_is_the_one_error_body(document: dict) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ErrorResponse"]["required"] == ["error"]
    assert schemas["ErrorResponse"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorBody"}
    body = schemas["ErrorBody"]
    assert set(body["required"]) == {"status", "code", "message", "details"}
    assert body["properties"]["status"]["type"] == "integer"
    seen = 0
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                seen += 1
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
                assert response["description"]
    assert seen > 300
    # Litestar's own error body ({"status_code", "detail", "extra"}) is gone.
    assert '"status_code"' not in str(document).replace("'", '"')


def test_each_operation_lists_the_statuses_it_can_return(document: dict) -> None:
    def statuses(method: str, path: str) -> set[str]:
        return {s for s in document["paths"][path][method]["responses"] if s >= "400"}

    assert statuses("get", "/api/me") == {"401", "403", "422", "503"}
    assert statuses("get", "/api/threads/{thread_id}") == {"400", "401", "403", "404", "422", "503"}
    assert statuses("post", "/api/posts/{post_id}/reactions") == {
        "400", "401", "403", "404", "409", "413", "415", "422", "429", "503"}
    assert statuses("post", "/api/register") == {
        "400", "401", "403", "409", "413", "415", "422", "429", "503"}
    assert statuses("delete", "/api/posts/{post_id}") == {
        "400", "401", "403", "404", "413", "415", "422", "503"}
    limited = document["paths"]["/api/session"]["post"]["responses"]["429"]
    assert limited["headers"]["Retry-After"]["schema"]["type"] == "integer"
    # Every operation may meet a database or Redis that is down: a 503 with Retry-After.
    for method, path, operation in operations(document):
        assert "503" in operation["responses"], (method, path)
    unavailable = document["paths"]["/api/me"]["get"]["responses"]["503"]
    assert unavailable["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert unavailable["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"}
    down = document["paths"]["/health"]["get"]["responses"]["503"]
    assert down["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}


def test_every_per_route_addition_names_a_real_operation(document: dict) -> None:
    known = {f"{method.upper()} {path}" for method, path, _ in operations(document)}
    assert set(EXTRA_STATUSES) - known == set()


def test_every_plugins_addition_names_a_real_operation(document: dict) -> None:
    known = {f"{method.upper()} {path}" for method, path, _ in operations(document)}
    listed = {key for plugin in plugins.load() for key in plugin.error_statuses}
    assert "POST /api/challenges/{challenge_id}/join" in listed
    assert listed - known == set()


def test_real_errors_have_the_documented_shape(member: Client, other: Client, anon: Client,
                                              thread: dict) -> None:
    thread_id = thread["thread"]["id"]
    post_id = thread["post"]["id"]
    answers = {
        "404": member.get("/api/threads/99999"),
        "401": anon.get("/api/me"),
        "415": member.post(f"/api/threads/{thread_id}/posts", content=b"body=x",
                           headers={"content-type": "application/x-www-form-urlencoded"}),
    }
    assert other.post(f"/api/posts/{post_id}/reactions", {"kind": "thanks"}).status_code == 201
    answers["409"] = other.post(f"/api/posts/{post_id}/reactions", {"kind": "thanks"})
    for status, response in answers.items():
        assert str(response.status_code) == status, response.text
        error = response.json()["error"]
        assert set(error) == {"status", "code", "message", "details"}
        assert str(error["status"]) == status and isinstance(error["details"], list)
