"""Outgoing email: one Mailer interface, two backends, chosen in server/runtime.py
(`mailer_for`).

    EmlDirectoryMailer   embedded: each message is an .eml file under the data dir's mail/
                         (admins read them at GET /api/admin/mail)
    SmtpMailer           scaled: sent to the HEARTH_SMTP_URL server (stdlib smtplib)

Services never send: `queue()` writes the message as a row and emits MailQueued in the
caller's transaction, so a mail exists exactly when what it tells of was committed. The
outbox hands the event to `send` (the in-process relay, or a Celery worker), which sends in a
worker thread and marks the row sent: at least once, as every handler. Sending again is
harmless: the .eml file is named by the message's key, and SMTP receivers see the same
Message-ID. A failure (SMTP down, say) leaves the event to the outbox's retries.

Nothing a member typed reaches a header unchecked: recipients must be plain addresses
(SAFE_ADDRESS) and subjects lose control characters and line breaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.policy
import logging
import os
import re
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from server import clock, db, events, outbox, runtime, schedule
from server.errors import Invalid
from server.security import new_secret
from server.settings import get_settings, redact_url
from server.tables import MailMessage

log = logging.getLogger("hearth.mail")

# Seconds an SMTP server may take to connect or answer each command: a silent server costs
# a relay this long, not a hang.
SMTP_TIMEOUT = 10
SUBJECT_CHARS = 150
# A plain address: no display name, comment, quoting, list or whitespace that a header
# parser could take for a second recipient (HTML's "valid email address").
SAFE_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
# What callers may key a mail by (it ends up in a file name and the Message-ID).
CALLER_KEY = re.compile(r"^[A-Za-z0-9_-]{1,60}$")
# A stored mail's name: when it was queued, then its key; names sort by age.
STORED_NAME = re.compile(r"^[0-9]{20}-[A-Za-z0-9_-]{1,60}$")


def safe_address(address: str) -> bool:
    return len(address) <= 254 and SAFE_ADDRESS.fullmatch(address) is not None


def clean_subject(subject: str) -> str:
    """One line of printable text: control and format characters (CR, LF, U+2028...) become
    spaces, runs of spaces one."""
    printable = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in subject)
    return " ".join(printable.split())[:SUBJECT_CHARS] or "(no subject)"


@dataclass(frozen=True)
class Outgoing:
    # STORED_NAME: the .eml file's name and the Message-ID's left part.
    name: str
    to: str
    subject: str
    body: str
    date: dt.datetime


def build(message: Outgoing, sender: str) -> EmailMessage:
    """The message with its headers; refuses what could smuggle a header in."""
    if not safe_address(message.to):
        raise ValueError(f"refusing to send to {message.to!r}: not a plain address")
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = clean_subject(message.subject)
    mail["Date"] = format_datetime(message.date)
    mail["Message-ID"] = f"<{message.name}@hearth>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body)
    return mail


class Mailer(Protocol):
    # "eml" or "smtp": the admin mail page says which.
    backend: str

    def describe(self) -> str:
        """Where mail goes, for people (no password)."""
        ...

    def send(self, message: Outgoing) -> None:
        """Deliver one message; blocking (runs in a worker thread). Raises when it could not."""
        ...


class EmlDirectoryMailer:
    """Each message a file `<name>.eml`, written whole (a temporary file renamed into place):
    a reader never sees half a message, and writing the same message again changes nothing."""

    backend = "eml"

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    def describe(self) -> str:
        return f"written as .eml files to {self.directory}"

    def send(self, message: Outgoing) -> None:
        data = build(message, self.sender).as_bytes()
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{message.name}.eml"
        staged = self.directory / f".{message.name}.{new_secret(6)}.tmp"
        with staged.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, final)

    def path_of(self, name: str) -> Path | None:
        if not STORED_NAME.fullmatch(name):
            return None
        path = self.directory / f"{name}.eml"
        return path if path.is_file() else None

    def names(self) -> list[str]:
        """Every stored message's name, newest first."""
        if not self.directory.is_dir():
            return []
        names = (p.name.removesuffix(".eml") for p in self.directory.iterdir()
                 if p.name.endswith(".eml"))
        return sorted((n for n in names if STORED_NAME.fullmatch(n)), reverse=True)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: str  # "none", "tls" (smtps) or "starttls"
    user: str
    password: str


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    tls = {"smtp": "none", "smtps": "tls", "smtp+starttls": "starttls"}[parts.scheme]
    default_port = {"none": 25, "tls": 465, "starttls": 587}[tls]
    if not parts.hostname:
        raise ValueError(f"HEARTH_SMTP_URL names no host: {redact_url(url)!r}")
    return SmtpTarget(parts.hostname, parts.port or default_port, tls,
                      unquote(parts.username or ""), unquote(parts.password or ""))


