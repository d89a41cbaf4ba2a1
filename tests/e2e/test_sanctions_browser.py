"""Sanctions in the browser: a moderator silences a member from the console, the member's
open page shows the banner without a reload, they appeal from it, another moderator
overturns the appeal from the console and the banner goes; a suspended member trying to
sign in is told why and until when."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e import test_browser as shared
from tests.e2e.axe import assert_accessible
from tests.e2e.test_browser import Tab, expect, goto, sign_in
from tests.harness import Client, Server

pytestmark = pytest.mark.e2e

browser = shared.browser
open_tab = shared.open_tab


def _moderator(server: Server, admin: Client) -> Client:
    client = server.client().register()
    response = admin.put(f"/api/members/{client.member['id']}/role", {"role": "moderator"})
    assert response.status_code == 200, response.text
    return client


def test_a_silence_is_imposed_shown_appealed_and_overturned(
        open_tab: Callable[..., Tab], server: Server, admin: Client, member: Client) -> None:
    moderator = _moderator(server, admin)
    judge = _moderator(server, admin)
    handle = member.member["handle"]

    seen = open_tab()
    sign_in(seen, handle, handle)
    expect(seen.page.get_by_test_id("current-user")).to_have_text(f"@{handle}")

    console = open_tab()
    sign_in(console, moderator.member["handle"], moderator.member["handle"])
    goto(console, "/mod/sanctions")
    page = console.page
    expect(page.get_by_test_id("mod-sanctions")).to_be_visible()
    page.get_by_test_id("impose-handle").fill(f"@{handle}")
    page.get_by_test_id("impose-kind").select_option("silence")
    page.get_by_test_id("impose-duration").select_option(str(86_400))
    page.get_by_test_id("impose-reason").fill("Spam links in three threads.")
    page.get_by_test_id("impose-submit").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("impose-form")).to_contain_text(f"@{handle} is silenced until")
    expect(page.get_by_test_id("sanction-row").filter(has_text=handle)).to_be_visible()
    assert_accessible(page)

    # The member's open page shows the banner without a reload, and they appeal from it.
    banner = seen.page.get_by_test_id("sanction-banner")
    expect(banner).to_contain_text("You are silenced until")
    expect(banner).to_contain_text("Spam links in three threads.")
    banner.get_by_test_id("sanction-appeal-link").click()
    seen.page.get_by_test_id("appeal-text").fill("I was sharing the official store links.")
    seen.page.get_by_test_id("appeal-submit").click()
    expect(seen.page.get_by_test_id("appeal-status")).to_contain_text("open")
    assert_accessible(seen.page)

    # Another moderator overturns it; the banner goes.
    judge_tab = open_tab()
    sign_in(judge_tab, judge.member["handle"], judge.member["handle"])
    goto(judge_tab, "/mod/appeals")
    card = judge_tab.page.get_by_test_id("appeal-card").filter(has_text=handle)
    card.get_by_test_id("appeal-overturn").check()
    card.get_by_test_id("appeal-reason").fill("Those were the brand's own links.")
    card.get_by_test_id("appeal-decide").click()
    expect(judge_tab.page.get_by_test_id("appeal-card").filter(has_text=handle)).to_have_count(0)
    expect(seen.page.get_by_test_id("sanction-banner")).to_have_count(0)


def test_a_suspended_member_is_told_why_and_until_when_at_sign_in(
        open_tab: Callable[..., Tab], server: Server, admin: Client, member: Client) -> None:
    moderator = _moderator(server, admin)
    response = moderator.post(f"/api/members/{member.member['id']}/sanctions", {
        "kind": "suspend", "duration_seconds": 3 * 86_400, "reason": "Threats in a thread."})
    assert response.status_code == 201, response.text
    tab = open_tab()
    goto(tab, "/signin")
    tab.page.get_by_test_id("signin-login").fill(member.member["handle"])
    tab.page.get_by_test_id("signin-password").fill("correct horse battery")
    tab.page.get_by_test_id("signin-submit").click()
    error = tab.page.get_by_test_id("form-error")
    expect(error).to_contain_text("suspended until")
    expect(error).to_contain_text("Threats in a thread.")
