"""Several server processes on one PostgreSQL: durable commands/s, and how late a websocket client
on ANOTHER process hears of each commit — for 1, 2 and 4 processes in the same run.

For each process count N, a fresh PostgreSQL database gets the sample halls with 30 counters in
hall 1 and a clerk each (``bench.queue_cycles.prepare``), then N ``hall serve`` processes start on
it. 30 clerk clients, counter k driven only at process k mod N, toggle their counter open and closed
as fast as the answers come (each a durable command, answered after its commit, one event each).
One websocket client per process follows ``hall/1/queue``.

* commands/s: commands answered during the measured window (after a warm-up), divided by its length.
* latency: the time a client receives an event minus the event's ``at``, the writer's clock when it
  began the batch that committed it; so it includes the commit itself, the log follower's wake-up
  (NOTIFY at commit, LISTEN in the other process), its read of the log, and the hub's fan-out.
  Counted only for clients on a process other than the one that committed the event (the counter
  tells which); with one process there is no other, and the same-process figure is the baseline.

Run ``python -m bench.scale`` from the repository root with PostgreSQL at ``HALL_TEST_PG_URL``
(default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``); each run makes and drops its own
databases. Everything (PostgreSQL, the servers and this load generator) shares the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import insert, select
from websockets.asyncio.client import connect

from bench.common import machine
from bench.queue_cycles import COUNTERS, PASSWORD, prepare
from hall.setup import initialise
from hall.storage.database import create_engine
from hall.storage.directory import create_counters
from hall.storage.tables import halls, staff
from hall.web.passwords import hash_password
from tests.cluster import cluster, fresh_database
from tests.peers import PG_URL
from tests.serverproc import ServerProcess, login

# (hall, counter, clerk's username): the work of one clerk client.
Desk = tuple[int, int, str]
# (process of the client, hall, counter, received, at): one event heard.
Heard = tuple[int, int, int, float, float]


async def _listen(url: str, process: int, hall_ids: list[int], heard: list[Heard], ready: asyncio.Event) -> None:
    """Record every counter event of the halls' queue topics."""
    async with connect(url.replace("http", "ws", 1) + "/ws", max_queue=None) as ws:
        for hall_id in hall_ids:
            await ws.send(json.dumps({"type": "subscribe", "topic": f"hall/{hall_id}/queue"}))
        subscribed = 0
        async for raw in ws:
            received = time.time()
            frame = json.loads(raw)
            if frame["type"] == "subscribed":
                subscribed += 1
                if subscribed == len(hall_ids):
                    ready.set()
            elif frame["type"] == "event":
                event = frame["event"]
                counter = event["data"].get("counter")
                if isinstance(counter, int):
                    hall_id = int(frame["topic"].split("/")[1])
                    at = datetime.fromisoformat(event["at"]).timestamp()
                    heard.append((process, hall_id, counter, received, at))


