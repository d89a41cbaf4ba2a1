from tests.harness import Server, Stack, eventually


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
        rewards = {i["reward"]["title"]: i for i in alice.get("/api/rewards").json()}
        assert rewards["Free espresso"]["reward"]["codes_available"] == 40
        assert rewards["Barista masterclass seat"]["reward"]["fulfilment"] == "webhook"
    finally:
        server.process.stop()


def _logins(output: str) -> dict[str, tuple[str, str]]:
    """handle -> (role, password column) from `hearth demo-logins`."""
    rows = [line.split(maxsplit=2) for line in output.splitlines() if line.startswith("  ")]
    return {handle: (role, password) for role, handle, password in rows}


def test_demo_logins_are_listed_and_reset(stack: Stack, server: Server) -> None:
    fixed = {"HEARTH_DEMO_PASSWORD": "demo password 1"}
    stack.run("seed-demo", env=fixed)

    listed = _logins(stack.run("demo-logins", env=fixed).stdout)
    assert listed["admin"] == ("admin", "demo password 1")
    assert listed["staff"] == ("brand_staff", "demo password 1")
    assert set(listed) == {"admin", "mod", "staff", "alice", "bob", "carol", "dave"}

    hidden = stack.run("demo-logins")
    assert "demo password 1" not in hidden.stdout
    assert _logins(hidden.stdout)["alice"] == ("member", "(password not shown)")
    assert "demo-logins --reset" in hidden.stdout

    fresh = _logins(stack.run("demo-logins", "--reset").stdout)
    assert len({password for _, password in fresh.values()}) == len(fresh), "one password each"
    alice = server.client()
    assert alice.login("alice", "demo password 1").status_code == 401
    assert alice.login("alice", fresh["alice"][1]).status_code == 200
    assert server.client().login("admin", fresh["admin"][1]).status_code == 200

    # With HEARTH_DEMO_PASSWORD set, a reset goes back to it, as seeding would.
    stack.run("demo-logins", "--reset", env=fixed)
    assert server.client().login("alice", "demo password 1").status_code == 200
