"""What `hearth restore` refuses, before it changes anything (the round trip under a running
server is in tests/server/test_backup.py)."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import tarfile
from contextlib import closing
from pathlib import Path

import pytest

from server import backups
from server.settings import Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _archive(path: Path, entries: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _manifest(version: int = backups.VERSION) -> bytes:
    return json.dumps({"format": backups.FORMAT, "version": version}).encode()


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    """The database a refused restore must leave as it was."""
    database = _settings(tmp_path).sqlite_path
    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE kept (x)")
    return database


def test_scaled_mode_points_at_pg_dump(tmp_path: Path) -> None:
    scaled = Settings(data_dir=tmp_path, database_url="postgresql://db/hearth",
                      redis_url="redis://redis")
    with pytest.raises(backups.BackupError, match="pg_dump -Fc"):
        backups.backup(scaled, tmp_path / "b.tar")
    with pytest.raises(backups.BackupError, match="pg_restore"):
        backups.restore(scaled, tmp_path / "b.tar")


@pytest.mark.parametrize(("entries", "message"), [
    ({"notes.txt": b"hello"}, "is not a Hearth backup: it has no hearth-backup.json"),
    ({"hearth-backup.json": b'{"format": "other"}'}, "is not a Hearth backup's"),
    ({"hearth-backup.json": _manifest(version=2)}, "format version 2; this Hearth reads version 1"),
    ({"hearth-backup.json": _manifest()}, "it has no hearth.db"),
    ({"hearth-backup.json": _manifest(), "hearth.db": b"", "media/../../escape": b"x"},
     "unexpected entry 'media/../../escape'"),
    ({"hearth-backup.json": _manifest(), "hearth.db": b"", "elsewhere/x": b"x"},
     "unexpected entry 'elsewhere/x'"),
    ({"hearth-backup.json": _manifest(), "hearth.db": b"garbage " * 100},
     "its database fails the integrity check"),
])
def test_an_archive_that_is_not_a_sound_backup_changes_nothing(
        tmp_path: Path, existing: Path, entries: dict[str, bytes], message: str) -> None:
    before = existing.read_bytes()
    archive = _archive(tmp_path / "b.tar", entries)
    with pytest.raises(backups.BackupError, match=re.escape(message)):
        backups.restore(_settings(tmp_path), archive)
    assert existing.read_bytes() == before
    assert {p.name for p in existing.parent.iterdir()} <= {"hearth.db", "hearth.db.lock"}
    assert not (tmp_path / "escape").exists()


def test_a_backup_never_overwrites_a_file(tmp_path: Path, existing: Path) -> None:
    target = tmp_path / "b.tar"
    target.write_bytes(b"precious")
    with pytest.raises(backups.BackupError, match="already exists"):
        backups.backup(_settings(tmp_path), target)
    assert target.read_bytes() == b"precious"


def test_a_backup_restores_over_a_damaged_database_and_its_stale_log(tmp_path: Path) -> None:
    source = Settings(data_dir=tmp_path / "source")
    source.media_dir.mkdir(parents=True)
    (source.media_dir / "a.jpg").write_bytes(b"photo")
    with closing(sqlite3.connect(source.sqlite_path)) as connection, connection:
        connection.execute("CREATE TABLE kept (x)")
        connection.execute("INSERT INTO kept VALUES (42)")
    archive = backups.backup(source, tmp_path / "b.tar").path

    damaged = _settings(tmp_path)
    damaged.media_dir.mkdir(parents=True)
    (damaged.media_dir / "stray.jpg").write_bytes(b"stray")
    damaged.sqlite_path.write_bytes(b"not a database " * 500)
    damaged.sqlite_path.with_name("hearth.db-wal").write_bytes(b"a log from another life")
    backups.restore(damaged, archive)

    with closing(sqlite3.connect(damaged.sqlite_path)) as connection:
        assert connection.execute("SELECT x FROM kept").fetchall() == [(42,)]
    assert sorted(p.name for p in damaged.media_dir.iterdir()) == ["a.jpg"]
    assert not damaged.sqlite_path.with_name("hearth.db-wal").exists()


def _backup_of(tmp_path: Path, sessions: int) -> Path:
    """A backup of a data dir whose database (in WAL mode, as Hearth keeps it) holds a kept
    row and `sessions` signed-in sessions."""
    source = Settings(data_dir=tmp_path / "source")
    source.data_dir.mkdir(parents=True)
    with closing(sqlite3.connect(source.sqlite_path)) as connection, connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE kept (x)")
        connection.execute("INSERT INTO kept VALUES (42)")
        connection.execute("CREATE TABLE member_session (id INTEGER PRIMARY KEY, secret_hash)")
        connection.executemany("INSERT INTO member_session (secret_hash) VALUES (?)",
                               [(f"h{i}",) for i in range(sessions)])
    return backups.backup(source, tmp_path / "b.tar").path


def test_a_restore_refuses_while_a_command_uses_the_data_dir(
        tmp_path: Path, existing: Path) -> None:
    archive = _backup_of(tmp_path, sessions=0)
    before = existing.read_bytes()
    settings = _settings(tmp_path)
    # What every embedded runtime (a server, `hearth relay-sweep`...) holds while it is up.
    with backups.claim_serving(settings):
        with pytest.raises(backups.BackupError, match="stop it, then restore"):
            backups.restore(settings, archive)
        assert existing.read_bytes() == before
    backups.restore(settings, archive)
    with closing(sqlite3.connect(existing)) as connection:
        assert connection.execute("SELECT x FROM kept").fetchall() == [(42,)]


def test_after_a_restore_everyone_signs_in_again(tmp_path: Path) -> None:
    archive = _backup_of(tmp_path, sessions=3)
    target = _settings(tmp_path)
    backups.restore(target, archive)
    with closing(sqlite3.connect(target.sqlite_path)) as connection:
        assert connection.execute("SELECT count(*) FROM member_session").fetchall() == [(0,)]
        assert connection.execute("SELECT x FROM kept").fetchall() == [(42,)]
    assert {p.name for p in target.data_dir.iterdir()} == {"hearth.db", "hearth.db.lock",
                                                           "media"}
