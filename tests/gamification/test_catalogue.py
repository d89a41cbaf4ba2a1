"""The rewards catalogue through its API: publishing, code pools, redeeming under real
concurrency, eligibility, windows, refunds, and brand scope."""

import datetime as dt
import subprocess
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.harness import Client, Server, Stack, eventually


def key() -> str:
    return "k-" + uuid.uuid4().hex


def make_brand(admin: Client, server: Server) -> tuple[dict, Client]:
    brand = admin.post("/api/brands", {"name": "Shop", "slug": "cat-" + uuid.uuid4().hex[:6]}).json()
    staff = server.client().register()
    changed = admin.put(f"/api/members/{staff.member['id']}/role",
                        {"role": "brand_staff", "brand_id": brand["id"]})
    assert changed.status_code == 200, changed.text
    return brand, staff


def give(admin: Client, member: Client, amount: int) -> None:
    response = admin.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": amount, "reason": "welcome gift",
        "idempotency_key": key()})
    assert response.status_code == 201, response.text


def reward(staff: Client, brand: dict, **fields) -> dict:
    body = {"title": "Free coffee", "price": 10, "published": True, **fields}
    response = staff.post(f"/api/brands/{brand['id']}/rewards", body)
    assert response.status_code == 201, response.text
    return response.json()


def upload(staff: Client, brand: dict, made: dict, text: str) -> httpx.Response:
    return staff.post(f"/api/brands/{brand['id']}/rewards/{made['id']}/codes", {"csv": text})


def redeem(member: Client, made: dict, idem: str | None = None, **kwargs) -> httpx.Response:
    return member.post(f"/api/rewards/{made['id']}/redeem", {"idempotency_key": idem or key()},
                       **kwargs)


def balance(member: Client) -> int:
    return int(member.get("/api/me/points").json()["balance"])


def staff_view(staff: Client, brand: dict, made: dict) -> dict:
    listed = staff.get(f"/api/brands/{brand['id']}/rewards").json()
    return next(r for r in listed if r["id"] == made["id"])


def assert_ledger_consistent(admin: Client) -> None:
    check = admin.get("/api/gamification/ledger/check").json()
    assert check["unbalanced_transactions"] == [] and check["accounts_below_minimum"] == []
    assert check["balances_not_matching_postings"] == [] and check["postings_sum"] == 0


def test_1000_concurrent_redemptions_against_300_codes_issue_each_once(
        admin: Client, server: Server) -> None:
    brand, staff = make_brand(admin, server)
    made = reward(staff, brand, price=1)
    pool = [f"CODE-{i:04d}-{uuid.uuid4().hex[:6]}" for i in range(300)]
    assert upload(staff, brand, made, "code\n" + "\n".join(pool) + "\n").json() == {
        "imported": 300, "codes_available": 300}
    with ThreadPoolExecutor(max_workers=16) as workers:
        members = list(workers.map(lambda _: server.client().register(), range(50)))
        list(workers.map(lambda m: give(admin, m, 20), members))
    # Each member asks twenty times (distinct keys, no per-member limit): 1,000 at once.
    asks = [m for m in members for _ in range(20)]
    with ThreadPoolExecutor(max_workers=48) as workers:
        # Not kept alive: a burst leaves no pooled connection behind for the server to close
        # just as a later request picks it up.
        answers = list(workers.map(lambda m: redeem(m, made, headers={"Connection": "close"}), asks))
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 300, 409: 700}, statuses
    issued = [a.json()["code"] for a in answers if a.status_code == 201]
    assert sorted(issued) == sorted(pool)
    refusals = {a.json()["error"]["message"] for a in answers if a.status_code == 409}
    assert refusals <= {"this reward has no codes left", "this reward is out of stock"}, refusals
    spent = Counter(a.json()["member_id"] for a in answers if a.status_code == 201)
    assert all(balance(m) == 20 - spent[m.member["id"]] for m in members)
    assert sum(spent.values()) == 300
    view = staff_view(staff, brand, made)
    assert (view["codes_available"], view["redeemed"]) == (0, 300)
    assert_ledger_consistent(admin)


def test_the_per_member_limit_and_a_double_click_hold_under_concurrency(
        admin: Client, server: Server, member: Client) -> None:
    brand, staff = make_brand(admin, server)
    made = reward(staff, brand, price=5, per_member_limit=2, fulfilment="webhook")
    give(admin, member, 100)
    with ThreadPoolExecutor(max_workers=10) as workers:
        answers = list(workers.map(lambda _: redeem(member, made), range(20)))
    assert Counter(a.status_code for a in answers) == {201: 2, 409: 18}
    assert any("its limit" in a.json()["error"]["message"] for a in answers if a.status_code == 409)
    assert balance(member) == 90
    # One intent, clicked twice at once: one redemption, the same answer to both.
    other = reward(staff, brand, price=7, fulfilment="webhook")
    idem = key()
    with ThreadPoolExecutor(max_workers=2) as workers:
        twice = list(workers.map(lambda _: redeem(member, other, idem), range(2)))
    assert [t.status_code for t in twice] == [201, 201]
    assert twice[0].json()["id"] == twice[1].json()["id"] and twice[0].json()["code"] == ""
    assert balance(member) == 83
    assert redeem(member, made, idem).status_code == 409  # the key named another reward
    mine = member.get("/api/me/redemptions").json()["items"]
    assert [r["title"] for r in mine] == ["Free coffee"] * 3
    assert_ledger_consistent(admin)


