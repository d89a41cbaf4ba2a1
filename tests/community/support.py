"""What the watching, mention and bookmark tests share: posting, reading one's
notifications, and waiting until the notifying handler has seen a post."""

from __future__ import annotations

from typing import Any

from tests.harness import Client, Stack, eventually


def new_thread(client: Client, category_id: int, title: str = "Espresso tips",
               body: str = "first post") -> dict[str, Any]:
    response = client.post(f"/api/categories/{category_id}/threads", {"title": title, "body": body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def reply(client: Client, thread_id: int, body: str = "a reply",
          reply_to: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": body}
    if reply_to is not None:
        payload["reply_to_post_id"] = reply_to
    response = client.post(f"/api/threads/{thread_id}/posts", payload)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def about(client: Client, post_id: int) -> list[dict[str, Any]]:
    """The client's notifications about this post, newest first."""
    items = client.get("/api/notifications?limit=100").json()["items"]
    return [n for n in items if n["data"].get("post_id") == post_id]


def kinds_about(client: Client, post_id: int) -> list[str]:
    return [n["kind"] for n in about(client, post_id)]


def told(client: Client, post_id: int, kind: str) -> dict[str, Any]:
    """Wait for the client's notification of this kind about this post."""
    return eventually(lambda: next((n for n in about(client, post_id) if n["kind"] == kind), None))


def notified_of(stack: Stack, post_id: int, event_type: str = "post.created",
                revision: int | None = None) -> None:
    """Wait until the notifying handler has handled the post's event (for its edit, the
    given revision's): whoever it tells has been told by then."""
    match = f'%"post_id":{int(post_id)},%'
    if revision is not None:
        match += f'"revision":{int(revision)}%'
    statement = ("SELECT COUNT(*) FROM handler_receipt h JOIN outbox_event e ON e.id = h.event_id "
                 f"WHERE h.handler = 'forums.notify' AND e.type = '{event_type}' "
                 f"AND e.payload LIKE '{match}'")
    eventually(lambda: int(stack.sql(statement)[0][0]) == 1 or None)
