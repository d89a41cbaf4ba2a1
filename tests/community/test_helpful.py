"""The helpful reply: its mark shows on the thread page for every reader at once."""

from tests.community.support import new_thread, reply
from tests.harness import Client


def test_the_helpful_reply_shows_on_the_thread_page(member: Client, other: Client, anon: Client,
                                                    category: dict) -> None:
    created = new_thread(member, category["id"], "Which grinder?")
    thread_id = created["thread"]["id"]
    answer = reply(other, thread_id, "> Which grinder?\n\nA flat burr one", reply_to=created["post"]["id"])
    assert answer["html"].startswith("<blockquote>\n<p>Which grinder?</p>\n</blockquote>")
    # Read once, so that the pages are cached before the mark.
    for reader in (member, other, anon):
        assert reader.get(f"/api/threads/{thread_id}").json()["thread"]["helpful_post_id"] is None
    assert member.put(f"/api/posts/{answer['id']}/helpful").status_code == 200
    for reader in (member, other, anon):
        page = reader.get(f"/api/threads/{thread_id}").json()
        assert page["thread"]["helpful_post_id"] == answer["id"]
    assert member.delete(f"/api/posts/{answer['id']}/helpful").status_code == 200
    assert anon.get(f"/api/threads/{thread_id}").json()["thread"]["helpful_post_id"] is None
