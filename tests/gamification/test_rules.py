"""Events become points through rules: selectors, conditions, caps, cooldowns, windows,
self-actions, budgets, reversals, replays."""

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.harness import Client, Stack, eventually

# Replays hand every event of the database to the rules again, and the caps move the clock:
# a stack of its own keeps both away from the other modules.
pytestmark = pytest.mark.own_stack


@pytest.fixture
def scoped(admin: Client) -> dict:
    """A category of its own, so rules scoped to it see only this test's events."""
    slug = "g-" + uuid.uuid4().hex[:8]
    return admin.post("/api/categories", {"name": "Game " + slug, "slug": slug}).json()


def rule(admin: Client, category: dict, **fields) -> dict:
    body = {"name": "Test rule", "category_id": category["id"], **fields}
    response = admin.post("/api/gamification/rules", body)
    assert response.status_code == 201, response.text
    return response.json()


def balance(client: Client) -> int:
    return client.get("/api/me/points").json()["balance"]


def settles_at(client: Client, expected: int) -> None:
    eventually(lambda: balance(client) == expected)


def replay_everything(stack: Stack) -> None:
    """As a confused relay might: every event handled again, receipts forgotten."""
    for statement in ("DELETE FROM handler_receipt", "UPDATE outbox_event SET dispatched_at = NULL"):
        stack.sql(statement)
    stack.run("relay-sweep")


def thread_in(client: Client, category: dict, title: str = "Points thread") -> dict:
    response = client.post(f"/api/categories/{category['id']}/threads", {"title": title, "body": "hi"})
    assert response.status_code == 201, response.text
    return response.json()


def test_default_rules_are_seeded_and_only_staff_see_rules(admin: Client, member: Client) -> None:
    names = [r["name"] for r in admin.get("/api/gamification/rules").json()]
    for expected in ("Started a thread", "Posted a reply", "Received a reaction", "First visit of the day"):
        assert expected in names
    assert member.get("/api/gamification/rules").status_code == 403
    assert member.post("/api/gamification/rules", {"name": "mine", "event_types": ["post.created"],
                                                   "points": 100}).status_code == 403


@pytest.mark.parametrize(("fields", "message"), [
    ({"event_types": ["post.exploded"]}, "cannot earn points"),
    ({"condition": "kind ==="}, "not a valid expression"),
    ({"condition": "no_such_field > 1"}, "fails on a sample event"),
    ({"condition": "().__class__.__bases__"}, "cannot use attribute access"),
    ({"points": "__import__('os').system('true')"}, "cannot use attribute access"),
    ({"points": "'lots'"}, "must come out as a number"),
    ({"active_from": "2026-01-01T00:00:00"}, "time zone"),
    ({"active_from": "2026-02-01T00:00:00Z", "active_until": "2026-01-01T00:00:00Z"}, "after"),
])
def test_bad_rules_are_refused_with_a_reason(admin: Client, fields: dict, message: str) -> None:
    body = {"name": "Broken", "event_types": ["post.created"], "points": 1, **fields}
    response = admin.post("/api/gamification/rules", body)
    assert response.status_code in (400, 422), response.text
    assert message in response.json()["error"]["message"]


def test_a_thread_earns_points_with_the_rule_as_reason(admin, member, scoped, category) -> None:
    rule(admin, scoped, name="Thread starter", event_types=["thread.created"], points=10)
    thread_in(member, scoped)
    settles_at(member, 10)
    thread_in(member, category)
    history = member.get("/api/me/points/history").json()["items"]
    assert [(h["amount"], h["reason"], h["kind"]) for h in history] == [(10, "Thread starter", "award")]
    assert member.get("/api/me/points").json()["lifetime_earned"] == 10


def test_reactions_pay_the_author_never_the_self_reactor_and_withdrawal_reverses(
        admin, member, other, scoped) -> None:
    rule(admin, scoped, name="Reaction received", event_types=["reaction.added"],
         points='3 if kind == "insightful" else 1')
    post = thread_in(member, scoped)["post"]
    other.post(f"/api/posts/{post['id']}/reactions", {"kind": "insightful"})
    other.post(f"/api/posts/{post['id']}/reactions", {"kind": "like"})
    member.post(f"/api/posts/{post['id']}/reactions", {"kind": "love"})
    settles_at(member, 4)
    assert balance(other) == 0
    other.delete(f"/api/posts/{post['id']}/reactions/insightful")
    settles_at(member, 1)
    kinds = [h["kind"] for h in member.get("/api/me/points/history").json()["items"]]
    assert kinds.count("reversal") == 1


