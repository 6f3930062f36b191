"""The hub: exactly the missed events on resume, a snapshot when too old, slow clients cut alone."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hall.runtime import core_topics
from hall.storage.writer import Writer
from queueing.store import QueueDomain
from realtime.connection import SLOW_CONSUMER, Outbox
from realtime.hub import Hub, Subscriber
from realtime.topics import Topic
from tests.conftest import Database
from tests.factories import add_staff, command


class FakeSocket:
    """Records frames; ``stalled`` makes every send wait forever, like a client that stopped reading."""

    def __init__(self, stalled: bool = False) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self.stalled = stalled
        self._never = asyncio.Event()

    async def send(self, text: str) -> None:
        if self.stalled:
            await self._never.wait()
        self.frames.append(json.loads(text))

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def subscriber(self, limit: int = 64) -> Subscriber:
        return Subscriber(Outbox(self.send, self.close, limit))

    def seqs(self, kind: str = "event") -> list[int]:
        return [f["seq"] for f in self.frames if f["type"] == kind]

    def last(self, kind: str) -> dict[str, Any]:
        return [f for f in self.frames if f["type"] == kind][-1]


async def _hall_with_writer(engine: AsyncEngine, hub: Hub, hall: int) -> tuple[Writer, list[int]]:
    """Six clerks and a writer publishing to the hub, for the test to run with ``async with``."""
    clerks = await add_staff(engine, hall, 6)
    writer = Writer(engine, [QueueDomain()])
    writer.add_listener(hub.publish)
    await hub.load_heads()
    return writer, clerks


async def _toggle(writer: Writer, hall: int, clerk: int, counter: int, times: int) -> None:
    for i in range(times):
        name = "counter.open" if i % 2 == 0 else "counter.close"
        assert (await writer.submit(command(hall, name, clerk, counter))).ok


async def test_a_new_subscriber_gets_a_snapshot_then_live_events(database: Database, halls: dict[str, int]) -> None:
    engine, hall = database.engines[0], halls["xh"]
    hub = Hub(engine, core_topics())
    writer, (clerk, *_) = await _hall_with_writer(engine, hub, hall)
    sock = FakeSocket()
    topic = Topic(hall, "wallboard")
    async with writer:
        assert await hub.subscribe(sock.subscriber(), topic, None) == "snapshot"
        snapshot = sock.frames[0]
        assert snapshot["type"] == "snapshot"
        assert len(snapshot["data"]["counters"]) == 12
        assert sock.frames[-1] == {
            "type": "subscribed",
            "topic": str(topic),
            "mode": "snapshot",
            "seq": snapshot["seq"],
        }
        await _toggle(writer, hall, clerk, 1, 3)
    assert sock.seqs() == [snapshot["seq"] + 1, snapshot["seq"] + 2, snapshot["seq"] + 3]


async def test_resume_returns_exactly_the_missed_events(database: Database, halls: dict[str, int]) -> None:
    engine, hall = database.engines[0], halls["xh"]
    hub = Hub(engine, core_topics())
    writer, (clerk, *_) = await _hall_with_writer(engine, hub, hall)
    topic = Topic(hall, "wallboard")
    first = FakeSocket()
    connection = first.subscriber()
    async with writer:
        await hub.subscribe(connection, topic, None)
        await _toggle(writer, hall, clerk, 1, 4)
        seen = first.seqs()[1]  # the client saw two events, then lost its connection
        hub.drop(connection)
        await _toggle(writer, hall, clerk, 1, 4)
        again = FakeSocket()
        assert await hub.subscribe(again.subscriber(), topic, seen) == "replay"
        await _toggle(writer, hall, clerk, 1, 1)
    head = hub.head(hall)
    assert again.seqs() == list(range(seen + 1, head + 1))
    assert again.last("subscribed")["seq"] == head - 1


async def test_resume_reads_the_database_when_the_ring_has_moved_on(database: Database, halls: dict[str, int]) -> None:
    engine, hall = database.engines[0], halls["xh"]
    hub = Hub(engine, core_topics(), ring_size=3, replay_max=100)
    writer, (clerk, *_) = await _hall_with_writer(engine, hub, hall)
    start = hub.head(hall)
    async with writer:
        await _toggle(writer, hall, clerk, 2, 10)
    sock = FakeSocket()
    assert await hub.subscribe(sock.subscriber(), Topic(hall, "counter", 2), start + 1) == "replay"
    assert sock.seqs() == list(range(start + 2, start + 11))


async def test_a_client_too_far_behind_or_ahead_gets_a_fresh_snapshot(
    database: Database, halls: dict[str, int]
) -> None:
    engine, hall = database.engines[0], halls["xh"]
    hub = Hub(engine, core_topics(), ring_size=3, replay_max=4)
    writer, (clerk, *_) = await _hall_with_writer(engine, hub, hall)
    start = hub.head(hall)
    async with writer:
        await _toggle(writer, hall, clerk, 2, 10)
    behind, ahead = FakeSocket(), FakeSocket()
    assert await hub.subscribe(behind.subscriber(), Topic(hall, "queue"), start) == "snapshot"
    assert await hub.subscribe(ahead.subscriber(), Topic(hall, "queue"), start + 1000) == "snapshot"
    for sock in (behind, ahead):
        assert sock.frames[0]["seq"] == start + 10
        assert sock.seqs() == []


async def test_events_published_while_a_resume_reads_the_database_are_neither_lost_nor_doubled(
    database: Database, halls: dict[str, int]
) -> None:
    engine, hall = database.engines[0], halls["xh"]
    hub = Hub(engine, core_topics(), ring_size=2, replay_max=1000)
    writer, (alice, bob, *_) = await _hall_with_writer(engine, hub, hall)
    start = hub.head(hall)
    topic = Topic(hall, "wallboard")
    async with writer:
        await _toggle(writer, hall, alice, 1, 6)
        sock = FakeSocket()
        # The resume awaits the database while bob's commands keep committing and publishing.
        await asyncio.gather(hub.subscribe(sock.subscriber(), topic, start), _toggle(writer, hall, bob, 2, 6))
        await _toggle(writer, hall, bob, 2, 2)
    assert sock.seqs() == list(range(start + 1, start + 15))


async def test_public_queue_topic_carries_no_staff_data(database: Database, halls: dict[str, int]) -> None:
    engine, hall = database.engines[0], halls["xh"]
    hub = Hub(engine, core_topics())
    writer, (clerk, *_) = await _hall_with_writer(engine, hub, hall)
    sock = FakeSocket()
    async with writer:
        await hub.subscribe(sock.subscriber(), Topic(hall, "queue"), None)
        assert (await writer.submit(command(hall, "counter.open", clerk, 6))).ok
        assert (await writer.submit(command(hall, "counter.pause", clerk, 6, reason="家里有事"))).ok
    text = json.dumps(sock.frames, ensure_ascii=False)
    assert "家里有事" not in text
    assert all("clerk" not in c and "clerk_name" not in c for c in sock.frames[0]["data"]["counters"])
    assert [f["event"]["data"] for f in sock.frames if f["type"] == "event"] == [{"counter": 6}, {"counter": 6}]


async def test_a_slow_client_is_cut_without_delaying_the_others(database: Database, halls: dict[str, int]) -> None:
    engine, hall = database.engines[0], halls["xh"]
    hub = Hub(engine, core_topics())
    writer, (clerk, *_) = await _hall_with_writer(engine, hub, hall)
    topic = Topic(hall, "queue")
    slow, fast = FakeSocket(stalled=True), [FakeSocket() for _ in range(5)]
    slow_sub = slow.subscriber(limit=8)
    async with writer:
        await hub.subscribe(slow_sub, topic, hub.head(hall))
        for sock in fast:
            await hub.subscribe(sock.subscriber(), topic, hub.head(hall))
        await _toggle(writer, hall, clerk, 3, 20)
        await asyncio.sleep(0)
    assert slow.closed is not None and slow.closed[0] == SLOW_CONSUMER
    assert slow_sub.outbox.closed
    assert hub.subscriber_count(topic) == 5
    for sock in fast:
        assert len(sock.seqs()) == 20


async def test_heartbeats_reach_every_subscriber_once(database: Database, halls: dict[str, int]) -> None:
    hub = Hub(database.engines[0], core_topics())
    await hub.load_heads()
    one, two = FakeSocket(), FakeSocket()
    sub = one.subscriber()
    await hub.subscribe(sub, Topic(halls["xh"], "queue"), None)
    await hub.subscribe(sub, Topic(halls["xh-hp"], "queue"), None)
    await hub.subscribe(two.subscriber(), Topic(halls["xh"], "queue"), None)
    hub.heartbeat()
    for sock in (one, two):
        assert [f for f in sock.frames if f["type"] == "heartbeat"] == [{"type": "heartbeat"}]


async def test_screens_reconnecting_together_share_one_snapshot_read(database: Database, halls: dict[str, int]) -> None:
    from dataclasses import replace as with_field

    from realtime.topics import TopicRegistry

    reads = 0
    registry = TopicRegistry()
    for kind in core_topics().kinds():
        if kind.name == "queue":
            original = kind.snapshot

            async def counted(conn: Any, topic: Topic, original: Any = original) -> Any:
                nonlocal reads
                reads += 1
                return await original(conn, topic)

            kind = with_field(kind, snapshot=counted)
        registry.register(kind)
    engine, hall = database.engines[0], halls["xh"]
    hub = Hub(engine, registry)
    writer, (clerk, other, *_) = await _hall_with_writer(engine, hub, hall)
    socks = [FakeSocket() for _ in range(20)]
    topic = Topic(hall, "queue")
    async with writer:
        await asyncio.gather(*(hub.subscribe(s.subscriber(), topic, None) for s in socks[:10]))
        assert reads == 1
        await hub.subscribe(socks[10].subscriber(), topic, None)  # nothing happened since: reused
        assert reads == 1
        await _toggle(writer, hall, clerk, 1, 1)  # the log moved on: a fresh read
        await asyncio.gather(*(hub.subscribe(s.subscriber(), topic, None) for s in socks[11:]))
        assert reads == 2
        await _toggle(writer, hall, other, 2, 1)
    head = hub.head(hall)
    for sock in socks:
        assert sock.frames[0]["type"] == "snapshot"
        at = sock.last("subscribed")["seq"]
        assert sock.seqs() == list(range(at + 1, head + 1))  # nothing missed after the shared snapshot
