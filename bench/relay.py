"""Telling another server process of a commit: PostgreSQL NOTIFY then a read of the log, beside
relaying the event over MQTT (Mosquitto), measured in the same run.

Both halves send 2,000 small events one at a time (each waits until the other side has it) and then
as a flood from 20 concurrent senders; the figure is the latency from "the commit returned" to "the
other side holds the event", p50 and p99, and the flood's events/s.

* notify: a fresh PostgreSQL database with an ``events`` table like hall's. A sender commits one
  row per transaction with ``pg_notify('bench', '<seq>')`` inside it (as hall's writer does); a
  second connection LISTENs, and on each notification reads the rows after the last one it had
  (``seq > last``), as hall's log follower does. The latency includes that read.
* mqtt: a Mosquitto of the bench's own on a free port. The sender commits the same row (without
  NOTIFY), then publishes the event at QoS 1 with aiomqtt and awaits its PUBACK (a relay must not
  lose it); another aiomqtt client subscribed at QoS 1 receives it. The latency runs from the
  commit's return to the receipt, so it includes the publish.

Run ``python -m bench.relay`` from the repository root with PostgreSQL at ``HALL_TEST_PG_URL`` and
``mosquitto`` on the PATH.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import asyncpg  # type: ignore[import-untyped]

from bench.common import machine
from tests.cluster import fresh_database, plain_url
from tests.peers import PG_URL
from tests.serverproc import free_port

# aiomqtt warns at every publish beyond 10 pending: the flood's 20 are meant.
_quiet = logging.getLogger("bench.relay.mqtt")
_quiet.setLevel(logging.ERROR)
COUNT = 2000
SENDERS = 20
TABLE = (
    "CREATE TABLE events (seq bigint PRIMARY KEY, data jsonb NOT NULL);"
    " CREATE TABLE heads (id int PRIMARY KEY, last bigint NOT NULL); INSERT INTO heads VALUES (1, 0)"
)
# As hall's writer numbers a hall's events: under the lock of its head row, so commits come in order.
NEXT = "UPDATE heads SET last = last + 1 WHERE id = 1 RETURNING last"


def _payload(i: int) -> str:
    return json.dumps({"type": "counter.opened", "data": {"counter": 7, "clerk": 12}, "i": i})


@contextlib.asynccontextmanager
async def mosquitto() -> AsyncIterator[int]:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="hall-bench-relay-"))
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


async def _run(send: Callable[[int], Awaitable[None]], arrived: dict[int, float]) -> tuple[list[float], float]:
    """One at a time, then a flood; returns the one-at-a-time latencies (ms) and the flood's rate."""
    latencies = []
    for i in range(COUNT):
        sent_at = time.perf_counter()
        await send(i)
        while i not in arrived:
            await asyncio.sleep(0)
        latencies.append((arrived[i] - sent_at) * 1000)
    started = time.perf_counter()
    base = COUNT

    async def sender(k: int) -> None:
        for i in range(base + k, base + COUNT, SENDERS):
            await send(i)

    await asyncio.gather(*(sender(k) for k in range(SENDERS)))
    while len(arrived) < 2 * COUNT:
        await asyncio.sleep(0.001)
    return latencies, COUNT / (time.perf_counter() - started)


async def by_notify(url: str) -> tuple[list[float], float]:
    pool = await asyncpg.create_pool(plain_url(url), min_size=SENDERS, max_size=SENDERS)
    listener = await asyncpg.connect(plain_url(url))
    reader = await asyncpg.connect(plain_url(url))
    await listener.execute(TABLE)
    arrived: dict[int, float] = {}
    last = 0
    wake = asyncio.Event()

    async def follow() -> None:
        nonlocal last
        while True:
            await wake.wait()
            wake.clear()
            rows = await reader.fetch("SELECT seq, data FROM events WHERE seq > $1 ORDER BY seq", last)
            now = time.perf_counter()
            for row in rows:
                arrived[int(json.loads(row["data"])["i"])] = now
                last = int(row["seq"])

    await listener.add_listener("bench", lambda *_: wake.set())
    following = asyncio.create_task(follow())

    async def send(i: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            seq = await conn.fetchval(NEXT)
            await conn.execute("INSERT INTO events (seq, data) VALUES ($1, $2)", seq, _payload(i))
            await conn.execute("SELECT pg_notify('bench', $1)", str(seq))

    try:
        return await _run(send, arrived)
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await listener.close()
        await reader.close()
        await pool.close()


async def by_mqtt(url: str, port: int) -> tuple[list[float], float]:
    pool = await asyncpg.create_pool(plain_url(url), min_size=SENDERS, max_size=SENDERS)
    async with pool.acquire() as conn:
        await conn.execute("DROP TABLE IF EXISTS events, heads; " + TABLE)
    arrived: dict[int, float] = {}
    async with (
        aiomqtt.Client("127.0.0.1", port, identifier="bench-relay-in") as inbox,
        aiomqtt.Client(
            "127.0.0.1", port, identifier="bench-relay-out", max_inflight_messages=SENDERS, logger=_quiet
        ) as outbox,
    ):
        await inbox.subscribe("hall/relay/#", qos=1)

        async def receive() -> None:
            async for message in inbox.messages:
                arrived[int(str(message.topic).rsplit("/", 1)[1])] = time.perf_counter()

        receiving = asyncio.create_task(receive())

        async def send(i: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                seq = await conn.fetchval(NEXT)
                await conn.execute("INSERT INTO events (seq, data) VALUES ($1, $2)", seq, _payload(i))
            await outbox.publish(f"hall/relay/{i}", _payload(i), qos=1)

        try:
            return await _run(send, arrived)
        finally:
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)
            await pool.close()


def _line(name: str, latencies: list[float], rate: float) -> str:
    ordered = sorted(latencies)
    p99 = ordered[int(0.99 * len(ordered))]
    return (
        f"{name:7} one at a time: p50 {statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms; "
        f"{SENDERS} senders: {rate:,.0f} events/s"
    )


async def main() -> None:
    print(f"bench/relay.py · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {machine()}")
    print("latency from a commit's return to the other side holding the event")
    async with fresh_database(PG_URL) as url:
        notified = await by_notify(url)
        async with mosquitto() as port:
            relayed = await by_mqtt(url, port)
    print(_line("notify", *notified) + "  (NOTIFY at commit, LISTEN, then a read of the log)")
    print(_line("mqtt", *relayed) + "  (commit, then publish at QoS 1 via Mosquitto)")


if __name__ == "__main__":
    asyncio.run(main())
