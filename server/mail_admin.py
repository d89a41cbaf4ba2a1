"""The admins' mail page: in embedded mode, the .eml files mail was written to (there is no
mail server to read them from). With SMTP the page says where mail went and lists nothing:
nothing is kept."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import Parameter

from server import mail, runtime
from server.auth import PEOPLE_ONLY_OPT, Actor
from server.errors import Forbidden, NotFound

NAME_PATTERN = mail.STORED_NAME.pattern


class MailSummary(msgspec.Struct):
    id: str
    to: str
    subject: str
    date: dt.datetime | None


class MailPage(msgspec.Struct):
    # "eml": written to files, listed here; "smtp": sent to a server, kept nowhere;
    # "none": scaled mode without HEARTH_SMTP_URL, waiting in the outbox.
    backend: str
    # False when this page cannot list mail: it went (or waits to go) over SMTP.
    stored: bool
    detail: str
    items: list[MailSummary]
    next_cursor: str | None


class MailOut(msgspec.Struct):
    id: str
    to: str
    subject: str
    date: dt.datetime | None
    body: str


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only admins read the mail Hearth sent")


def _page(mailer: mail.EmlDirectoryMailer, before: str | None, limit: int
          ) -> tuple[list[MailSummary], str | None]:
    names = [n for n in mailer.names() if before is None or n < before]
    items = []
    for name in names[:limit]:
        path = mailer.path_of(name)
        if path is None:
            continue  # removed since it was listed
        stored = mail.read_stored(path)
        items.append(MailSummary(id=name, to=stored.to, subject=stored.subject, date=stored.date))
    return items, (names[limit - 1] if len(names) > limit else None)


class MailController(Controller):
    path = "/api/admin/mail"
    tags = ["operations"]
    opt = {PEOPLE_ONLY_OPT: True}

    @get("/")
    async def list_mail(
        self, actor: Actor,
        before: Annotated[str | None, Parameter(pattern=NAME_PATTERN)] = None,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    ) -> MailPage:
        """Admins: mail written as .eml files (embedded mode), newest first; pass
        next_cursor back as `before` for older ones. With SMTP, `stored` is false and the
        list empty: mail went to the server `detail` names."""
        _require_admin(actor)
        mailer = runtime.current().mailer
        if not isinstance(mailer, mail.EmlDirectoryMailer):
            return MailPage(backend=mailer.backend, stored=False, detail=mailer.describe(),
                            items=[], next_cursor=None)
        items, cursor = await asyncio.to_thread(_page, mailer, before, limit)
        return MailPage(backend=mailer.backend, stored=True, detail=mailer.describe(),
                        items=items, next_cursor=cursor)

    @get("/{mail_id:str}")
    async def read_mail(self, actor: Actor, mail_id: str) -> MailOut:
        """Admins: one stored mail with its text. 404 with SMTP: nothing is kept."""
        _require_admin(actor)
        mailer = runtime.current().mailer
        if not isinstance(mailer, mail.EmlDirectoryMailer):
            raise NotFound(f"mail is {mailer.describe()}; none is kept to read here")
        path = mailer.path_of(mail_id)
        if path is None:
            raise NotFound(f"no mail has id {mail_id!r}")
        stored = await asyncio.to_thread(mail.read_stored, path)
        return MailOut(id=stored.name, to=stored.to, subject=stored.subject, date=stored.date,
                       body=stored.body)
