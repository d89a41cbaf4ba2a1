"""The brand staff console in a real browser: staff build a two-task challenge with the
condition helper, publish it, and watch a member (acting over the API) complete it live; the
server's refusals show inline and every staff action is confirmed first."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible
from tests.e2e.test_browser import Tab, brand_with_staff, browser, goto, new_thread, open_tab
from tests.harness import Client, Server, Stack, eventually

pytestmark = pytest.mark.e2e
__all__ = ["browser", "open_tab"]  # the fixtures this module uses, from the browser tests


def sign_in_as(tab: Tab, client: Client, server: Server) -> None:
    """Until the sign-in page lands: the browser takes over a harness client's session
    (its session and CSRF cookies), as if it had signed in itself."""
    tab.context.add_cookies([{"name": name, "value": value, "url": server.url}
                             for name, value in client.http.cookies.items()])


def local_input(tab: Tab, when: dt.datetime) -> str:
    """A datetime-local value for this instant in the browser's own time zone."""
    return str(tab.page.evaluate("""iso => {
        const d = new Date(iso), p = (n) => String(n).padStart(2, "0");
        const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
        return `${day}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }""", when.isoformat()))


def confirm(tab: Tab, title: str) -> None:
    dialog = tab.page.get_by_test_id("confirm-dialog")
    expect(dialog).to_contain_text(title)
    dialog.get_by_test_id("confirm-ok").click()
    expect(dialog).not_to_be_visible()


