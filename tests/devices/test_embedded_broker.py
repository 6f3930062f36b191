"""The demo's own broker (devices/embedded_broker.py): amqtt in the test's event loop, on a free
port, held to the hall's rules as Mosquitto is with the files of devices/mosquitto.py.

As in test_mosquitto.py, a test that shows that something does *not* arrive sends a marker after
it on a path delivered in order, and checks that the marker is the first thing seen."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiomqtt
import pytest

from devices.bus import mqtt_connector
from devices.embedded_broker import _SEND_TO_GONE_CLIENT, EmbeddedBroker, PortTaken, Rules, choose_port
from devices.mosquitto import hash_secret
from devices.simulator import device_connector
from devices.virtual import VirtualDevice
from tests.brokers import RawClient, RefusedError
from tests.devicehall import device_hall
from tests.serverproc import free_port
from tests.timing import MS

ARRIVES = 3000 * MS
HOST = "127.0.0.1"


class Embedded:
    """A started broker and the accounts it knows, with the helpers test_mosquitto.py's Broker has."""

    def __init__(self, broker: EmbeddedBroker, accounts: dict[str, str]) -> None:
        self.broker = broker
        self.accounts = accounts
        self.host = HOST
        self.port = broker.port
        self.server_user = broker.server_user
        self.server_password = broker.server_password

    def add_account(self, user: str, password: str) -> None:
        self.accounts[user] = hash_secret(password)


@pytest.fixture
async def embedded() -> AsyncIterator[Embedded]:
    accounts: dict[str, str] = {}

    async def stored(username: str) -> str | None:
        return accounts.get(username)

    broker = EmbeddedBroker(stored, free_port(), secrets.token_urlsafe(16))
    await broker.start()
    try:
        yield Embedded(broker, accounts)
    finally:
        await broker.stop()


@asynccontextmanager
async def server(broker: Embedded, *, persistent: bool = False) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client(
        HOST,
        broker.port,
        username=broker.server_user,
        password=broker.server_password,
        identifier="hall-server",
        clean_session=not persistent,
    ) as client:
        await client.subscribe("hall/#", qos=1)
        yield client


@asynccontextmanager
async def device(broker: Embedded, device_id: str, password: str | None = None) -> AsyncIterator[aiomqtt.Client]:
    if password is None:
        password = secrets.token_urlsafe(12)
        broker.add_account(device_id, password)
    async with aiomqtt.Client(HOST, broker.port, username=device_id, password=password, identifier=device_id) as client:
        yield client


async def next_message(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(ARRIVES):
        return await anext(client.messages)


# The rules


@pytest.mark.parametrize(
    ("user", "topic", "action", "allowed"),
    [
        ("hall-server", "hall/xh/dev/k-1/cmd", "publish", True),
        ("hall-server", "hall/#", "subscribe", True),
        ("hall-server", "other/x", "publish", False),
        ("k-1", "hall/xh/dev/k-1/evt", "publish", True),
        ("k-1", "hall/xh/dev/k-1/cmd", "publish", False),
        ("k-1", "hall/xh/dev/k-2/evt", "publish", False),
        ("k-1", "hall/xh/dev/k-1/display", "receive", True),
        ("k-1", "hall/xh/dev/k-2/display", "receive", False),
        ("k-1", "hall/+/dev/k-1/#", "subscribe", True),
        ("k-1", "hall/xh/dev/+/cmd", "subscribe", False),
        ("k-1", "hall/#", "subscribe", False),
        (None, "hall/#", "subscribe", True),
        (None, "hall/xh/dev/k-1/evt", "receive", True),
        (None, "hall/xh/dev/k-1/evt", "publish", False),
        (None, "#", "subscribe", False),
    ],
)
def test_the_rules_are_the_acl_of_the_mosquitto_files(user: str | None, topic: str, action: str, allowed: bool) -> None:
    assert Rules("hall-server", anonymous_read=True).may(user, topic, action) is allowed


def test_without_trial_access_an_anonymous_client_may_nothing() -> None:
    assert not Rules("hall-server", anonymous_read=False).may(None, "hall/#", "subscribe")


async def test_anonymous_reading_is_for_loopback_only() -> None:
    async def stored(username: str) -> str | None:
        return None

    assert EmbeddedBroker(stored, 1883, "pw").anonymous_read is True
    assert EmbeddedBroker(stored, 1883, "pw", host="192.0.2.7").anonymous_read is False
    with pytest.raises(ValueError, match="loopback"):
        EmbeddedBroker(stored, 1883, "pw", host="0.0.0.0", anonymous_read=True)


def test_a_taken_port_is_told_and_without_one_the_next_free_is_chosen() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortTaken):
            choose_port(HOST, port)
    assert 1883 <= choose_port(HOST, None) < 1903