def test_not_enough_points_changes_nothing(admin: Client, server: Server, member: Client) -> None:
    brand, staff = make_brand(admin, server)
    made = reward(staff, brand, price=50, stock=3)
    upload(staff, brand, made, "AAA-1\nAAA-2\n")
    give(admin, member, 20)
    refused = redeem(member, made)
    assert refused.status_code == 409 and "not enough points" in refused.json()["error"]["message"]
    view = staff_view(staff, brand, made)
    assert (view["stock"], view["codes_available"], view["redeemed"]) == (3, 2, 0)
    item = next(i for i in member.get("/api/rewards", params={"brand_id": brand["id"]}).json()
                if i["reward"]["id"] == made["id"])
    assert item["available"] is False and item["why_not"] == "you need 30 more points"


def test_points_held_for_a_checkout_are_not_offered_in_the_listing(
        admin: Client, server: Server, member: Client) -> None:
    brand, staff = make_brand(admin, server)
    made = reward(staff, brand, price=50, fulfilment="webhook")
    give(admin, member, 100)
    held = admin.post("/api/gamification/holds", {
        "member_id": member.member["id"], "amount": 60, "reason": "a cart",
        "idempotency_key": key()})
    assert held.status_code == 201, held.text
    item = next(i for i in member.get("/api/rewards", params={"brand_id": brand["id"]}).json()
                if i["reward"]["id"] == made["id"])
    assert item["available"] is False and item["why_not"] == "you need 10 more points"
    assert redeem(member, made).status_code == 409
    assert balance(member) == 100