def test_brand_staff_build_a_two_task_challenge_publish_it_and_watch_a_member_complete_it_live(
    open_tab: Callable[..., Tab], admin: Client, server: Server, member: Client, other: Client,
    stack: Stack, tmp_path: Path,
) -> None:
    staff, brand, category = brand_with_staff(admin, server)
    tab = open_tab()
    page = tab.page
    sign_in_as(tab, staff, server)
    goto(tab, "/brand/challenges")
    expect(page.get_by_test_id("brand-name")).to_have_text(f"For {brand['name']}")
    page.get_by_test_id("new-challenge").click()
    expect(page.get_by_test_id("brand-title")).to_have_text("New challenge")

    title = "Spring console " + uuid.uuid4().hex[:4]
    page.get_by_test_id("challenge-title").fill(title)
    page.get_by_test_id("challenge-description").fill("Start a thread, then reply twice.")
    page.get_by_test_id("challenge-starts").fill(local_input(tab, stack.now() - dt.timedelta(minutes=5)))
    page.get_by_test_id("challenge-ends").fill(local_input(tab, stack.now() + dt.timedelta(days=7)))
    page.get_by_test_id("challenge-reward").fill("25")

    # Task 1 through the condition helper: the event's fields, one chosen into the condition.
    first = page.get_by_test_id("task").nth(0)
    first.get_by_test_id("task-name").fill("Start a thread")
    expect(first.get_by_test_id("task-condition-fields")).to_have_count(0)
    first.get_by_test_id("task-events").get_by_label("thread.created").check()
    fields = first.get_by_test_id("task-condition-fields")
    expect(fields.locator("[data-field=thread_id]")).to_be_visible()
    expect(fields.locator("[data-field=post_number]")).to_have_count(0)
    fields.locator("[data-field=category_id]").click()
    condition = first.get_by_test_id("task-condition")
    expect(condition).to_have_value("category_id == ")
    expect(condition).to_be_focused()
    condition.press_sequentially(str(category["id"]))

    # Task 2, its condition mistyped first: the server's refusal shows in the form.
    page.get_by_test_id("add-task").click()
    second = page.get_by_test_id("task").nth(1)
    second.get_by_test_id("task-name").fill("Reply twice")
    second.get_by_test_id("task-target").fill("2")
    second.get_by_test_id("task-events").get_by_label("post.created").check()
    expect(second.get_by_test_id("task-condition-fields").locator("[data-field=post_number]")).to_be_visible()
    second.get_by_test_id("task-condition").fill(f"category_id == {category['id']} and post_number >")
    page.get_by_test_id("challenge-preview-toggle").click()
    preview = page.get_by_test_id("challenge-preview")
    expect(preview).to_contain_text(title)
    expect(preview).to_contain_text("Reply twice — 2 times")
    page.get_by_test_id("challenge-save").click()
    confirm(tab, "Create this challenge?")
    expect(page.get_by_test_id("form-error").filter(has_text="task condition")).to_be_visible()
    second.get_by_test_id("task-condition").fill(f"category_id == {category['id']} and post_number > 1")
    page.get_by_test_id("challenge-save").click()
    confirm(tab, "Create this challenge?")
    expect(page.get_by_test_id("challenge-status")).to_have_text("draft")
    assert "/brand/challenges/" in page.url and page.url.split("/")[-1].isdigit()
    challenge_id = int(page.url.split("/")[-1])
    assert staff.get(f"/api/challenges/{challenge_id}").json()["tasks"][1]["condition"] == \
        f"category_id == {category['id']} and post_number > 1"

    # Publishing is confirmed; cancelling the dialog changes nothing.
    page.get_by_test_id("challenge-publish").click()
    page.get_by_test_id("confirm-dialog").get_by_test_id("confirm-cancel").click()
    expect(page.get_by_test_id("challenge-status")).to_have_text("draft")
    page.get_by_test_id("challenge-publish").click()
    confirm(tab, "Publish this challenge?")
    expect(page.get_by_test_id("challenge-status")).to_have_text("active")
    expect(page.get_by_test_id("challenge-title")).to_be_disabled()
    summary = page.get_by_test_id("entries-summary")
    expect(summary).to_have_text("0 members entered · 0 completed")
    page.evaluate("window.__sameDocument = true")

    # The member acts over the API; the console follows without a reload.
    assert member.post(f"/api/challenges/{challenge_id}/join").status_code == 200
    handle = member.member["handle"]
    row = page.get_by_test_id("entry-row").filter(has_text=f"@{handle}")
    cells = row.get_by_test_id("entry-task")
    started = new_thread(member, category, "My spring thread", "Here it is")
    expect(cells.nth(0)).to_have_text("1 / 1")
    expect(cells.nth(1)).to_have_text("0 / 2")
    expect(summary).to_have_text("1 member entered · 0 completed")
    elsewhere = new_thread(other, category, "Someone else's", "Reply here")
    for body in ("First reply", "Second reply"):
        reply = member.post(f"/api/threads/{elsewhere['id']}/posts", {"body": body})
        assert reply.status_code == 201, reply.text
    expect(cells.nth(1)).to_have_text("2 / 2")
    expect(row.get_by_test_id("entry-completed")).to_contain_text("Yes")
    expect(summary).to_have_text("1 member entered · 1 completed")
    assert page.evaluate("window.__sameDocument") is True
    assert started["id"] != elsewhere["id"]
    page.screenshot(path=str(tmp_path / "brand-challenge.png"), full_page=True)

    # Cancelling is confirmed too, and the form says the challenge can no longer change.
    page.get_by_test_id("challenge-cancel").click()
    confirm(tab, "Cancel this challenge?")
    expect(page.get_by_test_id("challenge-status")).to_have_text("cancelled")


