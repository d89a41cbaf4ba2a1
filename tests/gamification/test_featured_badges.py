"""Featured badges: a member picks up to three badges they hold to show first on their
profile."""

import uuid

from tests.harness import Client


def manual_badge(admin: Client, name: str) -> int:
    response = admin.post("/api/gamification/badges", {
        "slug": "feat-" + uuid.uuid4().hex[:8], "name": name, "criteria": {"type": "manual"}})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def grant(admin: Client, badge_id: int, member: Client) -> int:
    response = admin.post(f"/api/gamification/badges/{badge_id}/grants",
                          {"member_id": member.member["id"], "reason": "for the test"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def shown(viewer: Client, member: Client) -> list[tuple[str, bool]]:
    response = viewer.get(f"/api/members/{member.member['id']}/badges")
    assert response.status_code == 200, response.text
    return [(e["badge"]["name"], e["featured"]) for e in response.json()]


def test_featured_badges_lead_the_profile_in_the_chosen_order(
        admin: Client, member: Client, anon: Client) -> None:
    ids = {name: manual_badge(admin, name) for name in ("Alpha", "Beta", "Gamma", "Delta")}
    for badge_id in ids.values():
        grant(admin, badge_id, member)
    assert shown(anon, member) == [("Alpha", False), ("Beta", False), ("Gamma", False),
                                   ("Delta", False)]

    chosen = member.put("/api/me/badges/featured", {"badge_ids": [ids["Gamma"], ids["Alpha"]]})
    assert chosen.status_code == 200, chosen.text
    expected = [("Gamma", True), ("Alpha", True), ("Beta", False), ("Delta", False)]
    assert [(e["badge"]["name"], e["featured"]) for e in chosen.json()] == expected
    assert shown(anon, member) == expected
    # The member's own page agrees.
    mine = member.get("/api/me/badges").json()["earned"]
    assert [(e["badge"]["name"], e["featured"]) for e in mine] == expected

    three = [ids["Delta"], ids["Beta"], ids["Gamma"]]
    assert member.put("/api/me/badges/featured", {"badge_ids": three}).status_code == 200
    assert shown(anon, member)[:3] == [("Delta", True), ("Beta", True), ("Gamma", True)]
    assert member.put("/api/me/badges/featured", {"badge_ids": []}).status_code == 200
    assert all(not featured for _, featured in shown(anon, member))


def test_featuring_is_refused_for_too_many_duplicates_or_badges_not_held(
        admin: Client, member: Client, other: Client, anon: Client) -> None:
    mine = [manual_badge(admin, f"Mine {i}") for i in range(4)]
    for badge_id in mine:
        grant(admin, badge_id, member)
    theirs = manual_badge(admin, "Theirs")
    grant(admin, theirs, other)
    assert member.put("/api/me/badges/featured", {"badge_ids": [mine[0]]}).status_code == 200
    before = shown(anon, member)

    for ids, words in [(mine, "at most 3"), ([mine[1], mine[1]], "twice"),
                       ([mine[1], theirs], f"badge {theirs}"),
                       ([987_654_321], "badge 987654321")]:
        response = member.put("/api/me/badges/featured", {"badge_ids": ids})
        assert response.status_code == 422, (ids, response.text)
        assert words in response.json()["error"]["message"], (ids, response.text)
    assert member.put("/api/me/badges/featured", {"badge_ids": [0]}).status_code == 400
    assert member.put("/api/me/badges/featured", {}).status_code == 400
    # Nothing refused was half written.
    assert shown(anon, member) == before
    assert anon.put("/api/me/badges/featured", {"badge_ids": []}).status_code == 401


def test_a_revoked_badge_drops_out_of_the_featured_ones(admin: Client, member: Client,
                                                         anon: Client) -> None:
    kept, taken = manual_badge(admin, "Kept"), manual_badge(admin, "Taken")
    grant(admin, kept, member)
    grant_id = grant(admin, taken, member)
    assert member.put("/api/me/badges/featured", {"badge_ids": [taken, kept]}).status_code == 200
    assert shown(anon, member) == [("Taken", True), ("Kept", True)]
    revoked = admin.post(f"/api/gamification/badges/{taken}/grants/{grant_id}/revoke",
                         {"reason": "granted by mistake"})
    assert revoked.status_code == 200, revoked.text
    assert shown(anon, member) == [("Kept", True)]
    # Earned again, it waits to be chosen again.
    grant(admin, taken, member)
    assert shown(anon, member) == [("Kept", True), ("Taken", False)]
