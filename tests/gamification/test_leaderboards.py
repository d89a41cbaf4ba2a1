"""Leaderboards: competition ranking, around-me, staff left out, rebuilt from the ledger."""

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from gamification.leaderboards.services import TOP_CACHE_SECONDS
from tests.conftest import signed_in_admin
from tests.faults import private_redis, private_stack
from tests.gamification.boards import stored_board, wipe_boards
from tests.harness import Client, Server, Stack, drop_stack, eventually


@pytest.fixture
def board(admin: Client) -> tuple[dict, str]:
    slug = "lb-" + uuid.uuid4().hex[:8]
    category = admin.post("/api/categories", {"name": "Board " + slug, "slug": slug}).json()
    response = admin.post("/api/gamification/rules", {
        "name": "Board thread", "event_types": ["thread.created"], "points": 10,
        "category_id": category["id"]})
    assert response.status_code == 201
    return category, f"category:{category['id']}"


def threads(client: Client, category: dict, count: int) -> None:
    for i in range(count):
        assert client.post(f"/api/categories/{category['id']}/threads",
                           {"title": f"Thread {i} by {client.member['handle']}", "body": "x"}
                           ).status_code == 201


def ranking(client: Client, name: str) -> list[tuple[str, int, int]]:
    items = client.get(f"/api/leaderboards/{name}?limit=50").json()["items"]
    return [(i["member"]["handle"], i["rank"], i["score"]) for i in items]


def test_competition_ranking_ties_and_around_me(server: Server, admin: Client, board) -> None:
    category, name = board
    a, b, c, d = (server.client().register() for _ in range(4))
    for client, count in ((a, 3), (b, 2), (c, 2), (d, 1)):
        threads(client, category, count)
    expected = [(a.member["handle"], 1, 30), (c.member["handle"], 2, 20),
                (b.member["handle"], 2, 20), (d.member["handle"], 4, 10)]
    eventually(lambda: ranking(a, name) == expected)
    page = a.get(f"/api/leaderboards/{name}?limit=2&offset=2").json()
    assert [(i["rank"], i["score"]) for i in page["items"]] == [(2, 20), (4, 10)]
    assert "1, 2, 2, 4" in page["ranking"]

    around = b.get(f"/api/leaderboards/{name}/around-me?n=1").json()
    assert around["me"]["rank"] == 2 and around["me"]["member"]["id"] == b.member["id"]
    assert [i["member"]["id"] for i in around["items"]] == [c.member["id"], b.member["id"], d.member["id"]]
    nobody = server.client().register()
    assert nobody.get(f"/api/leaderboards/{name}/around-me").json() == {
        "board": name, "ranking": page["ranking"], "me": None, "items": []}
    assert Client(server).get(f"/api/leaderboards/{name}/around-me").status_code == 401


def test_period_boards_and_bad_names(server: Server, admin: Client, board) -> None:
    category, _ = board
    member = server.client().register()
    threads(member, category, 2)
    for period in ("all-time", "week", "month"):
        eventually(lambda period=period: (member.get(
            f"/api/leaderboards/{period}/members/{member.member['id']}").json()["me"] or {}
        ).get("score") == 20)
    week = member.get("/api/leaderboards/week?limit=1").json()["board"]
    assert week.startswith("week:") and "-W" in week
    for bad in ("forever", "category:abc", "week:2026", "'; DROP TABLE x"):
        response = member.get(f"/api/leaderboards/{bad}")
        assert response.status_code in (404, 422), (bad, response.status_code)


def test_staff_and_excluded_members_are_left_out(server: Server, admin: Client, board) -> None:
    category, name = board
    member, later_mod = server.client().register(), server.client().register()
    threads(member, category, 1)
    threads(later_mod, category, 2)
    eventually(lambda: ranking(member, name) == [
        (later_mod.member["handle"], 1, 20), (member.member["handle"], 2, 10)])
    admin.put(f"/api/members/{later_mod.member['id']}/role", {"role": "moderator"})
    eventually(lambda: ranking(member, name) == [(member.member["handle"], 1, 10)])
    threads(later_mod, category, 1)
    admin.put(f"/api/members/{later_mod.member['id']}/role", {"role": "member"})
    eventually(lambda: ranking(member, name) == [
        (later_mod.member["handle"], 1, 30), (member.member["handle"], 2, 10)])

    assert member.put(f"/api/leaderboards/exclusions/{later_mod.member['id']}").status_code == 403
    assert admin.put(f"/api/leaderboards/exclusions/{later_mod.member['id']}").status_code == 204
    assert [h for h, _, _ in ranking(member, name)] == [member.member["handle"]]
    assert admin.delete(f"/api/leaderboards/exclusions/{later_mod.member['id']}").status_code == 204
    assert ranking(member, name)[0] == (later_mod.member["handle"], 1, 30)


