"""Public profiles at #/u/<handle>: the kernel's part (who the member is), and members
editing their own."""

import uuid

from tests.harness import Client, Server, Stack


def test_profile_by_handle_ignores_case_and_shows_no_private_fields(
        member: Client, anon: Client) -> None:
    assert member.patch("/api/me", {"display_name": "Trinity", "bio": "Line one\nline two"}
                        ).status_code == 200
    for asked in (member.member["handle"], member.member["handle"].upper()):
        response = anon.get(f"/api/profiles/{asked}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == member.member["id"]
        assert body["handle"] == member.member["handle"]
        assert body["display_name"] == "Trinity"
        assert body["bio"] == "Line one\nline two"
        assert body["role"] == "member"
        assert body["created_at"]
        assert body["hidden"] is False
        assert set(body) == {"id", "handle", "display_name", "bio", "role", "created_at",
                             "hidden"}


def test_unknown_and_suspended_members_have_no_profile(
        server: Server, anon: Client, stack: Stack) -> None:
    for handle in ("nobody_" + uuid.uuid4().hex[:8], "not a handle", "x" * 300):
        response = anon.get(f"/api/profiles/{handle}")
        assert response.status_code == 404, (handle, response.text)
        assert response.json()["error"]["code"] == "not_found"
    suspended = server.client().register()
    assert anon.get(f"/api/profiles/{suspended.member['handle']}").status_code == 200
    stack.sql(f"UPDATE member SET is_active = false WHERE id = {int(suspended.member['id'])}")
    assert anon.get(f"/api/profiles/{suspended.member['handle']}").status_code == 404


def test_members_edit_only_their_own_profile(member: Client, other: Client, anon: Client) -> None:
    changed = member.patch("/api/me", {"display_name": "  Morpheus  ", "bio": "  Captain.\r\n"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["display_name"] == "Morpheus"
    assert changed.json()["bio"] == "Captain."
    # Changing one field leaves the other.
    assert member.patch("/api/me", {"bio": "Free your mind"}).json()["display_name"] == "Morpheus"
    seen = other.get(f"/api/profiles/{member.member['handle']}").json()
    assert (seen["display_name"], seen["bio"]) == ("Morpheus", "Free your mind")
    # There is no way to write someone else's: /api/me is whoever is signed in.
    assert anon.patch("/api/me", {"bio": "hacked"}).status_code == 401
    assert other.get(f"/api/profiles/{member.member['handle']}").json()["bio"] == "Free your mind"


def test_profile_text_is_bounded_plain_text(member: Client) -> None:
    handle = member.member["handle"]
    before = member.get(f"/api/profiles/{handle}").json()
    refused = [
        ({"bio": "x" * 2001}, 400, "bio"),
        ({"display_name": "x" * 81}, 400, "display_name"),
        ({"display_name": ""}, 400, "display_name"),
        ({"bio": "bell\x07"}, 422, "bio"),
        ({"bio": "lone\rreturn"}, 422, "bio"),
        ({"bio": "flip \u202eevil"}, 422, "bio"),
        ({"display_name": "two\nlines"}, 422, "display_name"),
        ({"display_name": "zero\u200bwidth"}, 422, "display_name"),
        ({"handle": "newhandle"}, 400, "handle"),
    ]
    for body, status, field in refused:
        response = member.patch("/api/me", body)
        assert response.status_code == status, (body, response.text)
        assert field in response.json()["error"]["message"], (body, response.text)
    assert member.get(f"/api/profiles/{handle}").json() == before
    # Markup is kept as the text it is: the profile never renders it.
    shown = member.patch("/api/me", {"bio": "<b>bold</b> & **not**"}).json()["bio"]
    assert shown == "<b>bold</b> & **not**"
