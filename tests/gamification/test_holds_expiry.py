"""Holds for a brand's checkout and points expiry, through the API and the sweep, with real
concurrency: holds never overdraw a member, an expired hold voids itself once, each lot
expires once however many sweeps run, and a spend racing the expiry of the same points
never counts them twice.

Points here expire a month after they are earned, and the module moves its clock: it has a
stack of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import started_stack
from tests.gamification.test_ledger import adjust, assert_ledger_consistent, brand_with_staff, key
from tests.harness import Client, Stack, eventually

pytestmark = pytest.mark.own_stack

HOLDS = "/api/gamification/holds"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with started_stack(tmp_path_factory, {"HEARTH_POINTS_EXPIRY": "earning",
                                          "HEARTH_POINTS_EXPIRY_MONTHS": "1"}) as own:
        yield own


def points(client: Client) -> dict:
    return client.get("/api/me/points").json()


def hold(staff: Client, member: Client, amount: int, idem: str | None = None, **extra):
    return staff.post(HOLDS, {"member_id": member.member["id"], "amount": amount,
                              "reason": "cart 1234", "idempotency_key": idem or key(), **extra})


def test_a_checkout_holds_posts_part_and_voids(admin: Client, member: Client, server) -> None:
    brand, staff = brand_with_staff(admin, server, budget=1000)
    assert adjust(staff, member, 100).status_code == 201
    idem = key()
    held = hold(staff, member, 60, idem)
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "pending" and held.json()["brand_id"] == brand["id"]
    assert hold(staff, member, 60, idem).json()["id"] == held.json()["id"], "a replay"
    assert hold(staff, member, 61, idem).status_code == 409
    assert points(member) | {"member_id": 0} == {
        "member_id": 0, "balance": 100, "lifetime_earned": 100, "available": 40, "pending": 60}
    refused = admin.post("/api/gamification/redemptions", {
        "member_id": member.member["id"], "amount": 50, "reason": "a mug",
        "idempotency_key": key()})
    assert refused.status_code == 409, "held points are not spendable"
    assert hold(staff, member, 41).status_code == 409

    hold_id = held.json()["id"]
    too_much = staff.post(f"{HOLDS}/{hold_id}/post", {"amount": 61})
    assert too_much.status_code == 422 and "amount" in too_much.json()["error"]["message"]
    posted = staff.post(f"{HOLDS}/{hold_id}/post", {"amount": 45})
    assert posted.status_code == 200, posted.text
    assert posted.json()["status"] == "posted" and posted.json()["posted"] == 45
    assert staff.post(f"{HOLDS}/{hold_id}/post", {"amount": 45}).json() == posted.json()
    assert staff.post(f"{HOLDS}/{hold_id}/post", {"amount": 40}).status_code == 409
    assert staff.post(f"{HOLDS}/{hold_id}/void").status_code == 409
    assert points(member) | {"member_id": 0} == {
        "member_id": 0, "balance": 55, "lifetime_earned": 100, "available": 55, "pending": 0}
    history = member.get("/api/me/points/history").json()["items"]
    assert (history[0]["kind"], history[0]["amount"]) == ("redemption", -45)

    cancelled = hold(staff, member, 55).json()
    assert points(member)["available"] == 0
    voided = staff.post(f"{HOLDS}/{cancelled['id']}/void")
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    assert staff.post(f"{HOLDS}/{cancelled['id']}/void").json()["status"] == "voided"
    assert staff.post(f"{HOLDS}/{cancelled['id']}/post", {}).status_code == 409
    assert points(member)["available"] == 55

    _, rival = brand_with_staff(admin, server)
    assert rival.get(f"{HOLDS}/{hold_id}").status_code == 403
    assert rival.post(f"{HOLDS}/{hold_id}/void").status_code == 403
    assert hold(rival, member, 5, brand_id=brand["id"]).status_code == 403
    assert member.get(f"{HOLDS}/{hold_id}").status_code == 403
    assert staff.get(f"{HOLDS}/999999999").status_code == 404
    assert staff.post(f"{HOLDS}/999999999/post", {}).status_code == 404
    assert hold(staff, member, 0).status_code == 400
    assert hold(staff, member, 5, timeout_seconds=0).status_code == 400
    assert_ledger_consistent(admin)


def test_a_brand_token_holds_and_posts_at_its_own_brand(admin: Client, member: Client,
                                                        server) -> None:
    brand, staff = brand_with_staff(admin, server, budget=100)
    assert adjust(staff, member, 30).status_code == 201
    token = staff.post(f"/api/brands/{brand['id']}/tokens",
                       {"name": "shop", "scopes": ["read", "write"]}).json()["secret"]
    shop = server.client()
    shop.token = token
    socket = member.websocket()
    try:
        socket.subscribe(f"user:{member.member['id']}")
        held = hold(shop, member, 30)
        assert held.status_code == 201, held.text
        frame = socket.wait_for(lambda f: f.get("event") == "points.held")
        assert frame["data"] == {"hold_id": held.json()["id"], "status": "pending",
                                 "available": 0, "pending": 30}
    finally:
        socket.close()
    assert shop.post(f"{HOLDS}/{held.json()['id']}/post", {}).json()["posted"] == 30
    assert points(member)["balance"] == 0
    assert shop.get("/api/me/points").status_code == 403


def test_concurrent_holds_and_spends_never_overdraw(admin: Client, member: Client) -> None:
    assert adjust(admin, member, 100).status_code == 201

    def one(i: int) -> int:
        if i % 2:
            return hold(admin, member, 30).status_code
        return admin.post("/api/gamification/redemptions", {
            "member_id": member.member["id"], "amount": 20, "reason": "a mug",
            "idempotency_key": key()}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(one, range(24)))
    assert set(statuses) <= {201, 409}
    holds_made = sum(1 for i, s in enumerate(statuses) if i % 2 and s == 201)
    spends_made = sum(1 for i, s in enumerate(statuses) if not i % 2 and s == 201)
    now = points(member)
    assert now["pending"] == 30 * holds_made and now["balance"] == 100 - 20 * spends_made
    assert now["available"] >= 0 and now["available"] == now["balance"] - now["pending"]
    # Available only fell: had 20 been left, every spend would have found them.
    assert now["available"] < 20
    assert_ledger_consistent(admin)


def test_an_expired_hold_voids_itself_once_and_cannot_be_posted(
        admin: Client, member: Client, stack: Stack) -> None:
    assert adjust(admin, member, 50).status_code == 201
    held = hold(admin, member, 50, timeout_seconds=60).json()
    assert points(member)["available"] == 0
    stack.advance(seconds=61)
    late = admin.post(f"{HOLDS}/{held['id']}/post", {})
    assert late.status_code == 409 and "hold expired" in late.json()["error"]["message"]
    eventually(lambda: admin.get(f"{HOLDS}/{held['id']}").json()["status"] == "expired")
    assert stack.run("run-job", "ledger.holds").stdout.strip() == "ledger.holds done: 0"
    assert points(member) | {"member_id": 0} == {
        "member_id": 0, "balance": 50, "lifetime_earned": 50, "available": 50, "pending": 0}
    assert admin.post(f"{HOLDS}/{held['id']}/void").json()["status"] == "expired"
    assert_ledger_consistent(admin)


def expirations(stack: Stack, member: Client) -> list[int]:
    """The amount of each expiration posted to the member."""
    rows = stack.sql(
        "SELECT p.amount FROM ledger_posting p JOIN ledger_transaction t "
        "ON t.id = p.ledger_transaction JOIN ledger_account a ON a.id = p.account "
        f"WHERE t.kind = 'expiration' AND a.code = 'member:{member.member['id']}' ORDER BY t.id")
    return [int(r[0]) for r in rows]


def test_points_expire_once_however_many_sweeps_run_and_members_see_when(
        admin: Client, member: Client, stack: Stack) -> None:
    assert adjust(admin, member, 40).status_code == 201
    shown = member.get("/api/me/points/expiries").json()
    assert (shown["policy"], shown["months"]) == ("earning", 1)
    assert [e["amount"] for e in shown["upcoming"]] == [40]
    notice = f"40 of your points expire on {shown['upcoming'][0]['date']}"

    def notices() -> list[str]:
        return [n["text"] for n in member.get("/api/notifications").json()["items"]
                if n["kind"] == "points_expiring"]

    # A month is 28 to 31 days: two days on, the 30-day notice is due, the 7-day one is not.
    stack.advance(days=2)
    eventually(lambda: notices() == [notice])
    stack.advance(days=23)
    eventually(lambda: notices() == [notice, notice])
    stack.advance(days=7)
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda _: stack.run("run-job", "ledger.expiry"), range(3)))
    stack.run("run-job", "ledger.expiry")
    eventually(lambda: points(member)["balance"] == 0)
    assert expirations(stack, member) == [-40]
    assert points(member)["lifetime_earned"] == 40
    assert member.get("/api/me/points/expiries").json()["upcoming"] == []
    assert_ledger_consistent(admin)


def test_a_spend_racing_the_expiry_of_the_same_points_never_counts_them_twice(
        admin: Client, server, stack: Stack) -> None:
    members = [server.client().register() for _ in range(6)]
    for m in members:
        assert adjust(admin, m, 100).status_code == 201
    stack.advance(days=32)

    def spend(m: Client) -> int:
        return admin.post("/api/gamification/redemptions", {
            "member_id": m.member["id"], "amount": 30, "reason": "a mug",
            "idempotency_key": "race-" + uuid.uuid4().hex}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        sweeps = [pool.submit(stack.run, "run-job", "ledger.expiry") for _ in range(2)]
        spends = {m.member["id"]: [pool.submit(spend, m) for _ in range(4)] for m in members}
        for sweep in sweeps:
            sweep.result()
    for m in members:
        eventually(lambda m=m: points(m)["balance"] == 0)
        spent = 30 * [f.result() for f in spends[m.member["id"]]].count(201)
        assert spent + -sum(expirations(stack, m)) == 100, "each point spent or expired, once"
        assert len(expirations(stack, m)) <= 1
    assert_ledger_consistent(admin)
