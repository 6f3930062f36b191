"""Backups of the embedded database: a consistent copy of a running SQLite file, and putting one
back on a stopped server after checking it.

SQLite's online backup API copies the database page by page under its own locks, so a copy taken
while the server writes is a database as it was at one commit, WAL included; copying the file
would not be (the last commits may sit in ``-wal`` beside it). PostgreSQL is backed up with its own
tools (``pg_dump``; docs/operations.md).

A server on a SQLite file holds a shared lock on ``<file>.lock`` while it runs; ``restore`` takes
it exclusively (``while_stopped``), so it refuses while any server is running on that file; so
does ``hall setup``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.script import ScriptDirectory

from hall.kernel.errors import SettingsError
from hall.storage.migrate import alembic_config


def sqlite_file(url: str) -> Path:
    """The file of a SQLite database URL; a URL of another database is refused."""
    for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :].split("?", 1)[0]
            if path and path != ":memory:":
                return Path(path)
    raise SettingsError(f"backup and restore are for SQLite files; back up {url.split('@')[-1]} with pg_dump")


def _lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def running_on(database: Path) -> Iterator[None]:
    """Held by a server for as long as it runs on ``database`` (shared: several may read)."""
    with _locked(database, fcntl.LOCK_SH):
        yield


@contextmanager
def while_stopped(database: Path) -> Iterator[None]:
    """Held by what must not run beside a server on ``database`` (a restore, ``hall setup``):
    exclusive, so it is refused while any server runs on the file, and no server starts on it
    meanwhile."""
    with _locked(database, fcntl.LOCK_EX):
        yield


@contextmanager
def _locked(database: Path, mode: int) -> Iterator[None]:
    descriptor = os.open(_lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SettingsError(f"a hall server is running on {database}: stop it first") from None
        yield
    finally:
        os.close(descriptor)


def check(path: Path) -> str:
    """The schema revision of the backup at ``path``; raises ``SettingsError`` when it is no sound
    hall database (not SQLite, damaged, or of a schema this release does not know)."""
    if not path.is_file():
        raise SettingsError(f"no file {path}")
    try:
        with _open_read_only(path) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise SettingsError(f"{path} is not a hall database: {exc}") from None
    if verdict is None or verdict[0] != "ok":
        raise SettingsError(f"{path} is damaged: {verdict[0] if verdict else 'no answer'}")
    if revision is None:
        raise SettingsError(f"{path} has no schema revision: not a hall database")
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision[0] not in known:
        raise SettingsError(f"{path} has schema {revision[0]!r}, which this release of hall does not know")
    return str(revision[0])


@contextmanager
def _open_read_only(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def backup(database: Path, target: Path) -> str:
    """Copies the live ``database`` to ``target`` (a new file, owner-only); returns its revision."""
    if not database.is_file():
        raise SettingsError(f"no database at {database}")
    if target.exists():
        raise SettingsError(f"{target} exists: name a new file")
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    source = sqlite3.connect(database)
    copy = sqlite3.connect(target)
    try:
        # Whole at once: a copy taken in steps restarts whenever the server commits between them.
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()
    return check(target)


def restore(source: Path, database: Path) -> str:
    """Puts the backup ``source`` in place of ``database``, which no server may be running on;
    returns the backup's revision (``hall init`` then migrates it to this release's schema)."""
    revision = check(source)
    with while_stopped(database):
        origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(database)
        try:
            origin.backup(target)
        finally:
            target.close()
            origin.close()
        os.chmod(database, 0o600)
    return revision
