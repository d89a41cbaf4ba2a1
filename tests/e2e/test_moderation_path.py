"""The moderation path in a real browser (issue 12, part 11): a member flags a post; the
moderator's open queue shows the item without a reload; the moderator hides it; the post
vanishes from a third member's open thread page. axe checks the console's pages.

The browser, tabs and sign-in steps are test_browser.py's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.e2e import test_browser as shared
from tests.e2e.axe import assert_accessible
from tests.e2e.test_browser import Tab, expect, goto, new_thread, open_thread, sign_in
from tests.harness import Client, Server

pytestmark = pytest.mark.e2e

# The fixtures, shared with test_browser.py.
browser = shared.browser
open_tab = shared.open_tab


def test_a_flagged_post_reaches_the_live_queue_and_hiding_it_removes_it_everywhere(
    open_tab: Callable[..., Tab], server: Server, category: dict, member: Client, other: Client,
    moderator: Client,
) -> None:
    thread = new_thread(other, category, "Watch deals", "Where do you buy watches?")
    body = "Cheapest watches at example.test " + uuid.uuid4().hex[:6]
    response = other.post(f"/api/threads/{thread['id']}/posts", {"body": body})
    assert response.status_code == 201, response.text
    post_id = response.json()["id"]

    # The moderator's queue is open and live before anything is flagged.
    mod = open_tab()
    sign_in(mod, moderator.member["handle"], moderator.member["handle"])
    goto(mod, "/mod/queue")
    expect(mod.page.locator("[data-testid=review-queue][data-live=subscribed]")).to_be_attached()
    item = mod.page.locator(f"[data-testid=queue-item][data-target='post:{post_id}']")
    expect(item).to_have_count(0)

    # A third member reads the thread.
    third = server.client().register()
    reader = open_tab()
    sign_in(reader, third.member["handle"], third.member["handle"])
    open_thread(reader, thread["id"])
    expect(reader.post(body)).to_have_count(1)

    # The member flags the post through the dialog.
    flagger = open_tab()
    sign_in(flagger, member.member["handle"], member.member["handle"])
    open_thread(flagger, thread["id"])
    flagger.post(body).get_by_test_id("post-flag").click()
    dialog = flagger.page.get_by_test_id("flag-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("flag-reason-other").check()
    dialog.get_by_test_id("flag-send").click()
    # "Other" needs words: the server's refusal shows in the dialog.
    expect(dialog.get_by_test_id("form-error")).to_contain_text("needs a text")
    dialog.get_by_test_id("flag-reason-spam").check()
    dialog.get_by_test_id("flag-send").click()
    expect(dialog).not_to_be_visible()

    # The queue shows it without a reload, its score explained on the item page.
    expect(item).to_have_count(1)
    expect(item.get_by_test_id("item-score")).to_contain_text("2")
    expect(item.get_by_test_id("item-reasons")).to_contain_text("spam")
    assert_accessible(mod.page)

    # The moderator hides it: it leaves the open queue, and the reader's page, live.
    item.get_by_test_id("item-reason").fill("advertising")
    item.get_by_test_id("item-action-agree_hide").click()
    expect(item).to_have_count(0)
    expect(reader.post(body)).to_have_count(0)

    # The decided item, in context, with its score line by line.
    goto(mod, "/mod/queue")
    mod.page.get_by_test_id("queue-status").select_option("agreed")
    decided = mod.page.locator(f"[data-testid=queue-item][data-target='post:{post_id}']")
    expect(decided.get_by_test_id("item-outcome")).to_contain_text("agreed")
    decided.get_by_test_id("item-link").click()
    lines = mod.page.get_by_test_id("score-lines")
    expect(lines).to_contain_text(f"@{member.member['handle']}: flagged by a member")
    expect(mod.page.get_by_test_id("item-flags")).to_contain_text("spam")
    assert_accessible(mod.page)

    # The author sees why their post is out of view.
    author = open_tab()
    sign_in(author, other.member["handle"], other.member["handle"])
    open_thread(author, thread["id"])
    expect(author.post(body).get_by_test_id("post-hidden-notice")).to_contain_text("moderator")
