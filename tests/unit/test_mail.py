"""What reaches a mail's headers is checked, .eml files are written whole, and the SMTP URL
says how to connect."""

from __future__ import annotations

import datetime as dt
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from server import mail

WHEN = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def _outgoing(to: str = "ann@example.test", subject: str = "Hello",
              body: str = "Text\n") -> mail.Outgoing:
    return mail.Outgoing(name=mail.stored_name("k1", WHEN), to=to, subject=subject, body=body,
                         date=WHEN)


def test_a_subject_cannot_smuggle_in_a_header() -> None:
    message = mail.build(_outgoing(subject="Hi\r\nBcc: victim@example.test\u2028X-Evil: 1"),
                         "Hearth <hearth@example.test>")
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["Subject"] == "Hi Bcc: victim@example.test X-Evil: 1"
    assert mail.clean_subject("\x00\t ") == "(no subject)"
    assert len(mail.clean_subject("x" * 1000)) == mail.SUBJECT_CHARS


@pytest.mark.parametrize("address", [
    "a,b@example.test", "Ann <ann@example.test>", "ann@example.test\r\nBcc: x@y.z",
    "ann@example.test, eve@example.test", '"a b"@example.test', "ann@localhost", "ann@-x.test",
])
def test_only_plain_addresses_are_mailed(address: str) -> None:
    assert not mail.safe_address(address)
    with pytest.raises(ValueError):
        mail.build(_outgoing(to=address), "hearth@example.test")


def test_plain_addresses_are_mailed() -> None:
    for address in ("ann@example.test", "a.b+tag@mail.example.co.uk", "x_y-z@a-b.test"):
        assert mail.safe_address(address), address


def test_an_eml_file_is_written_whole_and_writing_it_again_changes_nothing(tmp_path: Path) -> None:
    mailer = mail.EmlDirectoryMailer(tmp_path / "mail", "Hearth <hearth@example.test>")
    outgoing = _outgoing(body="Open https://x.test/#/reset/abc\n")
    mailer.send(outgoing)
    first = (tmp_path / "mail" / f"{outgoing.name}.eml").read_bytes()
    mailer.send(outgoing)
    assert sorted(p.name for p in (tmp_path / "mail").iterdir()) == [f"{outgoing.name}.eml"]
    assert (tmp_path / "mail" / f"{outgoing.name}.eml").read_bytes() == first
    assert mailer.names() == [outgoing.name]
    path = mailer.path_of(outgoing.name)
    assert path is not None
    stored = mail.read_stored(path)
    assert (stored.to, stored.subject, stored.date) == ("ann@example.test", "Hello", WHEN)
    assert stored.body == "Open https://x.test/#/reset/abc\n"
    assert mailer.path_of("../hearth") is None


def test_stored_names_sort_by_when_they_were_queued() -> None:
    earlier = mail.stored_name("zzz", WHEN)
    later = mail.stored_name("aaa", WHEN + dt.timedelta(microseconds=1))
    assert earlier < later
    assert mail.STORED_NAME.fullmatch(earlier) and mail.STORED_NAME.fullmatch(later)


def test_the_smtp_url_says_how_to_connect() -> None:
    assert mail.parse_smtp_url("smtp://mx.example.test") == mail.SmtpTarget(
        "mx.example.test", 25, "none", "", "")
    assert mail.parse_smtp_url("smtps://u%40x:p%2Fw@mx.example.test") == mail.SmtpTarget(
        "mx.example.test", 465, "tls", "u@x", "p/w")
    assert mail.parse_smtp_url("smtp+starttls://mx.example.test:2525").port == 2525
    assert mail.parse_smtp_url("smtp+starttls://mx.example.test").tls == "starttls"
    mailer = mail.SmtpMailer("smtps://u:secret@mx.example.test", "hearth@example.test")
    assert "secret" not in mailer.describe()


def test_links_start_with_the_public_url_or_the_served_address_never_a_request_host(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from server.settings import Settings

    monkeypatch.setattr(mail, "get_settings", lambda: Settings(host="10.0.0.5", port=8080))
    assert mail.link("reset", "tok") == "http://10.0.0.5:8080/#/reset/tok"
    monkeypatch.setattr(mail, "get_settings", lambda: Settings(
        public_url="https://forum.example.com"))
    assert mail.link("verify-email", "tok") == "https://forum.example.com/#/verify-email/tok"
