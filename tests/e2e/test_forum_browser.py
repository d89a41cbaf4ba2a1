"""The forum's newer tools in a real browser: the helpful reply, the composer's quote, toolbar
and preview, the live "new threads" bar, and moderators' tools on a thread.

The browser, tabs and sign-in steps are test_browser.py's.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e import test_browser as shared
from tests.e2e.test_browser import Tab, expect, new_thread, open_thread, sign_in
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
