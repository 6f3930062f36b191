"""A district on three server processes sharing one PostgreSQL: live everywhere, and one SIGKILLed.

Queue and case commands go to all three; websocket clients on each follow their topics. Then the
process holding the singleton work is killed with SIGKILL mid-flight, and everything goes on on
the two left: commands (repeated with their ids where the answer was lost), clients (resuming by
sequence on a survivor), and the singleton work (taken over under its lease).

The servers run without a broker here; tests/realtime/test_processes_devices.py shares one among them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hall.kernel.events import Event
from hall.runtime import core_topics
from hall.storage.case_tables import notifications
from hall.storage.database import create_engine, reading
from hall.storage.lease import SINGLETONS
from hall.storage.tables import events
from realtime.topics import Topic
from tests.cluster import LiveClient, cluster, fresh_database, lease_holders, query
from tests.helpers import csrf_of
from tests.peers import PG_URL, missing
from tests.serverproc import ServerProcess, login
from tests.site import open_all_week
from tests.timing import MS

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ID_NUMBER = "11010519491231002X"
MATERIALS = ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"]
BEFORE_KILL = 150
AFTER_KILL = 150


class Driver:
    """Sends one kind of command to its own process, moving to the next process of its list when
    its own dies; an unanswered command is sent again with the same id (its first result returns)."""

    def __init__(self, servers: list[ServerProcess], own: int, cookies: dict[str, str], token: str) -> None:
        self.urls = [s.url for s in servers[own:] + servers[:own]]
        self.cookies = cookies
        self.token = token
        self.index = 0
        self.client = httpx.AsyncClient(base_url=self.urls[0], cookies=cookies, timeout=20)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {"command_id": uuid.uuid4().hex, **body}
        while True:
            try:
                answer = await self.client.post(path, json=body, headers={"X-CSRF-Token": self.token})
            except httpx.TransportError:
                # Its process died: the next one, as a load balancer would choose.
                await self.client.aclose()
                self.index += 1
                self.client = httpx.AsyncClient(
                    base_url=self.urls[self.index % len(self.urls)], cookies=self.cookies, timeout=20
                )
                continue
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

    async def aclose(self) -> None:
        await self.client.aclose()


async def _all_events(url: str) -> list[Event]:
    engine = create_engine(url)
    try:
        async with reading(engine) as conn:
            rows = await conn.execute(select(events).order_by(events.c.hall_id, events.c.seq))
            return [Event(r.hall_id, int(r.seq), r.type, r.data, r.actor, r.at, r.command_id) for r in rows]
    finally:
        await engine.dispose()


async def test_three_processes_share_the_log_live_and_survive_a_kill(tmp_path: Path) -> None:
    try:
        await query(PG_URL, "SELECT 1")
    except (OSError, Exception) as exc:
        missing(f"PostgreSQL at {PG_URL} ({type(exc).__name__})")
    async with fresh_database(PG_URL) as url:
        servers = cluster(tmp_path, url, 3)
        try:
            await _run(servers, url)
        finally:
            for server in servers:
                server.stop()


async def _run(servers: list[ServerProcess], url: str) -> None:
    first = servers[0]
    first.init()
    for i in range(6):
        first.add_staff(f"qc{i}", "clerk")
    for i in range(3):
        first.add_staff(f"cc{i}", "clerk", hall="xh-hp-ly")
    first.add_staff("boss", "supervisor")
    engine = create_engine(url)
    await open_all_week(engine)
    await engine.dispose()
    for server in servers:
        server.passwords = first.passwords
        server.start()

    def session(user: str) -> tuple[dict[str, str], str]:
        with httpx.Client(base_url=first.url) as client:
            token = login(client, user, first.passwords[user])
            return dict(client.cookies), token

    boss_cookies, _ = session("boss")
    with httpx.Client(base_url=first.url, cookies=boss_cookies) as boss:
        community = next(h["id"] for h in boss.get("/api/v1/halls").json() if h["code"] == "xh-hp-ly")
    cookie = "; ".join(f"{k}={v}" for k, v in boss_cookies.items())

    # Three clients on each process: the public queue, the supervisor's wallboard, and the cases
    # of another hall (per-hall sequences).
    stop_clients = asyncio.Event()
    clients: list[LiveClient] = []
    for own in range(3):
        urls = [s.url for s in servers[own:] + servers[:own]]
        clients += [
            LiveClient("hall/1/queue", urls),
            LiveClient("hall/1/wallboard", urls, cookie),
            LiveClient(f"hall/{community}/cases", urls, cookie),
        ]
    listening = [asyncio.create_task(c.run(stop_clients)) for c in clients]
    async with asyncio.timeout(20_000 * MS):
        while not all(c.resumes for c in clients):
            await asyncio.sleep(0.02)

    acked: list[tuple[str, dict[str, Any]]] = []
    stop = asyncio.Event()

    async def kiosk(own: int) -> None:
        with httpx.Client(base_url=servers[own].url) as page:
            token = csrf_of(page.get("/login").text)
            driver = Driver(servers, own, dict(page.cookies), token)
        try:
            while not stop.is_set():
                acked.append(("ticket", await driver.post("/api/v1/halls/1/tickets", {"service": "soc"})))
        finally:
            await driver.aclose()

    async def clerk(own: int, number: int) -> None:
        driver = Driver(servers, own, *session(f"qc{number}"))
        opened = False
        try:
            while not stop.is_set():
                action = "close" if opened else "open"
                acked.append(("counter", await driver.post(f"/api/v1/halls/1/counters/{number + 1}/{action}", {})))
                opened = not opened
        finally:
            await driver.aclose()

    async def intake(own: int) -> None:
        driver = Driver(servers, own, *session(f"cc{own}"))
        try:
            while not stop.is_set():
                body = {
                    "item": "MZ-006",
                    "applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": "13800138000"},
                    "materials": MATERIALS,
                    "counter": 1,
                }
                acked.append(("case", await driver.post(f"/api/v1/halls/{community}/cases", body)))
        finally:
            await driver.aclose()

    drivers = [asyncio.create_task(kiosk(own)) for own in range(3)]
    drivers += [asyncio.create_task(clerk(n % 3, n)) for n in range(6)]
    drivers += [asyncio.create_task(intake(own)) for own in range(3)]
    async with asyncio.timeout(60_000 * MS):
        while len(acked) < BEFORE_KILL:
            await asyncio.sleep(0.01)

    # The process that runs the singleton work dies, mid-flight.
    holders = await lease_holders(url)
    assert set(holders) == set(SINGLETONS.values()), holders
    pids = {s.proc.pid: i for i, s in enumerate(servers) if s.proc is not None}
    victim = pids[holders[SINGLETONS["case clock"]]]
    servers[victim].kill9()
    killed_at = time.monotonic()
    survivors = {s.proc.pid for s in servers if s.proc is not None}

    async with asyncio.timeout(60_000 * MS):
        while True:
            moved = await lease_holders(url)
            if set(moved) == set(SINGLETONS.values()) and set(moved.values()) <= survivors:
                break
            await asyncio.sleep(0.05)
    takeover = time.monotonic() - killed_at
    killed_at_count = len(acked)
    async with asyncio.timeout(60_000 * MS):
        while len(acked) < killed_at_count + AFTER_KILL:
            await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*drivers)

    log = await _all_events(url)
    by_hall: dict[int, list[Event]] = {}
    for event in log:
        by_hall.setdefault(event.hall_id, []).append(event)

    # No sequence gap and no duplicate, in any hall.
    for hall_id, logged in by_hall.items():
        assert [e.seq for e in logged] == list(range(1, len(logged) + 1)), f"hall {hall_id}"

    # Every acknowledged command is in the log; no ticket number was given twice.
    known = {e.command_id for e in log}
    for kind, answer in acked:
        assert answer["command_id"] in known or answer["duplicate"], (kind, answer)
    issued = [e.data["number"] for e in by_hall[1] if e.type == "ticket.issued"]
    assert issued and len(issued) == len(set(issued)), Counter(issued).most_common(3)
    numbers = [answer["ticket"]["number"] for kind, answer in acked if kind == "ticket"]
    assert len(numbers) == len(set(numbers)) and set(numbers) <= set(issued)
    assert sum(1 for kind, _ in acked if kind == "case") > 0

    # Every client saw every event of its topic after its first snapshot, once, in order, and
    # those of the killed process resumed on a survivor.
    registry = core_topics()
    async with asyncio.timeout(30_000 * MS):
        for client in clients:
            topic = Topic.parse(client.topic)
            kind = registry.kind_of(topic)
            assert client.snapshot_seq is not None
            wanted = [
                e.seq
                for e in by_hall.get(topic.hall_id, [])
                if e.seq > client.snapshot_seq and kind.select(topic, e) is not None
            ]
            while client.seqs[-1:] != wanted[-1:]:
                assert not listening[clients.index(client)].done(), listening[clients.index(client)]
                await asyncio.sleep(0.02)
            assert client.seqs == wanted, client.topic
    stop_clients.set()
    await asyncio.gather(*listening)
    moved_clients = [c for c in clients if len(c.resumes) > 1]
    assert len(moved_clients) == 3  # the killed process's three
    assert all(mode in ("live", "replay") for c in moved_clients for _, mode, _ in c.resumes[1:])

    # The survivor that took the outbox sent every message, the ones of cases accepted after
    # the kill too, each once.
    engine = create_engine(url)
    try:
        async with asyncio.timeout(30_000 * MS):
            while True:
                async with reading(engine) as conn:
                    statuses = Counter(r.status for r in await conn.execute(select(notifications.c.status)))
                if statuses and set(statuses) == {"sent"}:
                    break
                await asyncio.sleep(0.1)
    finally:
        await engine.dispose()
    # The survivors' own words: one of them runs each piece of work now.
    for name in SINGLETONS:
        assert any(f"this process runs the {name}" in s.log() for i, s in enumerate(servers) if i != victim), name
    print(
        f"\n{len(acked)} commands acknowledged, {len(log)} events; lease takeover {takeover:.2f} s after SIGKILL; "
        f"{statuses['sent']} messages sent"
    )
