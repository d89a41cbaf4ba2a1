"""The ledger's hash chain (verify by API and CLI, tampering found) and the liability report
(figures on a small known ledger, brand scope, CSV)."""

import csv
import io
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from tests.harness import Client, Stack

VERIFY = "/api/gamification/ledger/verify"


def key() -> str:
    return "k-" + uuid.uuid4().hex


def adjust(staff: Client, member: Client, amount: int, **extra) -> dict:
    response = staff.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": amount, "reason": "chain test",
        "idempotency_key": key(), **extra})
    assert response.status_code == 201, response.text
    return response.json()


def verify(admin: Client) -> dict:
    response = admin.get(VERIFY)
    assert response.status_code == 200, response.text
    return response.json()


def scalar(stack: Stack, sql: str) -> int:
    return int(stack.sql(sql)[0][0])


def test_concurrent_writes_chain_in_one_order_and_verify(
        stack: Stack, server, admin: Client, member: Client, other: Client) -> None:
    before = verify(admin)
    assert before["ok"] and before["broken"] is None
    members = [member, other, server.client().register()]
    with ThreadPoolExecutor(max_workers=12) as pool:
        done = list(pool.map(lambda i: adjust(admin, members[i % 3], 1 + i % 5), range(60)))
    assert len({t["id"] for t in done}) == 60
    after = verify(admin)
    assert after["ok"], after["broken"]
    assert after["checked"] >= before["checked"] + 60
    assert after["head_transaction"] >= max(t["id"] for t in done)
    assert after["head_hash"] == stack.sql(
        f"SELECT chain_hash FROM ledger_transaction WHERE id = {after['head_transaction']}")[0][0]
    assert member.get(VERIFY).status_code == 403
    cli = stack.run("ledger-verify")
    assert "ledger chain ok" in cli.stdout


@contextmanager
def tampered(stack: Stack, change: str, undo: str) -> Iterator[None]:
    stack.sql(change)
    try:
        yield
    finally:
        stack.sql(undo)


def test_an_edited_posting_a_changed_hash_and_a_removed_transaction_are_reported(
        stack: Stack, admin: Client, member: Client) -> None:
    first, second, third = (adjust(admin, member, n)["id"] for n in (10, 20, 30))
    posting = scalar(stack, f"SELECT MIN(id) FROM ledger_posting WHERE ledger_transaction = {second}")
    stored = stack.sql(f"SELECT chain_hash FROM ledger_transaction WHERE id = {second}")[0][0]

    with tampered(stack, f"UPDATE ledger_posting SET amount = amount + 1 WHERE id = {posting}",
                  f"UPDATE ledger_posting SET amount = amount - 1 WHERE id = {posting}"):
        broken = verify(admin)
        cli = stack.run("ledger-verify", check=False)
    assert not broken["ok"]
    assert broken["broken"]["transaction_id"] == second
    assert broken["broken"]["stored"] == stored != broken["broken"]["expected"]
    assert cli.returncode == 1
    assert f"chain broken at transaction {second}" in cli.stdout and stored in cli.stdout

    with tampered(stack, f"UPDATE ledger_transaction SET chain_hash = '{'f' * 64}' "
                         f"WHERE id = {first}",
                  f"UPDATE ledger_transaction SET chain_hash = '{stored_of(stack, first)}' "
                  f"WHERE id = {first}"):
        broken = verify(admin)["broken"]
    assert broken["transaction_id"] == first and broken["stored"] == "f" * 64

    with tampered(stack, f"UPDATE ledger_transaction SET reason = 'edited' WHERE id = {third}",
                  f"UPDATE ledger_transaction SET reason = 'chain test' WHERE id = {third}"):
        assert verify(admin)["broken"]["transaction_id"] == third

    # Removed (its postings go with it): the next transaction's link no longer holds.
    for table, column in (("ledger_transaction", "id"), ("ledger_posting", "ledger_transaction")):
        stack.sql(f"CREATE TABLE saved_{table} AS SELECT * FROM {table} WHERE {column} = {second}")
    stack.sql(f"DELETE FROM ledger_posting WHERE ledger_transaction = {second}")
    stack.sql(f"DELETE FROM ledger_transaction WHERE id = {second}")
    try:
        broken = verify(admin)["broken"]
    finally:
        for table in ("ledger_transaction", "ledger_posting"):
            stack.sql(f"INSERT INTO {table} SELECT * FROM saved_{table}")
            stack.sql(f"DROP TABLE saved_{table}")
    next_id = scalar(stack, f"SELECT MIN(id) FROM ledger_transaction WHERE id > {second}")
    assert broken["transaction_id"] == next_id
    assert verify(admin)["ok"]


def stored_of(stack: Stack, transaction_id: int) -> str:
    return str(stack.sql(f"SELECT chain_hash FROM ledger_transaction WHERE id = {transaction_id}")[0][0])


