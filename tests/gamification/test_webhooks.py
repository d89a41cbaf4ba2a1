"""Outbound webhooks with real servers: a brand's endpoints, signed Standard Webhooks
deliveries verified with the `standardwebhooks` package, a receiver that goes down and comes
back, secret rotation, replays and pings, SSRF refusals, disabling after failures, and (scaled)
a worker killed in the middle of a delivery."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.chaos import signal_tree
from tests.conftest import started_stack
from tests.harness import Client, Server, Stack, eventually, free_port
from tests.webhook_receiver import Received, Receiver

pytestmark = pytest.mark.own_stack

# Fast retries and short timeouts, so that outages and dead senders take seconds.
WEBHOOK_ENV = {
    "HEARTH_WEBHOOKS_ALLOW_LOOPBACK": "true",
    "HEARTH_WEBHOOKS_RETRY_SCHEDULE": "0.3,0.3,0.5,0.5,1,1,1,1,1,1",
    "HEARTH_WEBHOOKS_TIMEOUT_SECONDS": "1",
    "HEARTH_WEBHOOKS_DISABLE_AFTER": "30",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with started_stack(tmp_path_factory, env=WEBHOOK_ENV) as own:
        yield own


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    made.up()
    yield made
    made.down()


def make_brand(admin: Client, server: Server) -> dict:
    brand = admin.post("/api/brands", {"name": "Hooks", "slug": "w-" + uuid.uuid4().hex[:6]}).json()
    staff = server.client().register()
    changed = admin.put(f"/api/members/{staff.member['id']}/role",
                        {"role": "brand_staff", "brand_id": brand["id"]})
    assert changed.status_code == 200, changed.text
    return {"id": brand["id"], "staff": staff, "base": f"/api/gamification/brands/{brand['id']}/webhooks"}


@pytest.fixture
def ours(admin: Client, server: Server) -> dict:
    return make_brand(admin, server)


@pytest.fixture
def theirs(admin: Client, server: Server) -> dict:
    return make_brand(admin, server)


def endpoint(brand: dict, url: str, types: list[str]) -> dict:
    made = brand["staff"].post(brand["base"], {"url": url, "event_types": types})
    assert made.status_code == 201, made.text
    assert made.json()["secret"].startswith("whsec_")
    return made.json()


def verified(secret: str, got: Received) -> dict:
    return Webhook(secret).verify(got.body, got.headers)  # type: ignore[no-any-return]


def deliveries(brand: dict, endpoint_id: int) -> list[dict]:
    page = brand["staff"].get(f"{brand['base']}/{endpoint_id}/deliveries", params={"limit": 100})
    assert page.status_code == 200, page.text
    return page.json()["items"]  # type: ignore[no-any-return]


def fund(admin: Client, brand: dict, amount: int = 100_000) -> None:
    funded = admin.post(f"/api/gamification/brands/{brand['id']}/budget",
                        {"amount": amount, "reason": "hooks test", "idempotency_key": uuid.uuid4().hex})
    assert funded.status_code == 201, funded.text


def award(brand: dict, member_id: int, amount: int) -> dict:
    made = brand["staff"].post("/api/gamification/adjustments", {
        "member_id": member_id, "amount": amount, "reason": "thanks for the order",
        "idempotency_key": uuid.uuid4().hex})
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def test_only_a_brands_staff_tokens_and_admins_manage_its_webhooks(
        ours: dict, theirs: dict, admin: Client, member: Client, anon: Client,
        server: Server, receiver: Receiver) -> None:
    base = ours["base"]
    made = endpoint(ours, receiver.url("/auth"), ["points.posted"])
    assert theirs["staff"].get(base).status_code == 403
    assert theirs["staff"].post(base, {"url": receiver.url(), "event_types": ["tier.changed"]}
                                ).status_code == 403
    assert theirs["staff"].post(f"{base}/{made['id']}/ping").status_code == 403
    assert member.get(base).status_code == 403
    assert member.delete(f"{base}/{made['id']}").status_code == 403
    assert anon.get(base).status_code == 401
    assert admin.get(base).json()[0]["id"] == made["id"]
    # Another brand's path names none of our endpoints, even for their own staff.
    assert theirs["staff"].get(f"{theirs['base']}/{made['id']}").status_code == 404
    assert "secret" not in admin.get(f"{base}/{made['id']}").json()

    tokens = {}
    for scopes in (["read"], ["read", "write"]):
        minted = ours["staff"].post(f"/api/brands/{ours['id']}/tokens",
                                    {"name": "shop", "scopes": scopes})
        assert minted.status_code == 201, minted.text
        tokens[len(scopes)] = minted.json()["secret"]
    shop = server.client()
    shop.token = tokens[1]
    assert shop.get(base).status_code == 200
    assert shop.post(base, {"url": receiver.url(), "event_types": ["tier.changed"]}
                     ).status_code == 403
    shop.token = tokens[2]
    assert shop.post(base, {"url": receiver.url(), "event_types": ["tier.changed"]}
                     ).status_code == 201
    assert shop.get(theirs["base"]).status_code == 403
    gone = ours["staff"].delete(f"{base}/{made['id']}")
    assert gone.status_code == 204, gone.text
    assert ours["staff"].get(f"{base}/{made['id']}").status_code == 404


@pytest.mark.parametrize("url, reason", [
    ("https://10.1.2.3/hook", "private"),
    ("https://192.168.0.10/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[fe80::1]/hook", "link-local"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("https://224.0.0.1/hook", "multicast"),
    ("https://[::ffff:10.0.0.1]/hook", "private"),
    ("https://host.invalid/hook", "does not resolve"),
    ("ftp://example.com/hook", "https://"),
    ("https://user:pw@127.0.0.1/hook", "user name"),
    ("https://a..com/hook", "not a valid host name"),
    ("https://" + "a" * 64 + ".com/hook", "not a valid host name"),
    ("https://[2002:a9fe:a9fe::1]/hook", "link-local"),
    ("https://example.com:0/hook", "port 0"),
])
def test_urls_that_reach_inside_are_refused_and_nothing_is_made(
        ours: dict, url: str, reason: str) -> None:
    refused = ours["staff"].post(ours["base"], {"url": url, "event_types": ["tier.changed"]})
    assert refused.status_code == 422, refused.text
    assert reason in refused.text and "url" in refused.text
    assert ours["staff"].get(ours["base"]).json() == []


def test_each_attempt_checks_the_address_again(ours: dict, stack: Stack,
                                               receiver: Receiver) -> None:
    """What a host resolves to can change after registration (DNS rebinding): the attempt
    resolves and checks again, and connects to nothing refused."""
    hook = endpoint(ours, receiver.url("/rebound"), ["tier.changed"])
    stack.sql(f"UPDATE webhook_endpoint SET url = 'http://10.9.8.7/x' WHERE id = {hook['id']}")
    ours["staff"].post(f"{ours['base']}/{hook['id']}/ping")
    tried = eventually(lambda: (d := deliveries(ours, hook["id"])[0])["attempts"] >= 1 and d,
                       timeout=15)
    assert tried["status"] == "pending" and tried["last_status_code"] is None
    assert "10.9.8.7, a private address" in tried["last_error"]
    assert receiver.at("/rebound") == []


def test_unknown_event_types_are_refused(ours: dict, receiver: Receiver) -> None:
    refused = ours["staff"].post(ours["base"], {"url": receiver.url(),
                                                "event_types": ["points.posted", "order.eaten"]})
    assert refused.status_code == 422 and "order.eaten" in refused.text
    listed = ours["staff"].get(f"{ours['base']}/event-types").json()
    assert {"points.posted", "points.reversed", "badge.granted", "badge.revoked",
            "tier.changed", "challenge.completed"} <= {t["type"] for t in listed}


def test_a_receiver_down_for_a_while_gets_every_delivery_signed_once_back(
        ours: dict, theirs: dict, admin: Client, server: Server, receiver: Receiver) -> None:
    fund(admin, ours)
    fund(admin, theirs)
    hook = endpoint(ours, receiver.url("/down"), ["points.posted", "points.reversed"])
    other = endpoint(theirs, receiver.url("/theirs"), ["points.posted"])
    members = [server.client().register() for _ in range(4)]
    receiver.down()
    try:
        paid = [award(ours, m.member["id"], 10 + n) for n, m in enumerate(members)]
        reversed_ = ours["staff"].post(f"/api/gamification/transactions/{paid[0]['id']}/reverse",
                                       {"reason": "order refunded"})
        assert reversed_.status_code == 201, reversed_.text
        # Every delivery has failed at least once while the receiver was away.
        eventually(lambda: len(d := deliveries(ours, hook["id"])) == 5
                   and all(x["attempts"] >= 1 and x["status"] == "pending" for x in d),
                   timeout=20)
    finally:
        receiver.up()
    done = eventually(lambda: (d := deliveries(ours, hook["id"])) and all(
        x["status"] == "delivered" for x in d) and d, timeout=20)
    got = receiver.at("/down")
    # At least once: each delivery arrived, each arrival is one of ours and verifies.
    assert {g.headers["webhook-id"] for g in got} == {d["message_id"] for d in done}
    bodies = [verified(hook["secret"], g) for g in got]
    assert sorted({(b["type"], b["data"]["amount"]) for b in bodies}) == sorted(
        [("points.posted", 10 + n) for n in range(4)] + [("points.reversed", -10)])
    assert {b["brand_id"] for b in bodies} == {ours["id"]}
    posted = next(b for b in bodies if b["data"]["transaction_id"] == paid[1]["id"])
    assert posted["data"]["member_id"] == members[1].member["id"]
    assert set(posted) == {"type", "timestamp", "brand_id", "data"}
    # The log shows the failures and the success.
    one = ours["staff"].get(f"{ours['base']}/{hook['id']}/deliveries/{done[0]['id']}").json()
    assert one["status"] == "delivered" and one["last_status_code"] == 200
    assert one["last_response"] == "ok, thanks" and one["last_latency_ms"] >= 0
    log = one["attempt_log"]
    assert len(log) >= 2 and log[-1]["http_status"] == 200
    assert all(a["http_status"] is None and a["error"] for a in log[:-1])
    # The other brand's endpoint heard nothing of our brand's points.
    assert receiver.at("/theirs") == [] and deliveries(theirs, other["id"]) == []
    with pytest.raises(WebhookVerificationError):
        verified(other["secret"], got[0])


def test_rotation_signs_with_both_secrets_for_the_overlap(ours: dict,
                                                          receiver: Receiver) -> None:
    hook = endpoint(ours, receiver.url("/rotate"), ["tier.changed"])
    rotated = ours["staff"].post(f"{ours['base']}/{hook['id']}/rotate")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["secret"] != hook["secret"] and new["previous_secret_until"] is not None
    # The hint tells the secrets apart and gives away none of their characters.
    listed = ours["staff"].get(f"{ours['base']}/{hook['id']}").json()
    assert listed["secret_hint"] == new["secret_hint"] != hook["secret_hint"]
    assert listed["secret_hint"] == "sha256:" + hashlib.sha256(new["secret"].encode()).hexdigest()[:8]
    pinged = ours["staff"].post(f"{ours['base']}/{hook['id']}/ping")
    assert pinged.status_code == 202, pinged.text
    got = eventually(lambda: receiver.at("/rotate"), timeout=15)[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    # Each secret alone verifies: a receiver on either side of the switch accepts it.
    assert verified(hook["secret"], got)["type"] == "webhook.ping"
    assert verified(new["secret"], got)["data"]["endpoint_id"] == hook["id"]


def test_replays_send_again_with_the_same_id(ours: dict, receiver: Receiver) -> None:
    hook = endpoint(ours, receiver.url("/replay"), ["badge.granted"])
    base = f"{ours['base']}/{hook['id']}"
    sent = ours["staff"].post(f"{base}/ping").json()
    eventually(lambda: deliveries(ours, hook["id"])[0]["status"] == "delivered", timeout=15)
    again = ours["staff"].post(f"{base}/deliveries/{sent['id']}/replay")
    assert again.status_code == 202, again.text
    eventually(lambda: len(receiver.at("/replay")) == 2, timeout=15)
    assert {g.headers["webhook-id"] for g in receiver.at("/replay")} == {sent["message_id"]}

    now = dt.datetime.now(dt.UTC)
    hour = dt.timedelta(hours=1)
    window = {"since": (now - hour).isoformat(), "until": (now + hour).isoformat()}
    eventually(lambda: deliveries(ours, hook["id"])[0]["status"] == "delivered", timeout=15)
    ranged = ours["staff"].post(f"{base}/replay", window)
    assert ranged.status_code == 202 and ranged.json() == {"replayed": 1}
    eventually(lambda: len(receiver.at("/replay")) == 3, timeout=15)
    backwards = ours["staff"].post(f"{base}/replay", {"since": window["until"], "until": window["since"]})
    assert backwards.status_code == 422 and "until" in backwards.text
    for since, until in (("0001-01-01T00:00:00+01:00", window["until"]),
                         (window["since"], "9999-12-31T23:00:00-02:00")):
        odd = ours["staff"].post(f"{base}/replay", {"since": since, "until": until})
        assert odd.status_code == 422, odd.text
        assert ("since" if since != window["since"] else "until") in odd.text


def test_an_endpoint_failing_again_and_again_is_disabled_and_its_staff_told(
        ours: dict, receiver: Receiver) -> None:
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    hook = endpoint(ours, dead, ["tier.changed"])
    base = f"{ours['base']}/{hook['id']}"
    # Pings (and their retries) fail until 30 attempts in a row have: then it is disabled.
    for _ in range(60):
        pinged = ours["staff"].post(f"{base}/ping")
        if pinged.status_code == 409:
            break
        assert pinged.status_code == 202, pinged.text
    eventually(lambda: not ours["staff"].get(base).json()["enabled"], timeout=20)
    shown = ours["staff"].get(base).json()
    assert "30 failed attempts in a row" in shown["disabled_reason"]
    notices = ours["staff"].get("/api/notifications").json()["items"]
    assert any(n["kind"] == "webhook_disabled" and dead in n["text"] for n in notices)
    assert ours["staff"].post(f"{base}/ping").status_code == 409
    waiting = {d["message_id"] for d in deliveries(ours, hook["id"]) if d["status"] == "pending"}
    assert waiting
    enabled = ours["staff"].patch(base, {"enabled": True, "url": receiver.url("/back")})
    assert enabled.status_code == 200 and enabled.json()["consecutive_failures"] == 0
    # What waited goes out once the endpoint is enabled again.
    eventually(lambda: {g.headers["webhook-id"] for g in receiver.at("/back")} == waiting,
               timeout=20)


def test_redemptions_and_refunds_go_to_the_rewards_brand_only_and_carry_no_code(
        ours: dict, theirs: dict, admin: Client, member: Client, receiver: Receiver) -> None:
    types = ["reward.redeemed", "reward.refunded"]
    hook = endpoint(ours, receiver.url("/reward"), types)
    other = endpoint(theirs, receiver.url("/not-ours"), types)
    code = "HOOK-" + uuid.uuid4().hex[:10].upper()
    reward = ours["staff"].post(f"/api/brands/{ours['id']}/rewards",
                                {"title": "Mug", "price": 30, "published": True}).json()
    pooled = ours["staff"].post(f"/api/brands/{ours['id']}/rewards/{reward['id']}/codes",
                                {"csv": code})
    assert pooled.status_code == 201, pooled.text
    gift = admin.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": 50, "reason": "welcome gift",
        "idempotency_key": uuid.uuid4().hex})
    assert gift.status_code == 201, gift.text
    redeemed = member.post(f"/api/rewards/{reward['id']}/redeem",
                           {"idempotency_key": uuid.uuid4().hex})
    assert redeemed.status_code == 201 and redeemed.json()["code"] == code, redeemed.text
    refunded = ours["staff"].post(
        f"/api/brands/{ours['id']}/redemptions/{redeemed.json()['id']}/refund",
        {"reason": "broken in the post"})
    assert refunded.status_code == 200, refunded.text

    got = eventually(lambda: len(r := receiver.at("/reward")) == 2 and r, timeout=15)
    bodies = sorted((verified(hook["secret"], g) for g in got), key=lambda b: b["type"])
    assert [b["type"] for b in bodies] == types
    expected = {"redemption_id": redeemed.json()["id"], "reward_id": reward["id"],
                "brand_id": ours["id"], "member_id": member.member["id"], "points": 30}
    for body in bodies:
        assert body["brand_id"] == ours["id"] and body["data"].items() >= expected.items()
    assert bodies[0]["data"]["fulfilment"] == "codes"
    assert all(code not in g.body.decode() for g in got)
    # Both events were fanned out before ours arrived: the other brand has no row, now or later.
    assert deliveries(theirs, other["id"]) == [] and receiver.at("/not-ours") == []


def test_a_sender_whose_claim_was_taken_over_records_nothing(
        ours: dict, stack: Stack, receiver: Receiver) -> None:
    """A slow attempt outlives its claim and another sender takes the delivery: only the
    sender holding the claim now records, so the delivery is logged once, not overwritten."""
    hook = endpoint(ours, receiver.url("/overtaken"), ["tier.changed"])
    receiver.holding.set()
    receiver.released.clear()
    try:
        ours["staff"].post(f"{ours['base']}/{hook['id']}/ping")
        eventually(lambda: receiver.at("/overtaken"), timeout=15)
        # As if the claim had lapsed: another sender may take it (and claims it anew).
        stack.sql("UPDATE webhook_delivery SET claimed_until = '2000-01-01 00:00:00+00:00' "
                  f"WHERE endpoint = {hook['id']}")
    finally:
        receiver.holding.clear()
        receiver.released.set()
    done = eventually(lambda: len(receiver.at("/overtaken")) >= 2
                      and (d := deliveries(ours, hook["id"])[0])["status"] == "delivered"
                      and d, timeout=15)
    detail = ours["staff"].get(f"{ours['base']}/{hook['id']}/deliveries/{done['id']}").json()
    assert done["attempts"] == 1 and len(detail["attempt_log"]) == 1


@pytest.mark.scaled_only
def test_a_worker_killed_mid_delivery_still_delivers(
        ours: dict, stack: Stack, receiver: Receiver) -> None:
    hook = endpoint(ours, receiver.url("/killed"), ["tier.changed"])
    receiver.holding.set()
    receiver.released.clear()
    try:
        sent = ours["staff"].post(f"{ours['base']}/{hook['id']}/ping").json()
        eventually(lambda: receiver.at("/killed"), timeout=15)
        workers = [p for p in stack.processes if p.name == "worker" and p.popen.poll() is None]
        for worker in workers:
            signal_tree(worker.popen.pid, 9)
            worker.popen.wait()
    finally:
        receiver.holding.clear()
        receiver.released.set()
    stack.start_worker()
    done = eventually(lambda: (d := deliveries(ours, hook["id"])[0])["status"] == "delivered"
                      and d, timeout=30)
    got = receiver.at("/killed")
    assert len(got) >= 2 and {g.headers["webhook-id"] for g in got} == {sent["message_id"]}
    assert verified(hook["secret"], got[-1])["type"] == "webhook.ping"
    assert done["attempts"] >= 1


def sender_pid(port: int) -> int:
    """The process holding the TCP connection whose local port this is (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        with contextlib.suppress(OSError):
            if os.readlink(fd) in inodes:
                return int(fd.parent.parent.name)
    raise AssertionError(f"no process holds a connection from port {port}")


@pytest.mark.embedded_only
def test_a_server_killed_mid_delivery_still_delivers(
        ours: dict, stack: Stack, server: Server, receiver: Receiver) -> None:
    """Embedded, every server process sends: the one caught in the middle is killed, and
    another (or the same, started again) sends it once the dead one's claim lapses."""
    other = stack.start_server()
    hook = endpoint(ours, receiver.url("/killed"), ["tier.changed"])
    receiver.holding.set()
    receiver.released.clear()
    try:
        sent = ours["staff"].post(f"{ours['base']}/{hook['id']}/ping").json()
        held = eventually(lambda: receiver.at("/killed"), timeout=15)[0]
        pid = sender_pid(held.peer_port)
        assert pid in {server.process.popen.pid, other.process.popen.pid}
        os.kill(pid, signal.SIGKILL)
    finally:
        receiver.holding.clear()
        receiver.released.set()
    if pid == server.process.popen.pid:
        server.process.popen.wait()
        # The module's clients know this server's address: start it again there.
        server.process = stack.spawn("server", "serve", "--port", server.url.rsplit(":", 1)[1])
        server.wait_healthy()
    done = eventually(lambda: (d := deliveries(ours, hook["id"])[0])["status"] == "delivered"
                      and d, timeout=30)
    got = receiver.at("/killed")
    assert len(got) >= 2 and {g.headers["webhook-id"] for g in got} == {sent["message_id"]}
    assert verified(hook["secret"], got[-1])["type"] == "webhook.ping"
    assert done["attempts"] >= 1
    other.process.stop()


def test_finished_deliveries_are_pruned_after_the_retention_and_waiting_ones_kept(
        ours: dict, stack: Stack, receiver: Receiver) -> None:
    """Last: it moves the stack's clock a month on (signatures made after would be stale)."""
    hook = endpoint(ours, receiver.url("/prune"), ["tier.changed"])
    base = f"{ours['base']}/{hook['id']}"
    ours["staff"].post(f"{base}/ping")
    eventually(lambda: deliveries(ours, hook["id"])[0]["status"] == "delivered", timeout=15)
    assert ours["staff"].patch(base, {"enabled": False}).status_code == 200
    waiting = f"{base}/deliveries"
    stack.sql(f"INSERT INTO webhook_delivery (endpoint, message_id, event_type, payload, status, "
              f"attempts, round_attempts, last_response, last_error) VALUES ({hook['id']}, "
              "'msg_waiting', 'webhook.ping', '{}', 'pending', 0, 0, '', '')")
    stack.advance(days=31)
    assert "hooks.prune done: 0" not in stack.run("run-job", "hooks.prune").stdout
    left = ours["staff"].get(waiting).json()["items"]
    assert [d["message_id"] for d in left] == ["msg_waiting"]
