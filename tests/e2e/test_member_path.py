"""A member's own path through the web app, in a real browser: they edit their profile and see
it, reset a forgotten password through the mail that arrives and sign in with the new one,
then watch someone else's thread and are told of a reply to it without a reload.

Mail is read where it lands: .eml files embedded, a real SMTP server (aiosmtpd) scaled, so
this module has a stack of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from tests import mailbox
from tests.e2e import test_browser as shared
from tests.e2e.axe import assert_accessible
from tests.e2e.test_browser import Tab, expect, goto, new_thread, open_thread, sign_in
from tests.harness import Client, Server, Stack
from tests.mailbox import Sink

pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]

browser = shared.browser
open_tab = shared.open_tab

PUBLIC_URL = "http://hearth.test:8080"
NEW_PASSWORD = "a brand new kettle"


sink = mailbox.sink


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, sink: Sink) -> Iterator[Stack]:
    yield from mailbox.mail_stack(tmp_path_factory, sink, {"HEARTH_PUBLIC_URL": PUBLIC_URL})


def test_a_member_edits_their_profile_resets_their_password_and_hears_of_a_watched_reply(
    open_tab: Callable[..., Tab], server: Server, admin: Client, sink: Sink, category: dict,
    other: Client,
) -> None:
    member = server.client().register()
    handle = member.member["handle"]
    tab = open_tab()
    page = tab.page
    sign_in(tab, handle, handle)

    # The profile: edited in the settings, shown on the profile page.
    page.get_by_test_id("nav-account").click()
    expect(page.get_by_test_id("settings-view")).to_be_visible()
    assert_accessible(page)
    name = f"Ana {uuid.uuid4().hex[:4]}"
    page.get_by_test_id("profile-display-name").fill(name)
    page.get_by_test_id("profile-bio").fill("Home barista.\nPour-over on Sundays.")
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_test_id("profile-form").get_by_test_id("form-ok")).to_have_text(
        "Your profile is saved.")
    page.get_by_test_id("current-user").click()
    expect(page.get_by_test_id("profile-name")).to_have_text(name)
    expect(page.get_by_test_id("profile-bio")).to_have_text("Home barista.\nPour-over on Sundays.")
    expect(page.get_by_test_id("profile-handle")).to_have_text(f"@{handle}")
    assert_accessible(page)

    # A forgotten password: asked for from the sign-in page, set through the mailed link.
    page.get_by_test_id("signout").click()
    expect(page.get_by_test_id("signin-link")).to_be_visible()
    goto(tab, "/signin")
    page.get_by_test_id("signin-forgot").click()
    page.get_by_test_id("forgot-email").fill(f"{handle}@example.test")
    page.get_by_test_id("forgot-submit").click()
    expect(page.get_by_test_id("forgot-form").get_by_test_id("form-ok")).to_contain_text(
        "a link to choose a new password is on its way")
    mail = mailbox.wait_for(admin, sink, f"{handle}@example.test", "Reset your Hearth password")
    token = mailbox.link(mail, PUBLIC_URL, "reset")
    goto(tab, f"/reset/{token}")
    assert_accessible(page)
    page.get_by_test_id("reset-password").fill(NEW_PASSWORD)
    page.get_by_test_id("reset-submit").click()
    expect(page.get_by_test_id("reset-form").get_by_test_id("form-ok")).to_contain_text(
        "Your password is changed")
    # The link works once.
    goto(tab, "/")
    goto(tab, f"/reset/{token}")
    page.get_by_test_id("reset-password").fill("yet another password")
    page.get_by_test_id("reset-submit").click()
    expect(page.get_by_test_id("reset-form").get_by_test_id("form-error")).to_be_visible()
    assert member.login(handle, shared.PASSWORD).status_code == 401
    assert member.login(handle, NEW_PASSWORD).status_code == 200
    sign_in(tab, handle, handle, password=NEW_PASSWORD)

    # Watching someone else's thread: a reply to it, not to the member, notifies them live.
    thread = new_thread(other, category, "Grinder burrs", "Flat or conical?")
    open_thread(tab, thread["id"])
    page.get_by_test_id("watch-level").select_option("watching")
    # data-level is the level the server confirmed.
    expect(page.get_by_test_id("watch-control")).to_have_attribute("data-level", "watching")
    watched = member.get(f"/api/threads/{thread['id']}/watch")
    assert watched.json()["level"] == "watching", watched.text
    reply = other.post(f"/api/threads/{thread['id']}/posts", {"body": "Conical, every time"})
    assert reply.status_code == 201, reply.text
    expect(page.get_by_test_id("notif-badge")).to_have_text("1")
    page.get_by_test_id("notif-button").click()
    expect(page.get_by_test_id("notif-item").first).to_contain_text(
        f"@{other.member['handle']} replied to 'Grinder burrs'")
