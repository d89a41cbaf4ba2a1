"""notify() follows the member's preference for each kind, at its edges: a kind turned off in
the app stores and pushes nothing, a kind mailed is mailed once however often its event is
replayed, and a kind nobody described takes the defaults."""

from __future__ import annotations

import pytest

from server import mail, notifications, outbox, runtime
from server.notifications import KindPreference, PreferencesIn
from server.tables import MailMessage
from tests.service.support import Hearth, register

pytestmark = pytest.mark.anyio


async def _notify(member_id: int, kind: str, event_id: int, name: str) -> None:
    async with outbox.unit_of_work():
        await notifications.notify(member_id, kind, event_id, {"name": name})


async def test_a_kind_mailed_instead_of_shown_is_mailed_once_however_often_replayed(
        hearth: Hearth) -> None:
    member = await register()
    assert member.member_id is not None
    chosen = await notifications.set_preferences(member.member_id, PreferencesIn(items=[
        KindPreference(kind="badge", in_app=False, email=True)]))
    assert {i.kind: (i.in_app, i.email) for i in chosen.items}["badge"] == (False, True)

    for _ in range(3):
        await _notify(member.member_id, "badge", 42, "Helper")
    assert (await notifications.page(member.member_id)).items == []
    queued = await MailMessage.select().where(
        MailMessage.recipient == f"{member.handle}@example.test")
    assert [r["subject"] for r in queued] == ["Hearth: You earned Helper"]

    await hearth.relay()
    mailer = runtime.current().mailer
    assert isinstance(mailer, mail.EmlDirectoryMailer)
    stored = [mail.read_stored(p) for n in mailer.names() if (p := mailer.path_of(n))]
    mine = [s for s in stored if s.to == f"{member.handle}@example.test"]
    assert [s.subject for s in mine] == ["Hearth: You earned Helper"]
    assert "You earned Helper." in mine[0].body
    # Sent: its text is not kept (a link in it may work once).
    sent = await MailMessage.select().where(MailMessage.id == queued[0]["id"])
    assert sent[0]["sent_at"] is not None and sent[0]["body"] == ""


async def test_kinds_nobody_described_take_the_defaults_and_others_keep_theirs(
        hearth: Hearth) -> None:
    member = await register()
    assert member.member_id is not None
    await notifications.set_preferences(member.member_id, PreferencesIn(items=[
        KindPreference(kind="reply", in_app=False)]))
    await notifications.set_preferences(member.member_id, PreferencesIn(items=[
        KindPreference(kind="mention", email=True)]))
    kinds = {i.kind: (i.in_app, i.email)
             for i in (await notifications.preferences(member.member_id)).items}
    assert kinds["reply"] == (False, False) and kinds["mention"] == (True, True)

    await _notify(member.member_id, "watched_thread", 7, "A thread you watch moved")
    await _notify(member.member_id, "reply", 8, "Someone replied")
    page = await notifications.page(member.member_id)
    assert [n.kind for n in page.items] == ["watched_thread"]
    assert await MailMessage.count().where(
        MailMessage.recipient == f"{member.handle}@example.test") == 0


async def test_sent_mail_is_forgotten_after_the_outbox_retention(hearth: Hearth) -> None:
    member = await register()
    async with outbox.unit_of_work():
        await mail.queue(f"{member.handle}@example.test", "Kept a while", "text", key="kept-1")
    await hearth.relay()
    assert await mail.prune() == 0
    hearth.clock.advance(days=8)
    assert await mail.prune() == 1
    # Forgotten, the key may be used again.
    async with outbox.unit_of_work():
        assert await mail.queue(f"{member.handle}@example.test", "Again", "text", key="kept-1")
