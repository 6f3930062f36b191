"""Wired devices across real wires: a pty pair made by socat (or a TCP stand-in for a socket://
converter), with a device speaking each protocol at the far end, and the server's serial side
opening the near end as it opens hardware."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from devices import keypad_protocol as keypad
from devices import led_protocol as led
from devices.serial import SerialDevices
from devices.serial_drivers import Timing
from tests.devicehall import DeviceHall, device_hall
from tests.devices.wired_peers import Converter, Displays, FarEnd, Keypads, PtyPair, until
from tests.memory_broker import MemoryBroker

pytestmark = pytest.mark.asyncio
FAST = Timing(keypad_reply=0.05, keypad_gap=0.002, display_reply=0.1, display_poll=0.3, sam_reply=0.3, sam_find=0.05)


@contextlib.asynccontextmanager
async def serial_hall(tmp_path: Path) -> AsyncIterator[DeviceHall]:
    async with device_hall(tmp_path, MemoryBroker().connector()) as hall:
        hall.devices.serial.timing = FAST
        hall.devices.serial.backoff = (0.02, 0.1)
        yield hall


async def wire(hall: DeviceHall, device: str, port: str, address: int | None = None, **more: str) -> None:
    outcome = await hall.submit("xh", "device.wire", device=device, wire={"port": port, "address": address, **more})
    assert outcome.ok, outcome.result
    await hall.settle()


async def issue(hall: DeviceHall, count: int) -> None:
    for _ in range(count):
        outcome = await hall.submit("xh", "ticket.issue", actor="kiosk:test", service="soc")
        assert outcome.ok, outcome.result


async def queue(hall: DeviceHall) -> Any:
    read = await hall.runtime.writer.read_state(hall.halls["xh"], "queue")
    assert read is not None
    return read[1]


async def current(hall: DeviceHall, counter: int) -> str | None:
    state = await queue(hall)
    ticket = state.line(counter).current
    return state.tickets[ticket].number if ticket else None


async def test_a_keypad_bus_with_three_addresses_calls_at_three_counters(tmp_path: Path) -> None:
    pty = PtyPair(tmp_path)
    await pty.plug()
    pads = Keypads([1, 2, 3])
    far = FarEnd(pty.device, keypad.KeypadDecoder(), pads.answer)
    far.start()
    try:
        async with serial_hall(tmp_path) as hall:
            clerks = [hall.clerk, *await hall.more_clerks(2)]
            for n in (1, 2, 3):
                await hall.register(f"xh-c{n}-keypad", "keypad", counter=n)
                await hall.open_counter(n, clerk=clerks[n - 1])
                await wire(hall, f"xh-c{n}-keypad", pty.host, address=n)
            await issue(hall, 3)
            gateway = hall.devices.gateway
            await until(lambda: all(gateway.known.device(f"xh-c{n}-keypad").online for n in (1, 2, 3)), "online")

            for n in (1, 2, 3):
                pads.press(keypad.KeyPress(n, keypad.Key.CALL))
            await until(lambda: len(pads.echoed) == 3 and not any(pads.keys.values()), "three echoes")
            line = hall.devices.serial.lines[pty.host]
            await until(lambda: line.driver.acted == 3, "three presses acted on")  # type: ignore[attr-defined]
            called = {n: await current(hall, n) for n in (1, 2, 3)}
            assert sorted(called.values()) == ["A001", "A002", "A003"]
            assert line.as_json()["bad"] == 0
    finally:
        await far.stop()
        pty.unplug()


async def test_every_key_and_a_rating_round_trip_and_bad_input_changes_nothing(tmp_path: Path) -> None:
    pty = PtyPair(tmp_path)
    await pty.plug()
    pads = Keypads([1, 0x11, 9])
    far = FarEnd(pty.device, keypad.KeypadDecoder(), pads.answer)
    far.start()
    try:
        async with serial_hall(tmp_path) as hall:
            await hall.register("xh-c1-keypad", "keypad", counter=1)
            await hall.register("xh-c1-rater", "rating_pad", counter=1)
            await hall.register("xh-c2-keypad", "keypad", counter=2)
            await wire(hall, "xh-c1-keypad", pty.host, address=1)
            await wire(hall, "xh-c1-rater", pty.host, address=0x11)
            await wire(hall, "xh-c2-keypad", pty.host, address=9)
            await issue(hall, 3)
            line = hall.devices.serial.lines[pty.host]
            driver: Any = line.driver

            async def press(frame: keypad.KeyPress | keypad.Rating) -> None:
                before = driver.acted
                pads.press(frame)
                await until(lambda: driver.acted == before + 1, f"{frame} acted on")

            # Counter 2 is closed: its keypad's call is refused with a reason, and nothing changes.
            await press(keypad.KeyPress(9, keypad.Key.CALL))
            assert driver.refused["counter_closed"] == 1
            assert await current(hall, 2) is None

            await hall.open_counter(1)
            await press(keypad.KeyPress(1, keypad.Key.CALL))
            assert await current(hall, 1) == "A001"
            await press(keypad.KeyPress(1, keypad.Key.RECALL))
            await press(keypad.KeyPress(1, keypad.Key.EVALUATE))
            await press(keypad.KeyPress(1, keypad.Key.START))
            assert (await queue(hall)).tickets[(await queue(hall)).line(1).current].state.value == "serving"
            await press(keypad.KeyPress(1, keypad.Key.FINISH))
            await press(keypad.Rating(0x11, 3))  # 不满意
            rated = [r for r in (await queue(hall)).rateable.values() if r.counter == 1]
            assert rated == []  # the finished service took its rating
            await press(keypad.KeyPress(1, keypad.Key.CALL))
            await press(keypad.KeyPress(1, keypad.Key.NO_SHOW))
            await press(keypad.KeyPress(1, keypad.Key.CALL))
            await press(keypad.KeyPress(1, keypad.Key.TRANSFER, 3))
            assert await current(hall, 1) is None
            await press(keypad.KeyPress(1, keypad.Key.PAUSE))
            assert (await queue(hall)).counters[1].status.value == "paused"
            await press(keypad.KeyPress(1, keypad.Key.RESUME))
            assert (await queue(hall)).counters[1].status.value == "open"
            assert set(driver.refused) == {"counter_closed"}

            # Garbage, a bad checksum, a cut frame, an oversized length, and a key from an address
            # nobody registered: each counted, none acted on; the bus goes on working.
            head = await hall.head()
            acted = driver.acted
            bad_sum = bytearray(keypad.encode(keypad.KeyPress(1, keypad.Key.CALL)))
            bad_sum[-2] ^= 0xFF
            far.raw_out += [
                b"\x00\x13\x37garbage\x68\x68",
                bytes(bad_sum),
                bytes([0xFF, 0x68, 0x30, 0x30, 0x68]),
                keypad.encode(keypad.KeyPress(0x42, keypad.Key.CALL)),
                keypad.encode(keypad.KeyPress(1, keypad.Key.CALL))[:6],
            ]
            counters = driver.log.counters
            await until(lambda: counters.bad_checksum >= 1 and counters.oversized >= 1, "bad frames counted")
            await until(lambda: driver.refused["unknown_address"] >= 1, "the stranger counted")
            assert counters.dropped_bytes > 0
            assert driver.acted == acted and await hall.head() == head
            assert any(not seen.ok for seen in driver.log.recent)
            await issue(hall, 1)
            await press(keypad.KeyPress(1, keypad.Key.CALL))
            assert await current(hall, 1) is not None
    finally:
        await far.stop()
        pty.unplug()


async def test_a_strip_shows_the_calls_gets_them_again_after_an_unplug_and_takes_commands(tmp_path: Path) -> None:
    pty = PtyPair(tmp_path)
    await pty.plug()
    strip = Displays([1])
    far = FarEnd(pty.device, led.LedDecoder(), strip.answer)
    far.start()
    try:
        async with serial_hall(tmp_path) as hall:
            hall.devices.serial.expire_after = 2.0
            await hall.register("xh-led-1", "led")
            # This strip declares UTF-8 text: its lines come in that encoding.
            await wire(hall, "xh-led-1", pty.host, address=1, encoding="utf-8")
            gateway = hall.devices.gateway
            await until(lambda: gateway.known.device("xh-led-1").online, "the strip online")
            await issue(hall, 1)
            await hall.open_counter(1)
            outcome = await hall.submit("xh", "ticket.call_next", counter=1, clerk=hall.clerk)
            assert outcome.ok, outcome.result

            def shows_a001() -> bool:
                return any(isinstance(m, led.ShowText) and "A001" in m.text for m in strip.shown[1])

            await until(shows_a001, "the call on the strip")
            shown = [m for m in strip.shown[1] if isinstance(m, led.ShowText) and "A001" in m.text]
            assert {m.encoding for m in shown} == {led.Encoding.UTF8}

            # Unplugged: the strip is offline (an event, as for an MQTT device); plugged in
            # again, the line opens again and the content is sent again.
            pty.unplug()
            await until(lambda: not gateway.known.device("xh-led-1").online, "offline after the unplug")
            strip.shown[1].clear()
            await pty.plug()
            await until(shows_a001, "the call sent again after the replug")
            await until(lambda: gateway.known.device("xh-led-1").online, "online again")
            assert hall.devices.serial.lines[pty.host].status.opens >= 2

            for name, args, status in (
                ("brightness", {"percent": 60}, "succeeded"),
                ("show", {"pattern": "stripes"}, "succeeded"),
                ("clear", {}, "succeeded"),
                ("ping", {}, "succeeded"),
                ("brightness", {"percent": 101}, "failed"),
            ):
                command = await gateway.send("xh-led-1", name, args)
                assert command.status.value == status, (name, command.result)
            assert led.Brightness(60) in strip.shown[1] and led.Clear(led.ALL_AREAS) in strip.shown[1]
            strip.nak = True
            assert (await gateway.send("xh-led-1", "clear", {})).status.value == "failed"
            await far.stop()
            assert (await gateway.send("xh-led-1", "clear", {})).status.value == "timed_out"
            pty.unplug()
            # Once the line has seen the port go (not before: a command taken by the session
            # still running would time out instead), a command waits for it and expires.
            line = hall.devices.serial.lines[pty.host]
            await until(lambda: line.status.state != "open", "the line sees the port go")
            assert (await gateway.send("xh-led-1", "clear", {})).status.value == "expired"
            await hall.settle()
    finally:
        await far.stop()
        pty.unplug()


async def test_a_keypad_behind_a_socket_converter_calls_and_survives_the_link_dropping(tmp_path: Path) -> None:
    """An RS-485-to-Ethernet converter: the server opens ``socket://host:port`` as it opens a tty."""
    pads = Keypads([4])
    links: list[asyncio.StreamWriter] = []

    async def converter(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        links.append(writer)
        decoder = keypad.KeypadDecoder()
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(256):
                for frame in decoder.feed(data):
                    if reply := pads.answer(frame):
                        writer.write(reply)
        writer.close()

    server = await asyncio.start_server(converter, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with serial_hall(tmp_path) as hall:
            await hall.register("xh-c1-keypad", "keypad", counter=1)
            await hall.open_counter(1)
            await wire(hall, "xh-c1-keypad", f"socket://127.0.0.1:{port}", address=4)
            await issue(hall, 2)
            gateway = hall.devices.gateway
            await until(lambda: gateway.known.device("xh-c1-keypad").online, "online over TCP")
            pads.press(keypad.KeyPress(4, keypad.Key.CALL))
            await until(lambda: pads.echoed != [], "echoed over TCP")
            line = hall.devices.serial.lines[f"socket://127.0.0.1:{port}"]
            await until(lambda: line.driver.acted == 1, "acted on")  # type: ignore[attr-defined]
            assert await current(hall, 1) == "A001"

            # The converter drops the link: offline, then the line connects again by itself.
            links[-1].transport.abort()
            await until(lambda: not gateway.known.device("xh-c1-keypad").online, "offline when the link drops")
            await until(lambda: gateway.known.device("xh-c1-keypad").online, "online again")
            assert line.status.opens == 2
            # (Another call within 1 s of the last echo would be taken as its repeat: the bus's rule.)
            pads.press(keypad.KeyPress(4, keypad.Key.RECALL))
            await until(lambda: line.driver.acted == 2, "acted on after the reconnect")  # type: ignore[attr-defined]
    finally:
        server.close()


async def test_a_stopping_server_opens_no_line_for_a_rewiring_or_the_lease_heard_after_its_lines_closed(
    tmp_path: Path,
) -> None:
    """A stopping server closes its wired lines for good. It closes them before the rest of its
    device side, so the gateway may still hear a registry change (a device rewired) and the lease's
    runner may still start the lines' work (the lease coming to it): neither opens a line here, nor
    keeps one. The device is the next holder's to open."""
    pads = Keypads([4])
    before, after = Converter(keypad.KeypadDecoder, pads.answer), Converter(keypad.KeypadDecoder, pads.answer)
    servers = [await before.start(), await after.start()]
    try:
        async with serial_hall(tmp_path) as hall:
            serial: SerialDevices = hall.devices.serial
            await hall.register("xh-c1-keypad", "keypad", counter=1)
            await wire(hall, "xh-c1-keypad", before.port, address=4)
            await until(lambda: before.open == 1, "the line open")

            # Devices.stop: the lines first, then the gateway and the lease's runner.
            await serial.close()
            await until(lambda: before.open == 0, "the line closed")
            await wire(hall, "xh-c1-keypad", after.port, address=4)
            # The gateway asks the lines to follow the registry as soon as it has read the device.
            gateway = hall.devices.gateway
            await until(lambda: gateway.known.device("xh-c1-keypad").wire["port"] == after.port, "the rewiring heard")
            # The lease's work, as its runner starts it on taking the lease (a server alone has no
            # runner, so it is started here).
            serving = asyncio.create_task(serial.serve())
            await until(lambda: serial.here, "the lines' work started")
            assert {port: line.status.state for port, line in serial.lines.items()} == {}

            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            assert serial.lines == {}
            assert (before.links, after.links) == (1, 0)
    finally:
        for server in servers:
            server.close()


async def test_hall_simulate_drives_a_keypad_bus_on_a_given_port(tmp_path: Path) -> None:
    """``hall simulate --serial keypads:PORT`` is the keypad bus at the far end of a wire: its
    clerks' presses call tickets at the server's end, with no broker."""
    pty = PtyPair(tmp_path)
    await pty.plug()
    command = [sys.executable, "-m", "hall.cli", "simulate", "--serial", f"keypads:{pty.device}", "--speed", "1000"]
    env = {k: v for k, v in os.environ.items() if k != "HALL_MQTT_URL"}
    proc = await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.PIPE)
    try:
        async with serial_hall(tmp_path) as hall:
            await hall.register("xh-c1-keypad", "keypad", counter=1)
            await hall.open_counter(1, clerk=hall.clerk)
            await wire(hall, "xh-c1-keypad", pty.host, address=1)
            await issue(hall, 3)
            await until(lambda: hall.devices.gateway.known.device("xh-c1-keypad").online, "online")  # type: ignore[union-attr]
            line = hall.devices.serial.lines[pty.host]
            await until(lambda: line.driver.acted >= 1, "a press acted on")  # type: ignore[attr-defined]
            assert await current(hall, 1) is not None
    finally:
        proc.terminate()
        await proc.wait()
        pty.unplug()


class SlowGateway:
    """A gateway that takes its time over each press (a busy writer), recording what it acted on."""

    def __init__(self) -> None:
        self.acted: list[str] = []

    async def wired_event(self, device_id: str, event: Any) -> Any:
        await asyncio.sleep(0.1)
        self.acted.append(event.type)
        return None

    async def wired_presence(self, device_id: str, online: bool, firmware: str = "") -> None:
        return None

    def wired_telemetry(self, device_id: str, values: Any) -> None:
        return None

    def accept_card(self, reader: str, card: Any) -> Any:
        return None


async def test_presses_echoed_before_a_keypad_bus_closes_are_acted_on() -> None:
    """An echoed press is the hall's: the keypad lets it go and never sends it again. A bus closed
    with presses still queued (its line moving to another process, the server stopping) acts on
    them first."""
    from devices.serial_drivers import KeypadBus

    gateway = SlowGateway()
    bus = KeypadBus(gateway, {4: "xh-c1-keypad"}, FAST)
    pads = Keypads([4])
    near, far = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=near)
    far_reader, far_writer = await asyncio.open_connection(sock=far)

    async def keypad_end() -> None:
        decoder = keypad.KeypadDecoder()
        while data := await far_reader.read(256):
            for frame in decoder.feed(data):
                if reply := pads.answer(frame):
                    far_writer.write(reply)

    device = asyncio.create_task(keypad_end())
    session = asyncio.create_task(bus.session(reader, writer))
    try:
        for key in (keypad.Key.CALL, keypad.Key.START, keypad.Key.FINISH):
            pads.press(keypad.KeyPress(4, key))
        await until(lambda: len(pads.echoed) == 3, "three presses echoed")
        assert len(gateway.acted) < 3  # still queued behind the slow gateway
        session.cancel()
        await asyncio.gather(session, return_exceptions=True)
        await bus.close()
        assert gateway.acted == ["call", "start", "finish"]
    finally:
        device.cancel()
        await asyncio.gather(device, return_exceptions=True)
        for end in (writer, far_writer):
            end.close()
            with contextlib.suppress(OSError):
                await end.wait_closed()