@pytest.mark.scaled_only
def test_a_price_changed_while_a_redemption_waits_for_the_member_is_the_price_paid(
        admin: Client, server: Server, member: Client, stack: Stack) -> None:
    brand, staff = make_brand(admin, server)
    made = reward(staff, brand, price=10, fulfilment="webhook")
    give(admin, member, 100)
    # Another transaction holds the member's account and raises the price meanwhile.
    holder = subprocess.Popen(["psql", stack.env["HEARTH_DATABASE_URL"], "-qAt"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdin is not None and holder.stdout is not None
    try:
        holder.stdin.write(
            "BEGIN;\nSELECT 'locked' FROM ledger_account WHERE code = "
            f"'member:{member.member['id']}' FOR UPDATE;\n"
            f"UPDATE gamification_reward SET price = 30 WHERE id = {made['id']};\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "locked"
        with ThreadPoolExecutor(max_workers=1) as workers:
            asked = workers.submit(redeem, member, made)
            # The redemption has read the reward and waits for the member's account.
            eventually(lambda: stack.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE '%ledger_account%'") != [("0",)])
            holder.stdin.write("COMMIT;\n")
            holder.stdin.close()
            done = asked.result(timeout=20)
    finally:
        holder.wait(timeout=20)
    assert done.status_code == 201, done.text
    assert done.json()["points"] == 30 and balance(member) == 70


def test_eligibility_by_tier_and_badge(admin: Client, server: Server, member: Client) -> None:
    brand, staff = make_brand(admin, server)
    give(admin, member, 100)
    vip = reward(staff, brand, min_tier="VIP", fulfilment="webhook")
    assert redeem(member, vip).status_code == 403
    assert staff.post(f"/api/brands/{brand['id']}/rewards",
                      {"title": "Nope", "price": 1, "min_tier": "Platinum"}).status_code == 422
    made = admin.post("/api/gamification/badges", {
        "slug": "badge-" + uuid.uuid4().hex[:8], "name": "Insider club",
        "criteria": {"type": "manual"}}).json()
    badged = reward(staff, brand, badge_id=made["id"], fulfilment="webhook")
    listed = {i["reward"]["id"]: i for i in member.get("/api/rewards",
                                                       params={"brand_id": brand["id"]}).json()}
    assert listed[vip["id"]]["why_not"] == "for members of the VIP tier or higher"
    assert listed[badged["id"]]["why_not"] == "for members holding the badge 'Insider club'"
    refused = redeem(member, badged)
    assert refused.status_code == 403 and "Insider club" in refused.json()["error"]["message"]
    assert admin.post(f"/api/gamification/badges/{made['id']}/grants",
                      {"member_id": member.member["id"], "reason": "joined the club"}).status_code == 201
    assert redeem(member, badged).status_code == 201
    assert balance(member) == 90


def test_a_tier_gone_from_the_ladder_admits_nobody(
        admin: Client, server: Server, member: Client) -> None:
    brand, staff = make_brand(admin, server)
    give(admin, member, 100)
    ladder = admin.get("/api/gamification/tiers").json()
    gone = "Gone-" + uuid.uuid4().hex[:6]
    extended = {**ladder, "tiers": [*ladder["tiers"], {"name": gone, "threshold": 10**12}]}
    assert admin.put("/api/gamification/tiers", extended).status_code == 200
    try:
        made = reward(staff, brand, min_tier=gone, fulfilment="webhook")
    finally:
        assert admin.put("/api/gamification/tiers", ladder).status_code == 200
    refused = redeem(member, made)
    assert refused.status_code == 403 and "no longer exists" in refused.json()["error"]["message"]
    item = next(i for i in member.get("/api/rewards", params={"brand_id": brand["id"]}).json()
                if i["reward"]["id"] == made["id"])
    assert item["available"] is False and "no longer exists" in item["why_not"]
    assert balance(member) == 100


def test_the_availability_window(admin: Client, server: Server, member: Client,
                                 stack: Stack) -> None:
    brand, staff = make_brand(admin, server)
    give(admin, member, 100)
    now = stack.now()
    later = reward(staff, brand, fulfilment="webhook",
                   starts_at=(now + dt.timedelta(days=2)).isoformat())
    over = reward(staff, brand, fulfilment="webhook",
                  starts_at=(now - dt.timedelta(days=3)).isoformat(),
                  ends_at=(now - dt.timedelta(days=1)).isoformat())
    early = redeem(member, later)
    assert early.status_code == 409 and "available from" in early.json()["error"]["message"]
    late = redeem(member, over)
    assert late.status_code == 409 and "no longer available" in late.json()["error"]["message"]
    assert staff.post(f"/api/brands/{brand['id']}/rewards", {
        "title": "Backwards", "price": 1, "starts_at": now.isoformat(),
        "ends_at": (now - dt.timedelta(hours=1)).isoformat()}).status_code == 422
    naive = staff.post(f"/api/brands/{brand['id']}/rewards",
                       {"title": "No zone", "price": 1, "starts_at": "2030-01-01T00:00:00"})
    assert naive.status_code == 422 and "starts_at" in naive.text
    # Past datetime's range once moved to UTC: a 422 naming the field, not a 500.
    for name, when in (("starts_at", "0001-01-01T00:00:00+01:00"),
                       ("ends_at", "9999-12-31T23:00:00-02:00"),
                       ("starts_at", "1969-12-31T23:59:59+00:00")):
        edge = staff.post(f"/api/brands/{brand['id']}/rewards",
                          {"title": "Edge of time", "price": 1, name: when})
        assert edge.status_code == 422, edge.text
        assert edge.json()["error"]["details"] == [{"key": name, "message": "out of range"}]
    assert balance(member) == 100


def test_csv_uploads_name_bad_lines_and_import_nothing_then(admin: Client, server: Server) -> None:
    brand, staff = make_brand(admin, server)
    made = reward(staff, brand)
    bad = upload(staff, brand, made, "code\nGOOD-1\nbad code\nGOOD-2\nGOOD-1\nA,B\ngood-2\n\n")
    assert bad.status_code == 422
    details = bad.json()["error"]["details"]
    assert [(d["line"], d["message"]) for d in details] == [
        (3, "a code is 1 to 100 letters, digits or _.:/+=#- and starts with a letter or digit"),
        (5, "duplicate of line 2"), (6, "one code per line, no other columns"),
        (7, "duplicate of line 4")]
    assert "line 3, 5, 6, 7" in bad.json()["error"]["message"]
    assert staff_view(staff, brand, made)["codes_available"] == 0
    assert upload(staff, brand, made, "GOOD-1\nGOOD-2\n").status_code == 201
    again = upload(staff, brand, made, "NEW-1\nGOOD-2\ngood-1\n")
    assert again.status_code == 422
    assert again.json()["error"]["details"] == [
        {"key": "csv", "line": 2, "message": "already in this reward's pool"},
        {"key": "csv", "line": 3, "message": "already in this reward's pool"}]
    assert staff_view(staff, brand, made)["codes_available"] == 2
    assert upload(staff, brand, made, "\n\n").status_code == 422
    huge = upload(staff, brand, made, "X" * 600_000)
    assert huge.status_code == 422 and "csv is over" in huge.json()["error"]["message"]
    hooked = reward(staff, brand, fulfilment="webhook")
    assert upload(staff, brand, hooked, "C-1\n").status_code == 409


def test_a_refund_returns_points_and_stock_and_voids_the_code(
        admin: Client, server: Server, member: Client, stack: Stack) -> None:
    brand, staff = make_brand(admin, server)
    made = reward(staff, brand, price=40, stock=2)
    upload(staff, brand, made, "ONE-1111\nTWO-2222\nTHREE-3333\n")
    give(admin, member, 100)
    first = redeem(member, made).json()
    assert first["code"] == "ONE-1111" and balance(member) == 60
    assert staff_view(staff, brand, made)["stock"] == 1
    listed = staff.get(f"/api/brands/{brand['id']}/redemptions").json()["items"]
    assert [(r["id"], r["code"], r["member_handle"]) for r in listed] == [
        (first["id"], "\u2022\u2022\u2022\u20221111", member.member["handle"])]
    refunded = staff.post(f"/api/brands/{brand['id']}/redemptions/{first['id']}/refund",
                          {"reason": "arrived broken"})
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded" and refunded.json()["refund_reason"] == "arrived broken"
    assert balance(member) == 100
    view = staff_view(staff, brand, made)
    assert (view["stock"], view["codes_available"], view["redeemed"]) == (2, 2, 0)
    assert staff.post(f"/api/brands/{brand['id']}/redemptions/{first['id']}/refund",
                      {"reason": "again please"}).status_code == 409
    # The void code is never issued again.
    codes = [redeem(member, made).json()["code"] for _ in range(2)]
    assert codes == ["TWO-2222", "THREE-3333"]
    assert redeem(member, made).status_code == 409
    mine = member.get("/api/me/redemptions").json()["items"]
    assert [(r["code"], r["status"]) for r in mine] == [
        ("THREE-3333", "redeemed"), ("TWO-2222", "redeemed"), ("ONE-1111", "refunded")]
    kinds = {row[0] for row in stack.sql(
        "SELECT type FROM outbox_event WHERE type IN ('reward.redeemed', 'reward.refunded')")}
    assert kinds == {"reward.redeemed", "reward.refunded"}
    logged = staff.get("/api/staff-log", params={"action": "reward."}).json()["items"]
    assert [e["action"] for e in logged][:3] == ["reward.refund", "reward.codes", "reward.create"]
    assert_ledger_consistent(admin)


def test_brand_scope(admin: Client, server: Server, member: Client) -> None:
    brand, staff = make_brand(admin, server)
    rival, rival_staff = make_brand(admin, server)
    made = reward(staff, brand, price=5)
    upload(staff, brand, made, "S-1\nS-2\n")
    give(admin, member, 50)
    done = redeem(member, made).json()
    base = f"/api/brands/{brand['id']}"
    for who in (rival_staff, member):
        assert who.get(f"{base}/rewards").status_code == 403
        assert who.post(f"{base}/rewards", {"title": "Mine now", "price": 1}).status_code == 403
        assert who.put(f"{base}/rewards/{made['id']}", {"title": "Mine now", "price": 1}).status_code == 403
        assert upload(who, brand, made, "Z-1\n").status_code == 403
        assert who.get(f"{base}/redemptions").status_code == 403
        assert who.post(f"{base}/redemptions/{done['id']}/refund",
                        {"reason": "not yours"}).status_code == 403
    # The rival's own paths do not reach this brand's rows either.
    assert rival_staff.put(f"/api/brands/{rival['id']}/rewards/{made['id']}",
                           {"title": "Mine now", "price": 1}).status_code == 404
    assert rival_staff.post(f"/api/brands/{rival['id']}/redemptions/{done['id']}/refund",
                            {"reason": "not yours"}).status_code == 404
    secret = staff.post(f"/api/brands/{brand['id']}/tokens",
                        {"name": "shop", "scopes": ["read", "write"]}).json()["secret"]
    robot = server.client()
    robot.token = secret
    assert redeem(robot, made).status_code == 403
    assert robot.get("/api/me/redemptions").status_code == 403
    assert robot.get(f"{base}/rewards").status_code == 200
    other = server.client().register()
    assert other.get("/api/me/redemptions").json()["items"] == []
    give(admin, staff, 10)
    own = redeem(staff, made).json()
    refused = staff.post(f"{base}/redemptions/{own['id']}/refund", {"reason": "my own"})
    assert refused.status_code == 403 and "their own" in refused.json()["error"]["message"]
    hidden = reward(staff, brand, published=False)
    assert redeem(member, hidden).status_code == 404
    assert hidden["id"] not in [i["reward"]["id"] for i in member.get("/api/rewards").json()]
    withdrawn = staff.put(f"{base}/rewards/{made['id']}",
                          {"title": "Free coffee", "price": 5, "published": False})
    assert withdrawn.status_code == 200 and withdrawn.json()["published"] is False
    assert redeem(member, made).status_code == 404
