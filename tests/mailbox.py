"""Reading the mail Hearth sends, in tests: embedded, where admins read it (.eml files, through
GET /api/admin/mail); scaled, from a real SMTP server (aiosmtpd) the test starts and points
HEARTH_SMTP_URL at."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import started_stack
from tests.harness import MODE, Client, Stack, eventually, free_port


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Sink:
    """An SMTP server's handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.received: list[Mail] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        body = message.get_body(preferencelist=("plain",))
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.received.append(Mail(recipient, str(message["Subject"]),
                                          body.get_content() if body else ""))
        return "250 OK"


def inbox(admin: Client, sink: Sink, address: str) -> list[Mail]:
    """Every mail sent to the address so far, oldest first."""
    if MODE == "scaled":
        with sink.lock:
            return [m for m in sink.received if m.to == address]
    page = admin.get("/api/admin/mail", params={"limit": 100})
    assert page.status_code == 200, page.text
    assert page.json()["stored"] is True
    found = []
    for item in reversed(page.json()["items"]):
        if item["to"] == address:
            full = admin.get(f"/api/admin/mail/{item['id']}")
            assert full.status_code == 200, full.text
            found.append(Mail(item["to"], item["subject"], full.json()["body"]))
    return found


def wait_for(admin: Client, sink: Sink, address: str, subject: str, count: int = 1) -> Mail:
    """Wait until exactly `count` mails with this subject reached the address; the last."""
    def arrived() -> Mail | None:
        matching = [m for m in inbox(admin, sink, address) if m.subject == subject]
        assert len(matching) <= count, matching
        return matching[-1] if len(matching) == count else None

    return eventually(arrived, timeout=30)


def link(mail: Mail, public_url: str, route: str) -> str:
    """The token of the mail's link to the web app's `#/<route>/<token>`."""
    match = re.search(re.escape(public_url) + rf"/#/{route}/([A-Za-z0-9_-]+)", mail.body)
    assert match, mail.body
    return match.group(1)


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    """A real SMTP server for the module (scaled mode sends to it)."""
    handler = Sink()
    handler.controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    handler.controller.start()
    try:
        yield handler
    finally:
        handler.controller.stop()


def mail_stack(tmp_path_factory: pytest.TempPathFactory, sink: Sink,
               env: dict[str, str]) -> Iterator[Stack]:
    """A module's own stack whose mail reaches `sink` when scaled (embedded writes .eml
    files, read through the admins' mail page)."""
    env = dict(env)
    if MODE == "scaled":
        env["HEARTH_SMTP_URL"] = f"smtp://127.0.0.1:{sink.port}"
    with started_stack(tmp_path_factory, env) as own:
        yield own
