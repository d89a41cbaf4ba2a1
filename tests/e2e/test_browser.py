"""The web app in a real browser (Debian's Chromium, driven by Playwright) against a real server.

What is asserted is what a person at the screen would notice: replies and reactions from
someone else appearing without a reload, the notification badge, server error messages shown
in forms, hostile markup shown as text, a dropped connection catching up by itself, and a
member's progress on a brand's challenge moving as they take part.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.axe import assert_accessible
from tests.harness import Client, Server, Stack

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]
PASSWORD = "correct horse battery"  # what Client.register() uses
LIVE_TIMEOUT_MS = 10_000  # scaled mode goes outbox → Celery worker → Redis → websocket

if not CHROMIUM.exists():
    _why = f"{CHROMIUM} is not installed (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(_why + "; CI is set, so a missing browser is a failure", pytrace=False)
    pytest.skip(_why, allow_module_level=True)

from playwright.sync_api import (  # noqa: E402  (only importable where the browser tests run)
    Browser,
    BrowserContext,
    Page,
    WebSocketRoute,
    expect,
    sync_playwright,
)

expect.set_options(timeout=LIVE_TIMEOUT_MS)

XSS_IMG = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def post(self, text: str) -> Any:
        """The post card whose body contains text."""
        return self.page.get_by_test_id("post").filter(
            has=self.page.get_by_test_id("post-body").filter(has_text=text))


@pytest.fixture
def open_tab(browser: Browser, server: Server) -> Iterator[Callable[..., Tab]]:
    tabs: list[Tab] = []

    def open_tab(width: int = 1100, height: int = 900) -> Tab:
        context = browser.new_context(base_url=server.url, viewport={"width": width, "height": height})
        page = context.new_page()
        tab = Tab(context, page)
        page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        # Chromium reports what the Content-Security-Policy blocked as console errors.
        page.on("console", lambda message: tab.errors.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text else None)
        tabs.append(tab)
        return tab

    yield open_tab
    errors = [e for tab in tabs for e in tab.errors]
    for tab in tabs:
        tab.context.close()
    assert not errors, f"uncaught errors or blocked content in the page: {errors}"


def goto(tab: Tab, route: str) -> None:
    tab.page.goto("/#" + route)
    expect(tab.page.locator("body[data-ready=true]")).to_be_attached()


def sign_in(tab: Tab, login: str, handle: str, password: str = PASSWORD) -> None:
    goto(tab, "/signin")
    tab.page.get_by_test_id("signin-login").fill(login)
    tab.page.get_by_test_id("signin-password").fill(password)
    tab.page.get_by_test_id("signin-submit").click()
    expect(tab.page.get_by_test_id("current-user")).to_have_text(f"@{handle}")


def open_thread(tab: Tab, thread_id: int) -> None:
    goto(tab, f"/t/{thread_id}")
    wait_live(tab)


def wait_live(tab: Tab) -> None:
    """The thread view says when its live subscription is acknowledged."""
    expect(tab.page.locator("[data-testid=thread-view][data-live=subscribed]")).to_be_attached()


def new_thread(client: Client, category: dict, title: str, body: str) -> dict:
    response = client.post(f"/api/categories/{category['id']}/threads", {"title": title, "body": body})
    assert response.status_code == 201, response.text
    return response.json()["thread"]


def test_two_members_see_replies_reactions_and_notifications_live(
    open_tab: Callable[..., Tab], category: dict, member: Client, other: Client, tmp_path: Path,
) -> None:
    a_handle, b_handle = member.member["handle"], other.member["handle"]
    thread = new_thread(member, category, "Brew ratios, live", "What ratio do you **use**?")

    # A signs in with the form and clicks through categories → threads → the thread.
    a = open_tab()
    sign_in(a, a_handle, a_handle)
    goto(a, "/")
    a.page.get_by_test_id("category").filter(has_text=category["name"]) \
        .get_by_test_id("category-link").click()
    a_item = a.page.get_by_test_id("thread-item").filter(has_text="Brew ratios, live")
    expect(a_item.get_by_test_id("thread-post-count")).to_have_text("1 post")
    a_item.get_by_test_id("thread-link").click()
    expect(a.page.get_by_test_id("thread-title")).to_have_text("Brew ratios, live")
    wait_live(a)
    assert a.page.url.endswith(f"#/t/{thread['id']}")
    # The body is the server's sanitised HTML, rendered as HTML.
    expect(a.post("What ratio").get_by_test_id("post-body").locator("strong")).to_have_text("use")
    a.page.evaluate("window.__sameDocument = true")

    # B signs in with an email address, sees the thread as unread, opens it.
    b = open_tab()
    sign_in(b, other.member["handle"] + "@example.test", b_handle)
    goto(b, f"/c/{category['id']}")
    b_item = b.page.get_by_test_id("thread-item").filter(has_text="Brew ratios, live")
    expect(b_item.get_by_test_id("thread-unread")).to_have_text("1 new")
    b_item.get_by_test_id("thread-link").click()
    wait_live(b)

    # B replies through the form; A sees it appear without reloading.
    b.page.get_by_test_id("reply-body").fill("1:16 for pour-over, from B")
    b.page.get_by_test_id("reply-submit").click()
    expect(b.post("from B")).to_have_count(1)
    expect(b.page.get_by_test_id("reply-body")).to_have_value("")
    b_post_on_a = a.post("1:16 for pour-over, from B")
    expect(b_post_on_a).to_have_count(1)
    expect(b_post_on_a.get_by_test_id("post-author")).to_contain_text(f"@{b_handle}")
    expect(a.page.get_by_test_id("thread-post-total")).to_have_text("2 posts")
    assert a.page.evaluate("window.__sameDocument") is True

    # A reacts; B sees the count change live, and a notification badge appears for B.
    a_like = b_post_on_a.get_by_test_id("reaction-like")
    a_like.click()
    expect(a_like).to_have_attribute("aria-pressed", "true")
    b_like = b.post("from B").get_by_test_id("reaction-like")
    expect(b_like.get_by_test_id("reaction-count")).to_have_text("1")
    expect(b_like).to_have_attribute("aria-pressed", "false")
    b_badge = b.page.get_by_test_id("notif-badge")
    expect(b_badge).to_have_text("1")

    # A replies to B's post; B sees it live with its reply-to line, and the badge goes to 2.
    b_post_on_a.get_by_test_id("post-reply").click()
    expect(a.page.get_by_test_id("replying-to")).to_contain_text(f"@{b_handle} #2")
    a.page.get_by_test_id("reply-body").fill("Thanks, trying 1:16 tomorrow")
    a.page.get_by_test_id("reply-submit").click()
    a_reply_on_b = b.post("trying 1:16 tomorrow")
    expect(a_reply_on_b.get_by_test_id("post-reply-to")).to_have_text(
        f"↪ in reply to @{b_handle} #2")
    expect(b_badge).to_have_text("2")
    expect(b.page.get_by_test_id("thread-post-total")).to_have_text("3 posts")

    b.page.mouse.move(0, 0)
    b.page.screenshot(path=str(tmp_path / "thread-view.png"), full_page=True)

    # A takes the like back; B's count empties live.
    a_like.click()
    expect(a_like).to_have_attribute("aria-pressed", "false")
    expect(b_like.get_by_test_id("reaction-count")).to_have_text("")

    # B opens the notifications: a reply and a like, both from A; marking them read clears the badge.
    b.page.get_by_test_id("notif-button").click()
    items = b.page.get_by_test_id("notif-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(f"@{a_handle} replied to your post")
    expect(items.nth(1)).to_contain_text(f"@{a_handle} liked your post")
    b.page.get_by_test_id("notif-mark-read").click()
    expect(b_badge).to_be_hidden()
    expect(b.page.locator("[data-testid=notif-item].unread")).to_have_count(0)
    items.nth(0).locator("a").click()
    expect(b.page.get_by_test_id("notif-panel")).to_be_hidden()

    # No duplicates anywhere after all that live traffic.
    for tab in (a, b):
        expect(tab.page.get_by_test_id("post")).to_have_count(3)


def test_markup_in_posts_and_titles_is_shown_as_text(
    open_tab: Callable[..., Tab], category: dict, member: Client,
) -> None:
    thread = new_thread(member, category, f"Title {XSS_IMG}", f"Look: {XSS_IMG} and **bold**")

    reader = open_tab()  # anonymous, follows the thread live
    open_thread(reader, thread["id"])
    writer = open_tab()
    sign_in(writer, member.member["handle"], member.member["handle"])
    open_thread(writer, thread["id"])
    hostile = "<script>window.__pwned=2</script><img src=y onerror=\"window.__pwned=3\">"
    writer.page.get_by_test_id("reply-body").fill(f"Reply {hostile}")
    writer.page.get_by_test_id("reply-submit").click()

    for tab in (reader, writer):  # the reader gets the reply over the websocket
        page = tab.page
        expect(page.get_by_test_id("thread-title")).to_have_text(f"Title {XSS_IMG}")
        expect(tab.post("Look:")).to_contain_text(XSS_IMG)
        expect(tab.post("Look:").get_by_test_id("post-body").locator("strong")).to_have_text("bold")
        expect(tab.post("Reply")).to_contain_text(hostile)
        expect(page.locator("[data-testid=post-body] img, [data-testid=post-body] script")) \
            .to_have_count(0)
        assert page.evaluate("typeof window.__pwned") == "undefined"


def test_forms_show_server_errors_and_edit_and_delete_are_seen_live(
    open_tab: Callable[..., Tab], category: dict,
) -> None:
    handle = "e2e_" + uuid.uuid4().hex[:8]
    tab = open_tab(width=390, height=844)  # a phone
    page = tab.page

    # A wrong password shows the server's message, and registering through the form signs in.
    goto(tab, "/signin")
    page.get_by_test_id("signin-login").fill(handle)
    page.get_by_test_id("signin-password").fill("not the password")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("form-error")).to_have_text("wrong handle/email or password")
    goto(tab, "/register")
    page.get_by_test_id("register-handle").fill(handle)
    page.get_by_test_id("register-email").fill(f"{handle}@example.test")
    page.get_by_test_id("register-password").fill(PASSWORD)
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("current-user")).to_have_text(f"@{handle}")

    # Starting a thread: the server's validation message is shown, then it works.
    goto(tab, f"/c/{category['id']}")
    page.get_by_test_id("new-thread-toggle").click()
    page.get_by_test_id("new-thread-title").fill("  x   ")
    page.get_by_test_id("new-thread-body").fill("Grinders under $200?")
    page.get_by_test_id("new-thread-submit").click()
    expect(page.get_by_test_id("form-error")).to_have_text(
        "the title needs at least 3 visible characters")
    page.get_by_test_id("new-thread-title").fill("Grinder advice")
    page.get_by_test_id("new-thread-submit").click()
    expect(page.get_by_test_id("thread-title")).to_have_text("Grinder advice")
    wait_live(tab)
    thread_id = int(page.get_by_test_id("thread-view").get_attribute("data-thread-id") or 0)

    watcher = open_tab()
    open_thread(watcher, thread_id)

    page.get_by_test_id("reply-body").fill("A hand grinder, probably")
    page.get_by_test_id("reply-submit").click()
    expect(watcher.post("hand grinder")).to_have_count(1)

    # Edit: the author sees it at once, the watcher live, both marked as edited.
    mine = tab.post("hand grinder")
    mine.get_by_test_id("post-edit").click()
    mine.get_by_test_id("edit-body").fill("A *good* hand grinder, definitely")
    mine.get_by_test_id("edit-save").click()
    for t in (tab, watcher):
        edited = t.post("definitely")
        expect(edited.get_by_test_id("post-body").locator("em")).to_have_text("good")
        expect(edited.get_by_test_id("post-edited")).to_be_visible()
    expect(watcher.post("probably")).to_have_count(0)

    # Delete, with a confirmation step; it disappears for the watcher too.
    tab.post("definitely").get_by_test_id("post-delete").click()
    tab.post("definitely").get_by_test_id("post-delete-confirm").click()
    for t in (tab, watcher):
        expect(t.post("definitely")).to_have_count(0)
        expect(t.page.get_by_test_id("post")).to_have_count(1)
        expect(t.page.get_by_test_id("thread-post-total")).to_have_text("1 post")

    page.get_by_test_id("signout").click()
    expect(page.get_by_test_id("signin-link")).to_be_visible()
    expect(page.get_by_test_id("reply-form")).to_have_count(0)


def test_paging_threads_and_posts_and_the_pinned_marker(
    open_tab: Callable[..., Tab], category: dict, member: Client, moderator: Client,
) -> None:
    threads = [new_thread(member, category, f"Paged thread {i:02d}", "hello") for i in range(22)]
    pinned = threads[0]
    assert moderator.patch(f"/api/threads/{pinned['id']}", {"pinned": True}).status_code == 200
    long = threads[-1]
    for i in range(2, 26):
        response = member.post(f"/api/threads/{long['id']}/posts", {"body": f"Reply number {i}"})
        assert response.status_code == 201, response.text

    tab = open_tab()
    page = tab.page
    goto(tab, f"/c/{category['id']}")
    items = page.get_by_test_id("thread-item")
    expect(items).to_have_count(20)
    expect(items.nth(0).get_by_test_id("thread-pinned")).to_be_visible()
    expect(items.nth(0)).to_contain_text("Paged thread 00")
    expect(page.get_by_test_id("thread-pinned")).to_have_count(1)
    expect(items.nth(1)).to_contain_text("Paged thread 21")
    expect(items.nth(1).get_by_test_id("thread-post-count")).to_have_text("25 posts")
    page.get_by_test_id("load-more-threads").click()
    expect(items).to_have_count(22)
    expect(page.get_by_test_id("load-more-threads")).to_be_hidden()

    items.nth(1).get_by_test_id("thread-link").click()
    posts = page.get_by_test_id("post")
    expect(posts).to_have_count(20)
    page.get_by_test_id("load-more-posts").click()
    expect(posts).to_have_count(25)
    expect(posts.nth(24)).to_contain_text("Reply number 25")
    expect(page.get_by_test_id("load-more-posts")).to_be_hidden()


# 1006: the connection dropped; 1012: the server closed it to restart ("service restart").
@pytest.mark.parametrize("code", [1006, 1012])
def test_a_dropped_connection_reconnects_and_catches_up(
    open_tab: Callable[..., Tab], category: dict, member: Client, code: int,
) -> None:
    thread = new_thread(member, category, "Reconnect me", "first")
    tab = open_tab()
    sockets: list[WebSocketRoute] = []
    sent: list[dict[str, Any]] = []
    refuse = {"on": False}

    def route(ws: WebSocketRoute) -> None:
        if refuse["on"]:
            ws.close(code=1011, reason="test: server unreachable")
            return
        server = ws.connect_to_server()

        def forward(message: str | bytes) -> None:
            if isinstance(message, str):
                sent.append(json.loads(message))
            server.send(message)

        ws.on_message(forward)
        sockets.append(ws)

    tab.page.route_web_socket("**/ws", route)
    open_thread(tab, thread["id"])
    status = tab.page.get_by_test_id("live-status")
    expect(status).to_have_attribute("data-status", "live")

    # The connection drops and the next attempts fail; meanwhile someone replies.
    refuse["on"] = True
    sockets[-1].close(code=code, reason="test: dropped")
    expect(status).to_have_attribute("data-status", "reconnecting")
    response = member.post(f"/api/threads/{thread['id']}/posts", {"body": "sent while you were away"})
    assert response.status_code == 201, response.text
    expect(tab.post("sent while you were away")).to_have_count(0)

    # The network comes back: the client reconnects by itself and catches up from its last seq.
    refuse["on"] = False
    expect(status).to_have_attribute("data-status", "live")
    expect(tab.post("sent while you were away")).to_have_count(1)
    resubscribes = [m for m in sent if m.get("op") == "subscribe"
                    and m.get("channel") == f"thread:{thread['id']}" and "since" in m]
    assert resubscribes, f"no catch-up subscription was sent: {sent}"
    expect(tab.page.get_by_test_id("post")).to_have_count(2)
    expect(tab.page.get_by_test_id("thread-post-total")).to_have_text("2 posts")


def adjust(admin: Client, member: Client, amount: int, reason: str) -> None:
    response = admin.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": amount, "reason": reason,
        "idempotency_key": "e2e-" + uuid.uuid4().hex})
    assert response.status_code == 201, response.text


def test_points_tier_badges_and_the_leaderboard_move_live(
    open_tab: Callable[..., Tab], admin: Client, member: Client, other: Client, tmp_path: Path,
) -> None:
    handle, rival = member.member["handle"], other.member["handle"]
    a = open_tab()
    sign_in(a, handle, handle)
    expect(a.page.get_by_test_id("nav-points-balance")).to_have_text("0")
    a.page.get_by_test_id("nav-points").click()
    expect(a.page.get_by_test_id("points-balance")).to_have_text("0")
    expect(a.page.get_by_test_id("history-card")).to_contain_text("Nothing yet")
    expect(a.page.get_by_test_id("expiry-policy")).to_have_text("Your points never expire.")

    # Staff give goodwill points: the top bar and the page follow without a reload.
    adjust(admin, member, 50_000, "Thanks for the meetup photos")
    expect(a.page.get_by_test_id("nav-points-balance")).to_have_text("50,000")
    expect(a.page.get_by_test_id("points-balance")).to_have_text("50,000")
    expect(a.page.get_by_test_id("points-lifetime")).to_have_text("50,000")
    expect(a.page.get_by_test_id("tier-name")).to_have_text("VIP")
    expect(a.page.get_by_test_id("tier-next")).to_have_text("Top of the ladder")
    first = a.page.get_by_test_id("history-item").first
    expect(first).to_contain_text("+50,000")
    expect(first).to_contain_text("Thanks for the meetup photos")

    # A badge granted by staff appears among the earned ones, live.
    badge = admin.post("/api/gamification/badges", {
        "slug": "e2e-" + uuid.uuid4().hex[:8], "name": "Meetup host", "level": "gold",
        "criteria": {"type": "manual"}}).json()
    granted = admin.post(f"/api/gamification/badges/{badge['id']}/grants",
                         {"member_id": member.member["id"], "reason": "Hosted the spring meetup"})
    assert granted.status_code == 201, granted.text
    expect(a.page.get_by_test_id("badge-earned").filter(has_text="Meetup host")).to_have_count(1)
    assert_accessible(a.page)
    a.page.screenshot(path=str(tmp_path / "rewards-view.png"), full_page=True)

    # The leaderboard shows both members and reorders live when the rival overtakes.
    goto(a, "/leaderboards")
    expect(a.page.locator("[data-testid=leaderboard-view][data-live=subscribed]")).to_be_attached()
    rows = a.page.get_by_test_id("board-row")
    mine = rows.filter(has_text=f"@{handle}")
    expect(mine.get_by_test_id("board-score")).to_have_text("50,000")
    expect(a.page.get_by_test_id("board-me")).to_contain_text("with 50,000 points")
    adjust(admin, other, 90_000, "Community award")
    theirs = rows.filter(has_text=f"@{rival}")
    expect(theirs.get_by_test_id("board-score")).to_have_text("90,000")
    rank = lambda row: int(row.get_by_test_id("board-rank").inner_text().lstrip("#"))  # noqa: E731
    assert rank(theirs) < rank(mine)
    assert_accessible(a.page)
    a.page.get_by_role("link", name="This week").click()
    expect(a.page.get_by_test_id("board-row").filter(has_text=f"@{handle}")).to_have_count(1)


def brand_with_staff(admin: Client, server: Server) -> tuple[Client, dict, dict]:
    """A brand with a funded budget, one of its staff, and a category to run challenges in."""
    brand = admin.post("/api/brands", {"name": "Roastery", "slug": "e2e-" + uuid.uuid4().hex[:6]})
    assert brand.status_code == 201, brand.text
    staff = server.client().register()
    promoted = admin.put(f"/api/members/{staff.member['id']}/role",
                         {"role": "brand_staff", "brand_id": brand.json()["id"]})
    assert promoted.status_code == 200, promoted.text
    funded = admin.post(f"/api/gamification/brands/{brand.json()['id']}/budget", {
        "amount": 1000, "reason": "spring season", "idempotency_key": "e2e-" + uuid.uuid4().hex})
    assert funded.status_code in (200, 201), funded.text
    slug = "brews-" + uuid.uuid4().hex[:6]
    category = admin.post("/api/categories", {"name": "Spring " + slug, "slug": slug})
    assert category.status_code == 201, category.text
    return staff, brand.json(), category.json()


def publish_challenge(staff: Client, brand: dict, now: dt.datetime, **fields: Any) -> dict:
    """Published, running from a minute before `now` (the stack's time) for a week."""
    made = staff.post("/api/challenges", {
        "brand_id": brand["id"], "time_zone": "Europe/Paris", "reward_points": 25,
        "starts_at": (now - dt.timedelta(minutes=1)).isoformat(),
        "ends_at": (now + dt.timedelta(days=7)).isoformat(), **fields})
    assert made.status_code == 201, made.text
    published = staff.post(f"/api/challenges/{made.json()['id']}/publish")
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "active"
    return published.json()


def test_a_member_joins_a_brand_challenge_and_sees_it_complete_live(
    open_tab: Callable[..., Tab], admin: Client, server: Server, member: Client, other: Client,
    tmp_path: Path, stack: Stack,
) -> None:
    handle = member.member["handle"]
    staff, brand, category = brand_with_staff(admin, server)
    top_tier = admin.get("/api/gamification/tiers").json()["tiers"][-1]["name"]
    publish_challenge(staff, brand, stack.now(), title="Regulars' cupping", eligibility="tier",
                      eligibility_value=top_tier,
                      tasks=[{"name": "Say hello", "event_types": ["post.created"], "target": 1}])
    made = publish_challenge(
        staff, brand, stack.now(), title="Spring brew-off",
        description="Share your spring recipes.\nTwo replies win.",
        tasks=[{"name": "Reply twice in Spring brews", "event_types": ["post.created"], "target": 2,
                "condition": f"category_id == {category['id']} and post_number > 1"}])
    starts_in_paris = dt.datetime.fromisoformat(made["starts_at"]).astimezone(ZoneInfo("Europe/Paris"))
    thread = new_thread(other, category, "Spring recipes", "Post yours below")

    # The member finds the challenge from the top bar, with its status, Paris dates and reward.
    tab = open_tab(width=390, height=844)
    page = tab.page
    sign_in(tab, handle, handle)
    page.get_by_test_id("nav-challenges").click()
    item = page.get_by_test_id("challenge-item").filter(has_text="Spring brew-off")
    expect(item.get_by_test_id("challenge-status")).to_have_text("Active")
    expect(item.get_by_test_id("challenge-reward")).to_have_text("25 points")
    expect(item.get_by_test_id("challenge-dates")).to_contain_text(f"{starts_in_paris:%H:%M}")
    expect(item.get_by_test_id("challenge-dates")).to_contain_text("Europe/Paris")
    assert_accessible(page)

    # A challenge for a tier the member lacks: Join shows the server's reason.
    page.get_by_test_id("challenge-item").filter(has_text="Regulars' cupping") \
        .get_by_test_id("challenge-link").click()
    expect(page.get_by_test_id("challenge-eligibility")).to_have_text(
        f"Members at the {top_tier} tier or above")
    page.get_by_test_id("challenge-join").click()
    expect(page.get_by_test_id("challenge-join-error")).to_contain_text(f"'{top_tier}'")

    # The open challenge: its page, then Join.
    page.go_back()
    item.get_by_test_id("challenge-link").click()
    expect(page.get_by_test_id("challenge-title")).to_have_text("Spring brew-off")
    expect(page.get_by_test_id("challenge-description")).to_have_text(
        "Share your spring recipes.\nTwo replies win.")
    expect(page.get_by_test_id("challenge-reward")).to_have_text("25 points")
    expect(page.locator("[data-testid=challenge-view][data-live=subscribed]")).to_be_attached()
    task = page.get_by_test_id("challenge-task").filter(has_text="Reply twice in Spring brews")
    expect(task.get_by_test_id("task-count")).to_have_text("2 times")
    expect(page.get_by_test_id("challenge-board-empty")).to_be_visible()
    page.get_by_test_id("challenge-join").click()
    expect(page.get_by_test_id("challenge-joined")).to_contain_text("You're in")
    expect(page.get_by_test_id("challenge-join")).to_have_count(0)
    expect(task.get_by_test_id("task-count")).to_have_text("0 of 2")
    page.evaluate("window.__sameDocument = true")
    # Someone not signed in follows the same page: the board, and an invitation to sign in.
    watcher = open_tab()
    goto(watcher, f"/challenges/{made['id']}")
    expect(watcher.page.locator("[data-testid=challenge-view][data-live=subscribed]")).to_be_attached()
    expect(watcher.page.get_by_test_id("challenge-participation")).to_contain_text("Sign in")
    expect(watcher.page.get_by_test_id("challenge-join")).to_have_count(0)

    # Posting (through the API) moves the progress bar and the board, live.
    bar = task.get_by_role("progressbar", name="Reply twice in Spring brews: 1 of 2")
    reply = member.post(f"/api/threads/{thread['id']}/posts", {"body": "Mine: 1:15, 94°C"})
    assert reply.status_code == 201, reply.text
    expect(task.get_by_test_id("task-count")).to_have_text("1 of 2")
    expect(bar).to_have_attribute("value", "1")
    expect(task.get_by_test_id("task-done")).to_have_count(0)
    row = page.get_by_test_id("challenge-board-row").filter(has_text=f"@{handle}")
    expect(row.get_by_test_id("challenge-board-score")).to_have_text("1 step")
    expect(row.get_by_test_id("challenge-board-completed")).to_have_count(0)

    reply = member.post(f"/api/threads/{thread['id']}/posts", {"body": "And an iced one: 1:10"})
    assert reply.status_code == 201, reply.text
    expect(task.get_by_test_id("task-count")).to_have_text("2 of 2")
    expect(task.get_by_test_id("task-done")).to_be_visible()
    expect(page.get_by_test_id("challenge-completed")).to_contain_text("You completed this challenge")
    expect(page.get_by_test_id("challenge-rewarded")).to_have_text("You earned 25 points.")
    expect(row.get_by_test_id("challenge-board-rank")).to_have_text("#1")
    expect(row.get_by_test_id("challenge-board-score")).to_have_text("2 steps")
    expect(row.get_by_test_id("challenge-board-completed")).to_be_visible()
    expect(page.get_by_test_id("nav-points-balance")).to_have_text("25")
    expect(watcher.page.get_by_test_id("challenge-board-row").filter(has_text=f"@{handle}")
           .get_by_test_id("challenge-board-completed")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "challenge-view.png"), full_page=True)
    assert page.evaluate("window.__sameDocument") is True

    # The completion notification leads back to the challenge.
    page.get_by_test_id("nav-home").click()
    expect(page.get_by_test_id("notif-badge")).to_be_visible()
    page.get_by_test_id("notif-button").click()
    completed = page.get_by_test_id("notif-item").filter(
        has_text="You completed the challenge 'Spring brew-off' (+25 points)")
    expect(completed).to_have_count(1)
    completed.locator("a").click()
    expect(page.get_by_test_id("challenge-title")).to_have_text("Spring brew-off")
    expect(page.get_by_test_id("challenge-completed")).to_be_visible()
