"""The admin console in a real browser: an admin adds a category, changes the tier ladder,
and retries a failing outbox event, confirming each action; refusals show in the form.

The admin is signed in by handing the browser the session cookies of a harness Client that
signed in through the API (the sign-in page is another view's)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import Client, Server, Stack, eventually

# The ladder is global and the test stages a broken event: a stack of its own.
pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 10_000  # scaled mode: the retried event goes through a Celery worker

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import (  # noqa: E402  (only importable where the browser tests run)
    Browser,
    BrowserContext,
    Page,
    expect,
    sync_playwright,
)

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(browser: Browser, server: Server) -> Iterator[Callable[[Client], Page]]:
    """A page signed in as the client's member (its session cookies handed to the browser)."""
    errors: list[str] = []
    contexts: list[BrowserContext] = []

    def open_page(client: Client) -> Page:
        context = browser.new_context(base_url=server.url, viewport={"width": 1200, "height": 900})
        contexts.append(context)
        context.add_cookies([{"name": name, "value": value, "url": server.url}
                             for name, value in client.http.cookies.items()])
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text else None)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors or blocked content in the page: {errors}"


@pytest.fixture
def admin_page(open_page: Callable[[Client], Page], admin: Client) -> Page:
    return open_page(admin)


def goto(page: Page, route: str) -> None:
    page.goto("/#" + route)
    expect(page.locator("body[data-ready=true]")).to_be_attached()


def confirm(page: Page, title: str) -> None:
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog.locator("#confirm-title")).to_contain_text(title)
    dialog.get_by_test_id("confirm-ok").click()
    expect(dialog).not_to_be_visible()


def stage_failing_event(stack: Stack, member: Client, thread: dict, given_up: str | None = None
                        ) -> int:
    """A reaction event naming a post author who does not exist: awarding its points fails
    every time, so the relay records the error and backs off. given_up: inserted as already
    given up with this error, so no relay ever tries it."""
    payload = {"type": "reaction.added", "post_id": thread["post"]["id"],
               "thread_id": thread["thread"]["id"], "category_id": thread["thread"]["category_id"],
               "post_author_id": 2_000_000_000, "member_id": member.member["id"], "kind": "like"}
    attempts, error = (25, f"'{given_up}'") if given_up else (0, "NULL")
    rows = stack.sql("INSERT INTO outbox_event (type, payload, created_at, attempts, last_error) "
                     f"VALUES ('reaction.added', '{json.dumps(payload)}', "
                     f"'2026-01-01 00:00:00+00:00', {attempts}, {error}) RETURNING id")
    return int(rows[0][0])