def test_deleting_a_post_reverses_what_it_earned(admin, member, other, scoped) -> None:
    rule(admin, scoped, name="Reply", event_types=["post.created"], condition="post_number > 1",
         points=5)
    rule(admin, scoped, name="Liked", event_types=["reaction.added"], points=2)
    thread = thread_in(other, scoped)["thread"]
    reply = member.post(f"/api/threads/{thread['id']}/posts", {"body": "worth points"}).json()
    other.post(f"/api/posts/{reply['id']}/reactions", {"kind": "like"})
    settles_at(member, 7)
    member.delete(f"/api/posts/{reply['id']}")
    settles_at(member, 0)
    assert member.get("/api/me/points").json()["lifetime_earned"] == 0


def test_daily_cap_and_cooldown(admin, member, other, scoped) -> None:
    capped = thread_in(other, scoped)["thread"]
    cooled = thread_in(other, scoped, "Cooldown thread")["thread"]
    rule(admin, scoped, name="Capped reply", condition=f"thread_id == {capped['id']}",
         event_types=["post.created"], points=5, cap_day=12)
    rule(admin, scoped, name="Slow reply", condition=f"thread_id == {cooled['id']}",
         event_types=["post.created"], points=1, cooldown_seconds=3600)
    # Uncapped, so the total shows every reply has been through the rules.
    rule(admin, scoped, name="Marker", event_types=["post.created"], condition="post_number > 1",
         points=100)
    for i in range(4):
        member.post(f"/api/threads/{capped['id']}/posts", {"body": f"reply {i}"})
    for i in range(3):
        member.post(f"/api/threads/{cooled['id']}/posts", {"body": f"slow {i}"})
    settles_at(member, 12 + 1 + 7 * 100)
    history = member.get("/api/me/points/history?limit=100").json()["items"]
    capped_awards = sorted(h["amount"] for h in history if h["reason"] == "Capped reply")
    assert capped_awards == [2, 5, 5]
    assert [h["amount"] for h in history if h["reason"] == "Slow reply"] == [1]


def test_rules_only_apply_in_their_active_window(stack: Stack, admin, member, scoped) -> None:
    past = stack.now() - dt.timedelta(days=1)
    rule(admin, scoped, name="Last season", event_types=["thread.created"], points=50,
         active_from=(past - dt.timedelta(days=30)).isoformat(), active_until=past.isoformat())
    rule(admin, scoped, name="This season", event_types=["thread.created"], points=7,
         active_from=past.isoformat())
    thread_in(member, scoped)
    settles_at(member, 7)


def test_brand_rules_pay_from_the_brand_budget_for_its_own_categories(admin, member, other,
                                                                     scoped, server) -> None:
    brand = admin.post("/api/brands", {"name": "Funded", "slug": "f-" + uuid.uuid4().hex[:6]}).json()
    slug = "bc-" + uuid.uuid4().hex[:6]
    own = admin.post("/api/categories", {"name": "Brand " + slug, "slug": slug,
                                         "brand_id": brand["id"]}).json()
    staff = server.client().register()
    admin.put(f"/api/members/{staff.member['id']}/role", {"role": "brand_staff", "brand_id": brand["id"]})
    made = staff.post("/api/gamification/rules", {"name": "Brand bonus", "event_types": ["thread.created"],
                                                  "points": 20, "brand_id": brand["id"]})
    assert made.status_code == 201 and made.json()["brand_id"] == brand["id"]
    assert staff.post("/api/gamification/rules", {"name": "Global", "event_types": ["post.created"],
                                                  "points": 1}).status_code == 403
    # Visits happen in no category, so no brand's rule can pay for them.
    visits = staff.post("/api/gamification/rules", {"name": "Daily", "event_types": ["member.visited"],
                                                    "points": 1, "brand_id": brand["id"]})
    assert visits.status_code == 422 and "member.visited" in visits.json()["error"]["message"]
    assert admin.post(f"/api/gamification/brands/{brand['id']}/budget",
                      {"amount": 30, "reason": "launch", "idempotency_key": "fund-" + uuid.uuid4().hex}
                      ).status_code == 201
    # Paid from issuance: its point shows the event has been through the rules.
    for category in (own, scoped):
        rule(admin, category, name="Marker", event_types=["thread.created"], points=1)
    # A thread outside the brand's categories earns nothing from its budget.
    thread_in(member, scoped, "Elsewhere in the community")
    settles_at(member, 1)
    thread_in(member, own, "Funded thread")
    settles_at(member, 22)
    thread_in(other, own, "Thread after the budget ran low")
    settles_at(other, 1)
    assert staff.get(f"/api/gamification/brands/{brand['id']}/budget").json()["balance"] == 10


