"""Every id sequence's use is checked by `hearth sequences` and shown in /health: quiet while
all are below half their range, a warning naming the one past it. The module pushes a
sequence past half: it has a stack of its own."""

from __future__ import annotations

import httpx
import pytest

from tests.harness import MODE, Stack

pytestmark = pytest.mark.own_stack

# Three quarters of 2^63: past half of any 64-bit sequence, with room left for new rows.
FAR_ID = 3 * 2**61


def _health(url: str) -> dict:
    response = httpx.get(url + "/health", timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _push_brands_past_half(stack: Stack) -> None:
    if MODE == "scaled":
        stack.sql(f"SELECT setval('brand_id_seq', {FAR_ID})")
    else:
        # SQLite hands out the largest rowid plus one.
        stack.sql("INSERT INTO brand (id, name, slug, created_at) "
                  f"VALUES ({FAR_ID}, 'Far', 'far-away', CURRENT_TIMESTAMP)")


def test_a_sequence_past_half_its_range_fails_the_check_and_shows_in_health(
        stack: Stack) -> None:
    quiet = stack.run("sequences")
    assert "member" in quiet.stdout and "warning" not in quiet.stdout
    assert "none past 50%" in quiet.stdout
    server = stack.start_server()
    body = _health(server.url)
    assert body["status"] == "ok" and body["warnings"] == []

    _push_brands_past_half(stack)
    checked = stack.run("sequences", check=False)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    warnings = [line for line in checked.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, checked.stdout
    assert "brand" in warnings[0] and "75.0%" in warnings[0], warnings

    # A server reads the sequences at most once a minute: one started now sees it at once.
    fresh = stack.start_server()
    body = _health(fresh.url)
    # A warning, not an outage.
    assert body["status"] == "ok"
    assert len(body["warnings"]) == 1 and "brand" in body["warnings"][0], body
    assert "75.0%" in body["warnings"][0]