async def _measure(
    servers: list[ServerProcess], desks: list[Desk], owner: dict[tuple[int, int], int], warmup: float, window: float
) -> tuple[float, list[float]]:
    count = len(servers)
    heard: list[Heard] = []
    hall_ids = sorted({hall for hall, _, _ in desks})
    readies = [asyncio.Event() for _ in servers]
    listeners = [asyncio.create_task(_listen(s.url, i, hall_ids, heard, readies[i])) for i, s in enumerate(servers)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    clients = []
    for hall, counter, user in desks:
        server = servers[owner[hall, counter]]
        with httpx.Client(base_url=server.url) as sync:
            token = login(sync, user, PASSWORD)
            cookies = dict(sync.cookies)
        clients.append((hall, counter, httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=30), token))
    answered: list[float] = []
    stop = asyncio.Event()

    async def clerk(hall: int, counter: int, client: httpx.AsyncClient, token: str) -> None:
        opened = False
        while not stop.is_set():
            action = "close" if opened else "open"
            answer = await client.post(
                f"/api/v1/halls/{hall}/counters/{counter}/{action}", json={}, headers={"X-CSRF-Token": token}
            )
            assert answer.status_code == 200, answer.text
            answered.append(time.time())
            opened = not opened

    loops = [asyncio.create_task(clerk(*c)) for c in clients]
    began = time.time()
    await asyncio.sleep(warmup + window)
    stop.set()
    await asyncio.gather(*loops)
    await asyncio.sleep(1.0)  # the last events reach every client
    for listener in listeners:
        listener.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    for _, _, client, _ in clients:
        await client.aclose()
    start, end = began + warmup, began + warmup + window
    rate = sum(1 for t in answered if start <= t < end) / window
    latencies = [
        (received - at) * 1000
        for process, hall, counter, received, at in heard
        if start <= at < end and (count == 1 or process != owner[hall, counter])
    ]
    return rate, latencies


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _many_halls(url: str, count: int) -> list[Desk]:
    """The first ``count`` halls with ``COUNTERS // count`` new counters and a clerk each: one hall
    per process in the many-halls run."""
    engine = create_engine(url)
    try:
        await initialise(engine)
        now = datetime.now(UTC)
        per_hall = COUNTERS // count
        desks: list[Desk] = []
        async with engine.begin() as conn:
            hall_ids = [r.id for r in await conn.execute(select(halls.c.id).order_by(halls.c.id).limit(count))]
            digest = hash_password(PASSWORD)
            for hall_id in hall_ids:
                numbers = range(101, 101 + per_hall)
                await create_counters(conn, hall_id, [(n, f"{n}号窗口") for n in numbers], actor="bench", now=now)
                await conn.execute(
                    insert(staff),
                    [
                        {
                            "username": f"bench{hall_id}x{n}",
                            "display_name": f"窗口{n}",
                            "staff_no": f"B{hall_id}{n}",
                            "password_hash": digest,
                            "roles": "clerk",
                            "hall_id": hall_id,
                            "active": True,
                            "created_at": now,
                        }
                        for n in numbers
                    ],
                )
                desks += [(hall_id, n, f"bench{hall_id}x{n}") for n in numbers]
        return desks
    finally:
        await engine.dispose()


async def _one(count: int, workdir: Path, warmup: float, window: float, spread: bool) -> tuple[float, list[float]]:
    async with fresh_database(PG_URL) as url:
        if spread:
            desks = await _many_halls(url, count)
            hall_order = sorted({hall for hall, _, _ in desks})
            owner = {(hall, n): hall_order.index(hall) for hall, n, _ in desks}
        else:
            await prepare(url)
            desks = [(1, n, f"bench{n}") for n in range(1, COUNTERS + 1)]
            owner = {(1, n): n % count for _, n, _ in desks}
        servers = cluster(workdir / f"n{count}{'h' if spread else ''}", url, count)
        try:
            for server in servers:
                server.start()
            return await _measure(servers, desks, owner, warmup, window)
        finally:
            for server in servers:
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", default="1,2,4", help="process counts, comma-separated (first: the baseline)")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured window per process count")
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print(f"bench/scale.py · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {machine()}")
    print(f"{COUNTERS} clerk clients toggling counters; one websocket client per process; PostgreSQL {PG_URL}")
    workdir = Path(tempfile.mkdtemp(prefix="hall-bench-scale-"))
    for spread, title in ((False, "one hall, written at every process"), (True, "one hall per process")):
        print(f"-- {title}")
        results: dict[int, tuple[float, list[float]]] = {}
        for count in counts:
            results[count] = asyncio.run(_one(count, workdir, args.warmup, args.seconds, spread))
        base_rate, base_lat = results[counts[0]]
        for count in counts:
            rate, latencies = results[count]
            where = "to a client on another process" if count > 1 else "to a client on the same process"
            noun = "process" if count == 1 else "processes"
            p99 = _p(latencies, 0.99)
            print(
                f"{count} {noun}: {rate:,.0f} commands/s, p99 {p99:.0f} ms"
                f"  (p50 {statistics.median(latencies):.0f} ms, {len(latencies):,} deliveries {where}; "
                f"{rate / base_rate:.2f}× the {counts[0]}-process rate, p99 {p99 / _p(base_lat, 0.99):.2f}×)"
            )


if __name__ == "__main__":
    main()
