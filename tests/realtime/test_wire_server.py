"""``/ws`` under ``hall serve``: frames written straight to each transport arrive whole and in
order, a resume gets exactly what it missed, and a client that stops reading is cut alone (4008)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from realtime.connection import SLOW_CONSUMER
from tests.serverproc import ServerProcess, login
from tests.timing import MS

TOPIC = "hall/1/queue"
BACKLOG = 8  # HALL_WS_CLIENT_BUFFER: frames a paused client may have waiting before it is cut


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path)
    proc.env["HALL_WS_CLIENT_BUFFER"] = str(BACKLOG)
    proc.init()
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


class Admin:
    """The admin's HTTP session: opens and closes counters (one event each), reads the hub."""

    def __init__(self, server: ServerProcess) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=20_000 * MS)
        self.token = login(self.http, "admin", server.passwords["admin"])
        self.toggles = 0

    def toggle(self) -> int:
        action = "open" if self.toggles % 2 == 0 else "close"
        self.toggles += 1
        done = self.http.post(f"/api/v1/halls/1/counters/1/{action}", json={}, headers={"X-CSRF-Token": self.token})
        assert done.status_code == 200, done.text
        return int(done.json()["seq"])

    def hub(self) -> dict[str, Any]:
        return dict(self.http.get("/api/v1/hub").json())


@pytest.fixture
def admin(server: ServerProcess) -> Iterator[Admin]:
    who = Admin(server)
    try:
        yield who
    finally:
        who.http.close()


class Subscribed:
    """A subscription's acknowledgement and the events replayed before it (the ack comes last)."""

    def __init__(self, ack: dict[str, Any], replayed: list[int]) -> None:
        self.ack = ack
        self.replayed = replayed


async def _subscribe(url: str, since: int | None = None, **options: Any) -> tuple[ClientConnection, Subscribed]:
    ws = await connect(url, open_timeout=20_000 * MS, **options)
    request: dict[str, Any] = {"type": "subscribe", "topic": TOPIC}
    if since is not None:
        request["since"] = since
    await ws.send(json.dumps(request))
    replayed: list[int] = []
    while True:
        frame = json.loads(await ws.recv(decode=True))
        if frame["type"] == "event":
            replayed.append(frame["seq"])
        if frame["type"] == "subscribed":
            return ws, Subscribed(frame, replayed)


async def _events(ws: ClientConnection, count: int) -> list[int]:
    seqs: list[int] = []
    async with asyncio.timeout(20_000 * MS):
        while len(seqs) < count:
            frame = json.loads(await ws.recv(decode=True))
            if frame["type"] == "event":
                seqs.append(frame["seq"])
    return seqs


async def _close_code_after_reading_all(ws: ClientConnection) -> int | None:
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(20_000 * MS):
            while True:
                await ws.recv()
    return ws.close_code


async def test_frames_on_the_wire_arrive_in_order_and_a_resume_gets_exactly_what_was_missed(
    server: ServerProcess, admin: Admin
) -> None:
    url = f"ws://127.0.0.1:{server.port}/ws"
    # permessage-deflate offered and accepted: our frames go uncompressed beside it.
    plain, _ = await _subscribe(url, compression=None)
    deflating, _ = await _subscribe(url)
    hub = await asyncio.to_thread(admin.hub)
    assert hub["send_paths"] == {"wire": 2}
    fired = [await asyncio.to_thread(admin.toggle) for _ in range(6)]
    assert await _events(plain, 6) == fired
    assert await _events(deflating, 6) == fired
    await deflating.close()
    missed = [await asyncio.to_thread(admin.toggle) for _ in range(4)]
    back, subscribed = await _subscribe(url, since=fired[-1])
    assert subscribed.ack["mode"] == "replay" and subscribed.ack["seq"] == missed[-1]
    assert subscribed.replayed == missed
    for ws in (plain, back):
        await ws.close()


async def test_a_client_that_stops_reading_is_cut_alone_and_resumes_by_sequence(
    server: ServerProcess, admin: Admin
) -> None:
    url = f"ws://127.0.0.1:{server.port}/ws"
    reader, _ = await _subscribe(url)
    # The stalled client reads nothing once subscribed: a small receive buffer, and a websockets
    # client that stops reading its socket as soon as one message waits unread.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    stalled, subscribed = await _subscribe(url, sock=sock, max_queue=1)
    seen = subscribed.ack["seq"]
    # Each subscription again sends the topic's snapshot (about 2.5 kB): megabytes the stalled
    # client does not read, until the server's transport pauses, the backlog fills, and it is cut.
    for _ in range(2000):
        await stalled.send(json.dumps({"type": "subscribe", "topic": TOPIC}))
    fired = [await asyncio.to_thread(admin.toggle) for _ in range(3)]
    assert await _events(reader, 3) == fired  # the one that reads was not held up
    assert await _close_code_after_reading_all(stalled) == SLOW_CONSUMER
    back, again = await _subscribe(url, since=seen)
    assert again.ack["mode"] == "replay" and again.replayed == fired
    for ws in (reader, back, stalled):
        await ws.close()
