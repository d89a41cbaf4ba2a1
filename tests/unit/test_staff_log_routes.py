"""The staff log has no route that writes: every route under its path only reads."""

from __future__ import annotations

from litestar.routes import HTTPRoute

from server.app import create_app

LOG_PATH = "/api/staff-log"
READS = {"GET", "HEAD", "OPTIONS"}


def test_no_route_under_the_staff_log_edits_or_deletes_it() -> None:
    routes = [r for r in create_app().routes
              if r.path == LOG_PATH or r.path.startswith(LOG_PATH + "/")]
    assert routes, f"nothing is served under {LOG_PATH}"
    for route in routes:
        assert isinstance(route, HTTPRoute), route
        assert route.methods <= READS, f"{route.path} allows {sorted(route.methods - READS)}"