# The broker


async def test_a_plain_client_reads_retained_displays_and_device_events(embedded: Embedded) -> None:
    async with server(embedded) as hall, device(embedded, "xh-kiosk-1") as kiosk:
        await hall.publish("hall/xh/dev/xh-led-1/display", b'{"v":1,"kind":"led"}', qos=1, retain=True)
        async with aiomqtt.Client(HOST, embedded.port) as watcher:
            await watcher.subscribe("hall/#", qos=1)
            shown = await next_message(watcher)
            await kiosk.publish("hall/xh/dev/xh-kiosk-1/evt", b'{"v":1,"type":"press"}', qos=1)
            pressed = await next_message(watcher)

    assert (shown.topic.value, shown.payload, shown.retain) == (
        "hall/xh/dev/xh-led-1/display",
        b'{"v":1,"kind":"led"}',
        True,
    )
    assert (pressed.topic.value, pressed.payload) == ("hall/xh/dev/xh-kiosk-1/evt", b'{"v":1,"type":"press"}')


async def test_an_unknown_device_a_wrong_password_and_a_borrowed_client_id_are_refused(embedded: Embedded) -> None:
    embedded.add_account("xh-kiosk-1", "right")
    tries = [
        {"username": "xh-kiosk-1", "password": "wrong", "identifier": "xh-kiosk-1"},
        {"username": "xh-kiosk-9", "password": "right", "identifier": "xh-kiosk-9"},
        {"username": "xh-kiosk-1", "password": "right", "identifier": "xh-kiosk-2"},
        {"username": "hall-server", "password": "wrong", "identifier": "hall-server"},
        # Anonymous, but naming an account's client id, whose session it would end.
        {"identifier": "xh-kiosk-1"},
        {"identifier": "hall-server"},
    ]
    for options in tries:
        with pytest.raises(aiomqtt.MqttCodeError):
            async with aiomqtt.Client(HOST, embedded.port, **options):  # type: ignore[arg-type]
                pass
    assert embedded.broker.gate.refused == len(tries)
    async with device(embedded, "xh-kiosk-1", "right"):
        pass


async def test_a_device_cannot_publish_as_another_nor_on_the_servers_channels(embedded: Embedded) -> None:
    embedded.add_account("xh-kiosk-2", "unused")
    async with server(embedded) as hall, device(embedded, "xh-kiosk-1") as kiosk:
        await kiosk.publish("hall/xh/dev/xh-kiosk-2/evt", b"forged", qos=1)
        await kiosk.publish("hall/xh/dev/xh-kiosk-1/display", b"forged", qos=1)
        await kiosk.publish("hall/xh/dev/xh-kiosk-1/evt", b"marker", qos=1)

        first = await next_message(hall)

    assert (first.topic.value, first.payload) == ("hall/xh/dev/xh-kiosk-1/evt", b"marker")


async def test_an_anonymous_reader_publishes_nothing(embedded: Embedded) -> None:
    async with server(embedded) as hall, device(embedded, "xh-kiosk-1") as kiosk:
        async with aiomqtt.Client(HOST, embedded.port) as anyone:
            await anyone.publish("hall/xh/dev/xh-kiosk-1/evt", b"forged", qos=1)
        await kiosk.publish("hall/xh/dev/xh-kiosk-1/evt", b"marker", qos=1)

        first = await next_message(hall)

    assert first.payload == b"marker"