def test_rules_budget_badges_and_tokens_from_the_console(
    open_tab: Callable[..., Tab], admin: Client, server: Server, member: Client, tmp_path: Path,
) -> None:
    staff, brand, category = brand_with_staff(admin, server)
    badge = admin.post("/api/gamification/badges", {
        "slug": "barista-" + uuid.uuid4().hex[:6], "name": "Barista's pick " + uuid.uuid4().hex[:4],
        "criteria": {"type": "manual"}}).json()
    tab = open_tab()
    page = tab.page
    sign_in_as(tab, staff, server)

    # A rule, tried on a sample event before it is saved: the points and why.
    goto(tab, "/brand/rules")
    page.get_by_test_id("new-rule").click()
    page.get_by_test_id("rule-name").fill("Replies in spring")
    page.get_by_test_id("rule-events").get_by_label("post.created").check()
    page.get_by_test_id("rule-condition").fill("post_number > 1")
    page.get_by_test_id("rule-points").fill("5 if post_number > 2 else 3")
    page.get_by_test_id("try-event-type").select_option("post.created")
    sample = page.get_by_test_id("try-sample")
    expect(sample).to_have_value(re.compile(f'"brand_id": {brand["id"]},'))
    sample.fill(sample.input_value().replace('"post_number": 2', '"post_number": 3'))
    page.get_by_test_id("try-run").click()
    expect(page.get_by_test_id("try-points")).to_have_text("Pays 5 points")
    expect(page.get_by_test_id("try-check").filter(has_text="condition `post_number > 1`")) \
        .to_contain_text("comes to True")
    sample.fill(sample.input_value().replace('"post_number": 3', '"post_number": 1'))
    page.get_by_test_id("try-run").click()
    expect(page.get_by_test_id("try-points")).to_have_text("Pays nothing")
    expect(page.get_by_test_id("try-check").filter(has_text="condition")).to_contain_text("comes to False")
    page.screenshot(path=str(tmp_path / "brand-rule-try.png"), full_page=True)
    page.get_by_test_id("rule-save").click()
    confirm(tab, "Create this rule?")
    expect(page.get_by_test_id("rule-row").filter(has_text="Replies in spring")).to_be_visible()

    # The budget: an adjustment with its reason, then the balance and history show it.
    goto(tab, "/brand/budget")
    expect(page.get_by_test_id("budget-balance")).to_have_text("1,000")
    page.get_by_test_id("adjust-member").fill(str(member.member["id"]))
    page.get_by_test_id("adjust-amount").fill("40")
    page.get_by_test_id("adjust-reason").fill("Sorry about the late order")
    page.get_by_test_id("adjust-submit").click()
    confirm(tab, "Adjust points?")
    expect(page.get_by_test_id("budget-balance")).to_have_text("960")
    expect(page.get_by_test_id("budget-history").get_by_test_id("table-row").first) \
        .to_contain_text("Sorry about the late order")
    assert member.get("/api/me/points").json()["balance"] == 40
    # The liability follows, and downloads as CSV.
    expect(page.get_by_test_id("liability-issued")).to_have_text("40")
    expect(page.get_by_test_id("liability-budget")).to_have_text("960")
    with page.expect_download() as download:
        page.get_by_test_id("liability-csv").click()
    assert download.value.suggested_filename.startswith(f"liability-brand-{brand['id']}-")
    assert_accessible(page)

    # Badges: a grant with a reason, in the list, then revoked with a reason; refusals inline.
    goto(tab, "/brand/badges")
    page.get_by_test_id("badge-pick").select_option(label=badge["name"])
    page.get_by_test_id("grant-member").fill(str(member.member["id"]))
    page.get_by_test_id("grant-reason").fill("Best latte art")
    page.get_by_test_id("grant-submit").click()
    confirm(tab, f"Grant “{badge['name']}”?")
    grant = page.get_by_test_id("grant-list").get_by_test_id("table-row").filter(has_text="Best latte art")
    expect(grant).to_contain_text(f"@{member.member['handle']}")
    page.get_by_test_id("grant-member").fill(str(member.member["id"]))
    page.get_by_test_id("grant-reason").fill("Twice?")
    page.get_by_test_id("grant-submit").click()
    confirm(tab, f"Grant “{badge['name']}”?")
    expect(page.get_by_test_id("form-error").filter(has_text="already has this badge")).to_be_visible()
    grant.get_by_test_id("grant-revoke").click()
    page.get_by_test_id("revoke-reason").fill("Wrong member")
    page.get_by_test_id("revoke-submit").click()
    confirm(tab, "Revoke")
    expect(grant).to_contain_text("Wrong member")
    expect(grant.get_by_test_id("grant-revoke")).to_have_count(0)

    # API tokens: the secret shown once, the list with scopes, revoking confirmed.
    goto(tab, "/brand/tokens")
    page.get_by_test_id("token-name").fill("Checkout")
    page.get_by_label("write: act (adjust, redeem, post)").check()
    page.get_by_test_id("token-create").click()
    confirm(tab, "Create an API token?")
    secret = page.get_by_test_id("token-secret").inner_text()
    assert len(secret) > 20
    token_row = page.get_by_test_id("token-row").filter(has_text="Checkout")
    expect(token_row).to_contain_text("read, write")
    expect(token_row).to_contain_text("Never")
    page.get_by_role("button", name="I have copied it").click()
    expect(page.get_by_test_id("token-secret")).to_have_count(0)
    integration = server.client()
    integration.token = secret
    tokens_path = f"/api/brands/{brand['id']}/tokens"
    assert integration.get(tokens_path).status_code == 200
    token_row.get_by_test_id("token-revoke").click()
    confirm(tab, "Revoke this token?")
    expect(token_row).to_contain_text("Revoked")
    assert integration.get(tokens_path).status_code == 401
    assert category["id"]

    # The brand's log: each act above, newest first, its change as before and after.
    goto(tab, "/brand/log")
    rows = page.get_by_test_id("staff-log").get_by_test_id("table-row")
    expect(rows.first.get_by_test_id("log-action")).to_have_text("token revoke")
    expect(rows.first.get_by_test_id("log-target")).to_have_text("token 'Checkout'")
    expect(rows.first.get_by_test_id("log-diff")).to_contain_text("revokedfalsetrue")
    page.get_by_test_id("log-filter-action").fill("badge.")
    page.get_by_test_id("log-apply").click()
    expect(rows.get_by_test_id("log-action")).to_have_text(["badge revoke", "badge grant"])
    expect(rows.first).to_contain_text("Wrong member")
    expect(rows.nth(1)).to_contain_text("Best latte art")
    assert_accessible(page)


