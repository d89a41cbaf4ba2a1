"""@mentions: a handle in a post's running text links to the profile and tells the member,
once per post; code, links, muted threads and one's own handle tell nobody."""

from tests.community.support import kinds_about, new_thread, notified_of, reply, told
from tests.harness import Client, Server, Stack


def test_a_mention_links_to_the_profile_and_notifies_once(
        stack: Stack, member: Client, other: Client, category: dict) -> None:
    handle = other.member["handle"]
    thread_id = new_thread(member, category["id"], "Grinders")["thread"]["id"]
    post = reply(member, thread_id, f"What do you think, @{handle}? Not `@{handle}` in code.")
    assert (f'<a href="#/u/{handle}" rel="nofollow ugc noopener">@{handle}</a>' in post["html"])
    assert f"<code>@{handle}</code>" in post["html"]
    note = told(other, post["id"], "mention")
    assert note["text"] == f"@{member.member['handle']} mentioned you in 'Grinders'"
    assert note["data"]["thread_id"] == thread_id and note["data"]["post_id"] == post["id"]
    assert kinds_about(other, post["id"]) == ["mention"]

    # Handles match whatever their case; one's own mention tells nobody.
    loud = reply(member, thread_id, f"@{handle.upper()} and @{member.member['handle']}")
    told(other, loud["id"], "mention")
    assert kinds_about(member, loud["id"]) == []


def test_code_links_and_unknown_handles_mention_nobody(
        stack: Stack, member: Client, other: Client, category: dict) -> None:
    handle = other.member["handle"]
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    body = (f"```\n@{handle}\n```\n\n    @{handle}\n\n[see @{handle}](https://example.com) "
            f"mail me at me@{handle}.com, @nobody_by_that_name")
    post = reply(member, thread_id, body)
    assert "#/u/" + handle not in post["html"]
    notified_of(stack, post["id"])
    assert kinds_about(other, post["id"]) == []


def test_a_reply_that_mentions_too_is_one_notification(
        member: Client, other: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    theirs = reply(other, thread_id, "question")
    answer = reply(member, thread_id, f"@{other.member['handle']} yes", reply_to=theirs["id"])
    told(other, answer["id"], "reply")
    assert kinds_about(other, answer["id"]) == ["reply"]


def test_an_edit_tells_only_the_newly_mentioned(
        stack: Stack, server: Server, member: Client, other: Client, category: dict) -> None:
    third = server.client().register()
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    post = reply(member, thread_id, f"cc @{other.member['handle']}")
    told(other, post["id"], "mention")
    edited = member.patch(f"/api/posts/{post['id']}",
                          {"body": f"cc @{other.member['handle']} @{third.member['handle']}"})
    assert edited.status_code == 200, edited.text
    told(third, post["id"], "mention")
    notified_of(stack, post["id"], "post.edited", revision=2)
    assert kinds_about(other, post["id"]) == ["mention"]
    # Dropped and mentioned again: they were told of this post already.
    member.patch(f"/api/posts/{post['id']}", {"body": "never mind"})
    member.patch(f"/api/posts/{post['id']}", {"body": f"cc @{other.member['handle']} again"})
    notified_of(stack, post["id"], "post.edited", revision=4)
    assert kinds_about(other, post["id"]) == ["mention"]


def test_a_post_tells_at_most_ten_members(
        stack: Stack, server: Server, member: Client, category: dict) -> None:
    members = [server.client().register() for _ in range(11)]
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    post = reply(member, thread_id, " ".join(f"@{m.member['handle']}" for m in members))
    assert post["html"].count('href="#/u/') == 11
    notified_of(stack, post["id"])
    assert [kinds_about(m, post["id"]) for m in members] == [["mention"]] * 10 + [[]]


def test_a_muted_thread_hears_no_mentions(
        stack: Stack, member: Client, other: Client, category: dict) -> None:
    thread_id = new_thread(member, category["id"])["thread"]["id"]
    assert other.put(f"/api/threads/{thread_id}/watch", {"level": "muted"}).status_code == 200
    post = reply(member, thread_id, f"@{other.member['handle']} are you there?")
    notified_of(stack, post["id"])
    assert kinds_about(other, post["id"]) == []