def test_admins_list_the_members_kept_off_the_boards(admin: Client, member: Client,
                                                    other: Client) -> None:
    def listed() -> list[int]:
        response = admin.get("/api/leaderboards/exclusions")
        assert response.status_code == 200, response.text
        return [e["member_id"] for e in response.json()]

    assert admin.put(f"/api/leaderboards/exclusions/{member.member['id']}").status_code == 204
    assert admin.put(f"/api/leaderboards/exclusions/{other.member['id']}").status_code == 204
    shown = admin.get("/api/leaderboards/exclusions").json()
    assert [e["handle"] for e in shown[:2]] == [other.member["handle"], member.member["handle"]]
    assert admin.delete(f"/api/leaderboards/exclusions/{other.member['id']}").status_code == 204
    assert other.member["id"] not in listed() and member.member["id"] in listed()
    assert member.get("/api/leaderboards/exclusions").status_code == 403
    admin.delete(f"/api/leaderboards/exclusions/{member.member['id']}")


def test_boards_rebuild_from_the_ledger_to_the_same_result(stack: Stack, server: Server,
                                                          admin: Client, board) -> None:
    category, name = board
    players = [server.client().register() for _ in range(3)]
    for count, player in enumerate(players, start=1):
        threads(player, category, count)
    eventually(lambda: [score for _, _, score in ranking(admin, name)] == [30, 20, 10])
    before = {n: ranking(admin, n) for n in (name, "all-time", "week", "month")}

    wipe_boards(stack)
    assert "rebuilt" in stack.run("leaderboards-rebuild").stdout
    assert {n: ranking(admin, n) for n in before} == before
    threads(players[0], category, 1)
    eventually(lambda: {h: (rank, score) for h, rank, score in ranking(admin, name)} == {
        players[2].member["handle"]: (1, 30), players[1].member["handle"]: (2, 20),
        players[0].member["handle"]: (2, 20)})


def test_rank_changes_are_pushed_live(server: Server, admin: Client, board) -> None:
    category, name = board
    player = server.client().register()
    socket = player.websocket()

    def pushed(*standings: tuple[Client, int]) -> dict:
        """The first push showing exactly these members with these scores, in this order."""
        expected = [(client.member["id"], score) for client, score in standings]
        return socket.wait_for(lambda f: f.get("event") == "leaderboard.changed" and [
            (i["member"]["id"], i["score"]) for i in f["data"]["items"]] == expected)

    try:
        assert socket.subscribe(f"leaderboard:{name}")["type"] == "subscribed"
        threads(player, category, 1)
        pushed((player, 10))
        # A change inside the throttle's second is not lost: it is pushed when the second ends.
        rival = server.client().register()
        threads(rival, category, 2)
        frame = pushed((rival, 20), (player, 10))
        assert [i["rank"] for i in frame["data"]["items"]] == [1, 2]
    finally:
        socket.close()


def test_season_boards_count_points_earned_inside_the_season(stack: Stack, admin: Client,
                                                             member: Client, board) -> None:
    category, _ = board
    threads(member, category, 1)
    eventually(lambda: member.get("/api/me/points").json()["balance"] == 10)
    now = stack.now()
    current = admin.post("/api/leaderboards/seasons", {
        "name": "Winter", "starts_at": (now - dt.timedelta(days=1)).isoformat(),
        "ends_at": (now + dt.timedelta(days=30)).isoformat()})
    assert current.status_code == 201, current.text
    past = admin.post("/api/leaderboards/seasons", {
        "name": "Summer", "starts_at": (now - dt.timedelta(days=200)).isoformat(),
        "ends_at": (now - dt.timedelta(days=100)).isoformat()}).json()
    season_board = current.json()["board"]
    assert season_board in [s["board"] for s in member.get("/api/leaderboards/seasons").json()]

    def score_on(name: str) -> int | None:
        me = member.get(f"/api/leaderboards/{name}/members/{member.member['id']}").json()["me"]
        return me["score"] if me else None

    eventually(lambda: score_on(season_board) == 10)
    threads(member, category, 1)
    eventually(lambda: score_on(season_board) == 20)
    assert score_on(past["board"]) is None
    assert member.post("/api/leaderboards/seasons", {"name": "Mine", "starts_at": now.isoformat(),
                                                     "ends_at": now.isoformat()}).status_code == 403
    backwards = admin.post("/api/leaderboards/seasons", {"name": "Backwards", "starts_at": now.isoformat(),
                                                         "ends_at": (now - dt.timedelta(days=1)).isoformat()})
    assert backwards.status_code == 422


