"""Which addresses a webhook may reach (gamification.hooks.addresses), without servers."""

import asyncio
import ipaddress

import pytest

from gamification.hooks import addresses
from gamification.hooks.addresses import Refused, parse, refusal, resolve
from server.settings import load_settings


@pytest.mark.parametrize("address, allowed", [
    ("127.0.0.1", False), ("::1", False), ("10.0.0.1", False), ("172.16.5.4", False),
    ("192.168.1.1", False), ("169.254.169.254", False), ("100.64.0.1", False),
    ("0.0.0.0", False), ("224.0.0.251", False), ("240.0.0.1", False), ("fc00::1", False),
    ("fe80::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.1.1.1", False),
    # 6to4 carries an IPv4 address: 169.254.169.254, 127.0.0.1, 10.0.0.1.
    ("2002:a9fe:a9fe::1", False), ("2002:7f00:1::1", False), ("2002:a00:1::", False),
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
])
def test_only_public_addresses_pass(address: str, allowed: bool) -> None:
    assert (refusal(ipaddress.ip_address(address), allow_loopback=False) is None) is allowed


def test_the_development_setting_allows_loopback_and_nothing_else() -> None:
    assert refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None
    assert refusal(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) == "a private address"
    assert parse("http://127.0.0.1:9/x?y=1", allow_loopback=True).target == "/x?y=1"
    with pytest.raises(Refused, match="https://"):
        parse("http://127.0.0.1:9/x", allow_loopback=False)


def test_a_name_resolving_to_loopback_is_refused() -> None:
    with pytest.raises(Refused, match="loopback"):
        asyncio.run(resolve(parse("https://localhost/hook", False), allow_loopback=False))


def test_port_0_is_refused_not_taken_for_the_default() -> None:
    with pytest.raises(Refused, match="port 0"):
        parse("https://example.com:0/hook", allow_loopback=False)


@pytest.mark.parametrize("host", ["a..com", "a" * 64 + ".com"])
def test_a_host_name_idna_cannot_encode_is_refused(host: str) -> None:
    with pytest.raises(Refused, match="not a valid host name"):
        asyncio.run(resolve(parse(f"https://{host}/hook", False), allow_loopback=False))


def test_a_name_server_that_never_answers_is_a_refusal_within_the_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_WEBHOOKS_TIMEOUT_SECONDS", "0.2")
    monkeypatch.setattr(addresses, "get_settings", load_settings)

    async def silent(*args: object, **kwargs: object) -> list[object]:
        await asyncio.Event().wait()
        return []

    async def test() -> None:
        monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", silent)
        await resolve(parse("https://slow.example/hook", False), allow_loopback=False)

    with pytest.raises(Refused, match=r"did not resolve within 0\.2 s"):
        asyncio.run(asyncio.wait_for(test(), 5))
