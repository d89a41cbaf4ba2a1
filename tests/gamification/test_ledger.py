"""The points ledger through its API: adjustments, budgets, reversals, history, invariants."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.harness import Client, Stack, eventually


def key() -> str:
    return "k-" + uuid.uuid4().hex


def adjust(staff: Client, member: Client, amount: int, idem: str | None = None, **extra):
    return staff.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": amount, "reason": "service recovery",
        "idempotency_key": idem or key(), **extra})


def points(client: Client) -> dict:
    return client.get("/api/me/points").json()


def assert_ledger_consistent(admin: Client) -> None:
    check = admin.get("/api/gamification/ledger/check").json()
    assert check["postings_sum"] == 0
    assert check["unbalanced_transactions"] == []
    assert check["balances_not_matching_postings"] == []
    assert check["accounts_below_minimum"] == []
    assert check["lots_or_holds_not_matching"] == []


def test_adjustment_credits_with_reason_and_replays_are_idempotent(admin: Client, member: Client) -> None:
    assert points(member) == {"member_id": member.member["id"], "balance": 0, "lifetime_earned": 0,
                              "available": 0, "pending": 0}
    idem = key()
    first = adjust(admin, member, 50, idem)
    assert first.status_code == 201
    assert sorted((p["account"], p["amount"]) for p in first.json()["postings"]) == [
        ("issuance", -50), (f"member:{member.member['id']}", 50)]
    again = adjust(admin, member, 50, idem)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert points(member)["balance"] == 50
    different = adjust(admin, member, 60, idem)
    assert different.status_code == 409
    assert "different inputs" in different.json()["error"]["message"]
    history = member.get("/api/me/points/history").json()["items"]
    assert [(h["amount"], h["reason"], h["kind"]) for h in history] == [
        (50, "service recovery", "adjustment")]
    assert_ledger_consistent(admin)


def test_balance_never_goes_negative(admin: Client, member: Client) -> None:
    adjust(admin, member, 30)
    refused = adjust(admin, member, -31)
    assert refused.status_code == 409
    assert "not enough points" in refused.json()["error"]["message"]
    assert points(member)["balance"] == 30
    assert adjust(admin, member, -30).status_code == 201
    assert points(member)["balance"] == 0
    assert adjust(admin, member, 0).status_code == 422


def test_brand_staff_spend_their_own_budget_only(admin: Client, member: Client, other: Client,
                                                 server) -> None:
    brand = admin.post("/api/brands", {"name": "Budget", "slug": "bud-" + uuid.uuid4().hex[:6]}).json()
    rival = admin.post("/api/brands", {"name": "Rival", "slug": "riv-" + uuid.uuid4().hex[:6]}).json()
    staff = server.client().register()
    admin.put(f"/api/members/{staff.member['id']}/role", {"role": "brand_staff", "brand_id": brand["id"]})

    empty = adjust(staff, member, 20)
    assert empty.status_code == 409 and "brand:" in empty.json()["error"]["message"]
    assert staff.post(f"/api/gamification/brands/{brand['id']}/budget",
                      {"amount": 100, "reason": "fund it", "idempotency_key": key()}).status_code == 403
    funded = admin.post(f"/api/gamification/brands/{brand['id']}/budget",
                        {"amount": 100, "reason": "Q4 budget", "idempotency_key": key()})
    assert funded.status_code == 201
    assert adjust(staff, member, 30).status_code == 201
    assert staff.get(f"/api/gamification/brands/{brand['id']}/budget").json()["balance"] == 70
    assert adjust(staff, member, 5, brand_id=rival["id"]).status_code == 403
    assert staff.get(f"/api/gamification/brands/{rival['id']}/budget").status_code == 403
    assert adjust(other, member, 5).status_code == 403
    assert adjust(staff, member, 71).status_code == 409
    assert points(member)["balance"] == 30
    spent = staff.get(f"/api/gamification/brands/{brand['id']}/budget/history").json()["items"]
    assert [(h["amount"], h["kind"], h["reason"]) for h in spent] == [
        (-30, "adjustment", "service recovery"), (100, "funding", "Q4 budget")]
    assert staff.get(f"/api/gamification/brands/{rival['id']}/budget/history").status_code == 403
    assert_ledger_consistent(admin)


def test_reversal_is_a_new_transaction_and_happens_once(admin: Client, member: Client) -> None:
    original = adjust(admin, member, 40).json()
    reversed_ = admin.post(f"/api/gamification/transactions/{original['id']}/reverse",
                           {"reason": "credited by mistake"})
    assert reversed_.status_code == 201
    assert reversed_.json()["reverses"] == original["id"]
    assert reversed_.json()["kind"] == "reversal"
    again = admin.post(f"/api/gamification/transactions/{original['id']}/reverse", {"reason": "again"})
    assert again.json()["id"] == reversed_.json()["id"]
    assert points(member)["balance"] == 0
    assert admin.post(f"/api/gamification/transactions/{reversed_.json()['id']}/reverse",
                      {"reason": "undo undo"}).status_code == 422
    assert member.post(f"/api/gamification/transactions/{original['id']}/reverse",
                       {"reason": "nope nope"}).status_code == 403
    kinds = [h["kind"] for h in member.get("/api/me/points/history").json()["items"]]
    assert kinds == ["reversal", "adjustment"]


def test_reversal_after_spending_recovers_only_what_is_left(admin: Client, member: Client) -> None:
    award = adjust(admin, member, 40).json()
    adjust(admin, member, -30)
    reversal = admin.post(f"/api/gamification/transactions/{award['id']}/reverse",
                          {"reason": "fraud"}).json()
    assert points(member)["balance"] == 0
    assert "30 points already spent" in reversal["reason"]
    assert_ledger_consistent(admin)


def test_points_are_private_to_the_member_and_staff(admin: Client, member: Client, other: Client) -> None:
    adjust(admin, member, 5)
    assert other.get(f"/api/members/{member.member['id']}/points").status_code == 403
    assert admin.get(f"/api/members/{member.member['id']}/points").json()["balance"] == 5
    assert member.get(f"/api/members/{member.member['id']}/points/history").status_code == 200
    assert admin.get("/api/members/99999/points").status_code == 404
    assert member.get("/api/gamification/ledger/check").status_code == 403


def test_points_move_live_on_the_private_channel(admin: Client, member: Client) -> None:
    socket = member.websocket()
    try:
        socket.subscribe(f"user:{member.member['id']}")
        adjust(admin, member, 12)
        frame = socket.wait_for(lambda f: f.get("event") == "points.posted"
                                and f["data"]["amount"] == 12)
        assert frame["data"]["balance"] == 12
        assert frame["data"]["reason"] == "service recovery"
    finally:
        socket.close()


def test_concurrent_debits_replays_and_reversals_keep_the_invariants(admin: Client, member: Client) -> None:
    adjust(admin, member, 100)
    with ThreadPoolExecutor(max_workers=12) as pool:
        debits = list(pool.map(lambda _: adjust(admin, member, -10).status_code, range(30)))
    assert debits.count(201) == 10 and debits.count(409) == 20
    assert points(member)["balance"] == 0

    idem = key()
    with ThreadPoolExecutor(max_workers=12) as pool:
        replays = list(pool.map(lambda _: adjust(admin, member, 25, idem).json()["id"], range(20)))
    assert len(set(replays)) == 1
    assert points(member)["balance"] == 25

    credits = [adjust(admin, member, 5).json()["id"] for _ in range(6)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        reversals = list(pool.map(
            lambda tx: admin.post(f"/api/gamification/transactions/{tx}/reverse",
                                  {"reason": "race"}).json()["id"],
            credits * 3))
    assert len(set(reversals)) == len(credits)
    assert points(member)["balance"] == 25
    assert_ledger_consistent(admin)


def test_redeeming_spends_the_balance_but_not_what_was_earned(admin: Client, member: Client,
                                                             server) -> None:
    brand = admin.post("/api/brands", {"name": "Shop", "slug": "shop-" + uuid.uuid4().hex[:6]}).json()
    staff = server.client().register()
    admin.put(f"/api/members/{staff.member['id']}/role", {"role": "brand_staff", "brand_id": brand["id"]})
    secret = staff.post(f"/api/brands/{brand['id']}/tokens",
                        {"name": "checkout", "scopes": ["read", "write"]}).json()["secret"]
    adjust(admin, member, 65)
    eventually(lambda: member.get("/api/me/tier").json()["earned_in_window"] == 65)
    before_tier = 65

    def redeem(amount: int, idem: str, via: Client | None = None):
        body = {"member_id": member.member["id"], "amount": amount, "reason": "10% off order 991",
                "idempotency_key": idem}
        if via is not None:
            return via.post("/api/gamification/redemptions", body)
        return httpx.post(f"{server.url}/api/gamification/redemptions", json=body,
                          headers={"Authorization": f"Bearer {secret}"}, timeout=30)

    order = key()
    spent = redeem(40, order)
    assert spent.status_code == 201, spent.text
    assert redeem(40, order).json()["id"] == spent.json()["id"], "a retried checkout redeems once"
    assert redeem(41, order).status_code == 409
    assert points(member) == {"member_id": member.member["id"], "balance": 25,
                              "lifetime_earned": 65, "available": 25, "pending": 0}
    # A point earned after the redemption: once it shows, the redemption was handled too.
    adjust(admin, member, 1)

    def board_score() -> int:
        me = member.get("/api/leaderboards/all-time/around-me", params={"n": 0}).json()["me"]
        return int(me["score"]) if me else 0

    eventually(lambda: board_score() == 66)
    eventually(lambda: member.get("/api/me/tier").json()["earned_in_window"] == before_tier + 1)
    history = member.get("/api/me/points/history").json()["items"]
    assert (history[1]["amount"], history[1]["kind"], history[1]["reason"]) == (
        -40, "redemption", "10% off order 991")

    too_much = redeem(27, key(), via=staff)
    assert too_much.status_code == 409 and "not enough points" in too_much.json()["error"]["message"]
    assert points(member)["balance"] == 26
    assert redeem(5, key(), via=member).status_code == 403
    rival = admin.post("/api/brands", {"name": "Rival", "slug": "rv-" + uuid.uuid4().hex[:6]}).json()
    elsewhere = staff.post("/api/gamification/redemptions", {
        "member_id": member.member["id"], "amount": 5, "reason": "gift card", "idempotency_key": key(),
        "brand_id": rival["id"]})
    assert elsewhere.status_code == 403

    refund = admin.post(f"/api/gamification/transactions/{spent.json()['id']}/reverse",
                        {"reason": "order 991 cancelled"})
    assert refund.status_code == 201 and refund.json()["kind"] == "refund"
    assert points(member) == {"member_id": member.member["id"], "balance": 66,
                              "lifetime_earned": 66, "available": 66, "pending": 0}
    # Another shop's order may carry the same number: its redemption is its own.
    at_rival = admin.post("/api/gamification/redemptions", {
        "member_id": member.member["id"], "amount": 6, "reason": "rival order 991",
        "idempotency_key": order, "brand_id": rival["id"]})
    assert at_rival.status_code == 201 and at_rival.json()["id"] != spent.json()["id"]
    assert points(member)["balance"] == 60
    assert_ledger_consistent(admin)


def brand_with_staff(admin: Client, server, budget: int = 0) -> tuple[dict, Client]:
    brand = admin.post("/api/brands", {"name": "B", "slug": "b-" + uuid.uuid4().hex[:8]}).json()
    staff = server.client().register()
    response = admin.put(f"/api/members/{staff.member['id']}/role",
                         {"role": "brand_staff", "brand_id": brand["id"]})
    assert response.status_code == 200, response.text
    if budget:
        funded = admin.post(f"/api/gamification/brands/{brand['id']}/budget",
                            {"amount": budget, "reason": "season budget", "idempotency_key": key()})
        assert funded.status_code == 201, funded.text
    return brand, staff


def budget(admin: Client, brand: dict) -> int:
    return admin.get(f"/api/gamification/brands/{brand['id']}/budget").json()["balance"]


def test_another_brands_staff_and_token_cannot_take_points_or_pay_themselves(
        admin: Client, member: Client, server) -> None:
    first, first_staff = brand_with_staff(admin, server, budget=500)
    second, second_staff = brand_with_staff(admin, server, budget=100)
    assert adjust(first_staff, member, 300).status_code == 201
    before = points(member)
    assert before["balance"] == 300 and before["lifetime_earned"] == 300

    taken = adjust(second_staff, member, -300)
    assert taken.status_code == 403 and "only admins take points" in taken.json()["error"]["message"]
    assert adjust(first_staff, member, -10).status_code == 403, "not even their own brand's"
    for_self = adjust(second_staff, second_staff, 50)
    assert for_self.status_code == 403 and "own account" in for_self.json()["error"]["message"]
    redeemed_self = second_staff.post("/api/gamification/redemptions", {
        "member_id": second_staff.member["id"], "amount": 1, "reason": "gift card",
        "idempotency_key": key()})
    assert redeemed_self.status_code == 403

    token = second_staff.post(f"/api/brands/{second['id']}/tokens",
                              {"name": "crm", "scopes": ["read", "write"]}).json()["secret"]
    bot = server.client()
    bot.token = token
    assert adjust(bot, member, -300).status_code == 403
    assert adjust(bot, second_staff, 50).status_code == 403, "a token must not credit its creator"
    assert adjust(bot, member, 300, brand_id=first["id"]).status_code == 403
    assert adjust(bot, member, 20).status_code == 201, "giving from its own budget still works"

    assert points(member) == {"member_id": member.member["id"], "balance": 320,
                              "lifetime_earned": 320, "available": 320, "pending": 0}
    assert points(second_staff)["balance"] == 0
    assert budget(admin, second) == 80 and budget(admin, first) == 200
    assert_ledger_consistent(admin)


def test_brand_staff_reverse_only_what_their_brand_paid(admin: Client, member: Client,
                                                       server) -> None:
    first, first_staff = brand_with_staff(admin, server, budget=100)
    _, second_staff = brand_with_staff(admin, server, budget=100)
    paid = adjust(first_staff, member, 30).json()
    from_issuance = adjust(admin, member, 5).json()

    def reverse(staff: Client, transaction: dict):
        return staff.post(f"/api/gamification/transactions/{transaction['id']}/reverse",
                          {"reason": "paid by mistake"})

    assert reverse(second_staff, paid).status_code == 403
    assert reverse(first_staff, from_issuance).status_code == 403
    assert reverse(member, paid).status_code == 403
    reversed_ = reverse(first_staff, paid)
    assert reversed_.status_code == 201 and reversed_.json()["reverses"] == paid["id"]
    assert budget(admin, first) == 100
    assert points(member) == {"member_id": member.member["id"], "balance": 5,
                              "lifetime_earned": 5, "available": 5, "pending": 0}

    # Spent to the last point, nothing can be taken back, and the balance stays at zero.
    spent = adjust(first_staff, member, 10).json()
    assert adjust(admin, member, -15).status_code == 201
    empty = reverse(first_staff, spent)
    assert empty.status_code == 409 and "already spent" in empty.json()["error"]["message"]
    assert points(member)["balance"] == 0
    assert_ledger_consistent(admin)


def test_a_negative_adjustment_lowers_the_balance_not_lifetime_tier_or_board(
        admin: Client, member: Client) -> None:
    adjust(admin, member, 100)
    taken = adjust(admin, member, -40)
    assert taken.status_code == 201 and taken.json()["kind"] == "deduction"
    assert points(member) == {"member_id": member.member["id"], "balance": 60,
                              "lifetime_earned": 100, "available": 60, "pending": 0}
    # A point earned after the deduction: once it shows, the deduction was handled too.
    adjust(admin, member, 1)

    def board_score() -> int:
        me = member.get("/api/leaderboards/all-time/around-me", params={"n": 0}).json()["me"]
        return int(me["score"]) if me else 0

    eventually(lambda: board_score() == 101)
    eventually(lambda: member.get("/api/me/tier").json()["earned_in_window"] == 101)
    # Undoing a deduction gives spendable points back, not new earnings.
    refund = admin.post(f"/api/gamification/transactions/{taken.json()['id']}/reverse",
                        {"reason": "taken by mistake"})
    assert refund.status_code == 201 and refund.json()["kind"] == "refund"
    assert points(member) == {"member_id": member.member["id"], "balance": 101,
                              "lifetime_earned": 101, "available": 101, "pending": 0}
    history = [h["kind"] for h in member.get("/api/me/points/history").json()["items"]]
    assert history == ["refund", "adjustment", "deduction", "adjustment"]


def test_adjustment_keys_are_per_brand(admin: Client, member: Client, server) -> None:
    first, first_staff = brand_with_staff(admin, server, budget=100)
    second, second_staff = brand_with_staff(admin, server, budget=100)
    shared = key()
    ours = adjust(first_staff, member, 10, shared)
    theirs = adjust(second_staff, member, 20, shared)
    assert ours.status_code == 201 and theirs.status_code == 201
    assert ours.json()["id"] != theirs.json()["id"]
    assert adjust(admin, member, 30, shared).status_code == 201, "issuance keys are their own too"
    assert adjust(first_staff, member, 10, shared).json()["id"] == ours.json()["id"]
    retried_by_admin = adjust(admin, member, 10, shared, brand_id=first["id"])
    assert retried_by_admin.json()["id"] == ours.json()["id"], "the key is the brand's, not the person's"
    changed = adjust(first_staff, member, 11, shared)
    assert changed.status_code == 409 and "different inputs" in changed.json()["error"]["message"]
    assert points(member)["balance"] == 60
    assert budget(admin, first) == 90 and budget(admin, second) == 80


def test_the_same_adjustment_posted_concurrently_is_recorded_once(
        admin: Client, member: Client, server, stack) -> None:
    brand, staff = brand_with_staff(admin, server, budget=100)
    idem = key()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: adjust(staff, member, 7, idem), range(16)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    rows = stack.sql("SELECT COUNT(*) FROM ledger_transaction "
                     f"WHERE idempotency_key = 'adjust:{brand['id']}:{idem}'")
    assert int(rows[0][0]) == 1
    assert points(member)["balance"] == 7 and budget(admin, brand) == 93
    assert_ledger_consistent(admin)


def test_a_brands_budget_never_pays_its_own_staff(admin: Client, server) -> None:
    brand, staff = brand_with_staff(admin, server, budget=100)
    by_admin = adjust(admin, staff, 50, brand_id=brand["id"])
    assert by_admin.status_code == 409 and "staff of the brand" in by_admin.json()["error"]["message"]
    assert adjust(admin, staff, 5).status_code == 201, "issuance may still pay staff"

    slug = "own-" + uuid.uuid4().hex[:6]
    own = admin.post("/api/categories", {"name": "Brand " + slug, "slug": slug,
                                         "brand_id": brand["id"]}).json()
    bonus = staff.post("/api/gamification/rules", {
        "name": "Staff bonus", "event_types": ["thread.created"], "points": 80,
        "brand_id": brand["id"]})
    assert bonus.status_code == 201, bonus.text
    marker = admin.post("/api/gamification/rules", {
        "name": "Marker", "event_types": ["thread.created"], "points": 1, "category_id": own["id"]})
    assert marker.status_code == 201, marker.text
    posted = staff.post(f"/api/categories/{own['id']}/threads",
                        {"title": "Our own announcement", "body": "hello"})
    assert posted.status_code == 201, posted.text
    # The marker's point from issuance shows the event has been through the rules.
    eventually(lambda: points(staff)["balance"] == 6)
    assert budget(admin, brand) == 100
    for made in (bonus, marker):
        admin.patch(f"/api/gamification/rules/{made.json()['id']}", {"enabled": False})
    assert_ledger_consistent(admin)


def test_brand_staff_see_only_what_their_brand_paid_in_a_members_history(
        admin: Client, member: Client, server) -> None:
    first, first_staff = brand_with_staff(admin, server, budget=100)
    _, second_staff = brand_with_staff(admin, server, budget=100)
    ours = adjust(first_staff, member, 30).json()
    theirs = adjust(second_staff, member, 7).json()
    goodwill = adjust(admin, member, 5).json()
    token = first_staff.post(f"/api/brands/{first['id']}/tokens",
                             {"name": "checkout", "scopes": ["read"]}).json()["secret"]
    bot = server.client()
    bot.token = token

    def seen(client: Client) -> list[int]:
        response = client.get(f"/api/members/{member.member['id']}/points/history")
        assert response.status_code == 200, response.text
        return [item["transaction_id"] for item in response.json()["items"]]

    assert seen(first_staff) == [ours["id"]]
    assert seen(bot) == [ours["id"]]
    assert seen(second_staff) == [theirs["id"]]
    assert seen(admin) == [goodwill["id"], theirs["id"], ours["id"]]
    assert [i["transaction_id"] for i in member.get("/api/me/points/history").json()["items"]] == \
        [goodwill["id"], theirs["id"], ours["id"]]
    # The balance a checkout needs stays whole.
    assert bot.get(f"/api/members/{member.member['id']}/points").json()["balance"] == 42


def test_ledger_check_command_exits_1_naming_a_balance_that_drifted(
        stack: Stack, admin: Client, member: Client) -> None:
    assert adjust(admin, member, 40).status_code == 201
    account = f"member:{member.member['id']}"
    stack.sql(f"UPDATE ledger_account SET balance = balance + 1 WHERE code = '{account}'")
    try:
        drifted = stack.run("ledger-check", check=False)
    finally:
        stack.sql(f"UPDATE ledger_account SET balance = balance - 1 WHERE code = '{account}'")
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    assert f"account {account}: its balance is not the sum of its postings" in drifted.stdout
