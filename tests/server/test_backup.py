"""`hearth backup` and `hearth restore` in embedded mode: an online snapshot taken while the
server keeps writing, brought back into a fresh data dir and in place (signing everyone out)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tests.harness import Client, Server, Stack, eventually

pytestmark = [
    pytest.mark.own_stack,
    # Embedded backups; scaled mode uses pg_dump.
    pytest.mark.embedded_only,
]

PHOTO = bytes(range(256)) * 64


def _integrity(database: Path) -> list[tuple[str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("PRAGMA integrity_check").fetchall()


def _post_numbers(client: Client, thread_id: int) -> list[int]:
    numbers: list[int] = []
    after = 0
    while True:
        page = client.get(f"/api/threads/{thread_id}?limit=100&after={after}").json()
        numbers += [p["post_number"] for p in page["items"]]
        if page["next_cursor"] is None:
            return numbers
        after = page["next_cursor"]


def _backup_while_replying(stack: Stack, member: Client, thread_id: int, path: Path
                           ) -> tuple[int, int]:
    """Reply in a loop while `hearth backup` runs; returns how many replies had been answered
    201 when the backup started, and when it had finished."""
    answered: list[int] = []
    stop = threading.Event()

    def reply() -> None:
        while not stop.is_set():
            response = member.post(f"/api/threads/{thread_id}/posts", {"body": "meanwhile"})
            assert response.status_code == 201, response.text
            answered.append(response.json()["post_number"])

    writer = threading.Thread(target=reply)
    writer.start()
    try:
        eventually(lambda: len(answered) >= 5)
        started = len(answered)
        stack.run("backup", str(path))
        finished = len(answered)
        eventually(lambda: len(answered) >= finished + 3)
    finally:
        stop.set()
        writer.join(timeout=60)
    return started, finished


@pytest.fixture(scope="module")
def media(stack: Stack) -> Path:
    """A media file, where the ugc package keeps them (the data dir's media/)."""
    path = Path(stack.env["HEARTH_DATA_DIR"]) / "media" / "photos" / "1" / "sunset.jpg"
    path.parent.mkdir(parents=True)
    path.write_bytes(PHOTO)
    return path


def test_a_backup_taken_while_writing_restores_into_a_fresh_data_dir(
        stack: Stack, server: Server, member: Client, thread: dict, media: Path,
        tmp_path: Path) -> None:
    thread_id = thread["thread"]["id"]
    archive = tmp_path / "hearth.tar"
    started, finished = _backup_while_replying(stack, member, thread_id, archive)
    later = member.post(f"/api/threads/{thread_id}/posts", {"body": "after the backup"})
    assert later.status_code == 201

    refused = stack.run("restore", str(archive), check=False)
    assert refused.returncode != 0
    assert "stop it, then restore" in refused.stderr
    assert later.json()["post_number"] in _post_numbers(member, thread_id)

    fresh = tmp_path / "fresh"
    stack.run("restore", str(archive), env={"HEARTH_DATA_DIR": str(fresh)})
    assert _integrity(fresh / "hearth.db") == [("ok",)]
    assert (fresh / "media" / "photos" / "1" / "sunset.jpg").read_bytes() == PHOTO

    restored = stack.start_server(env={"HEARTH_DATA_DIR": str(fresh)})
    reader = restored.client()
    assert reader.login(member.member["handle"], "correct horse battery").status_code == 200
    numbers = _post_numbers(reader, thread_id)
    # One moment's state: every reply answered before the backup began, none answered after
    # it ended, no gap between, and the thread's counter agrees with its posts.
    assert numbers == list(range(1, len(numbers) + 1))
    assert 1 + started <= len(numbers) <= 1 + finished
    assert reader.get(f"/api/threads/{thread_id}").json()["thread"]["post_count"] == len(numbers)
    assert reader.post(f"/api/threads/{thread_id}/posts", {"body": "on the restored copy"}
                       ).json()["post_number"] == len(numbers) + 1
    restored.process.stop()


def test_what_is_not_a_backup_is_refused_and_nothing_changes(
        stack: Stack, server: Server, tmp_path: Path) -> None:
    database = Path(stack.env["HEARTH_DATA_DIR"]) / "hearth.db"
    before = stack.sql("SELECT count(*) FROM member")
    bogus = tmp_path / "notes.tar"
    bogus.write_text("not a tar file at all")
    result = stack.run("restore", str(bogus), check=False)
    assert result.returncode != 0
    assert "is not a Hearth backup: it is not a tar file" in result.stderr
    assert stack.sql("SELECT count(*) FROM member") == before
    assert database.exists()


def test_restore_in_place_brings_back_the_backup_after_the_server_stops(
        stack: Stack, server: Server, member: Client, thread: dict, media: Path,
        tmp_path: Path) -> None:
    thread_id = thread["thread"]["id"]
    archive = tmp_path / "in-place.tar"
    # The member's browser, signed in before the backup: its session is in the backup.
    cookie = {"Cookie": f"hearth_session={member.http.cookies['hearth_session']}"}
    assert server.client().get("/api/me", headers=cookie).status_code == 200
    stack.run("backup", str(archive))
    kept = _post_numbers(member, thread_id)
    assert member.post(f"/api/threads/{thread_id}/posts", {"body": "to be undone"}
                       ).status_code == 201
    media.with_name("later.jpg").write_bytes(b"added after the backup")
    media.write_bytes(b"changed after the backup")

    server.process.stop()
    stack.run("restore", str(archive))
    data = Path(stack.env["HEARTH_DATA_DIR"])
    assert _integrity(data / "hearth.db") == [("ok",)]
    assert media.read_bytes() == PHOTO
    assert not media.with_name("later.jpg").exists()

    again = stack.start_server()
    # Everyone signs in again after a restore: a session ended since the backup stays ended.
    assert again.client().get("/api/me", headers=cookie).status_code == 401
    reader = again.client()
    assert reader.login(member.member["handle"], "correct horse battery").status_code == 200
    assert _post_numbers(reader, thread_id) == kept