def test_removing_the_newest_transaction_breaks_the_chain_at_its_head(
        stack: Stack, admin: Client, member: Client) -> None:
    newest = adjust(admin, member, 7)["id"]
    for table, column in (("ledger_transaction", "id"), ("ledger_posting", "ledger_transaction")):
        stack.sql(f"CREATE TABLE saved_{table} AS SELECT * FROM {table} WHERE {column} = {newest}")
    stack.sql(f"DELETE FROM ledger_posting WHERE ledger_transaction = {newest}")
    stack.sql(f"DELETE FROM ledger_transaction WHERE id = {newest}")
    try:
        result = verify(admin)
    finally:
        for table in ("ledger_transaction", "ledger_posting"):
            stack.sql(f"INSERT INTO {table} SELECT * FROM saved_{table}")
            stack.sql(f"DROP TABLE saved_{table}")
    assert not result["ok"] and result["broken"]["transaction_id"] == newest
    assert "removed" in result["broken"]["problem"]
    assert verify(admin)["ok"]


def brand_with_staff(admin: Client, server, name: str) -> tuple[dict, Client]:
    brand = admin.post("/api/brands", {"name": name, "slug": "li-" + uuid.uuid4().hex[:6]}).json()
    staff = server.client().register()
    admin.put(f"/api/members/{staff.member['id']}/role",
              {"role": "brand_staff", "brand_id": brand["id"]})
    return brand, staff


def test_liability_figures_on_a_small_known_ledger_by_brand_and_as_csv(
        stack: Stack, server, admin: Client, member: Client, other: Client) -> None:
    brand, staff = brand_with_staff(admin, server, "=HYPERLINK(\"x\")")
    rival, rival_staff = brand_with_staff(admin, server, "Rival")
    assert admin.post(f"/api/gamification/brands/{brand['id']}/budget", {
        "amount": 1000, "reason": "Q4 budget", "idempotency_key": key()}).status_code == 201
    paid = adjust(staff, member, 300)
    adjust(staff, other, 200)
    adjust(admin, member, 50)  # from issuance: no brand's
    assert admin.post(f"/api/gamification/transactions/{paid['id']}/reverse",
                      {"reason": "paid twice"}).status_code == 201  # member: 300 back
    adjust(staff, member, 150)
    redeemed = staff.post("/api/gamification/redemptions", {
        "member_id": member.member["id"], "amount": 40, "reason": "a mug",
        "idempotency_key": key()})
    assert redeemed.status_code == 201, redeemed.text
    refunded = staff.post("/api/gamification/redemptions", {
        "member_id": other.member["id"], "amount": 10, "reason": "a pen",
        "idempotency_key": key()}).json()
    assert admin.post(f"/api/gamification/transactions/{refunded['id']}/reverse",
                      {"reason": "out of pens"}).status_code == 201

    figures = staff.get(f"/api/gamification/brands/{brand['id']}/liability?months=2")
    assert figures.status_code == 200, figures.text
    report = figures.json()
    # 1000 funded; 300 + 200 + 150 paid, 300 of it back; 40 redeemed, 10 redeemed and refunded.
    assert report["budget_balance"] == 650
    assert (report["issued"], report["redeemed"], report["net_outstanding"]) == (350, 40, 310)
    assert report["expiring"] == {"within_30_days": 0, "within_60_days": 0, "within_90_days": 0}
    month = stack.now().strftime("%Y-%m")
    assert [m["month"] for m in report["months"]][-1] == month and len(report["months"]) == 2
    assert report["months"][-1] == {"month": month, "issued": 350, "redeemed": 40,
                                    "redemption_rate": round(40 / 350, 4)}
    assert report["months"][0]["redemption_rate"] is None

    assert rival_staff.get(f"/api/gamification/brands/{brand['id']}/liability").status_code == 403
    assert rival_staff.get(
        f"/api/gamification/brands/{brand['id']}/liability.csv").status_code == 403
    assert staff.get("/api/gamification/liability").status_code == 403
    assert member.get(f"/api/gamification/brands/{brand['id']}/liability").status_code == 403
    assert staff.get(f"/api/gamification/brands/{brand['id']}/liability?months=0").status_code == 400

    everything = admin.get("/api/gamification/liability").json()
    mine = [b for b in everything["brands"] if b["brand_id"] == brand["id"]]
    assert mine == [{**report, "months": mine[0]["months"]}]
    assert rival["id"] not in [b["brand_id"] for b in everything["brands"]]  # no budget yet
    assert everything["members_outstanding"] == scalar(
        stack, "SELECT SUM(balance) FROM ledger_account WHERE kind = 'member'")
    assert everything["budgets_outstanding"] == scalar(
        stack, "SELECT SUM(balance) FROM ledger_account WHERE kind = 'brand_budget'")

    download = staff.get(f"/api/gamification/brands/{brand['id']}/liability.csv?months=1")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert f'filename="liability-brand-{brand["id"]}-' in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert {r["brand"] for r in rows} == {"'=HYPERLINK(\"x\")"}
    values = {(r["month"], r["metric"]): r["value"] for r in rows}
    assert values[("", "budget_balance")] == "650" and values[("", "net_outstanding")] == "310"
    assert values[(month, "redeemed")] == "40"
    assert values[("", "expiring_within_90_days")] == "0"
    whole = admin.get("/api/gamification/liability.csv")
    assert whole.status_code == 200 and whole.text.startswith("scope,brand_id,brand,month,metric")
    assert staff.get("/api/gamification/liability.csv").status_code == 403
