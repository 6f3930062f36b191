"""Several ``hall serve`` processes on one fresh PostgreSQL database, for the multi-process test and
``bench/scale.py``: who holds which lease, and a websocket client that resumes on another process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from tests.serverproc import ServerProcess

ROOT = Path(__file__).parent.parent
LEASE_HOLDERS = """
SELECT a.application_name, ((l.classid::bigint << 32) | l.objid::bigint) AS key
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()
"""


def plain_url(url: str) -> str:
    """The libpq form of an SQLAlchemy asyncpg URL, for asyncpg itself."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


@contextlib.asynccontextmanager
async def fresh_database(pg_url: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (server processes cannot be told a schema), dropped after."""
    name = "hall_p_" + secrets.token_hex(5)
    admin = await asyncpg.connect(plain_url(pg_url))
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        parts = urlsplit(pg_url)
        try:
            yield urlunsplit(parts._replace(path=f"/{name}"))
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


async def query(db_url: str, sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def lease_holders(db_url: str) -> dict[int, int]:
    """Lease key → the process id of the server holding it (named in its session's application_name)."""
    rows = await query(db_url, LEASE_HOLDERS)
    held: dict[int, int] = {}
    for name, key in rows:
        if name and name.startswith("hall lease "):
            # Keys are 64-bit and stored in two unsigned 32-bit halves.
            held[int(key) & 0xFFFFFFFFFFFFFFFF] = int(name.rsplit(" ", 1)[1])
    return held


def cluster(workdir: Path, db_url: str, count: int, env: dict[str, str] | None = None) -> list[ServerProcess]:
    """``count`` servers on ``db_url``, sharing one signing key (a session or CSRF token made by one
    is good on all) and one notification log; the database is initialised by the first."""
    servers = []
    shared = {
        "HALL_SECRET_FILE": str(workdir / "secret"),
        "HALL_NOTIFY_LOG": str(workdir / "notifications.log"),
        # The kiosks of the test are all on 127.0.0.1.
        "HALL_ISSUE_PER_MINUTE": "1000000",
        # The worktree under test, also for a server started from elsewhere.
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        **(env or {}),
    }
    for i in range(count):
        own = workdir / f"p{i}"
        own.mkdir(parents=True, exist_ok=True)
        server = ServerProcess(own, db_url)
        server.env.update(shared)
        servers.append(server)
    return servers


@dataclass
class LiveClient:
    """A browser's realtime client: follows one topic, keeps the highest seq it saw, and on a cut
    resumes from it on the next server of its list (as ``static/js/realtime.js`` does)."""

    topic: str
    urls: list[str]
    cookie: str = ""
    at: int = 0
    seqs: list[int] = field(default_factory=list)
    snapshot_seq: int | None = None
    resumes: list[tuple[str, str, int]] = field(default_factory=list)
    frames: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        first = True
        index = 0
        while not stop.is_set():
            url = self.urls[index % len(self.urls)]
            try:
                headers = {"Cookie": self.cookie} if self.cookie else {}
                async with connect(url.replace("http", "ws", 1) + "/ws", additional_headers=headers) as ws:
                    message: dict[str, Any] = {"type": "subscribe", "topic": self.topic}
                    if not first:
                        message["since"] = self.at
                    await ws.send(json.dumps(message))
                    first = False
                    await self._follow(ws, url, stop)
            except (OSError, TimeoutError, WebSocketException):
                if stop.is_set():
                    return
                index += 1  # its process died: the next one (a load balancer's choice)
                await asyncio.sleep(0.05)

    async def _follow(self, ws: ClientConnection, url: str, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with asyncio.timeout(0.2):
                    raw = await ws.recv()
            except TimeoutError:
                continue
            frame = json.loads(raw)
            self.frames += 1
            kind = frame["type"]
            if kind == "snapshot":
                if self.snapshot_seq is None:
                    self.snapshot_seq = frame["seq"]
                elif frame["seq"] != self.at:
                    raise AssertionError(f"{self.topic}: a snapshot at {frame['seq']} on resume from {self.at}")
                self.at = max(self.at, frame["seq"])
            elif kind == "event":
                seq = frame["seq"]
                assert seq > self.at, f"{self.topic}: event {seq} after {self.at} (a duplicate, or out of order)"
                self.seqs.append(frame["seq"])
                self.at = frame["seq"]
            elif kind == "subscribed":
                self.resumes.append((url, frame["mode"], frame["seq"]))
                self.at = max(self.at, frame["seq"])
            elif kind == "error":
                raise AssertionError(f"{self.topic}: {frame}")
