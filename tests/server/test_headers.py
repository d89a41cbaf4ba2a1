"""Security headers on every kind of response: API, errors, the web app, the docs pages."""

import pytest

from tests.harness import Client

PATHS = ["/api/ping", "/api/nothing-here", "/api/me", "/", "/app.js", "/style.css",
         "/schema/openapi.json", "/schema", "/schema/swagger", "/health"]


def _policy(header: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(anon: Client, path: str) -> None:
    response = anon.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    policy = _policy(response.headers["content-security-policy"])
    assert policy["default-src"] == "default-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["base-uri"] == "base-uri 'none'"
    # No origin but our own may serve code, whatever the page.
    assert "http" not in policy["script-src"] and "*" not in policy["script-src"]


def test_the_web_app_runs_no_inline_code(anon: Client) -> None:
    policy = _policy(anon.get("/").headers["content-security-policy"])
    assert policy["script-src"] == "script-src 'self'"
    assert policy["style-src"] == "style-src 'self'"


def test_a_write_refused_before_the_handler_still_has_them(anon: Client) -> None:
    response = anon.post("/api/session", content=b"x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