def test_replaying_events_awards_nothing_more(stack: Stack, admin, member, other, scoped) -> None:
    rule(admin, scoped, name="Replay-proof", event_types=["thread.created", "reaction.added"], points=3)
    post = thread_in(member, scoped)["post"]
    other.post(f"/api/posts/{post['id']}/reactions", {"kind": "thanks"})
    settles_at(member, 6)
    replay_everything(stack)
    assert balance(member) == 6
    check = admin.get("/api/gamification/ledger/check").json()
    assert check["postings_sum"] == 0 and check["balances_not_matching_postings"] == []


def test_concurrent_reactions_award_each_once_within_the_cap(admin, member, scoped, server) -> None:
    rule(admin, scoped, name="Popular", event_types=["reaction.added"], points=4, cap_day=60)
    post = thread_in(member, scoped)["post"]
    fans = [server.client().register() for _ in range(20)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(
            lambda fan: fan.post(f"/api/posts/{post['id']}/reactions", {"kind": "like"}).status_code,
            fans))
    assert statuses == [201] * 20
    settles_at(member, 60)
    check = admin.get("/api/gamification/ledger/check").json()
    assert check["accounts_below_minimum"] == [] and check["unbalanced_transactions"] == []


def test_a_reply_marked_helpful_earns_and_unmarking_takes_it_back(admin, member, other,
                                                                  moderator, scoped) -> None:
    assert "Reply marked helpful" in [r["name"] for r in admin.get("/api/gamification/rules").json()]
    rule(admin, scoped, name="Helpful", event_types=["post.marked_helpful"], points=15)
    thread = thread_in(other, scoped)
    answer = member.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "try this"}).json()
    own = other.post(f"/api/threads/{thread['thread']['id']}/posts", {"body": "me too"}).json()
    assert member.put(f"/api/posts/{answer['id']}/helpful").status_code == 403
    assert other.put(f"/api/posts/{thread['post']['id']}/helpful").status_code == 422
    marked = other.put(f"/api/posts/{answer['id']}/helpful")
    assert marked.status_code == 200 and marked.json()["helpful_post_id"] == answer["id"]
    settles_at(member, 15)
    assert other.delete(f"/api/posts/{answer['id']}/helpful").json()["helpful_post_id"] is None
    settles_at(member, 0)
    # Marking your own reply earns nothing; a moderator may move the mark.
    other.put(f"/api/posts/{own['id']}/helpful")
    assert moderator.put(f"/api/posts/{answer['id']}/helpful").json()["helpful_post_id"] == answer["id"]
    settles_at(member, 15)
    assert balance(other) == 0


def test_a_reaction_withdrawn_and_given_again_counts_once_even_replayed(
        stack: Stack, admin: Client, member: Client, other: Client, scoped: dict) -> None:
    rule(admin, scoped, name="Thanks received", event_types=["reaction.added"], points=2)
    post = thread_in(member, scoped)["post"]
    other.post(f"/api/posts/{post['id']}/reactions", {"kind": "thanks"})
    settles_at(member, 2)
    other.delete(f"/api/posts/{post['id']}/reactions/thanks")
    settles_at(member, 0)
    other.post(f"/api/posts/{post['id']}/reactions", {"kind": "thanks"})
    settles_at(member, 2)
    # Replayed together, in one batch: the withdrawal takes back only the reaction before it.
    replay_everything(stack)
    assert balance(member) == 2
    assert admin.get("/api/gamification/ledger/check").json()["unbalanced_transactions"] == []


def test_a_withdrawal_handled_before_its_reaction_leaves_no_award(
        stack: Stack, admin: Client, member: Client, other: Client, scoped: dict) -> None:
    rule(admin, scoped, name="Liked", event_types=["reaction.added"], points=4)
    made = thread_in(member, scoped)
    post, thread = made["post"], made["thread"]
    fields = (f'"post_id":{post["id"]},"thread_id":{thread["id"]},"category_id":{scoped["id"]},'
              f'"post_author_id":{member.member["id"]},"member_id":{other.member["id"]},'
              '"kind":"like"')
    # What two relays side by side can do: the reaction's event is held (claimed by a relay
    # that has not got to it) while the withdrawal committed after it is handled.
    added = stack.sql(
        "INSERT INTO outbox_event (type, payload, created_at, attempts, claimed_until) VALUES "
        f"('reaction.added', '{{\"type\":\"reaction.added\",{fields}}}', "
        "'2026-01-01 00:00:00+00:00', 0, '2099-01-01 00:00:00+00:00') RETURNING id")[0][0]
    removed = stack.sql(
        "INSERT INTO outbox_event (type, payload, created_at, attempts) VALUES "
        f"('reaction.removed', '{{\"type\":\"reaction.removed\",{fields}}}', "
        "'2026-01-01 00:00:00+00:00', 0) RETURNING id")[0][0]

    def handled(event_id: object) -> bool:
        return stack.sql(f"SELECT dispatched_at FROM outbox_event WHERE id = {int(str(event_id))}"
                         )[0][0] not in (None, "")

    eventually(lambda: handled(removed))
    stack.sql(f"UPDATE outbox_event SET claimed_until = NULL WHERE id = {int(str(added))}")
    eventually(lambda: handled(added))
    assert balance(member) == 0
    assert member.get("/api/me/points/history").json()["items"] == []


