"""The forum's newer tools in a real browser: the helpful reply, the composer's quote, toolbar
and preview, the live "new threads" bar, and moderators' tools on a thread (an edit of
someone else's post with its reason).

The browser, tabs and sign-in steps are test_browser.py's.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest

from tests.e2e import test_browser as shared
from tests.e2e.test_browser import (
    PASSWORD,
    XSS_IMG,
    Tab,
    expect,
    goto,
    new_thread,
    open_thread,
    sign_in,
    wait_live,
)
from tests.harness import Client

pytestmark = pytest.mark.e2e

# The fixtures, shared with test_browser.py.
browser = shared.browser
open_tab = shared.open_tab


def test_the_threads_author_marks_a_helpful_reply_and_everyone_sees_it_live(
    open_tab: Callable[..., Tab], category: dict, member: Client, other: Client,
) -> None:
    thread = new_thread(member, category, "Which kettle?", "Gooseneck or not?")
    response = other.post(f"/api/threads/{thread['id']}/posts", {"body": "Gooseneck, for control"})
    assert response.status_code == 201, response.text
    other.post(f"/api/threads/{thread['id']}/posts", {"body": "Any kettle works"})

    # The replier may not mark anything; an anonymous reader is shown the mark live.
    replier = open_tab()
    sign_in(replier, other.member["handle"], other.member["handle"])
    open_thread(replier, thread["id"])
    expect(replier.page.get_by_test_id("post")).to_have_count(3)
    expect(replier.page.get_by_test_id("post-helpful-toggle")).to_have_count(0)
    reader = open_tab()
    open_thread(reader, thread["id"])

    author = open_tab()
    sign_in(author, member.member["handle"], member.member["handle"])
    open_thread(author, thread["id"])
    # Not on the question itself: on each reply.
    expect(author.page.get_by_test_id("post-helpful-toggle")).to_have_count(2)
    author.post("Gooseneck").get_by_test_id("post-helpful-toggle").click()

    for tab in (author, reader, replier):
        expect(tab.post("Gooseneck").get_by_test_id("post-helpful")).to_have_text("✓ Helpful answer")
        expect(tab.page.get_by_test_id("post-helpful")).to_have_count(1)
        expect(tab.page.get_by_test_id("thread-helpful-link")).to_contain_text("#2")

    # Marking another reply moves the mark; unmarking takes it away, for everyone.
    author.post("Any kettle").get_by_test_id("post-helpful-toggle").click()
    for tab in (author, reader):
        expect(tab.post("Any kettle").get_by_test_id("post-helpful")).to_be_visible()
        expect(tab.page.get_by_test_id("post-helpful")).to_have_count(1)
    toggle = author.post("Any kettle").get_by_test_id("post-helpful-toggle")
    expect(toggle).to_have_text("Unmark helpful")
    toggle.click()
    for tab in (author, reader):
        expect(tab.page.get_by_test_id("post-helpful")).to_have_count(0)
        expect(tab.page.get_by_test_id("thread-helpful-link")).to_have_count(0)


def test_quoting_a_post_formatting_with_the_toolbar_and_previewing_before_posting(
    open_tab: Callable[..., Tab], category: dict, member: Client, other: Client,
) -> None:
    thread = new_thread(member, category, "Quote me", "Bloom for **30 seconds**\nthen pour")
    tab = open_tab()
    sign_in(tab, other.member["handle"], other.member["handle"])
    open_thread(tab, thread["id"])
    page = tab.page
    body = page.get_by_test_id("reply-body")

    # Quoting puts the author and their Markdown, as a block quote, into the reply.
    tab.post("Bloom for").get_by_test_id("post-quote").click()
    expect(body).to_be_focused()
    expect(body).to_have_value(
        f"> @{member.member['handle']} wrote:\n> Bloom for **30 seconds**\n> then pour\n\n")
    expect(page.get_by_test_id("replying-to")).to_contain_text(f"@{member.member['handle']} #1")

    # The toolbar formats the selection.
    body.press("End")
    body.type("strong words")
    body.evaluate("el => el.setSelectionRange(el.value.length - 12, el.value.length - 6)")
    page.get_by_test_id("md-bold").click()
    expect(body).to_have_value(re.compile(r"\n\n\*\*strong\*\* words$"))
    body.press("End")
    body.type(f" {XSS_IMG}")

    # The preview is the server's rendering: markup as text, nothing run.
    page.get_by_test_id("md-tab-preview").click()
    preview = page.get_by_test_id("md-preview")
    expect(preview.locator("blockquote strong")).to_have_text("30 seconds")
    expect(preview.locator(".post-body > p strong")).to_have_text("strong")
    expect(preview).to_contain_text(XSS_IMG)
    expect(preview.locator("img")).to_have_count(0)
    expect(body).to_be_hidden()

    page.get_by_test_id("md-tab-write").click()
    page.get_by_test_id("reply-submit").click()
    posted = tab.post("strong words")
    expect(posted.get_by_test_id("post-body").locator("blockquote")).to_contain_text("30 seconds")
    expect(posted.get_by_test_id("post-reply-to")).to_have_text(
        f"↪ in reply to @{member.member['handle']} #1")
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_a_category_page_counts_threads_started_meanwhile_and_shows_them_on_request(
    open_tab: Callable[..., Tab], category: dict, member: Client,
) -> None:
    new_thread(member, category, "Already here", "old")
    tab = open_tab()  # anonymous: a public category
    goto(tab, f"/c/{category['id']}")
    page = tab.page
    expect(page.locator("[data-testid=category-threads][data-live=subscribed]")).to_be_attached()
    expect(page.get_by_test_id("new-threads-bar")).to_have_count(0)

    new_thread(member, category, "Started meanwhile 1", "new")
    expect(page.get_by_test_id("new-threads-text")).to_have_text("1 new thread")
    new_thread(member, category, "Started meanwhile 2", "new")
    bar = page.get_by_test_id("new-threads-bar")
    expect(page.get_by_test_id("new-threads-text")).to_have_text("2 new threads")
    expect(page.locator(".new-threads[aria-live=polite]")).to_contain_text("2 new threads")
    # The list itself is left alone until asked.
    expect(page.get_by_test_id("thread-item")).to_have_count(1)

    page.get_by_test_id("new-threads-show").click()
    items = page.get_by_test_id("thread-item")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("Started meanwhile 2")
    expect(bar).to_have_count(0)
    expect(items.nth(0).get_by_test_id("thread-link")).to_be_focused()


def test_a_moderator_pins_locks_moves_and_reads_a_posts_history_and_members_see_it_live(
    open_tab: Callable[..., Tab], admin: Client, category: dict, member: Client, moderator: Client,
) -> None:
    elsewhere = admin.post("/api/categories", {"name": "Elsewhere " + uuid.uuid4().hex[:4],
                                               "slug": "else-" + uuid.uuid4().hex[:6]}).json()
    thread = new_thread(member, category, "Moderate me", "First version")
    first_post = member.get(f"/api/threads/{thread['id']}").json()["items"][0]
    assert member.patch(f"/api/posts/{first_post['id']}", {"body": "Second version"}).status_code == 200

    author = open_tab()
    sign_in(author, member.member["handle"], member.member["handle"])
    open_thread(author, thread["id"])
    expect(author.page.get_by_test_id("mod-tools")).to_have_count(0)
    # Authors read the history of their own edited posts.
    expect(author.page.get_by_test_id("post-history")).to_have_count(1)
    expect(author.page.get_by_test_id("post-edit")).to_have_count(1)

    mod = open_tab()
    sign_in(mod, moderator.member["handle"], moderator.member["handle"])
    open_thread(mod, thread["id"])
    page = mod.page

    # Pinning is confirmed first; cancelling changes nothing.
    page.get_by_test_id("mod-pin").click()
    page.get_by_test_id("confirm-cancel").click()
    expect(page.get_by_test_id("thread-pinned")).to_have_count(0)
    page.get_by_test_id("mod-pin").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("mod-pin")).to_have_text("Unpin")
    expect(author.page.get_by_test_id("thread-title").get_by_test_id("thread-pinned")).to_be_visible()

    # Locking closes the thread to the author live: no reply form, no edit; unlocking reopens it.
    page.get_by_test_id("mod-lock").click()
    page.get_by_test_id("confirm-ok").click()
    expect(author.page.get_by_test_id("thread-locked-notice")).to_be_visible()
    expect(author.page.get_by_test_id("reply-form")).to_have_count(0)
    expect(author.page.get_by_test_id("post-edit")).to_have_count(0)
    expect(page.get_by_test_id("reply-form")).to_be_visible()  # moderators still may
    page.get_by_test_id("mod-lock").click()
    page.get_by_test_id("confirm-ok").click()
    expect(author.page.get_by_test_id("reply-form")).to_be_visible()
    expect(author.page.get_by_test_id("post-edit")).to_have_count(1)

    # The edit history, as written (Markdown as text).
    page.get_by_test_id("post-history").click()
    revisions = page.get_by_test_id("post-revision")
    expect(revisions.last).to_contain_text("Second version")
    expect(page.get_by_test_id("post-history")).to_have_attribute("aria-expanded", "true")

    # Editing the author's post asks why; the author reads who edited it and why.
    page.get_by_test_id("post-edit").click()
    page.get_by_test_id("edit-body").fill("Third version, tidied")
    page.get_by_test_id("edit-reason").fill("tidied the formatting")
    page.get_by_test_id("edit-save").click()
    expect(author.page.get_by_test_id("post-body")).to_contain_text("Third version")
    author.page.get_by_test_id("post-history").click()
    expect(author.page.get_by_test_id("post-revision").last).to_contain_text(moderator.member["handle"])
    expect(author.page.get_by_test_id("revision-reason")).to_have_text(": “tidied the formatting”")

    # Moving it: the crumbs follow, for the author too.
    page.get_by_test_id("mod-move-to").select_option(label=elsewhere["name"])
    page.get_by_test_id("mod-move").click()
    page.get_by_test_id("confirm-ok").click()
    for tab in (mod, author):
        expect(tab.page.get_by_test_id("thread-category")).to_have_text(elsewhere["name"])
    assert [t["id"] for t in member.get(f"/api/categories/{elsewhere['id']}/threads").json()["items"]] \
        == [thread["id"]]


def test_new_replies_are_announced_and_the_notifications_panel_is_a_disclosure(
    open_tab: Callable[..., Tab], category: dict, member: Client, other: Client,
) -> None:
    thread = new_thread(member, category, "Announce me", "Question")
    first_post = member.get(f"/api/threads/{thread['id']}").json()["items"][0]
    tab = open_tab()
    page = tab.page
    # Signing in from the thread's "Sign in to reply" comes back to the thread.
    open_thread(tab, thread["id"])
    page.locator(".composer").get_by_role("link", name="Sign in").click()
    page.get_by_test_id("signin-login").fill(member.member["handle"])
    page.get_by_test_id("signin-password").fill(PASSWORD)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("reply-form")).to_be_visible()
    assert page.url.endswith(f"#/t/{thread['id']}")
    wait_live(tab)
    announcer = page.locator("[data-testid=thread-announcer][aria-live=polite]")

    # Someone else's reply is announced politely; the reader's own is not.
    response = other.post(f"/api/threads/{thread['id']}/posts",
                          {"body": "An answer", "reply_to_post_id": first_post["id"]})
    assert response.status_code == 201, response.text
    expect(tab.post("An answer")).to_have_count(1)
    expect(announcer).to_have_text(f"New reply from @{other.member['handle']}")

    # The bell is a disclosure: it says whether it is open, Escape closes it and gives focus back.
    bell = page.get_by_test_id("notif-button")
    expect(page.get_by_test_id("notif-badge")).to_have_text("1")
    expect(bell).to_have_attribute("aria-expanded", "false")
    bell.click()
    panel = page.get_by_test_id("notif-panel")
    expect(panel).to_be_visible()
    expect(bell).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("notif-item")).to_contain_text(
        f"@{other.member['handle']} replied to your post")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bell).to_have_attribute("aria-expanded", "false")
    expect(bell).to_be_focused()
    # A click elsewhere closes it too.
    bell.click()
    expect(panel).to_be_visible()
    page.get_by_test_id("thread-title").click()
    expect(panel).to_be_hidden()