def test_an_admin_adds_a_category_changes_the_ladder_and_retries_a_failing_event(
        admin_page: Page, stack: Stack, admin: Client, member: Client, thread: dict) -> None:
    page = admin_page
    goto(page, "/admin")
    expect(page.get_by_test_id("admin-title")).to_have_text("Admin console")

    # --- a category, members only, moved up above the one before it ------------------------
    page.get_by_test_id("admin-nav-categories").click()
    expect(page.get_by_test_id("admin-title")).to_have_text("Categories")
    name = "Espresso corner " + uuid.uuid4().hex[:6]
    page.get_by_test_id("admin-category-new-name").fill(name)
    slug = page.get_by_test_id("admin-category-new-slug").input_value()
    assert slug == name.lower().replace(" ", "-")
    page.get_by_test_id("admin-category-new-visibility").select_option("members")
    page.get_by_test_id("admin-category-create").click()
    confirm(page, f"Create “{name}”?")
    row = page.get_by_test_id("admin-category").filter(
        has=page.get_by_test_id("admin-category-name").get_by_text(name, exact=True))
    expect(row.get_by_test_id("admin-category-visibility")).to_have_value("members")
    created = next(c for c in admin.get("/api/categories").json() if c["slug"] == slug)
    assert created["visibility"] == "members" and created["parent_id"] is None

    # The same address again: the server's refusal shows in the form.
    page.get_by_test_id("admin-category-new-name").fill(name)
    page.get_by_test_id("admin-category-create").click()
    confirm(page, "Create")
    form = page.get_by_test_id("admin-category-form")
    expect(form.get_by_test_id("form-error")).to_contain_text(f"a category with slug '{slug}' exists")

    before = [c["id"] for c in admin.get("/api/categories").json() if c["parent_id"] is None]
    assert before[-1] == created["id"], before
    row.get_by_test_id("admin-category-up").click()
    page.get_by_test_id("admin-category-save").click()
    confirm(page, "Save the arrangement?")
    expect(page.get_by_test_id("admin-category-save")).to_be_disabled()
    after = [c["id"] for c in admin.get("/api/categories").json() if c["parent_id"] is None]
    assert after == [*before[:-2], created["id"], before[-2]], after

    # --- the tier ladder: a refusal, then a new top tier -------------------------------------
    page.get_by_test_id("admin-nav-tiers").click()
    expect(page.get_by_test_id("admin-title")).to_have_text("Tier ladder")
    tiers = page.get_by_test_id("admin-tier")
    expect(tiers).to_have_count(len(admin.get("/api/gamification/tiers").json()["tiers"]))
    page.get_by_test_id("admin-tier-add").click()
    tiers.last.get_by_test_id("admin-tier-name").fill("Legend")
    tiers.last.get_by_test_id("admin-tier-threshold").fill("1")
    page.get_by_test_id("admin-tier-save").click()
    confirm(page, "Replace the tier ladder?")
    expect(page.get_by_test_id("admin-tiers").get_by_test_id("form-error").last).to_contain_text(
        "thresholds must strictly increase")
    tiers.last.get_by_test_id("admin-tier-threshold").fill("10000")
    page.get_by_test_id("admin-tier-window").fill("180")
    page.get_by_test_id("admin-tier-save").click()
    confirm(page, "Replace the tier ladder?")
    expect(page.get_by_test_id("toast")).to_have_text("Tier ladder saved.")
    ladder = admin.get("/api/gamification/tiers").json()
    assert ladder["tiers"][-1] == {"name": "Legend", "threshold": 10000}
    assert ladder["window_days"] == 180

    # --- a failing outbox event, mended, retried from the page -------------------------------
    event_id = stage_failing_event(stack, member, thread)
    stack.run("relay-sweep")

    def failed_once() -> bool:
        items = admin.get("/api/admin/outbox", params={"limit": 100}).json()["items"]
        return any(i["id"] == event_id and i["attempts"] >= 1 and i["last_error"] for i in items)

    eventually(failed_once)
    # The author is mended, and the relay has given up on it: only the operator moves it on.
    mended = {"type": "reaction.added", "post_id": thread["post"]["id"],
              "thread_id": thread["thread"]["id"], "category_id": thread["thread"]["category_id"],
              "post_author_id": member.member["id"], "member_id": member.member["id"], "kind": "like"}
    stack.sql(f"UPDATE outbox_event SET payload = '{json.dumps(mended)}', attempts = 25 "
              f"WHERE id = {event_id}")

    page.get_by_test_id("admin-nav-outbox").click()
    expect(page.get_by_test_id("admin-title")).to_have_text("Outbox")
    event = page.locator(f"[data-testid=outbox-event][data-event-id='{event_id}']")
    expect(event).to_contain_text("given up")
    expect(event.get_by_test_id("outbox-error")).not_to_be_empty()
    event.get_by_test_id("outbox-retry").click()
    confirm(page, f"Retry event {event_id}?")
    expect(event.get_by_test_id("outbox-outcome")).to_have_text("Dispatched", timeout=30_000)
    expect(event.get_by_test_id("outbox-retry")).to_have_count(0)
    assert admin.get(f"/api/admin/outbox/{event_id}").json()["dispatched"]

    # One that can never apply is discarded instead (the warning is a danger confirmation).
    doomed = stage_failing_event(stack, member, thread, given_up="KeyError: the author")
    page.get_by_role("button", name="Refresh").click()
    row = page.locator(f"[data-testid=outbox-event][data-event-id='{doomed}']")
    expect(row.get_by_test_id("outbox-error")).to_have_text("KeyError: the author")
    row.get_by_test_id("outbox-discard").click()
    confirm(page, f"Discard event {doomed}?")
    expect(row).to_have_count(0)
    assert "discarded by @" in admin.get(f"/api/admin/outbox/{doomed}").json()["last_error"]