def next_period_start(period: str, now: dt.datetime) -> dt.datetime:
    """When the rule engine's next week (ISO, from Monday) or calendar month begins, in UTC."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "cap_week":
        return day + dt.timedelta(days=7 - day.weekday())
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


@pytest.mark.parametrize("period", ["cap_week", "cap_month"])
def test_weekly_and_monthly_caps_count_awards_since_the_period_began(
        stack: Stack, admin: Client, member: Client, other: Client, scoped: dict,
        period: str) -> None:
    thread = thread_in(other, scoped)["thread"]
    rule(admin, scoped, name="Capped per period", event_types=["post.created"],
                  condition=f"thread_id == {thread['id']}", points=5, **{period: 12})
    # Uncapped, so the total shows every reply has been through the rules.
    rule(admin, scoped, name="Marker", event_types=["post.created"], condition="post_number > 1",
         points=100)
    # The period after the one two hours from now, so its last hour is still ahead.
    start = next_period_start(period, stack.now() + dt.timedelta(hours=2))

    def reply(total: int) -> None:
        member.post(f"/api/threads/{thread['id']}/posts", {"body": f"reply for {total}"})
        settles_at(member, total)

    # Earned in the last hour of a period: it does not count against the next one's cap...
    stack.advance_to(start - dt.timedelta(hours=1))
    reply(105)
    # ...which counts only what is earned from its first moment on.
    stack.advance_to(start)
    reply(210)
    reply(315)
    reply(417)
    history = member.get("/api/me/points/history?limit=100").json()["items"]
    awards = [h for h in history if h["reason"] == "Capped per period"]
    assert sorted(h["amount"] for h in awards) == [2, 5, 5, 5]


def emit(stack: Stack, payload: str) -> int:
    """An event committed straight to the outbox, as a server would emit it."""
    kind = payload.split('"type":"', 1)[1].split('"', 1)[0]
    rows = stack.sql("INSERT INTO outbox_event (type, payload, created_at, attempts) VALUES "
                     f"('{kind}', '{payload}', '{stack.now()}', 0) RETURNING id")
    return int(str(rows[0][0]))


def handled(stack: Stack, event_id: int) -> bool:
    return stack.sql(f"SELECT dispatched_at FROM outbox_event WHERE id = {event_id}"
                     )[0][0] not in (None, "")


# The seeded rule's shape (a point, capped at one a day), and the same without the cap: the
# once a day then comes from the visit itself.
@pytest.mark.parametrize("cap_day", [1, None])
def test_the_first_visit_of_each_day_earns_once(stack: Stack, admin: Client, member: Client,
                                               cap_day: int | None) -> None:
    member_id = int(member.member["id"])
    made = admin.post("/api/gamification/rules", {
        "name": "Daily visit", "event_types": ["member.visited"], "points": 1,
        "cap_day": cap_day, "condition": f"member_id == {member_id}"})
    assert made.status_code == 201, made.text

    def points() -> int:
        # Read by the admin: every signed-in request of the member's own is a visit.
        return admin.get(f"/api/members/{member_id}/points").json()["balance"]

    # Noon of a new day, well clear of midnight: the member has not visited today.
    first = stack.advance_to_next(hour=12).date().isoformat()
    # The first signed-in request of the day is a visit, the ones after it are not.
    for path in ("/api/me/points", "/api/me/badges", "/api/me/points/history", "/api/me/points"):
        assert member.get(path).status_code == 200
    eventually(lambda: points() == 1)
    # A day later the first request is a visit again.
    second = stack.advance(days=1).date().isoformat()
    for path in ("/api/me/points", "/api/me/badges", "/api/me/points/history", "/api/me/points"):
        assert member.get(path).status_code == 200
    eventually(lambda: points() == 2)
    # The visit emitted again for a day already credited (say, its dedupe key lost) earns
    # nothing more.
    again = emit(stack, f'{{"type":"member.visited","member_id":{member_id},"day":"{second}"}}')
    eventually(lambda: handled(stack, again))
    assert points() == 2
    history = admin.get(f"/api/members/{member_id}/points/history").json()["items"]
    assert sorted((h["source"], h["amount"], h["reason"]) for h in history) == [
        (f"visit:{member_id}:{day}", 1, "Daily visit") for day in (first, second)]