def adjust(admin: Client, member: Client, amount: int) -> dict:
    response = admin.post("/api/gamification/adjustments", {
        "member_id": member.member["id"], "amount": amount, "reason": "board test",
        "idempotency_key": "lb-" + uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return response.json()


def score_on(client: Client, name: str, member: Client) -> int | None:
    me = client.get(f"/api/leaderboards/{name}/members/{member.member['id']}").json()["me"]
    return me["score"] if me else None


def earned_last_week(stack: Stack, admin: Client, member: Client,
                     amount: int) -> tuple[dict, list[str]]:
    """Points earned, then eight days pass (the stack's clock moves): returns the transaction
    and the names of the week's and month's boards it was earned on."""
    earned = adjust(admin, member, amount)
    eventually(lambda: score_on(admin, "all-time", member) == amount)
    when = dt.datetime.fromisoformat(earned["created_at"]).astimezone(dt.UTC)
    stack.advance(days=8)
    year, week, _ = when.isocalendar()
    return earned, [f"week:{year}-W{week:02d}", f"month:{when.year}-{when.month:02d}"]


def shown(client: Client, names: list[str], members: list[Client]) -> dict[str, Any]:
    """What members see of these boards: the top, and each member's place with neighbours."""
    return {name: (ok(client.get(f"/api/leaderboards/{name}?limit=100"))["items"],
                   [ok(client.get(f"/api/leaderboards/{name}/members/{m.member['id']}?n=3"))
                    for m in members])
            for name in names}


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reversal_comes_off_the_boards_its_award_was_on(stack: Stack, admin: Client,
                                                          member: Client) -> None:
    earned, then = earned_last_week(stack, admin, member, 10)
    last_week = then[0]
    assert score_on(admin, last_week, member) == 10 and score_on(admin, "week", member) is None
    adjust(admin, member, 5)
    eventually(lambda: score_on(admin, "all-time", member) == 15)

    # Last week's post is deleted today: last week's board loses it, this week's keeps its 5.
    response = admin.post(f"/api/gamification/transactions/{earned['id']}/reverse",
                          {"reason": "post deleted"})
    assert response.status_code == 201, response.text
    eventually(lambda: score_on(admin, "all-time", member) == 5)
    assert score_on(admin, "week", member) == 5
    assert score_on(admin, last_week, member) is None
    adjust(admin, member, 2)
    eventually(lambda: score_on(admin, "all-time", member) == 7)
    assert score_on(admin, "week", member) == 7

    names = ["all-time", "week", "month", *then]
    before = shown(admin, names, [member])
    assert "rebuilt" in stack.run("leaderboards-rebuild").stdout
    assert shown(admin, names, [member]) == before


def test_a_deduction_leaves_every_board_where_it_was(stack: Stack, admin: Client, member: Client,
                                                     other: Client) -> None:
    _, then = earned_last_week(stack, admin, member, 10)
    adjust(admin, other, 1)
    eventually(lambda: score_on(admin, "week", other) == 1)
    # An admin takes the ten away this week: the balance falls, what was earned does not.
    adjust(admin, member, -10)
    adjust(admin, member, 4)
    # The four come after the deduction: once they show, the deduction was handled too.
    eventually(lambda: score_on(admin, "all-time", member) == 14)
    assert score_on(admin, "week", member) == 4
    assert member.get("/api/me/points").json()["balance"] == 4

    names = ["all-time", "week", "month", *then]
    before = shown(admin, names, [member, other])
    assert "rebuilt" in stack.run("leaderboards-rebuild").stdout
    assert shown(admin, names, [member, other]) == before


@pytest.mark.parametrize("bad", [
    "month:2026-13", "month:2026-00", "week:2026-W00", "week:2025-W53", "week:2026-W54",
    "season:\u0663", "category:\u0661\u0662", "week:\uff12\uff10\uff12\uff16-W01", "season:0",
    "category:99999999999999999999", "category:-1", "all-time:1",
])
def test_invalid_board_names_are_refused_with_422(member: Client, bad: str) -> None:
    for path in (f"/api/leaderboards/{bad}", f"/api/leaderboards/{bad}/around-me",
                 f"/api/leaderboards/{bad}/members/{member.member['id']}"):
        response = member.get(path)
        assert response.status_code == 422, (path, response.status_code, response.text)
        assert bad in response.json()["error"]["message"]


def test_valid_board_names_that_look_odd_are_read(member: Client) -> None:
    # Years that start on a Thursday (2026), or leap years on a Wednesday (2020), have 53 weeks.
    for name in ("week:2020-W53", "week:2026-W53", "week:2026-W01", "month:2026-12",
                 "season:1", "all-time"):
        response = member.get(f"/api/leaderboards/{name}")
        assert response.status_code == 200, (name, response.text)
        assert response.json()["board"] == name


def test_a_members_only_category_board_follows_the_category(server: Server, admin: Client,
                                                            board) -> None:
    category, name = board
    earner = server.client().register()
    threads(earner, category, 1)
    eventually(lambda: ranking(earner, name) == [(earner.member["handle"], 1, 10)])
    anon = Client(server)
    # Read (and so cached) by an anonymous reader just before it turns members-only.
    assert ranking(anon, name) == [(earner.member["handle"], 1, 10)]
    assert admin.patch(f"/api/categories/{category['id']}",
                       {"visibility": "members"}).status_code == 200
    forum = anon.get(f"/api/categories/{category['id']}/threads")
    for path in (f"/api/leaderboards/{name}",
                 f"/api/leaderboards/{name}/members/{earner.member['id']}"):
        refused = anon.get(path)
        assert refused.status_code == forum.status_code == 403, refused.text
    assert anon.get("/api/leaderboards/category:999999999").status_code == 404
    socket = anon.websocket()
    try:
        assert socket.subscribe(f"leaderboard:{name}")["code"] == "forbidden"
        assert socket.subscribe("leaderboard:all-time")["type"] == "subscribed"
    finally:
        socket.close()
    # Whoever may read the category reads its board, over HTTP and live.
    reader = server.client().register()
    assert ranking(reader, name) == [(earner.member["handle"], 1, 10)]
    socket = reader.websocket()
    try:
        assert socket.subscribe(f"leaderboard:{name}")["type"] == "subscribed"
    finally:
        socket.close()


def test_a_live_category_board_ends_when_the_category_turns_members_only(
        stack: Stack, admin: Client, board) -> None:
    category, name = board
    fast = stack.start_server(env={"HEARTH_REALTIME_REAUTH_SECONDS": "0.5"})
    socket = Client(fast).websocket()
    try:
        assert socket.subscribe(f"leaderboard:{name}")["type"] == "subscribed"
        admin.patch(f"/api/categories/{category['id']}", {"visibility": "members"})
        ended = socket.wait_for(lambda f: f["type"] == "error" and f.get("channel") == f"leaderboard:{name}")
        assert ended["code"] == "forbidden"
    finally:
        socket.close()
        fast.process.stop()


def test_a_lost_store_is_read_from_the_ledger_and_heals_by_itself(
        stack: Stack, server: Server, admin: Client, board) -> None:
    category, name = board
    players = [server.client().register() for _ in range(3)]
    for count, player in enumerate(players, start=1):
        threads(player, category, count)
    eventually(lambda: [score for _, _, score in ranking(admin, name)] == [30, 20, 10])
    names = [name, "all-time", "week", "month"]
    before = shown(admin, names, players)

    wipe_boards(stack)
    # At once, with nobody having run anything: the same boards, ranks and neighbours.
    assert shown(admin, names, players) == before
    # Earned while the store is cold or being rebuilt: on the rebuilt board too.
    threads(players[0], category, 3)
    expected = [(players[0], 40), (players[2], 30), (players[1], 20)]
    eventually(lambda: stored_board(stack, name) == [(p.member["id"], s) for p, s in expected])
    # Top pages are cached for up to TOP_CACHE_SECONDS where another process (a Celery
    # worker) changed the store.
    eventually(lambda: [(h, rank, s) for h, rank, s in ranking(admin, name)] == [
        (p.member["handle"], rank, s) for rank, (p, s) in enumerate(expected, start=1)])
    eventually(lambda: (stored_board(stack, "all-time") or [])[:100] == [
        (i["member"]["id"], i["score"]) for i in admin.get(
            "/api/leaderboards/all-time?limit=100").json()["items"]])


def test_the_last_periods_python_dates_reach_are_read_while_the_store_is_lost(
        stack: Stack, member: Client) -> None:
    wipe_boards(stack)
    for name in ("week:9999-W52", "month:9999-12"):
        response = member.get(f"/api/leaderboards/{name}")
        assert response.status_code == 200, (name, response.text)
        assert response.json()["items"] == []


@pytest.mark.scaled_only
def test_boards_are_read_from_the_ledger_while_redis_is_down(tmp_path: Path) -> None:
    with private_redis(tmp_path) as redis:
        stack = private_stack(tmp_path / "stack", redis=redis)
        try:
            stack.start_worker()
            server = stack.start_server()
            admin = signed_in_admin(server, stack)
            first, second = server.client().register(), server.client().register()
            adjust(admin, first, 30)
            adjust(admin, second, 20)
            eventually(lambda: stored_board(stack, "all-time") == [
                (first.member["id"], 30), (second.member["id"], 20)])
            anon = Client(server)
            before = shown(anon, ["all-time", "week", "month"], [first, second])

            redis.kill()
            # Everything else that needs Redis may answer 503; the boards still answer.
            assert shown(anon, ["all-time", "week", "month"], [first, second]) == before
            assert [(i["member"]["id"], i["rank"], i["score"]) for i in before["all-time"][0]] == [
                (first.member["id"], 1, 30), (second.member["id"], 2, 20)]
        finally:
            drop_stack(stack)


def test_a_cached_top_page_shows_another_processs_change_within_its_bound(
        stack: Stack, server: Server, board) -> None:
    """Each process keeps a board's top page for TOP_CACHE_SECONDS: what another process
    (here another server; in scaled mode a Celery worker) changes shows there within it."""
    category, name = board
    second = stack.start_server()
    try:
        reader = Client(second)
        player = server.client().register()
        threads(player, category, 1)
        eventually(lambda: ranking(reader, name) == [(player.member["handle"], 1, 10)])
        # The shape a client sees, unchanged by the cache.
        assert reader.get(f"/api/leaderboards/{name}?limit=3").json() == {
            "board": name, "ranking": ok(reader.get(f"/api/leaderboards/{name}"))["ranking"],
            "items": [{"rank": 1, "score": 10, "member": {
                "id": player.member["id"], "handle": player.member["handle"],
                "display_name": player.member["display_name"]}}]}

        rival = server.client().register()
        threads(rival, category, 2)
        # Neighbourhoods are never cached: once the second server's store shows the rival's
        # 20 points, its top page follows within the bound (plus slack for a loaded machine).
        eventually(lambda: (ok(reader.get(
            f"/api/leaderboards/{name}/members/{rival.member['id']}?n=0"))["me"] or {}
        ).get("score") == 20)
        eventually(lambda: ranking(reader, name) == [
            (rival.member["handle"], 1, 20), (player.member["handle"], 2, 10)],
            timeout=TOP_CACHE_SECONDS + 2)
    finally:
        second.process.stop()


def test_around_me_is_the_readers_own_while_the_top_page_is_cached(server: Server,
                                                                  board) -> None:
    category, name = board
    first, second, unranked = (server.client().register() for _ in range(3))
    threads(first, category, 2)
    threads(second, category, 1)
    eventually(lambda: ranking(unranked, name) == [
        (first.member["handle"], 1, 20), (second.member["handle"], 2, 10)])
    for client, rank, score in ((second, 2, 10), (first, 1, 20), (second, 2, 10)):
        page = ok(client.get(f"/api/leaderboards/{name}/around-me?n=0"))
        assert page["me"] == {"rank": rank, "score": score, "member": {
            "id": client.member["id"], "handle": client.member["handle"],
            "display_name": client.member["display_name"]}}
        assert page["items"] == [page["me"]]
    assert ok(unranked.get(f"/api/leaderboards/{name}/around-me?n=1"))["me"] is None
