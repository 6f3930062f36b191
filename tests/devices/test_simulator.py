"""Virtual devices keep the MQTT protocol (docs/protocols/mqtt.md) the way a device maker must: on
the in-process broker and on a real Mosquitto alike. The test plays the server: it sees what the
devices publish and sends them commands, display content and replies by hand."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from stdnum.cn import ric

from devices.bus import BrokerAddress, Connector, Incoming, Link, mqtt_connector
from devices.protocol import encode, parse_topic, reply_message, topic, valid_device_id
from devices.registry import Kind
from devices.simulator import (
    IdReader,
    Keypad,
    Kiosk,
    RatingPad,
    Reply,
    SimulatedHall,
    VirtualDevice,
    arrivals_per_hour,
    make_resident,
    plan,
)
from tests.brokers import Broker
from tests.memory_broker import MemoryBroker
from tests.timing import MS

HALL = "h1"
TICKET_ESCPOS = base64.b64encode(b"\x1b@\x1d!\x33A023\n\x1bd\x06\x1dV\x00").decode()
PRINT = {"ticket": 17, "escpos": TICKET_ESCPOS}

Answer = Callable[[str, Mapping[str, Any]], tuple[bool, Mapping[str, Any]]]


@pytest.fixture(params=["memory", "mosquitto"])
def connect(request: pytest.FixtureRequest) -> Connector:
    if request.param == "memory":
        return MemoryBroker().connector()
    broker = request.getfixturevalue("open_broker")
    return mqtt_connector(BrokerAddress.parse(broker.url))


class Server:
    """The server's end of the bus, played by the test: what each device published, by channel,
    and the server's messages to devices. With ``answer`` set, it replies to every event."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.inbox: defaultdict[str, asyncio.Queue[Incoming]] = defaultdict(asyncio.Queue)
        self.answer: Answer | None = None

    async def read(self) -> None:
        async for message in self.link.messages():
            address = parse_topic(message.topic)
            if address.channel == "evt" and self.answer is not None:
                event = json.loads(message.payload)
                ok, body = self.answer(address.device, event)
                await self.reply(address.device, event["id"], ok, body)
                continue
            self.inbox[message.topic].put_nowait(message)

    async def next(self, device: str, channel: str) -> dict[str, Any]:
        async with asyncio.timeout(3000 * MS):
            message = await self.inbox[topic(HALL, device, channel)].get()
        body: dict[str, Any] = json.loads(message.payload)
        return body

    async def command(self, device: str, command_id: str, name: str, args: Mapping[str, Any] | None = None) -> None:
        payload = encode({"id": command_id, "name": name, "args": dict(args or {})})
        await self.link.publish(topic(HALL, device, "cmd"), payload, qos=1)

    async def display(self, device: str, content: Mapping[str, Any]) -> None:
        await self.link.publish(topic(HALL, device, "display"), encode(content), qos=1, retain=True)

    async def reply(self, device: str, event_id: str, ok: bool, body: Mapping[str, Any]) -> None:
        await self.link.publish(topic(HALL, device, "reply"), reply_message(event_id, ok, body), qos=1)


@pytest.fixture
async def server(connect: Connector) -> AsyncIterator[Server]:
    async with connect("hall-server", None) as link:
        await link.subscribe([topic(HALL, "+", channel) for channel in ("state", "tele", "evt", "ack")])
        made = Server(link)
        reading = asyncio.create_task(made.read())
        try:
            yield made
        finally:
            await finish(reading)


@contextlib.asynccontextmanager
async def running(device: VirtualDevice) -> AsyncIterator[VirtualDevice]:
    task = device.start()
    try:
        async with asyncio.timeout(3000 * MS):
            await device.online.wait()
        yield device
    finally:
        await device.stop()
        await finish(task)


async def finish(task: asyncio.Task[None]) -> None:
    # Python 3.11's asyncio.wait_for (inside aiomqtt's publish) can swallow a cancellation.
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.05)
    if not task.cancelled():
        task.result()