def test_staff_see_their_shops_inbound_events_with_points_and_declare_a_custom_type(
    open_tab: Callable[..., Tab], admin: Client, server: Server, member: Client, tmp_path: Path,
) -> None:
    staff, brand, _ = brand_with_staff(admin, server)
    assert staff.post("/api/gamification/rules", {
        "name": "A point per euro", "event_types": ["order.completed"], "points": "amount",
        "brand_id": brand["id"]}).status_code == 201
    shop = server.client()
    shop.token = staff.post(f"/api/brands/{brand['id']}/tokens",
                            {"name": "shop", "scopes": ["events"]}).json()["secret"]
    sent = shop.post("/api/integrations/events", {
        "type": "order.completed", "member": {"id": member.member["id"]},
        "data": {"order_id": "E-1", "amount": "19.90", "currency": "EUR"}},
        headers={"Idempotency-Key": "order-E-1"})
    assert sent.status_code == 201, sent.text
    eventually(lambda: admin.get(f"/api/members/{member.member['id']}/points").json()["balance"] == 19)
    tab = open_tab()
    page = tab.page
    sign_in_as(tab, staff, server)
    goto(tab, "/brand/inbound")
    row = page.get_by_test_id("inbound-events").get_by_test_id("table-row").first
    expect(row).to_contain_text("order-E-1")
    expect(row).to_contain_text("order E-1: 19.90 EUR")
    expect(row).to_contain_text("+19")
    expect(page.get_by_test_id("inbound-curl")).to_contain_text("/api/integrations/events")

    page.get_by_test_id("inbound-type-name").fill("store_visit")
    page.get_by_test_id("inbound-field-name").fill("minutes")
    page.get_by_test_id("inbound-type-submit").click()
    confirm(tab, "Declare this event type?")
    expect(page.get_by_test_id("inbound-type-row")).to_contain_text("minutes: integer")
    page.screenshot(path=str(tmp_path / "brand-inbound.png"), full_page=True)
    assert_accessible(page)


def test_members_are_told_the_console_is_not_for_them_and_never_load_it(
    open_tab: Callable[..., Tab], server: Server, member: Client,
) -> None:
    tab = open_tab()
    loaded: list[str] = []
    tab.page.on("request", lambda request: loaded.append(request.url))
    sign_in_as(tab, member, server)
    goto(tab, "/")
    expect(tab.page.get_by_test_id("current-user")).to_have_text(f"@{member.member['handle']}")
    assert loaded and not [url for url in loaded if "/assets/console-" in url]
    goto(tab, "/brand/budget")
    expect(tab.page.get_by_test_id("brand-refused")).to_contain_text("for a brand's staff and for admins")


def test_an_admin_picks_the_brand_the_console_acts_for(
    open_tab: Callable[..., Tab], admin: Client, server: Server,
) -> None:
    _, brand, _ = brand_with_staff(admin, server)
    tab = open_tab()
    sign_in_as(tab, admin, server)
    goto(tab, "/brand/budget")
    tab.page.get_by_test_id("brand-pick").select_option(str(brand["id"]))
    expect(tab.page.get_by_test_id("budget-balance")).to_have_text("1,000")
    expect(tab.page.get_by_test_id("budget-history").get_by_test_id("table-row").first) \
        .to_contain_text("spring season")