async def test_a_device_reads_only_its_own_retained_content(embedded: Embedded) -> None:
    # amqtt alone hands a connecting client the retained messages of everyone's subscriptions.
    async with server(embedded) as hall:
        await hall.publish("hall/xh/dev/xh-led-2/display", b"theirs", qos=1, retain=True)
        await hall.publish("hall/xh/dev/xh-led-1/display", b"mine", qos=1, retain=True)
        async with device(embedded, "xh-led-2") as other:
            await other.subscribe("hall/xh/dev/xh-led-2/display", qos=1)
            assert (await next_message(other)).payload == b"theirs"
            async with device(embedded, "xh-led-1") as led:
                await led.subscribe("hall/xh/dev/xh-led-1/#", qos=1)
                first = await next_message(led)
                await hall.publish("hall/xh/dev/xh-led-1/cmd", b"marker", qos=1)
                second = await next_message(led)

    assert [first.payload, second.payload] == [b"mine", b"marker"]


async def test_a_device_cannot_mark_another_offline_with_its_will(embedded: Embedded) -> None:
    embedded.add_account("xh-kiosk-1", "pw")
    with pytest.raises(RefusedError):
        await RawClient.connect(
            embedded,  # type: ignore[arg-type]
            "xh-kiosk-1",
            "xh-kiosk-1",
            "pw",
            will=("hall/xh/dev/xh-kiosk-2/state", b"offline"),
        )


async def test_a_lost_device_s_will_marks_it_offline_at_the_server(tmp_path: Path, embedded: Embedded) -> None:
    connect = mqtt_connector(embedded.broker.server_address(), persistent=True)
    async with device_hall(tmp_path, connect) as hall:
        await hall.register("xh-led-1", "led")
        embedded.add_account("xh-led-1", "pw")
        led = VirtualDevice(
            "xh-led-1", "xh", "led", device_connector(embedded.broker.device_address(), {"xh-led-1": "pw"})
        )
        running = led.start()
        async with asyncio.timeout(ARRIVES):
            await led.online.wait()
            while hall.devices.gateway.known.device("xh-led-1").online is not True:
                await hall.settle()

        await led.crash()  # the socket dropped, no DISCONNECT: the broker publishes the Will
        await running

        async with asyncio.timeout(ARRIVES):
            while hall.devices.gateway.known.device("xh-led-1").online is not False:
                await hall.settle()


async def test_the_server_gets_what_devices_sent_while_it_was_away(embedded: Embedded) -> None:
    count = 500
    async with server(embedded, persistent=True):
        pass
    async with device(embedded, "xh-kiosk-1") as kiosk:
        kiosk.pending_calls_threshold = count
        await asyncio.gather(
            *(kiosk.publish("hall/xh/dev/xh-kiosk-1/evt", str(n).encode(), qos=1) for n in range(count))
        )
    # A stranger naming the server's client id is refused before amqtt touches that session.
    with pytest.raises(aiomqtt.MqttCodeError):
        async with aiomqtt.Client(
            HOST, embedded.port, username="hall-server", password="wrong", identifier="hall-server", clean_session=False
        ):
            pass

    received: list[bytes] = []
    async with aiomqtt.Client(
        HOST,
        embedded.port,
        username=embedded.server_user,
        password=embedded.server_password,
        identifier="hall-server",
        clean_session=False,
    ) as hall:
        while len(received) < count:
            payload = (await next_message(hall)).payload
            assert isinstance(payload, bytes)
            received.append(payload)

    assert sorted(int(payload) for payload in received) == list(range(count))


def test_a_send_to_a_client_that_has_just_gone_is_not_logged_as_the_servers_error() -> None:
    """amqtt logs a failed send to a closed connection with a traceback; the demo's log says it at
    DEBUG, and every other error of amqtt's still shows."""
    gone = RuntimeError(
        "unable to perform operation on <TCPTransport closed=True reading=False>; the handler is closed"
    )
    record = logging.LogRecord(
        "amqtt.broker",
        logging.ERROR,
        __file__,
        1,
        "Task failed and will be skipped: %s",
        ("task",),
        (RuntimeError, gone, None),
    )
    assert not _SEND_TO_GONE_CLIENT.filter(record)
    other = logging.LogRecord(
        "amqtt.broker",
        logging.ERROR,
        __file__,
        1,
        "Task failed and will be skipped: %s",
        ("task",),
        (KeyError, KeyError("x"), None),
    )
    assert _SEND_TO_GONE_CLIENT.filter(other)
