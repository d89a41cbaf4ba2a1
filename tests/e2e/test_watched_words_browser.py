"""Watched words in a real browser: a moderator lists words on the console's page and tries a
text; a member's reply is refused in the composer, naming the word, or goes out held with
the notice saying so.

The browser, tabs and sign-in steps are test_browser.py's."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.e2e import test_browser as shared
from tests.e2e.test_browser import Tab, expect, goto, new_thread, open_thread, sign_in
from tests.harness import Client

pytestmark = pytest.mark.e2e

browser = shared.browser
open_tab = shared.open_tab


def test_a_moderator_watches_words_and_a_members_reply_is_refused_or_held(
    open_tab: Callable[..., Tab], category: dict, member: Client, other: Client,
    moderator: Client,
) -> None:
    blocked, held = "zq" + uuid.uuid4().hex[:8], "zq" + uuid.uuid4().hex[:8]
    try:
        mod = open_tab()
        sign_in(mod, moderator.member["handle"], moderator.member["handle"])
        goto(mod, "/mod/watched-words")
        page = mod.page
        for word, action in ((blocked, "block"), (held, "hold")):
            page.get_by_test_id("ww-new-pattern").fill(word.upper())
            page.get_by_test_id("ww-new-action").select_option(action)
            page.get_by_test_id("ww-add").click()
            entry = page.get_by_test_id("ww-entry").filter(has_text=word)
            expect(entry.get_by_test_id("ww-entry-action")).to_have_text(action)
        page.get_by_test_id("ww-try-text").fill(f"{held} and {blocked.title()}")
        page.get_by_test_id("ww-try").click()
        expect(page.get_by_test_id("ww-verdict")).to_have_text(
            f"Block: matches '{blocked.title()}', '{held}'.")

        thread = new_thread(other, category, "Ask away", "Questions welcome")
        writer = open_tab()
        sign_in(writer, member.member["handle"], member.member["handle"])
        open_thread(writer, thread["id"])
        writer.page.get_by_test_id("reply-body").fill(f"I say {blocked}")
        writer.page.get_by_test_id("reply-submit").click()
        expect(writer.page.get_by_test_id("form-error")).to_have_text(
            f"your post contains '{blocked}', which is not allowed here")
        writer.page.get_by_test_id("reply-body").fill(f"I say {held}")
        writer.page.get_by_test_id("reply-submit").click()
        expect(writer.page.get_by_test_id("held-notice")).to_contain_text(
            "waiting for a moderator's approval")
        expect(writer.page.get_by_test_id("form-error")).to_be_hidden()

        # Removing the hold word takes it off the list.
        entry = page.get_by_test_id("ww-entry").filter(has_text=held)
        entry.get_by_test_id("ww-delete").click()
        page.get_by_test_id("confirm-ok").click()
        expect(page.get_by_test_id("ww-entry").filter(has_text=held)).to_have_count(0)
    finally:
        for entry in moderator.get("/api/watched-words").json():
            if entry["pattern"] in (blocked, held):
                moderator.delete(f"/api/watched-words/{entry['id']}")
