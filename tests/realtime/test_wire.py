"""Frames written to the transport: encoded as websockets encodes them, in order, never into a
closed connection, held while the transport is paused, and a client too slow for its backlog cut."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from hall.runtime import core_topics
from hall.storage.writer import Writer
from queueing.store import QueueDomain
from realtime.connection import SLOW_CONSUMER
from realtime.hub import Hub, Subscriber
from realtime.topics import Topic
from realtime.wire import WireOutbox, encode_text
from tests.conftest import Database
from tests.factories import add_staff, command


class FakeWire:
    """A connection's transport: records each write; can pause (buffer full) and close."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.paused = False
        self.open = True
        self.closed_with: tuple[int, str] | None = None
        self._drained = asyncio.Event()
        self._drained.set()

    def ready(self) -> bool:
        return self.open and not self.paused

    def is_open(self) -> bool:
        return self.open

    def write(self, data: bytes) -> None:
        assert self.ready(), "written while not ready"
        self.writes.append(data)

    async def drained(self) -> None:
        await self._drained.wait()

    def pause(self) -> None:
        self.paused = True
        self._drained.clear()

    def resume(self) -> None:
        self.paused = False
        self._drained.set()

    def lose(self) -> None:
        self.open = False
        self._drained.set()  # as uvicorn's protocol does when the connection is lost

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)

    def outbox(self, limit: int = 64) -> WireOutbox:
        return WireOutbox(self, self.close, limit)

    def texts(self) -> list[str]:
        return [_decode(data) for data in self.writes]

    def frames(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.texts()]


def _decode(data: bytes) -> str:
    """One whole frame as a websockets client parses it: exactly one unmasked text frame."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
    else:
        raise AssertionError("an incomplete frame")
    assert reader.at_eof(), "bytes after the frame"
    assert frame.opcode is Opcode.TEXT and frame.fin and not frame.rsv1
    return bytes(frame.data).decode()


@given(st.text())
@example("")
@example("x" * 125)
@example("x" * 126)
@example("字" * 21_845)  # 65,535 bytes: the largest 16-bit length
@example("x" * 65_536)  # the first 64-bit length
def test_a_frame_is_the_bytes_websockets_would_send_as_a_server_unmasked(text: str) -> None:
    assert encode_text(text) == Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
    assert _decode(encode_text(text)) == text


async def test_frames_go_to_the_transport_whole_and_in_order() -> None:
    wire = FakeWire()
    outbox = wire.outbox()
    for n in range(5):
        assert outbox.offer(json.dumps({"n": n}))
    assert [f["n"] for f in wire.frames()] == [0, 1, 2, 3, 4]
    assert outbox.sent == 5 and outbox.backlog == 0


async def test_while_the_transport_is_paused_frames_wait_and_then_go_out_in_order() -> None:
    wire = FakeWire()
    outbox = wire.outbox(limit=8)
    outbox.offer(json.dumps({"n": 0}))
    wire.pause()
    for n in range(1, 6):
        assert outbox.offer(json.dumps({"n": n}))
    assert [f["n"] for f in wire.frames()] == [0]
    assert outbox.backlog == 5
    wire.resume()
    outbox.offer(json.dumps({"n": 6}))  # offered after the resume, before the waiting ones went out
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert [f["n"] for f in wire.frames()] == [0, 1, 2, 3, 4, 5, 6]
    assert outbox.backlog == 0 and outbox.sent == 7
    outbox.offer(json.dumps({"n": 7}))  # written at once again
    assert [f["n"] for f in wire.frames()][-1] == 7


async def test_a_client_paused_past_its_backlog_is_cut_and_gets_nothing_more() -> None:
    wire = FakeWire()
    outbox = wire.outbox(limit=8)
    wire.pause()
    accepted = [outbox.offer(json.dumps({"n": n})) for n in range(12)]
    assert accepted == [True] * 9 + [False] * 3  # one waiting for the drain, eight behind it
    await outbox.wait_closed()
    assert wire.closed_with is not None and wire.closed_with[0] == SLOW_CONSUMER
    wire.resume()
    await asyncio.sleep(0)
    assert wire.writes == []
    assert outbox.closed and not outbox.offer("{}")


async def test_a_closed_connection_is_never_written() -> None:
    wire = FakeWire()
    outbox = wire.outbox()
    wire.lose()
    assert not outbox.offer("{}")
    assert outbox.closed and wire.writes == []


async def test_frames_waiting_when_the_connection_goes_are_dropped_not_written() -> None:
    wire = FakeWire()
    outbox = wire.outbox()
    wire.pause()
    for n in range(3):
        outbox.offer(json.dumps({"n": n}))
    wire.lose()
    await outbox.wait_closed()
    assert outbox.closed and wire.writes == []


async def _hall_with_writer(engine: AsyncEngine, hub: Hub, hall: int) -> tuple[Writer, int]:
    (clerk,) = await add_staff(engine, hall, 1)
    writer = Writer(engine, [QueueDomain()])
    writer.add_listener(hub.publish)
    await hub.load_heads()
    return writer, clerk


async def _toggle(writer: Writer, hall: int, clerk: int, counter: int, times: int) -> None:
    for i in range(times):
        name = "counter.open" if i % 2 == 0 else "counter.close"
        assert (await writer.submit(command(hall, name, clerk, counter))).ok


def _seqs(wire: FakeWire) -> list[int]:
    return [f["seq"] for f in wire.frames() if f["type"] == "event"]


async def test_on_the_wire_a_slow_client_is_cut_alone_and_resumes_with_exactly_what_it_missed(
    database: Database, halls: dict[str, int]
) -> None:
    engine, hall = database.engines[0], halls["xh"]
    hub = Hub(engine, core_topics())
    writer, clerk = await _hall_with_writer(engine, hub, hall)
    topic = Topic(hall, "queue")
    slow, fast = FakeWire(), [FakeWire() for _ in range(5)]
    async with writer:
        start = hub.head(hall)
        slow_sub = Subscriber(slow.outbox(limit=8))
        await hub.subscribe(slow_sub, topic, start)
        for wire in fast:
            await hub.subscribe(Subscriber(wire.outbox()), topic, start)
        assert hub.stats()["send_paths"] == {"wire": 6}
        await _toggle(writer, hall, clerk, 3, 2)
        slow.pause()  # the slow client stops reading: its transport's buffer fills
        await _toggle(writer, hall, clerk, 3, 18)
        await asyncio.sleep(0)
        assert slow.closed_with is not None and slow.closed_with[0] == SLOW_CONSUMER
        assert slow_sub.outbox.closed and hub.subscriber_count(topic) == 5
        seen = _seqs(slow)[-1]
        again = FakeWire()
        assert await hub.subscribe(Subscriber(again.outbox()), topic, seen) == "replay"
        await _toggle(writer, hall, clerk, 3, 1)
    head = hub.head(hall)
    assert _seqs(slow) == [start + 1, start + 2]
    assert _seqs(again) == list(range(seen + 1, head + 1))
    for wire in fast:
        assert _seqs(wire) == list(range(start + 1, head + 1))
    # One encoding per event: after its own "subscribed" frame, every transport got the very same
    # bytes objects.
    first = fast[0].writes
    assert all(wire.writes[i] is first[i] for wire in fast for i in range(1, len(first)))
