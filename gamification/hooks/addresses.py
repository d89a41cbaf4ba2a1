"""Server-side request forgery: a webhook URL must name a public address. The host is
resolved and every address it resolves to is checked, at registration and again before each
attempt; the attempt then connects to the checked address, so a DNS answer that changes in
between (rebinding) cannot send it elsewhere."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from server.errors import Invalid
from server.settings import get_settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be called; the message says why, for staff to read."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    # Path and query, as sent.
    target: str


def parse(url: str, allow_loopback: bool) -> Target:
    # It goes into the request line as written: no spaces or control characters.
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or ord(c) > 0x7E for c in url):
        raise Refused("must be written in plain ASCII without spaces (percent-encode the rest)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"is not a valid URL ({exc})") from None
    if port == 0:
        # Not "the default port": a URL naming port 0 is a mistake, said so.
        raise Refused("must not name port 0")
    allowed = ("https", "http") if allow_loopback else ("https",)
    if parts.scheme not in allowed:
        raise Refused("must start with https://")
    if not parts.hostname:
        raise Refused("must name a host")
    if parts.username is not None or parts.password is not None:
        raise Refused("must not carry a user name or password")
    if parts.fragment:
        raise Refused("must not have a #fragment")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80),
                  target)


def refusal(address: Address, allow_loopback: bool) -> str | None:
    """Why an address may not be called, or None."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address inside (mapped, or 6to4: 2002:a9fe:a9fe:: is 169.254.169.254) is
        # judged as that address.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            address = embedded
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    for test, what in (("is_unspecified", "an unspecified address"),
                       ("is_link_local", "a link-local address"),
                       ("is_multicast", "a multicast address"),
                       ("is_private", "a private address"),
                       ("is_reserved", "a reserved address")):
        if getattr(address, test):
            return what
    if not address.is_global:
        return "not a public address"
    return None


async def resolve(target: Target, allow_loopback: bool) -> Address:
    """The address to connect to: the first the host resolves to, once every one of them
    passed (a name with one private address among public ones is refused whole)."""
    timeout = get_settings().webhooks_timeout_seconds
    try:
        # A receiver's slow name server must not hold up the batch (or a registration).
        infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(
            target.host, target.port, type=socket.SOCK_STREAM), timeout)
    except TimeoutError:
        raise Refused(f"host {target.host} did not resolve within {timeout:g} s") from None
    except socket.gaierror as exc:
        raise Refused(f"host {target.host} does not resolve ({exc.strerror})") from None
    except UnicodeError:
        # The IDNA codec refuses an empty label (a..com) or one over 63 characters.
        raise Refused(f"host {target.host[:100]} is not a valid host name "
                      "(a label is empty or over 63 characters)") from None
    found = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not found:
        raise Refused(f"host {target.host} does not resolve")
    for address in found:
        why = refusal(address, allow_loopback)
        if why is not None:
            raise Refused(f"host {target.host} resolves to {address}, {why}")
    return found[0]


async def check_url(url: str, allow_loopback: bool) -> None:
    """At registration: a 422 naming the field and the reason."""
    try:
        await resolve(parse(url, allow_loopback), allow_loopback)
    except Refused as exc:
        raise Invalid(f"url {exc}", [{"field": "url", "message": str(exc)}]) from None
