from tests.harness import Stack, eventually


def test_seed_demo_loads_once_and_its_logins_work(stack: Stack) -> None:
    first = stack.run("seed-demo", env={"HEARTH_DEMO_PASSWORD": "demo password 1"})
    assert "Demo logins (shown once)" in first.stdout
    for handle in ("admin", "mod", "staff", "alice"):
        assert handle in first.stdout
    again = stack.run("seed-demo")
    assert "already present" in again.stdout

    server = stack.start_server()
    try:
        alice = server.client()
        assert alice.login("alice", "demo password 1").status_code == 200
        categories = alice.get("/api/categories").json()
        assert {"Announcements", "Brewing", "Members' Lounge"} <= {c["name"] for c in categories}
        anon_names = {c["name"] for c in server.client().get("/api/categories").json()}
        assert "Members' Lounge" not in anon_names
        brewing = next(c for c in categories if c["slug"] == "brewing")
        threads = alice.get(f"/api/categories/{brewing['id']}/threads").json()["items"]
        assert threads and all(t["post_count"] >= 2 for t in threads)
        admin = server.client()
        admin.login("admin", "demo password 1")
        assert admin.get("/api/me").json()["member"]["role"] == "admin"

        # The demo's challenge runs, and the demo threads and replies count toward it.
        winter = next(c for c in alice.get("/api/challenges").json()
                      if c["title"] == "Winter brew-off")
        assert winter["status"] == "active" and winter["reward_points"] == 150
        # Completed and its reward paid (not pending on the brand's budget).
        eventually(lambda: (lambda me: me["completed_at"] is not None and not me["reward_pending"])(
            alice.get(f"/api/challenges/{winter['id']}/me").json()))
        assert alice.get("/api/me/points").json()["balance"] >= 150
        board = alice.get(f"/api/challenges/{winter['id']}/leaderboard").json()
        assert "alice" in [s["handle"] for s in board]
        badges = {b["badge"]["name"] for b in alice.get("/api/me/badges").json()["earned"]}
        assert {"Home barista", "Winter brew-off"} <= badges
    finally:
        server.process.stop()