class SmtpMailer:
    """One connection per message, with short timeouts; a failure raises for the outbox to
    retry."""

    backend = "smtp"

    def __init__(self, url: str, sender: str) -> None:
        self.target = parse_smtp_url(url)
        self.url = url
        self.sender = sender

    def describe(self) -> str:
        return f"sent over SMTP to {redact_url(self.url)}"

    def send(self, message: Outgoing) -> None:
        mail = build(message, self.sender)
        target = self.target
        client: smtplib.SMTP
        if target.tls == "tls":
            client = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT)
        with client:
            if target.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if target.user:
                client.login(target.user, target.password)
            # The envelope names the one recipient: headers never decide who gets it.
            client.send_message(mail, to_addrs=[message.to])


class UnconfiguredMailer:
    """Scaled mode without HEARTH_SMTP_URL: nothing can be sent, and each mail says so in
    the outbox's failing events (GET /api/admin/outbox), where it waits to be retried once
    the setting is there."""

    backend = "none"

    def describe(self) -> str:
        return "not sent: HEARTH_SMTP_URL is not set"

    def send(self, message: Outgoing) -> None:
        raise RuntimeError("mail cannot be sent: set HEARTH_SMTP_URL (scaled mode keeps no "
                           ".eml files)")


def link(route: str, token: str) -> str:
    """A link into the web app: HEARTH_PUBLIC_URL, else the address Hearth serves on. Never
    the request's Host header, which the client chooses: a reset link pointing elsewhere
    would hand its token to whoever named that host."""
    settings = get_settings()
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    return f"{base}/#/{route}/{token}"


async def queue(to: str, subject: str, body: str, key: str | None = None) -> bool:
    """Queue a mail in the caller's unit of work (it is sent once that commits). `key`
    (CALLER_KEY) makes it idempotent: a key already queued queues nothing (returns False)."""
    address = to.strip()
    if not safe_address(address):
        raise Invalid(f"mail cannot be sent to {to!r}: not a plain email address")
    if key is not None and not CALLER_KEY.fullmatch(key):
        raise ValueError(f"a mail key is letters, digits, - and _: {key!r}")
    async with outbox.unit_of_work():
        rows = await MailMessage.insert(MailMessage(
            key=key or new_secret(12), recipient=address, subject=clean_subject(subject),
            body=body, created_at=clock.now(),
        )).on_conflict(action="DO NOTHING").returning(MailMessage.id)
        if not rows:
            return False
        await outbox.emit(events.MailQueued(mail_id=int(rows[0]["id"])))
    return True


def stored_name(key: str, queued_at: dt.datetime) -> str:
    return f"{queued_at.astimezone(dt.UTC).strftime('%Y%m%d%H%M%S%f')}-{key}"


@outbox.handler("mail.send", events.MailQueued)
async def send(event_id: int, event: events.Event) -> None:
    assert isinstance(event, events.MailQueued)
    rows = await MailMessage.select().where(MailMessage.id == event.mail_id)
    if not rows or rows[0]["sent_at"] is not None:
        return
    row = rows[0]
    message = Outgoing(name=stored_name(row["key"], row["created_at"]), to=row["recipient"],
                       subject=row["subject"], body=row["body"], date=row["created_at"])
    mailer = runtime.current().mailer
    try:
        await asyncio.to_thread(mailer.send, message)
    except ValueError as exc:
        # Never sendable (an address no longer plain): retries would not help.
        log.warning("mail %s dropped: %s", message.name, exc)
    await MailMessage.update({MailMessage.sent_at: clock.now(), MailMessage.body: ""}).where(
        MailMessage.id == row["id"])


@schedule.every(3600, "mail.prune")
async def prune() -> int:
    """Forget sent mail after the outbox's retention (a replay older than that is gone too)."""
    cutoff = clock.now() - dt.timedelta(days=get_settings().outbox_retention_days)
    rows = await db.fetch("DELETE FROM mail_message WHERE sent_at < {} RETURNING id", cutoff)
    return len(rows)


@dataclass(frozen=True)
class Stored:
    name: str
    to: str
    subject: str
    date: dt.datetime | None
    body: str


def read_stored(path: Path) -> Stored:
    """An .eml file's headers and text body."""
    with path.open("rb") as handle:
        mail = BytesParser(policy=email.policy.default).parse(handle)
    date: dt.datetime | None = None
    with contextlib.suppress(TypeError, ValueError):
        date = parsedate_to_datetime(str(mail["Date"]))
    part = mail.get_body(preferencelist=("plain",)) if isinstance(mail, EmailMessage) else None
    body = part.get_content() if isinstance(part, EmailMessage) else ""
    return Stored(name=path.name.removesuffix(".eml"), to=str(mail["To"] or ""),
                  subject=str(mail["Subject"] or ""), date=date, body=body)

