"""Backups in embedded mode: one tar file holding a consistent snapshot of the SQLite database,
taken while servers keep writing, and the media directory.

    hearth-backup.json   {"format": "hearth-backup", "version": 1, "created_at": ..., ...}
    hearth.db            the database as of one moment (sqlite3's backup API, in one step)
    media/...            the media directory, copied after that moment, so every file the
                         snapshot's rows name is there (files are written before their rows)

Restore checks the whole archive and the database's integrity with everything staged beside
its target under temporary names, signs everyone out in the staged database, then swaps the
database and the media directory in. Every process using the data dir (a server, a one-off
command, `hearth migrate`, a backup) holds a shared lock on `<database>.lock`, which restore
needs exclusively: it refuses while one runs, and none starts mid-restore.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from server.settings import Settings

FORMAT = "hearth-backup"
VERSION = 1
MANIFEST = "hearth-backup.json"
DATABASE = "hearth.db"
MEDIA = "media"
SCALED_ADVICE = (
    "in scaled mode, back up PostgreSQL with `pg_dump -Fc` (restore with `pg_restore`) and copy "
    "the media directory; see \"Backups\" in the README")


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    path: Path
    database_bytes: int
    media_files: int
    created_at: str


def _lock_path(settings: Settings) -> Path:
    return settings.sqlite_path.with_name(settings.sqlite_path.name + ".lock")


def _lock(settings: Settings, mode: int) -> IO[bytes] | None:
    """The lock file, locked in `mode` (never waiting), or None when someone holds it."""
    path = _lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("ab")
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def claim_serving(settings: Settings) -> IO[bytes]:
    """Mark the data dir as in use by this process until the returned file is closed (the
    kernel lets go of it when the process dies, however it dies)."""
    handle = _lock(settings, fcntl.LOCK_SH)
    if handle is None:
        raise BackupError(f"a restore into {settings.sqlite_path} is under way: try again "
                          "once it has finished")
    return handle


def _integrity_problem(path: Path) -> str | None:
    try:
        with closing(sqlite3.connect(path)) as connection:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:5])


def _media_files(media: Path) -> list[Path]:
    # Regular files only: a link could point anywhere, and restore refuses links.
    return sorted(p for p in media.rglob("*") if p.is_file() and not p.is_symlink()) \
        if media.is_dir() else []


def backup(settings: Settings, target: Path) -> Summary:
    """Write a backup of the embedded data to `target` (a new .tar file) while it is in use."""
    if settings.scaled:
        raise BackupError("`hearth backup` covers embedded mode (SQLite): " + SCALED_ADVICE)
    source = settings.sqlite_path
    if not source.is_file():
        raise BackupError(f"there is no database at {source} to back up")
    if target.exists():
        raise BackupError(f"{target} already exists: name a new file")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory")
    created_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    # Written under another name and renamed when complete: a backup under its own name is whole.
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    # Held so that a restore cannot swap the database and media between the two copies.
    with claim_serving(settings), \
            tempfile.TemporaryDirectory(dir=target.parent, prefix=".hearth-backup-") as staging:
        snapshot = Path(staging) / DATABASE
        with closing(sqlite3.connect(source, timeout=30)) as src, \
                closing(sqlite3.connect(snapshot)) as dst:
            # One step: one read transaction sees one moment, and writers go on meanwhile.
            src.backup(dst)
        problem = _integrity_problem(snapshot)
        if problem is not None:
            raise BackupError(f"the database at {source} fails its integrity check: {problem}")
        media = _media_files(settings.media_dir)
        manifest = json.dumps({"format": FORMAT, "version": VERSION, "created_at": created_at,
                               "media_files": len(media)}, indent=2).encode()
        try:
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(manifest), int(time.time()), 0o644
                tar.addfile(info, io.BytesIO(manifest))
                tar.add(snapshot, DATABASE)
                for path in media:
                    tar.add(path, f"{MEDIA}/{path.relative_to(settings.media_dir).as_posix()}")
            with partial.open("rb") as written:
                os.fsync(written.fileno())
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return Summary(target, snapshot.stat().st_size, len(media), created_at)


@contextmanager
def _opened(archive: Path) -> Iterator[tuple[tarfile.TarFile, dict[str, object]]]:
    """The archive and its manifest, once every entry is one a Hearth backup has."""
    not_ours = f"{archive} is not a Hearth backup"
    if not archive.is_file():
        raise BackupError(f"{not_ours}: " + ("it is a directory (backups are .tar files)"
                                            if archive.is_dir() else "there is no such file"))
    if not tarfile.is_tarfile(archive):
        raise BackupError(f"{not_ours}: it is not a tar file")
    with tarfile.open(archive, "r:") as tar:
        try:
            members = {m.name: m for m in tar.getmembers()}
        except tarfile.TarError as exc:
            raise BackupError(f"{archive} is damaged: {exc}") from None
        manifest_member = members.get(MANIFEST)
        reader = tar.extractfile(manifest_member) if manifest_member is not None else None
        if reader is None:
            raise BackupError(f"{not_ours}: it has no {MANIFEST}")
        try:
            manifest = json.loads(reader.read(64 * 1024))
        except ValueError:
            raise BackupError(f"{not_ours}: its {MANIFEST} is not JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(f"{not_ours}: its {MANIFEST} is not a Hearth backup's")
        if manifest.get("version") != VERSION:
            raise BackupError(f"{archive} is a Hearth backup of format version "
                              f"{manifest.get('version')!r}; this Hearth reads version {VERSION}")
        database = members.get(DATABASE)
        if database is None or not database.isfile():
            raise BackupError(f"{archive} is damaged: it has no {DATABASE}")
        for name, member in members.items():
            parts = PurePosixPath(name).parts
            if name in (MANIFEST, DATABASE):
                continue
            if (parts[:1] != (MEDIA,) or ".." in parts or name.startswith("/")
                    or not (member.isfile() or member.isdir())):
                raise BackupError(f"{archive} is damaged or not a Hearth backup: "
                                  f"unexpected entry {name!r}")
        yield tar, manifest


def _logs_of(database: Path) -> tuple[Path, Path]:
    return (database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"))


def _sign_everyone_out(database: Path) -> None:
    """Delete every session: the backup's rows include sessions ended since (signed out, or
    revoked after a theft), whose cookies must not work again."""
    with closing(sqlite3.connect(database)) as connection, connection:
        # A backup taken before sessions were rows has none.
        if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                              "AND name = 'member_session'").fetchone():
            connection.execute("DELETE FROM member_session")


def _retire_wal(database: Path) -> None:
    """Fold the old database's write-ahead log into it and remove it: a log left beside a
    replaced database would be replayed into the new one."""
    try:
        if database.exists():
            with closing(sqlite3.connect(database, timeout=30)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError:
        pass  # a damaged database is likely why it is being restored: it goes all the same
    for stale in _logs_of(database):
        stale.unlink(missing_ok=True)


def restore(settings: Settings, archive: Path) -> Summary:
    """Replace the embedded database and media directory with a backup's; refuses while a
    server serves them."""
    if settings.scaled:
        raise BackupError("`hearth restore` covers embedded mode (SQLite): " + SCALED_ADVICE)
    database, media = settings.sqlite_path, settings.media_dir
    with _opened(archive) as (tar, manifest):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock(settings, fcntl.LOCK_EX)
        if lock is None:
            raise BackupError(f"a Hearth server or command is using {database}: stop it, "
                              "then restore")
        with lock, tempfile.TemporaryDirectory(dir=settings.data_dir,
                                               prefix=".hearth-restore-") as staging:
            staged_db = database.with_name(f".{database.name}.restoring-{os.getpid()}")
            try:
                source = tar.extractfile(DATABASE)
                assert source is not None
                with source, staged_db.open("wb") as out:
                    shutil.copyfileobj(source, out)
                    out.flush()
                    os.fsync(out.fileno())
                problem = _integrity_problem(staged_db)
                if problem is not None:
                    raise BackupError(f"{archive} is damaged: its database fails the integrity "
                                      f"check ({problem}); nothing was changed")
                _sign_everyone_out(staged_db)
                staged_media = Path(staging) / MEDIA
                staged_media.mkdir()
                tar.extractall(staging, members=[m for m in tar.getmembers()
                                                 if m.name.startswith(MEDIA + "/")],
                               filter="data")
                _swap(database, staged_db, media, staged_media, Path(staging))
            finally:
                for leftover in (staged_db, *_logs_of(staged_db)):
                    leftover.unlink(missing_ok=True)
            media_files = len(_media_files(media))
    return Summary(archive, database.stat().st_size, media_files, str(manifest.get("created_at")))


def _swap(database: Path, staged_db: Path, media: Path, staged_media: Path, staging: Path) -> None:
    """The staged database and media in place of the current ones, or neither."""
    _retire_wal(database)
    old_media = staging / "replaced-media"
    had_media = media.exists()
    if had_media:
        os.replace(media, old_media)
    try:
        os.replace(staged_media, media)
        try:
            os.replace(staged_db, database)
        except BaseException:
            os.replace(media, staged_media)
            raise
    except BaseException:
        if had_media:
            os.replace(old_media, media)
        raise
