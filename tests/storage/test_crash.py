"""Nothing acknowledged is lost: kill -9 a real server process while commands flow, restart it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serverproc import ServerProcess, login

pytestmark = pytest.mark.slow


async def _clerk_loop(
    client: httpx.AsyncClient, token: str, counter: int, acked: list[dict[str, Any]], stop: asyncio.Event
) -> None:
    opened = False
    while not stop.is_set():
        action = "close" if opened else "open"
        command_id = uuid.uuid4().hex
        try:
            answer = await client.post(
                f"/api/v1/halls/1/counters/{counter}/{action}",
                json={"command_id": command_id},
                headers={"X-CSRF-Token": token},
            )
        except httpx.HTTPError:
            return  # the server died under us: this command was never acknowledged
        assert answer.status_code == 200, answer.text
        body = answer.json()
        acked.append({"id": command_id, "seq": body["seq"], "action": action, "counter": counter, "body": body})
        opened = not opened


def _logged_in_clients(server: ServerProcess, users: list[str]) -> list[tuple[httpx.Client, str]]:
    clients = []
    for user in users:
        client = httpx.Client(base_url=server.url)
        clients.append((client, login(client, user, server.passwords[user])))
    return clients


async def test_acknowledged_commands_survive_kill_9(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    server.init()
    users = [f"crash{i}" for i in range(4)]
    for user in users:
        server.add_staff(user, "clerk")
    server.start()
    acked: list[dict[str, Any]] = []
    sessions: list[tuple[httpx.Client, str]] = []
    admin = httpx.Client(base_url=server.url)
    try:
        sessions = _logged_in_clients(server, users)
        stop = asyncio.Event()
        async_clients = [httpx.AsyncClient(base_url=server.url, cookies=dict(client.cookies)) for client, _ in sessions]
        loops = [
            asyncio.create_task(_clerk_loop(ac, token, i + 1, acked, stop))
            for i, (ac, (_, token)) in enumerate(zip(async_clients, sessions, strict=True))
        ]
        while len(acked) < 200:
            await asyncio.sleep(0.01)
        server.kill9()  # mid-flight: requests are still being sent and committed
        stop.set()
        await asyncio.gather(*loops)
        for ac in async_clients:
            await ac.aclose()
        server.start()
        login(admin, "admin", server.passwords["admin"])
        log = {e["seq"]: e for e in admin.get("/api/v1/halls/1/events?limit=1000").json()}
        for done in acked:
            event = log.get(done["seq"])
            assert event is not None, f"acknowledged event {done['seq']} is lost"
            assert event["type"] == ("counter.opened" if done["action"] == "open" else "counter.closed")
            assert event["data"]["counter"] == done["counter"]
        # The command ids are durable too: repeating one returns its first result.
        client, token = sessions[0]
        first = next(a for a in acked if a["counter"] == 1)
        again = client.post(
            f"/api/v1/halls/1/counters/1/{first['action']}",
            json={"command_id": first["id"]},
            headers={"X-CSRF-Token": token},
        )
        assert again.json()["duplicate"] is True
        assert again.json()["counter"] == first["body"]["counter"]
        seqs = sorted(log)
        assert seqs == list(range(seqs[0], seqs[-1] + 1))
    finally:
        for client, _ in sessions:
            client.close()
        admin.close()
        server.stop()
    assert len(acked) >= 200
