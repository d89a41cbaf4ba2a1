"""The moderator console's audit log in a real browser: a moderator finds an admin's act by
its target, reads what changed as before and after, and narrows the log to one brand."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.test_browser import Tab, browser, goto, open_tab, sign_in
from tests.harness import Client, Server

pytestmark = pytest.mark.e2e
__all__ = ["browser", "open_tab"]  # the fixtures this module uses, from the browser tests


def test_a_moderator_reads_the_audit_log_with_its_changes_and_filters(
    open_tab: Callable[..., Tab], admin: Client, moderator: Client, member: Client,
    server: Server,
) -> None:
    name = "Log badge " + uuid.uuid4().hex[:4]
    badge = admin.post("/api/gamification/badges", {
        "slug": "log-" + uuid.uuid4().hex[:8], "name": name, "criteria": {"type": "manual"}}).json()
    assert admin.patch(f"/api/gamification/badges/{badge['id']}",
                       {"name": name + " (renamed)"}).status_code == 200
    brand = admin.post("/api/brands", {"name": "Log brand " + uuid.uuid4().hex[:4],
                                       "slug": "log-" + uuid.uuid4().hex[:8]}).json()

    tab = open_tab()
    page = tab.page
    handle = moderator.member["handle"]
    sign_in(tab, handle, handle)
    goto(tab, "/mod")
    page.get_by_test_id("mod-nav-log").click()
    expect(page.get_by_test_id("mod-title")).to_have_text("Audit log")
    rows = page.get_by_test_id("staff-log").get_by_test_id("table-row")
    expect(rows.first).to_be_visible()

    page.get_by_test_id("log-filter-target_type").fill("badge")
    page.get_by_test_id("log-filter-target_id").fill(str(badge["id"]))
    page.get_by_test_id("log-apply").click()
    expect(rows.get_by_test_id("log-action")).to_have_text(["badge update", "badge create"])
    change = rows.first.get_by_test_id("log-diff")
    expect(change.locator("del")).to_have_text(name)
    expect(change.locator("ins")).to_have_text(name + " (renamed)")

    page.get_by_role("button", name="Clear").click()
    page.get_by_test_id("log-filter-brand").select_option(label=brand["name"])
    page.get_by_test_id("log-apply").click()
    expect(rows.get_by_test_id("log-target")).to_have_text([f"brand '{brand['name']}'"])
    assert_accessible(page)
    assert member.get("/api/staff-log").status_code == 403