def test_members_are_refused_the_console_without_downloading_it(
        open_page: Callable[[Client], Page], member: Client) -> None:
    page = open_page(member)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    goto(page, "/admin/outbox")
    expect(page.get_by_test_id("admin-refused")).to_contain_text("Only admins")
    assert not [url for url in fetched if "AdminConsole" in url], fetched


def test_an_admin_builds_badge_criteria_and_watches_the_backfill_then_runs_the_checks(
        admin_page: Page, admin: Client, member: Client, thread: dict) -> None:
    page = admin_page
    goto(page, "/admin/badges")
    expect(page.get_by_test_id("admin-title")).to_have_text("Badges")
    name = "Conversation starter " + uuid.uuid4().hex[:6]
    page.get_by_test_id("badge-name").fill(name)
    page.get_by_test_id("new-criteria-type").select_option("count")
    # The builder names what is missing before anything is sent.
    page.get_by_test_id("badge-create").click()
    form = page.get_by_test_id("badge-form")
    expect(form.get_by_test_id("form-error")).to_have_text("Choose at least one activity.")
    form.get_by_label("Starts a thread").check()
    page.get_by_test_id("new-criteria-count").fill("1")
    page.get_by_test_id("badge-create").click()
    confirm(page, f"Create the badge “{name}”?")
    progress = page.get_by_test_id("backfill")
    expect(progress).to_have_attribute("data-finished", "true", timeout=30_000)
    expect(progress.get_by_test_id("backfill-status")).to_contain_text("Finished")
    badge = next(b for b in admin.get("/api/gamification/badges").json() if b["name"] == name)
    assert badge["criteria"] == {"type": "count", "event_types": ["thread.created"], "count": 1,
                                 "condition": "", "window_days": None}
    earned = [e["badge"]["id"] for e in member.get("/api/me/badges").json()["earned"]]
    assert badge["id"] in earned
    row = page.locator(f"[data-testid=admin-badge][data-badge-id='{badge['id']}']")
    expect(row).to_contain_text("starts a thread")

    # The criteria are edited with the same builder, filled with what the badge has.
    row.get_by_test_id("admin-badge-edit").click()
    editor = page.get_by_test_id("badge-edit-form")
    count = editor.get_by_test_id(f"edit-criteria-{badge['id']}-count")
    expect(count).to_have_value("1")
    expect(editor.get_by_label("Starts a thread")).to_be_checked()
    count.fill("2")
    editor.get_by_test_id("badge-edit-save").click()
    confirm(page, f"Change what earns “{name}”?")
    expect(row).to_contain_text("2 \u00d7 starts a thread")
    expect(progress).to_have_attribute("data-finished", "true", timeout=30_000)
    changed = admin.get("/api/gamification/badges").json()
    assert next(b for b in changed if b["id"] == badge["id"])["criteria"]["count"] == 2

    # Exclusions: by member id, listed with the handle, then lifted.
    page.get_by_test_id("admin-nav-exclusions").click()
    page.get_by_test_id("exclude-member").fill(str(member.member["id"]))
    page.get_by_test_id("exclude-submit").click()
    confirm(page, f"Keep @{member.member['handle']} off the leaderboards?")
    excluded = page.locator(f"[data-testid=admin-exclusion][data-member-id='{member.member['id']}']")
    expect(excluded).to_contain_text(f"@{member.member['handle']}")
    excluded.get_by_role("button", name="Include again").click()
    confirm(page, "back on the leaderboards?")
    expect(excluded).to_have_count(0)
    page.get_by_test_id("exclude-member").fill("2000000000")
    page.get_by_test_id("exclude-submit").click()
    expect(page.get_by_test_id("admin-exclusions").get_by_test_id("form-error").first).to_contain_text(
        "2000000000")

    # A season, from local times.
    page.get_by_test_id("admin-nav-seasons").click()
    season = "Spring " + uuid.uuid4().hex[:6]
    page.get_by_test_id("season-name").fill(season)
    page.get_by_test_id("season-starts").fill("2026-03-01T00:00")
    page.get_by_test_id("season-ends").fill("2026-06-01T00:00")
    page.get_by_test_id("season-create").click()
    confirm(page, f"Create the season “{season}”?")
    expect(page.get_by_test_id("admin-season").filter(has_text=season)).to_have_count(1)
    assert season in [s["name"] for s in admin.get("/api/leaderboards/seasons").json()]

    # The ledger's invariants, its hash chain, its liability, and the services' health.
    page.get_by_test_id("admin-nav-ledger").click()
    page.get_by_test_id("ledger-check").click()
    expect(page.get_by_test_id("ledger-result")).to_have_attribute("data-ok", "true")
    page.get_by_test_id("chain-verify").click()
    expect(page.get_by_test_id("chain-result")).to_have_attribute("data-ok", "true")
    expect(page.get_by_test_id("chain-result")).to_contain_text("The chain holds")
    members = admin.get("/api/gamification/liability").json()["members_outstanding"]
    expect(page.get_by_test_id("liability-members")).to_have_text(f"{members:,}")
    page.get_by_test_id("admin-nav-health").click()
    expect(page.get_by_test_id("health-status")).to_have_attribute("data-status", "ok")
    expect(page.locator("[data-testid=health-service][data-service=database]")).to_have_attribute(
        "data-ok", "true")


