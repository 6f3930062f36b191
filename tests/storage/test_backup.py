"""Backups of the embedded database: taken while the server writes, they hold every ticket the
server had acknowledged, and they go back only onto a stopped server, after being checked."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from hall.kernel.errors import SettingsError
from hall.setup import initialise
from hall.storage import backup
from hall.storage.database import create_engine
from tests.helpers import csrf_of
from tests.queueing.test_browser_counter import open_all_week
from tests.serverproc import ServerProcess, hall_cli


def _made(tmp_path: Path) -> Path:
    database = tmp_path / "hall.db"

    async def make() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        try:
            await initialise(engine)
        finally:
            await engine.dispose()

    asyncio.run(make())
    return database


def test_a_backup_is_checked_and_restored_only_onto_a_stopped_server(tmp_path: Path) -> None:
    database = _made(tmp_path)
    copy = tmp_path / "copy.db"
    revision = backup.backup(database, copy)
    assert revision == backup.check(copy)
    assert copy.stat().st_mode & 0o777 == 0o600
    with pytest.raises(SettingsError, match="exists"):
        backup.backup(database, copy)
    with backup.running_on(database), pytest.raises(SettingsError, match="running"):
        backup.restore(copy, database)
    assert backup.restore(copy, database) == revision


def test_what_is_not_a_sound_hall_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(SettingsError, match="not a hall database"):
        backup.check(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(SettingsError, match=r"no schema revision|not a hall database"):
        backup.check(other)
    with pytest.raises(SettingsError, match="pg_dump"):
        backup.sqlite_file("postgresql+asyncpg://hall@db/hall")


@pytest.mark.slow
def test_a_backup_taken_under_load_restores_every_acknowledged_ticket(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    server.init()
    open_all_week(server.db_url)
    server.env["HALL_ISSUE_PER_MINUTE"] = "100000"
    server.start()
    acknowledged: list[tuple[float, str]] = []
    stop = threading.Event()

    def take_tickets() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as kiosk:
            token = csrf_of(kiosk.get("/login").text)
            while not stop.is_set():
                done = kiosk.post("/api/v1/halls/1/tickets", json={"service": "soc"}, headers={"X-CSRF-Token": token})
                assert done.status_code == 200, done.text
                acknowledged.append((time.monotonic(), done.json()["ticket"]["id"]))

    kiosks = [threading.Thread(target=take_tickets) for _ in range(3)]
    copy = tmp_path / "backup.db"
    try:
        for kiosk in kiosks:
            kiosk.start()
        while len(acknowledged) < 30:
            time.sleep(0.05)
        started = time.monotonic()
        taken = hall_cli("backup", "--db", server.db_url, str(copy), env=server.env)
        assert taken.returncode == 0, taken.stderr
        time.sleep(0.3)  # the load goes on after the copy
    finally:
        stop.set()
        for kiosk in kiosks:
            kiosk.join()
    before = {ticket for at, ticket in acknowledged if at < started}
    with sqlite3.connect(copy) as conn:
        in_copy = {row[0] for row in conn.execute("SELECT id FROM tickets")}
    assert before <= in_copy
    assert len(in_copy) < len(acknowledged)  # it is a copy of a moment, not of the end

    refused = hall_cli("restore", "--db", server.db_url, str(copy), env=server.env)
    assert refused.returncode == 2 and "running" in refused.stderr
    server.stop()
    restored = hall_cli("restore", "--db", server.db_url, str(copy), env=server.env)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(server.db_url.split("///", 1)[1]) as conn:
        assert {row[0] for row in conn.execute("SELECT id FROM tickets")} == in_copy
