"""Names and titles refuse control and invisible formatting characters (bidirectional
overrides, zero-width spaces...), with a 422 that names the field."""

import uuid

import pytest

from tests.harness import Client

BAD = ["evil\u202egnp.exe", "a\u2066b\u2069", "zero\u200bwidth", "mark\u200f", "bell\x07",
       "tab\tin", "line\u2028break", "bom\ufeff"]


def _refused(response, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in error["message"] and "U+" in error["message"]


@pytest.mark.parametrize("bad", BAD)
def test_display_names_and_thread_titles(member: Client, anon: Client, category: dict,
                                         bad: str) -> None:
    _refused(member.patch("/api/me", {"display_name": bad}), "display_name")
    handle = "p" + uuid.uuid4().hex[:8]
    _refused(anon.post("/api/register", {"handle": handle, "email": f"{handle}@example.test",
                                         "password": "long enough pass", "display_name": bad}),
             "display_name")
    _refused(member.post(f"/api/categories/{category['id']}/threads",
                         {"title": "Title " + bad, "body": "fine body"}), "title")


def test_handles_refuse_them_too(anon: Client) -> None:
    handle = "h" + uuid.uuid4().hex[:6]
    response = anon.post("/api/register", {"handle": handle + "\u202e", "password": "long enough pass",
                                           "email": f"{handle}@example.test"})
    assert response.status_code in (400, 422) and "handle" in response.text


def test_renaming_a_thread(member: Client, category: dict) -> None:
    thread = member.post(f"/api/categories/{category['id']}/threads",
                         {"title": "A plain title", "body": "x"}).json()["thread"]
    _refused(member.patch(f"/api/threads/{thread['id']}", {"title": "A \u202eplain title"}), "title")
    renamed = member.patch(f"/api/threads/{thread['id']}", {"title": "Ünïcödé تحية 你好 👋"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Ünïcödé تحية 你好 👋"


def test_staff_names(admin: Client) -> None:
    slug = "pt-" + uuid.uuid4().hex[:6]
    _refused(admin.post("/api/categories", {"name": "Cat\u202e", "slug": slug}), "name")
    category = admin.post("/api/categories", {"name": "Cat", "slug": slug}).json()
    _refused(admin.patch(f"/api/categories/{category['id']}", {"name": "Cat\u200b"}), "name")
    _refused(admin.post("/api/gamification/rules", {
        "name": "Rule\u202e", "event_types": ["thread.created"], "points": 1}), "name")
    _refused(admin.post("/api/gamification/badges", {
        "slug": "b-" + uuid.uuid4().hex[:6], "name": "Badge\u2066",
        "criteria": {"type": "manual"}}), "name")
    _refused(admin.post("/api/leaderboards/seasons", {
        "name": "Season\u202e", "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2026-02-01T00:00:00Z"}), "name")
    brand = admin.post("/api/brands", {"name": "PT", "slug": "pt-" + uuid.uuid4().hex[:6]}).json()["id"]
    challenge = {"brand_id": brand, "title": "Challenge\u202e", "starts_at": "2030-01-01T00:00:00Z",
                 "ends_at": "2030-02-01T00:00:00Z",
                 "tasks": [{"name": "Post", "event_types": ["thread.created"], "target": 1}]}
    _refused(admin.post("/api/challenges", challenge), "title")
    challenge["title"] = "Challenge"
    challenge["tasks"][0]["name"] = "Post\u200b"  # type: ignore[index]
    _refused(admin.post("/api/challenges", challenge), "name")