def test_an_admin_finds_a_member_and_changes_their_role(
        admin_page: Page, admin: Client, member: Client) -> None:
    page = admin_page
    goto(page, "/admin/members")
    page.get_by_test_id("member-search").fill(member.member["handle"])
    handle = member.member["handle"]
    with page.expect_response(lambda r: f"/api/members?search={handle}" in r.url) as searched:
        page.get_by_test_id("member-search-submit").click()
    assert searched.value.status == 200
    row = page.locator(f"[data-testid=member-row][data-member-id='{member.member['id']}']")
    expect(row).to_contain_text(f"@{handle}")
    expect(page.get_by_test_id("member-row")).to_have_count(1)

    # Brand staff needs a brand: said in the row before anything is sent.
    row.get_by_test_id("member-role").select_option("brand_staff")
    row.get_by_test_id("member-save").click()
    expect(row.get_by_test_id("form-error")).to_have_text("Choose the brand they work for.")
    row.get_by_test_id("member-role").select_option("moderator")
    row.get_by_test_id("member-save").click()
    confirm(page, f"Make @{member.member['handle']} moderator?")
    expect(row.get_by_test_id("member-save")).to_be_disabled()
    assert admin.get(f"/api/members/{member.member['id']}").json()["role"] == "moderator"


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def test_every_console_section_passes_an_accessibility_audit(admin_page: Page) -> None:
    page = admin_page
    goto(page, "/admin")
    # Evaluated through the debugger protocol, which the page's CSP does not govern.
    page.evaluate(AXE.read_text())
    for section in ("", "categories", "members", "tiers", "seasons", "exclusions", "badges", "outbox",
                    "ledger", "health"):
        goto(page, f"/admin/{section}".rstrip("/"))
        expect(page.get_by_test_id("admin-title")).to_be_visible()
        if section == "ledger":
            page.get_by_test_id("ledger-check").click()
            expect(page.get_by_test_id("ledger-result")).to_be_visible()
            page.get_by_test_id("chain-verify").click()
            expect(page.get_by_test_id("chain-result")).to_be_visible()
            expect(page.get_by_test_id("liability-members")).to_be_visible()
        page.wait_for_load_state("networkidle")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(AXE.read_text())
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
            return {passes: r.passes.length, violations: r.violations.map(
                v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)};
        }""")
        assert result["passes"] > 0 and result["violations"] == [], f"#/admin/{section}: {result}"
