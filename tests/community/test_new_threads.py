"""A category's live channel announces each new thread, so that a thread list can count
arrivals ("3 new threads") and fetch them; only readers of the category may follow it."""

import uuid

from tests.community.support import new_thread
from tests.harness import Client


def test_a_new_thread_is_announced_on_its_category_channel(anon: Client, member: Client,
                                                          category: dict) -> None:
    channel = f"category:{category['id']}"
    socket = anon.websocket()
    try:
        assert socket.subscribe(channel)["type"] == "subscribed"
        created = [new_thread(member, category["id"], f"Arrival {i}")["thread"]["id"]
                   for i in range(2)]
        socket.wait_for(lambda f: f.get("channel") == channel and f.get("event") == "thread.created"
                        and f["data"]["thread_id"] == created[1])
    finally:
        socket.close()
    assert [m["data"] for m in socket.messages(channel)] == [
        {"thread_id": t, "category_id": category["id"], "author_id": member.member["id"]}
        for t in created]


def test_only_readers_follow_a_members_only_category(admin: Client, anon: Client,
                                                     member: Client) -> None:
    lounge = admin.post("/api/categories", {"name": "Lounge", "slug": "l-" + uuid.uuid4().hex[:6],
                                            "visibility": "members"}).json()
    channel = f"category:{lounge['id']}"
    outsider = anon.websocket()
    insider = member.websocket()
    try:
        refused = outsider.subscribe(channel)
        assert refused["type"] == "error" and refused["code"] == "forbidden"
        assert insider.subscribe(channel)["type"] == "subscribed"
        thread_id = new_thread(member, lounge["id"], "Members only")["thread"]["id"]
        insider.wait_for(lambda f: f.get("event") == "thread.created"
                         and f["data"]["thread_id"] == thread_id)
        missing = insider.subscribe("category:999999999")
        assert missing["type"] == "error"
    finally:
        outsider.close()
        insider.close()
