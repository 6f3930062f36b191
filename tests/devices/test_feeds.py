"""What displays are told: rendered from the queue state and the hall's latest calls, the same
before and after a restart however long ago the last call was, and never broken by a counter
event landing while the feed reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import devices.feeds
from devices.bus import ServerBus
from devices.feeds import DisplayFeed
from devices.registry import Device, Kind, Status
from hall.kernel.events import Command, Event
from hall.runtime import core_domains
from hall.sample import load_sample
from hall.setup import initialise
from hall.storage.database import create_engine
from hall.storage.follower import Follower
from hall.storage.tables import hall_heads
from hall.storage.writer import Writer
from tests.conftest import Database
from tests.factories import add_staff
from tests.memory_broker import MemoryBroker
from tests.site import open_all_week

pytestmark = pytest.mark.asyncio

DISPLAYS = [
    Device("xh-led-1", Kind.LED, Status.ACTIVE),
    Device("xh-qd-1", Kind.QUEUE_DISPLAY, Status.ACTIVE),
    Device("xh-c1-window", Kind.WINDOW, Status.ACTIVE, counter=1),
    Device("xh-c2-screen", Kind.CITIZEN_SCREEN, Status.ACTIVE, counter=2),
]


class ShownBus(ServerBus):
    """The bus as the feed uses it: the latest content per topic, nothing sent anywhere."""

    def __init__(self) -> None:
        super().__init__(MemoryBroker().connector(), [])
        self.shown: dict[str, dict[str, Any]] = {}

    def show(self, topic: str, payload: bytes) -> None:
        super().show(topic, payload)
        self.shown[topic.split("/")[3]] = json.loads(payload)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Hall:
    engine: AsyncEngine
    writer: Writer
    clock: Clock
    hall_id: int
    clerks: list[int]

    async def submit(self, name: str, **args: Any) -> Any:
        outcome = await self.writer.submit(Command(uuid.uuid4().hex, self.hall_id, name, "staff:test", args))
        assert outcome.ok, outcome.result
        return outcome.result

    def feed(self) -> tuple[DisplayFeed, ShownBus]:
        bus = ShownBus()
        feed = DisplayFeed(self.engine, self.writer, bus, lambda hall_id: [("xh", d) for d in DISPLAYS])
        self.writer.add_listener(feed.on_events)
        return feed, bus


@contextlib.asynccontextmanager
async def a_hall(tmp_path: Path, clock: Clock) -> AsyncIterator[Hall]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}", synchronous="NORMAL")
    ids, _ = await initialise(engine)
    await open_all_week(engine)
    clerks = await add_staff(engine, ids["xh"], 2)
    writer = Writer(engine, core_domains(), clock=clock)
    await writer.start()
    try:
        yield Hall(engine, writer, clock, ids["xh"], clerks)
    finally:
        await writer.stop()
        await engine.dispose()


async def test_displays_show_the_same_after_a_restart_long_after_the_last_call(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))  # 10:00 in the hall
    async with a_hall(tmp_path, clock) as hall:
        live, live_bus = hall.feed()
        for counter, clerk in zip((1, 2), hall.clerks, strict=True):
            await hall.submit("counter.open", counter=counter, clerk=clerk)
        await hall.submit("ticket.issue", service="soc")
        await hall.submit("ticket.issue", service="soc")
        await hall.submit("ticket.call_next", counter=1, clerk=hall.clerks[0])
        await hall.submit("ticket.start", counter=1, clerk=hall.clerks[0])
        await hall.submit("ticket.call_next", counter=2, clerk=hall.clerks[1])
        await live.refresh(hall.hall_id)

        # A busy day and night at the kiosks with no call: many more events than any window.
        for _ in range(13):
            clock.now += timedelta(hours=2)
            await asyncio.gather(*(hall.submit("ticket.issue", service="fund") for _ in range(50)))
        await live.refresh(hall.hall_id)
        assert clock.now - datetime(2026, 12, 3, 2, 0, tzinfo=UTC) > timedelta(days=1)

        restarted, restarted_bus = hall.feed()
        assert await restarted.refresh(hall.hall_id) == len(DISPLAYS)

    assert restarted_bus.shown == live_bus.shown
    shown = restarted_bus.shown
    assert shown["xh-led-1"]["lines"] and "A002" in shown["xh-led-1"]["lines"][0]
    assert [c["number"] for c in shown["xh-qd-1"]["calls"]] == ["A002", "A001"]
    assert shown["xh-qd-1"]["waiting"]["fund"] > 0


async def test_a_restarted_feed_shows_what_counters_hold_now(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    async with a_hall(tmp_path, clock) as hall:
        await hall.submit("counter.open", counter=1, clerk=hall.clerks[0])
        await hall.submit("ticket.issue", service="soc")
        await hall.submit("ticket.call_next", counter=1, clerk=hall.clerks[0])
        await hall.submit("ticket.start", counter=1, clerk=hall.clerks[0])
        for _ in range(3):
            await asyncio.gather(*(hall.submit("ticket.issue", service="fund") for _ in range(200)))
        feed, bus = hall.feed()
        await feed.refresh(hall.hall_id)
    window = bus.shown["xh-c1-window"]
    assert (window["status"], window["number"], window["serving"]) == ("open", "A001", True)
    assert "A001" in window["text"]["zh_CN"]
    assert bus.shown["xh-c2-screen"]["status"] == "closed"


async def test_counter_events_landing_while_the_feed_reads_break_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    async with a_hall(tmp_path, clock) as hall:
        feed, bus = hall.feed()
        await hall.submit("counter.open", counter=2, clerk=hall.clerks[0])
        real = devices.feeds.reading
        seq = iter(range(1000, 2000))

        @contextlib.asynccontextmanager
        async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
            async with real(engine) as conn:
                yield conn
            # Each read of the feed ends just as a clerk acts at a counter (names are dropped).
            event = Event(hall.hall_id, next(seq), "counter.paused", {"counter": 5}, "staff:1", clock.now)
            feed.on_events([event])

        monkeypatch.setattr(devices.feeds, "reading", reading)
        assert await feed.refresh(hall.hall_id) == len(DISPLAYS)
    assert bus.shown["xh-c2-screen"]["clerk"]["name"]


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_displays_show_calls_made_at_another_server_process(database: Database) -> None:
    """Two server processes on one PostgreSQL, the devices at the first: its feed hears, through its
    log follower, the tickets and calls the second one committed, in order."""
    engine = database.engines[0]
    async with engine.begin() as conn:
        ids = await load_sample(conn, datetime.now(UTC))
    await open_all_week(engine)
    hall_id = ids["xh"]
    (clerk,) = await add_staff(engine, hall_id, 1)
    ours = Writer(database.engine(), core_domains())
    theirs = Writer(database.engine(), core_domains())
    feed_engine = database.engine()
    bus = ShownBus()
    feed = DisplayFeed(feed_engine, ours, bus, lambda hall: [("xh", d) for d in DISPLAYS])
    follower = Follower(feed_engine, lambda hall: heads.get(hall, 0))
    heads: dict[int, int] = {}

    def position(events: Sequence[Event]) -> None:
        for event in events:
            heads[event.hall_id] = event.seq

    async with engine.connect() as conn:
        heads.update({r.hall_id: int(r.last_seq) for r in await conn.execute(select(hall_heads))})
    follower.add_sink(position)
    follower.add_sink(feed.on_events)
    ours.add_listener(follower.offer)
    async with ours, theirs:
        await feed.refresh(hall_id)

        async def submit(name: str, **args: Any) -> None:
            outcome = await theirs.submit(Command(uuid.uuid4().hex, hall_id, name, "staff:test", args))
            assert outcome.ok, outcome.result

        await submit("counter.open", counter=1, clerk=clerk)
        await submit("ticket.issue", service="soc")
        await submit("ticket.call_next", counter=1, clerk=clerk)
        await follower.catch_up()
        await feed.refresh(hall_id)
    assert [c["number"] for c in bus.shown["xh-qd-1"]["calls"]] == ["A001"]
    assert bus.shown["xh-c1-window"]["number"] == "A001"


async def test_a_feed_that_takes_the_lead_shows_every_display_from_the_state_and_one_that_loses_it_stops(
    tmp_path: Path,
) -> None:
    """Among several processes one feed publishes the displays, under its lease. A feed that does
    not lead publishes nothing; taking over, it publishes every display again from the state, as
    the process that died may have left older content; losing the lead, it keeps nothing to
    republish after a reconnect."""
    clock = Clock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    async with a_hall(tmp_path, clock) as hall:
        feed, bus = hall.feed()
        feed.leading = False
        await hall.submit("counter.open", counter=1, clerk=hall.clerks[0])
        await hall.submit("ticket.issue", service="soc")
        await hall.submit("ticket.call_next", counter=1, clerk=hall.clerks[0])
        assert await feed.refresh(hall.hall_id) == 0
        assert bus.shown == {}

        running = asyncio.create_task(feed.run())
        leading = asyncio.create_task(feed.lead(lambda: [hall.hall_id]))
        async with asyncio.timeout(5):
            while len(bus.shown) < len(DISPLAYS):
                await asyncio.sleep(0.01)
        assert bus.shown["xh-c1-window"]["number"] == "A001"
        assert "A001" in bus.shown["xh-led-1"]["lines"][0]
        assert bus.kept == len(DISPLAYS)

        leading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await leading
        await hall.submit("ticket.recall", counter=1, clerk=hall.clerks[0])
        assert await feed.refresh(hall.hall_id) == 0
        await feed.calm.settle()
        feed.touch(hall.hall_id)
        await running
    assert feed.leading is False
    assert bus.kept == 0


async def test_a_call_committed_between_the_feeds_two_reads_is_shown(tmp_path: Path) -> None:
    """The feed reads the queue state (and its head), then the board's latest calls up to that
    head. A call committed in between is past the head, so the board's read leaves it out; it must
    be kept as it arrives and folded in, not dropped because no board existed yet."""
    clock = Clock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    async with a_hall(tmp_path, clock) as hall:
        feed, bus = hall.feed()
        await hall.submit("counter.open", counter=1, clerk=hall.clerks[0])
        await hall.submit("ticket.issue", service="soc")
        writer = hall.writer

        class CallAfterTheStateIsRead:
            async def read_state(self, hall_id: int, domain: str) -> Any:
                read = await writer.read_state(hall_id, domain)
                # The clerk calls now: committed, and its event delivered to the feed.
                await hall.submit("ticket.call_next", counter=1, clerk=hall.clerks[0])
                return read

        feed._writer = CallAfterTheStateIsRead()  # type: ignore[assignment]
        await feed.refresh(hall.hall_id)
        feed._writer = writer
        await feed.refresh(hall.hall_id)
    assert [c["number"] for c in bus.shown["xh-qd-1"]["calls"]] == ["A001"]