async def eventually(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(3000 * MS):
        while not check():
            await asyncio.sleep(0.01)


# -- presence --------------------------------------------------------------------------------


async def test_a_device_announces_itself_online_with_its_kind_and_firmware_and_reports_telemetry(
    connect: Connector, server: Server
) -> None:
    pad = RatingPad("h1-c1-rating", HALL, connect, counter=1, firmware="2.3.1")
    async with running(pad):
        state = await server.next(pad.device_id, "state")
        tele = await server.next(pad.device_id, "tele")
    assert state == {"v": 1, "status": "online", "kind": "rating_pad", "firmware": "2.3.1"}
    assert tele["v"] == 1
    assert tele["firmware"] == "2.3.1"
    assert {"uptime", "temperature", "rssi"} <= tele.keys()


async def test_a_device_sends_telemetry_every_heartbeat(connect: Connector, server: Server) -> None:
    pad = RatingPad("h1-c1-rating", HALL, connect, counter=1, heartbeat=0.2)
    async with running(pad):
        first = await server.next(pad.device_id, "tele")
        second = await server.next(pad.device_id, "tele")
    assert second["uptime"] > first["uptime"]


async def test_a_crashed_device_is_declared_offline_by_its_will(connect: Connector, server: Server) -> None:
    pad = RatingPad("h1-c1-rating", HALL, connect, counter=1)
    async with running(pad):
        assert (await server.next(pad.device_id, "state"))["status"] == "online"
        await pad.crash()
        assert await server.next(pad.device_id, "state") == {"v": 1, "status": "offline"}
        assert not pad.online.is_set()

    # Retained: whoever looks later still finds the device offline.
    async with connect("a-late-watcher", None) as link:
        await link.subscribe([pad.topic("state")])
        async with asyncio.timeout(3000 * MS):
            retained = await anext(aiter(link.messages()))
    assert json.loads(retained.payload) == {"v": 1, "status": "offline"}


async def test_a_device_that_stops_on_purpose_says_offline_itself(connect: Connector, server: Server) -> None:
    pad = RatingPad("h1-c1-rating", HALL, connect, counter=1)
    async with running(pad):
        await server.next(pad.device_id, "state")
    # A clean disconnect suppresses the Will, so this offline is the device's own message.
    assert await server.next(pad.device_id, "state") == {"v": 1, "status": "offline"}


async def test_a_device_comes_back_online_by_itself_after_the_broker_restarts(open_broker: Broker) -> None:
    connect = mqtt_connector(BrokerAddress.parse(open_broker.url))
    pad = RatingPad("h1-c1-rating", HALL, connect, counter=1)
    async with running(pad):
        open_broker.stop()
        await eventually(lambda: not pad.online.is_set())
        open_broker.start()
        await eventually(lambda: pad.connects == 2 and pad.online.is_set())


# -- commands --------------------------------------------------------------------------------


async def test_a_command_repeated_with_the_same_id_prints_once_and_is_acked_twice_with_the_first_result(
    connect: Connector, server: Server
) -> None:
    kiosk = Kiosk("h1-kiosk-1", HALL, connect)
    async with running(kiosk):
        await server.command(kiosk.device_id, "cmd-print-0001", "print", PRINT)
        first = await server.next(kiosk.device_id, "ack")
        # The server's retry after an ack it did not see in time: same id.
        await server.command(kiosk.device_id, "cmd-print-0001", "print", PRINT)
        second = await server.next(kiosk.device_id, "ack")

    assert first == second == {"v": 1, "id": "cmd-print-0001", "ok": True, "result": {"printed": True}}
    assert kiosk.prints == 1
    assert kiosk.printed[0].ticket == 17
    assert list(kiosk.commands_seen) == ["cmd-print-0001", "cmd-print-0001"]
    assert kiosk.duplicate_commands == 1
    assert kiosk.acks_sent == 2


async def test_a_repeat_arriving_while_the_first_is_carried_out_does_not_act_twice(
    connect: Connector, server: Server
) -> None:
    kiosk = Kiosk("h1-kiosk-1", HALL, connect)
    async with running(kiosk):
        await server.command(kiosk.device_id, "cmd-print-0002", "print", PRINT)
        await server.command(kiosk.device_id, "cmd-print-0002", "print", PRINT)
        acks = [await server.next(kiosk.device_id, "ack"), await server.next(kiosk.device_id, "ack")]
    assert acks[0] == acks[1]
    assert kiosk.prints == 1


async def test_every_device_answers_ping_and_refuses_a_command_it_does_not_know(
    connect: Connector, server: Server
) -> None:
    keypad = Keypad("h1-c1-keypad", HALL, connect, counter=1)
    async with running(keypad):
        await server.command(keypad.device_id, "cmd-ping-0001", "ping")
        pong = await server.next(keypad.device_id, "ack")
        await server.command(keypad.device_id, "cmd-what-0001", "print", PRINT)
        refused = await server.next(keypad.device_id, "ack")
    assert pong == {"v": 1, "id": "cmd-ping-0001", "ok": True, "result": {"pong": True}}
    assert refused == {"v": 1, "id": "cmd-what-0001", "ok": False, "result": {}, "error": "unknown command: print"}


async def test_reboot_is_acked_then_the_device_reconnects_cleanly(connect: Connector, server: Server) -> None:
    pad = RatingPad("h1-c1-rating", HALL, connect, counter=1)
    async with running(pad):
        await server.next(pad.device_id, "state")
        await server.command(pad.device_id, "cmd-boot-0001", "reboot")
        ack = await server.next(pad.device_id, "ack")
        went = await server.next(pad.device_id, "state")
        came = await server.next(pad.device_id, "state")
        await eventually(lambda: pad.connects == 2)
    assert ack["ok"] is True
    assert [went["status"], came["status"]] == ["offline", "online"]


async def test_a_display_shows_a_test_pattern_on_command(connect: Connector, server: Server) -> None:
    led = VirtualDevice("h1-led-1", HALL, Kind.LED, connect)
    async with running(led):
        await server.command(led.device_id, "cmd-show-0001", "show", {"pattern": "grid", "seconds": 5})
        ack = await server.next(led.device_id, "ack")
    assert ack["result"] == {"shown": "grid", "seconds": 5}
    assert led.test_pattern == "grid"


# -- display content -------------------------------------------------------------------------


async def test_a_device_that_connects_later_shows_the_retained_display_content(
    connect: Connector, server: Server
) -> None:
    content = {"kind": "window", "counter": 1, "number": "A023", "text": "请 A023 到 1 号窗口"}
    await server.display("h1-c1-window", content)

    window = VirtualDevice("h1-c1-window", HALL, Kind.WINDOW, connect, counter=1)
    async with running(window):
        await eventually(lambda: window.display == {"v": 1, **content})
        # New content replaces it while the device is connected.
        await server.display("h1-c1-window", {"kind": "window", "counter": 1, "number": "A024"})
        await eventually(lambda: window.display is not None and window.display["number"] == "A024")


# -- events ----------------------------------------------------------------------------------


async def test_an_event_is_resent_with_the_same_id_until_the_server_replies(connect: Connector, server: Server) -> None:
    pad = RatingPad("h1-c1-rating", HALL, connect, counter=1, event_timeout=0.3)
    async with running(pad):
        rating = asyncio.create_task(pad.rate(5))
        first = await server.next(pad.device_id, "evt")  # lost on the way to the server, say
        second = await server.next(pad.device_id, "evt")
        await server.reply(pad.device_id, second["id"], True, {"rated": True, "level": 5})
        reply = await rating

    assert first == second == {"v": 1, "id": first["id"], "type": "rate", "data": {"level": 5}}
    assert reply == Reply(first["id"], True, {"rated": True, "level": 5})
    assert (pad.events_sent, pad.resends) == (1, 1)


async def test_an_event_without_a_reply_gives_up_after_its_tries(connect: Connector, server: Server) -> None:
    keypad = Keypad("h1-c1-keypad", HALL, connect, counter=1, event_timeout=0.1, event_retries=3)
    async with running(keypad):
        with pytest.raises(TimeoutError):
            await keypad.key("call")
        sent = [await server.next(keypad.device_id, "evt") for _ in range(3)]
    assert len({event["id"] for event in sent}) == 1
    assert (keypad.events_sent, keypad.resends) == (1, 2)


async def test_an_error_reply_is_returned_with_its_code_and_message(connect: Connector, server: Server) -> None:
    keypad = Keypad("h1-c1-keypad", HALL, connect, counter=1)
    server.answer = lambda device, event: (False, {"code": "counter_closed", "message": "counter 1 is closed"})
    async with running(keypad):
        reply = await keypad.key("call")
    assert not reply.ok
    assert (reply.code, reply.message) == ("counter_closed", "counter 1 is closed")


async def test_an_id_reader_sends_a_card_with_a_valid_id_number(connect: Connector, server: Server) -> None:
    reader = IdReader("h1-c1-idr", HALL, connect, counter=1, rng=random.Random(7))
    async with running(reader):
        swiped = asyncio.create_task(reader.swipe())
        event = await server.next(reader.device_id, "evt")
        await server.reply(reader.device_id, event["id"], True, {})
        await swiped
    assert event["type"] == "card"
    assert set(event["data"]) == {"name", "id_number", "sex", "nation", "birth", "address"}
    assert ric.is_valid(event["data"]["id_number"])


# -- the kiosk's paper -----------------------------------------------------------------------


async def test_a_kiosk_runs_out_of_paper_says_so_in_telemetry_and_refuses_to_print(
    connect: Connector, server: Server
) -> None:
    kiosk = Kiosk("h1-kiosk-1", HALL, connect, paper=3, near_end=1)
    async with running(kiosk):
        assert (await server.next(kiosk.device_id, "tele"))["paper"] == "ok"
        acks = []
        for n in range(1, 5):
            await server.command(kiosk.device_id, f"cmd-print-{n:04d}", "print", PRINT)
            acks.append(await server.next(kiosk.device_id, "ack"))
            if n == 2:
                assert (await server.next(kiosk.device_id, "tele"))["paper"] == "near_end"
            if n == 3:
                assert (await server.next(kiosk.device_id, "tele"))["paper"] == "out"

        await server.command(kiosk.device_id, "cmd-refill-0001", "paper_refill")
        refilled = await server.next(kiosk.device_id, "ack")
        after = await server.next(kiosk.device_id, "tele")

    assert [ack["ok"] for ack in acks] == [True, True, True, False]
    assert acks[3]["error"] == "paper out"
    assert kiosk.prints == 3
    assert refilled["result"] == {"paper": "ok"}
    assert after["paper"] == "ok"


# -- residents, the hall's plan and its day --------------------------------------------------


def test_make_resident_gives_valid_gb11643_numbers_that_agree_with_the_card() -> None:
    rng = random.Random(11643)
    for _ in range(300):
        person = make_resident(rng, today=date(2025, 6, 1))
        number = person.id_number
        assert ric.is_valid(number), number
        assert number[6:14] == person.card()["birth"]
        assert person.sex == ("男" if int(number[16]) % 2 else "女")
        assert 18 <= (date(2025, 6, 1) - person.birth).days // 365 <= 86


def test_plan_makes_valid_ids_for_every_device_of_a_standard_hall() -> None:
    specs = plan("xicheng-2", [1, 2, 12], kiosks=3)

    assert all(valid_device_id(spec.id) for spec in specs)
    assert len({spec.id for spec in specs}) == len(specs) == 3 + 2 + 3 * 5
    assert {spec.id for spec in specs if spec.counter == 12} == {
        "xicheng-2-c12-keypad",
        "xicheng-2-c12-window",
        "xicheng-2-c12-rating",
        "xicheng-2-c12-idr",
        "xicheng-2-c12-screen",
    }
    assert [spec.kind for spec in specs if spec.counter is None] == [Kind.KIOSK] * 3 + [Kind.LED, Kind.QUEUE_DISPLAY]
    assert all(spec.counter is not None for spec in specs if spec.kind.at_counter)


def test_plan_refuses_a_hall_code_too_long_for_device_ids() -> None:
    with pytest.raises(ValueError, match="not valid"):
        plan("a-very-long-hall-code-for-a-district", [1], kiosks=1)


def test_arrivals_follow_the_day_with_a_morning_and_an_afternoon_peak() -> None:
    def rate(hour: int, minute: int = 0) -> float:
        return arrivals_per_hour(time(hour, minute), peak=60)

    assert rate(8, 59) == rate(17) == rate(3) == 0
    assert rate(10) == 60
    assert rate(12, 30) < rate(9) < rate(10)
    assert rate(12, 30) < rate(14, 45) < rate(10)
    assert rate(14, 45) > rate(16, 30) > 0


async def test_a_simulated_hall_takes_tickets_serves_and_rates(connect: Connector, server: Server) -> None:
    calls: defaultdict[str, int] = defaultdict(int)

    def answer(device: str, event: Mapping[str, Any]) -> tuple[bool, Mapping[str, Any]]:
        if event["type"] == "press":
            return True, {"ticket": 1, "number": "A001", "ahead": 0, "estimate_minutes": 0}
        if event["type"] == "call":
            calls[device] += 1
            if calls[device] == 1:  # the clerk has not opened the counter yet
                return False, {"code": "counter_closed", "message": "closed"}
        return True, {}

    server.answer = answer
    hall = SimulatedHall(
        HALL,
        connect,
        plan(HALL, [1, 2], kiosks=2),
        services=["soc", "fund"],
        speed=600,  # ten hall minutes a second
        rng=random.Random(3),
        start=datetime(2025, 3, 3, 10, 0, tzinfo=timezone(timedelta(hours=8))),
    )
    running_hall = asyncio.create_task(hall.run())
    try:
        await eventually(lambda: hall.stats.ratings >= 1)
    finally:
        hall.stop()
        await running_hall

    stats = hall.stats
    assert stats.presses >= stats.tickets >= 1
    assert stats.calls >= 1
    assert stats.refused["counter_closed"] >= 1  # and the clerk tried again later
    assert stats.failures == 0
    assert all(not device.online.is_set() for device in hall.devices.values())


async def test_a_simulated_clerk_presses_no_key_at_a_counter_its_window_shows_closed(
    connect: Connector, server: Server
) -> None:
    pressed: defaultdict[str, int] = defaultdict(int)

    def answer(device: str, event: Mapping[str, Any]) -> tuple[bool, Mapping[str, Any]]:
        pressed[device] += 1
        if event["type"] == "press":
            return True, {"ticket": "20250303-A001", "number": "A001", "ahead": 0, "estimate_minutes": 0}
        return False, {"code": "nothing_waiting", "message": "nobody waits"}

    server.answer = answer
    # What the server's display feed shows: counter 1 open, counter 2 closed.
    for counter, status in ((1, "open"), (2, "closed")):
        content = {"kind": "window", "counter": counter, "status": status, "number": None, "serving": False}
        await server.display(f"{HALL}-c{counter}-window", content)
    hall = SimulatedHall(
        HALL,
        connect,
        plan(HALL, [1, 2], kiosks=1),
        services=["soc"],
        speed=600,
        rng=random.Random(5),
        start=datetime(2025, 3, 3, 10, 0, tzinfo=timezone(timedelta(hours=8))),
    )
    running_hall = asyncio.create_task(hall.run())
    try:
        await eventually(lambda: pressed[f"{HALL}-c1-keypad"] >= 3)
    finally:
        hall.stop()
        await running_hall
    assert hall.counter_status(2) == "closed"
    assert pressed[f"{HALL}-c2-keypad"] == 0
