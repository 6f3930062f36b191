"""The device side against a real Mosquitto with per-device accounts: presence by Last Will,
acknowledged commands across a lost ack, and a broker that dies and comes back."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from devices.bus import BrokerAddress, Connector, Link, MqttLink, connector_for, mqtt_connector
from devices.gateway_names import subscriptions
from devices.protocol import encode, topic
from tests.brokers import Broker, RawClient
from tests.devicehall import DeviceHall, device_hall, fake_device

pytestmark = pytest.mark.asyncio


def _server(broker: Broker) -> Connector:
    url = f"mqtt://{broker.server_user}:{broker.server_password}@{broker.host}:{broker.port}"
    return connector_for(url, persistent=True)


def _device(broker: Broker, device: str) -> Connector:
    password = f"pw-{device}"
    broker.add_account(device, password)
    return mqtt_connector(BrokerAddress(broker.host, broker.port, device, password))


@contextlib.asynccontextmanager
async def _hall(tmp_path: Path, broker: Broker) -> AsyncIterator[DeviceHall]:
    broker.require_own("per-device accounts")
    async with device_hall(tmp_path, _server(broker)) as hall:
        hall.devices.bus._backoff = (0.05, 0.5)
        yield hall


async def _until(check: object, timeout: float = 5.0) -> None:
    assert callable(check)
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_a_device_whose_connection_dies_goes_offline_by_its_last_will(tmp_path: Path, broker: Broker) -> None:
    async with _hall(tmp_path, broker) as hall:
        await hall.register("xh-led-1", "led")
        broker.add_account("xh-led-1", "pw-led")
        state = topic("xh", "xh-led-1", "state")
        raw = await RawClient.connect(
            broker, "xh-led-1", "xh-led-1", "pw-led", will=(state, encode({"status": "offline"}))
        )
        await raw.publish(state, encode({"status": "online", "firmware": "3.0"}), retain=True)
        gateway = hall.devices.gateway
        await _until(lambda: gateway.known.device("xh-led-1").online)
        raw.abort()  # the power goes: no DISCONNECT, the broker sends the Will
        await _until(lambda: not gateway.known.device("xh-led-1").online)
        assert gateway.known.device("xh-led-1").firmware == "3.0"
        assert gateway.known.device("xh-led-1").last_disconnect is not None


async def test_a_command_is_acknowledged_after_one_lost_ack_with_one_effect(tmp_path: Path, broker: Broker) -> None:
    async with _hall(tmp_path, broker) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        gateway = hall.devices.gateway
        gateway.commands.ack_timeout = 0.3
        refills = 0
        async with fake_device(_device(broker, "xh-kiosk-1"), "xh", "xh-kiosk-1") as kiosk:
            sending = asyncio.create_task(gateway.send("xh-kiosk-1", "paper_refill", {}))
            first = await kiosk.wait_for("cmd")
            refills += 1  # the device acts on the id once ...
            await kiosk.wait_for("cmd", lambda _: len(kiosk.received["cmd"]) >= 2)
            # ... and, seeing the same id again, answers with its first result without acting.
            await kiosk.send("ack", {"id": first["id"], "ok": True, "result": {"refilled": refills}})
            done = await sending
        assert {c["id"] for c in kiosk.received["cmd"]} == {first["id"]}
        assert (done.status.value, done.attempts, done.result) == ("succeeded", 2, {"refilled": 1})


async def _connected_again(hall: DeviceHall, before: int) -> None:
    bus = hall.devices.bus
    await _until(lambda: bus.connects > before and bus.connected, timeout=15)


async def test_the_server_rides_out_a_broker_restart_and_republishes_display_content(
    tmp_path: Path, broker: Broker
) -> None:
    async with _hall(tmp_path, broker) as hall:
        await hall.register("xh-c1-window", "window", counter=1)
        await hall.register("xh-led-1", "led")
        await hall.open_counter(1)
        window_link = _device(broker, "xh-c1-window")
        led_link = _device(broker, "xh-led-1")
        async with fake_device(window_link, "xh", "xh-c1-window") as window:
            await window.wait_for("display", lambda d: d.get("status") == "open")

        broker.kill()  # no clean shutdown: whatever the broker kept in memory is gone
        await _until(lambda: not hall.devices.bus.connected)
        before = hall.devices.bus.connects
        # The rest of the server works on without the broker, and commands wait for it.
        assert (await hall.submit("xh", "counter.pause", counter=1, clerk=hall.clerk, reason="午休")).ok
        sending = asyncio.create_task(hall.devices.gateway.send("xh-led-1", "ping", {}))
        await asyncio.sleep(0.2)
        assert not sending.done()

        broker.start()
        await _connected_again(hall, before)
        async with fake_device(window_link, "xh", "xh-c1-window") as window:
            shown = await window.wait_for("display", lambda d: d.get("status") == "paused")
            assert shown["counter"] == 1
        async with fake_device(led_link, "xh", "xh-led-1") as led:
            await led.wait_for("display")  # the LED's content came back too
            ping = await led.wait_for("cmd", lambda c: c["name"] == "ping", timeout=10)
            await led.send("ack", {"id": ping["id"], "ok": True, "result": {"pong": True}})
            done = await sending
        assert done.status.value == "succeeded"


async def test_events_sent_while_the_server_is_away_are_handled_when_it_returns(tmp_path: Path, broker: Broker) -> None:
    broker.require_own("per-device accounts")
    kiosk_link = _device(broker, "xh-kiosk-1")
    async with device_hall(tmp_path, _server(broker)) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
    # The server is stopped; its session stays at the broker, which keeps what arrives for it.
    async with fake_device(kiosk_link, "xh", "xh-kiosk-1") as kiosk:
        pressed = [await kiosk.event("press", {"service": "soc"}) for _ in range(3)]
        async with device_hall(tmp_path, _server(broker), reuse=True) as hall:
            replies = [await kiosk.reply(event, timeout=10) for event in pressed]
        assert [r["result"]["number"] for r in replies] == ["A001", "A002", "A003"]


async def test_a_broker_back_after_a_long_outage_is_rejoined_within_a_few_seconds(
    tmp_path: Path, broker: Broker
) -> None:
    broker.require_own("restarting the broker")
    async with device_hall(tmp_path, _server(broker)) as hall:  # the server's own backoff
        bus = hall.devices.bus
        broker.kill()
        await _until(lambda: not bus.connected)
        before = bus.connects
        # Long enough for an uncapped doubling backoff to be waiting ten seconds or more.
        await asyncio.sleep(8)
        broker.start()
        started = asyncio.get_running_loop().time()
        await _until(lambda: bus.connects > before and bus.connected, timeout=15)
        rejoined = asyncio.get_running_loop().time() - started
    assert rejoined < 4.0, f"rejoined after {rejoined:.1f} s"


async def test_servers_in_the_share_group_take_each_device_message_once(tmp_path: Path, broker: Broker) -> None:
    """Several server processes subscribe through the MQTT 5 share group: each event of a device
    reaches one of them, while every one hears every ack (the sender of the command takes it)."""
    broker.require_own("per-device accounts")
    server = mqtt_connector(
        BrokerAddress(broker.host, broker.port, broker.server_user, broker.server_password), mqtt5=True
    )
    heard: dict[str, list[str]] = {"a": [], "b": []}

    async def listen(name: str, link: Link) -> None:
        async for message in link.messages():
            heard[name].append(f"{message.topic.rsplit('/', 1)[1]}:{json.loads(message.payload)['id']}")

    async with server("hall-server-a", None) as a, server("hall-server-b", None) as b:
        for link in (a, b):
            await link.subscribe(subscriptions(shared=True))
        readers = [asyncio.create_task(listen("a", a)), asyncio.create_task(listen("b", b))]
        async with fake_device(_device(broker, "xh-kiosk-1"), "xh", "xh-kiosk-1") as kiosk:
            sent = [await kiosk.event("press", {"service": "soc"}) for _ in range(20)]
            await kiosk.send("ack", {"id": "c0ffee00c0ffee00", "ok": True, "result": {}})
            await _until(lambda: sum(len(h) for h in heard.values()) >= 22)
            await asyncio.sleep(0.2)  # nothing more comes
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    events = Counter(item for h in heard.values() for item in h if item.startswith("evt:"))
    assert events == Counter(f"evt:{event_id}" for event_id in sent)
    assert all(any(item.startswith("evt:") for item in h) for h in heard.values())  # both took a share
    assert all(h.count("ack:c0ffee00c0ffee00") == 1 for h in heard.values())


@pytest.mark.parametrize(
    "granted",
    [
        (128,),
        [ReasonCode(PacketTypes.SUBACK, "Not authorized")],
        [ReasonCode(PacketTypes.SUBACK, "Shared subscription not supported")],
    ],
)
async def test_a_subscription_the_broker_refuses_fails_the_link(granted: Any) -> None:
    """A filter the broker refuses in its SUBACK (an ACL; a broker without shared subscriptions)
    is an error, not a silence: a server would otherwise run on without part of its traffic."""

    class Refusing:
        async def subscribe(self, topic: str, qos: int) -> Any:
            return granted

    link = MqttLink(Refusing())  # type: ignore[arg-type]
    with pytest.raises(aiomqtt.MqttError, match="refused"):
        await link.subscribe(["$share/hall/hall/+/dev/+/evt"])
