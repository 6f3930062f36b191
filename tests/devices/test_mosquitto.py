"""The broker as a hall runs it: who may connect, who may publish and read what, what survives.

The rules under test live in the files devices/mosquitto.py writes; a real Mosquitto enforces them.
Where a test shows that something does *not* arrive, it sends a marker after it over a path that
is delivered in order, and checks that the marker is the first thing the server sees: no sleeping
and hoping.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import stat
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiomqtt
import pytest

from devices.mosquitto import (
    DEVICE_READS,
    DEVICE_WRITES,
    hash_secret,
    password_line,
    render_acl,
    render_config,
    verify_secret,
    write_broker_files,
)
from tests.brokers import Broker, RawClient
from tests.peers import require_binary
from tests.timing import MS

# How long a message that should come may take; it returns as soon as it does.
ARRIVES = 3000 * MS
MAX_PACKET = 65_536
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"


@asynccontextmanager
async def server(
    broker: Broker, *, identifier: str = "hall-server", persistent: bool = False
) -> AsyncIterator[aiomqtt.Client]:
    """The hall server's connection, subscribed to everything under hall/.

    A persistent session keeps the subscription, and the broker queues for it, while it is away.
    """
    async with aiomqtt.Client(
        broker.host,
        broker.port,
        username=broker.server_user,
        password=broker.server_password,
        identifier=identifier,
        clean_session=not persistent,
    ) as client:
        await client.subscribe("hall/#", qos=1)
        yield client


@asynccontextmanager
async def device(broker: Broker, device_id: str, password: str | None = None) -> AsyncIterator[aiomqtt.Client]:
    """A device with an account of its own (made here unless a password is given)."""
    if password is None:
        password = secrets.token_urlsafe(24)
        broker.add_account(device_id, password)
    async with aiomqtt.Client(
        broker.host, broker.port, username=device_id, password=password, identifier=device_id
    ) as client:
        yield client


async def next_message(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(ARRIVES):
        return await anext(client.messages)


# Password file


def test_our_password_line_is_the_one_mosquitto_passwd_writes(tmp_path: Path) -> None:
    mosquitto_passwd = require_binary("mosquitto_passwd")
    passwd = tmp_path / "passwd"
    subprocess.run([mosquitto_passwd, "-c", "-b", str(passwd), "kiosk-1", "s3cret-密码"], check=True)
    theirs = passwd.read_text().strip()
    _, stored = theirs.split(":", 1)
    _, _, iterations, salt, _ = stored.split("$")

    assert password_line("kiosk-1", "s3cret-密码", salt=base64.b64decode(salt), iterations=int(iterations)) == theirs
    assert verify_secret(stored, "s3cret-密码")
    assert not verify_secret(stored, "s3cret")


def test_a_stored_hash_is_salted_and_verifies_only_its_password() -> None:
    first, second = hash_secret("pw-1"), hash_secret("pw-1")

    assert first != second
    assert first.startswith("$7$101$")
    assert verify_secret(first, "pw-1") and verify_secret(second, "pw-1")
    assert not verify_secret(first, "pw-2")
    for malformed in ("", "pw-1", "$6$101$abc$def", first[:-4], first.replace("$101$", "$0$")):
        assert not verify_secret(malformed, "pw-1")


@pytest.mark.parametrize("username", ["kiosk:1", "kiosk-1\nevil", "k", "Kiosk-1", "+", "kiosk/1", "#"])
def test_a_name_that_could_break_the_files_or_the_acl_is_refused(username: str) -> None:
    with pytest.raises(ValueError, match="valid account name"):
        password_line(username, "pw")
    with pytest.raises(ValueError, match="valid account name"):
        render_acl(username)


def test_the_acl_gives_devices_their_own_channels_and_the_server_everything() -> None:
    rules = [line for line in render_acl("hall-server").splitlines() if line and not line.startswith("#")]

    assert rules == [
        *(f"pattern write hall/+/dev/%u/{channel}" for channel in DEVICE_WRITES),
        *(f"pattern read hall/+/dev/%u/{channel}" for channel in DEVICE_READS),
        "user hall-server",
        "topic readwrite hall/#",
    ]


def test_the_config_refuses_anonymous_clients_and_bounds_queues_and_packets(tmp_path: Path) -> None:
    config = render_config(
        port=1883, password_file=tmp_path / "passwd", acl_file=tmp_path / "acl", persistence_dir=tmp_path / "data"
    ).splitlines()

    assert "listener 1883 127.0.0.1" in config
    assert "allow_anonymous false" in config
    assert "max_queued_messages 100000" in config
    assert f"max_packet_size {MAX_PACKET}" in config
    assert "persistence true" in config
    with pytest.raises(ValueError, match="password file and an ACL"):
        render_config(port=1883, password_file=None, acl_file=None, persistence_dir=None)
    with pytest.raises(ValueError, match="cannot go into"):
        render_config(
            port=1883, password_file=tmp_path / "x\nallow_anonymous true", acl_file=tmp_path, persistence_dir=None
        )


def test_broker_files_keep_the_password_file_private_and_need_the_servers_account(tmp_path: Path) -> None:
    accounts = {"hall-server": hash_secret("s"), "kiosk-1": hash_secret("k")}

    config = write_broker_files(tmp_path / "broker", port=1883, accounts=accounts)

    assert config == (tmp_path / "broker" / "mosquitto.conf").resolve()
    assert stat.S_IMODE((tmp_path / "broker" / "passwd").stat().st_mode) == 0o600
    assert (tmp_path / "broker" / "passwd").read_text().splitlines() == [
        f"{u}:{h}" for u, h in sorted(accounts.items())
    ]
    assert (tmp_path / "broker" / "acl").read_text() == render_acl()
    with pytest.raises(ValueError, match="server's account"):
        write_broker_files(tmp_path / "other", port=1883, accounts={"kiosk-1": accounts["kiosk-1"]})


def test_the_shipped_acl_is_the_one_the_server_writes() -> None:
    assert (DEPLOY / "acl").read_text(encoding="utf-8") == render_acl()


def test_the_shipped_config_has_the_settings_the_server_writes() -> None:
    home = Path("/var/lib/hall/broker")
    written = render_config(
        port=1883,
        bind="0.0.0.0",
        password_file=home / "passwd",
        acl_file=home / "acl",
        persistence_dir=home / "data",
        user="mosquitto",
    )

    assert settings((DEPLOY / "mosquitto.conf").read_text(encoding="utf-8")) == settings(written)


def settings(config: str) -> list[str]:
    return [line for line in config.splitlines() if line.strip() and not line.startswith("#")]


# The broker


async def test_a_device_with_its_password_publishes_events_the_server_receives(broker: Broker) -> None:
    async with server(broker) as hall, device(broker, "kiosk-1") as kiosk:
        await kiosk.publish("hall/xh/dev/kiosk-1/evt", b'{"type":"ticket_taken"}', qos=1)

        message = await next_message(hall)

    assert message.topic.value == "hall/xh/dev/kiosk-1/evt"
    assert message.payload == b'{"type":"ticket_taken"}'


async def test_a_wrong_password_an_unknown_device_and_anonymous_clients_are_refused(broker: Broker) -> None:
    broker.add_account("kiosk-1", "right")

    for username, password in (("kiosk-1", "wrong"), ("kiosk-9", "right"), (None, None)):
        with pytest.raises(aiomqtt.MqttCodeError):
            async with aiomqtt.Client(broker.host, broker.port, username=username, password=password):
                pass


async def test_adding_a_device_leaves_everyone_connected(broker: Broker) -> None:
    async with server(broker) as hall, device(broker, "kiosk-1") as kiosk:
        broker.add_account("kiosk-2", "pw")

        await kiosk.publish("hall/xh/dev/kiosk-1/evt", b"still here", qos=1)
        assert (await next_message(hall)).payload == b"still here"


async def test_a_changed_password_cuts_the_old_connection_and_only_the_new_one_works(broker: Broker) -> None:
    broker.add_account("kiosk-1", "old")
    pid = broker.proc.pid if broker.proc else None
    async with device(broker, "kiosk-1", "old") as kiosk:
        broker.add_account("kiosk-1", "new")

        with pytest.raises(aiomqtt.MqttError, match="Disconnected"):
            await next_message(kiosk)

    with pytest.raises(aiomqtt.MqttCodeError):
        async with device(broker, "kiosk-1", "old"):
            pass
    async with device(broker, "kiosk-1", "new"):
        pass
    assert broker.proc is not None and broker.proc.pid == pid


async def test_a_removed_device_is_cut_off_and_refused(broker: Broker) -> None:
    broker.add_account("kiosk-1", "pw")
    async with device(broker, "kiosk-1", "pw") as kiosk:
        broker.remove_account("kiosk-1", "pw")

        with pytest.raises(aiomqtt.MqttError, match="Disconnected"):
            await next_message(kiosk)

    with pytest.raises(aiomqtt.MqttCodeError):
        async with device(broker, "kiosk-1", "pw"):
            pass


async def test_a_device_cannot_publish_as_another_device(broker: Broker) -> None:
    broker.add_account("kiosk-2", "unused")
    async with server(broker) as hall, device(broker, "kiosk-1") as kiosk:
        await kiosk.publish("hall/xh/dev/kiosk-2/evt", b"forged", qos=1)
        await kiosk.publish("hall/xh/dev/kiosk-1/evt", b"marker", qos=1)

        first = await next_message(hall)

    assert (first.topic.value, first.payload) == ("hall/xh/dev/kiosk-1/evt", b"marker")


async def test_a_device_cannot_publish_on_the_servers_channels_even_its_own(broker: Broker) -> None:
    async with server(broker) as hall, device(broker, "kiosk-1") as kiosk:
        for channel in DEVICE_READS:
            await kiosk.publish(f"hall/xh/dev/kiosk-1/{channel}", b"forged", qos=1)
        await kiosk.publish("hall/xh/queue", b"forged", qos=1)
        await kiosk.publish("hall/xh/dev/kiosk-1/evt", b"marker", qos=1)

        first = await next_message(hall)

    assert (first.topic.value, first.payload) == ("hall/xh/dev/kiosk-1/evt", b"marker")


async def test_a_device_cannot_read_another_devices_commands(broker: Broker) -> None:
    # Mosquitto 2.0 grants the subscription and filters each message on delivery, so what
    # matters is what arrives.
    broker.add_account("kiosk-2", "unused")
    async with server(broker) as hall, device(broker, "kiosk-1") as kiosk:
        await kiosk.subscribe("hall/xh/dev/kiosk-2/cmd", qos=1)
        await kiosk.subscribe("hall/xh/dev/kiosk-1/cmd", qos=1)

        await hall.publish("hall/xh/dev/kiosk-2/cmd", b'{"op":"reboot"}', qos=1)
        await hall.publish("hall/xh/dev/kiosk-1/cmd", b'{"op":"marker"}', qos=1)

        first = await next_message(kiosk)

    assert (first.topic.value, first.payload) == ("hall/xh/dev/kiosk-1/cmd", b'{"op":"marker"}')


async def test_retained_display_content_survives_a_broker_restart(broker: Broker) -> None:
    broker.require_own("restarting the broker")
    broker.add_account("led-1", "pw")
    content = "A023 请到 5 号窗口".encode()
    async with server(broker) as hall:
        await hall.publish("hall/xh/dev/led-1/display", content, qos=1, retain=True)

    broker.stop()
    broker.start()

    async with device(broker, "led-1", "pw") as led:
        await led.subscribe("hall/xh/dev/led-1/display", qos=1)
        message = await next_message(led)
    assert message.payload == content
    assert message.retain


async def test_a_killed_device_connection_leaves_offline_on_its_state_topic(broker: Broker) -> None:
    broker.add_account("kiosk-1", "pw")
    state = "hall/xh/dev/kiosk-1/state"
    async with server(broker) as hall:
        kiosk = await RawClient.connect(broker, "kiosk-1", "kiosk-1", "pw", will=(state, b"offline"))
        await kiosk.publish(state, b"online", retain=True)
        assert (await next_message(hall)).payload == b"online"

        kiosk.abort()

        message = await next_message(hall)
        assert (message.topic.value, message.payload) == (state, b"offline")

    # And it is retained: a server that connects later still learns the device is offline.
    async with server(broker, identifier="hall-server-later") as later:
        message = await next_message(later)
    assert (message.topic.value, message.payload, message.retain) == (state, b"offline", True)


async def test_a_device_cannot_mark_another_device_offline_with_its_will(broker: Broker) -> None:
    broker.add_account("kiosk-1", "pw")
    async with server(broker) as hall:
        kiosk = await RawClient.connect(
            broker, "kiosk-1", "kiosk-1", "pw", will=("hall/xh/dev/kiosk-2/state", b"offline")
        )
        kiosk.abort()
        # Taking over the client id proves the broker has finished with the old connection,
        # Will and all, before the marker is published.
        async with device(broker, "kiosk-1", "pw") as again:
            await again.publish("hall/xh/dev/kiosk-1/state", b"marker", qos=1)

            first = await next_message(hall)

    assert (first.topic.value, first.payload) == ("hall/xh/dev/kiosk-1/state", b"marker")


async def test_an_oversized_payload_never_reaches_the_server(broker: Broker) -> None:
    broker.add_account("kiosk-1", "pw")
    async with server(broker) as hall:
        kiosk = await RawClient.connect(broker, "kiosk-1", "kiosk-1", "pw")
        await kiosk.publish("hall/xh/dev/kiosk-1/evt", b"x" * (MAX_PACKET + 1))
        async with asyncio.timeout(ARRIVES):
            assert await kiosk.closed_by_broker()

        async with device(broker, "kiosk-1", "pw") as again:
            await again.publish("hall/xh/dev/kiosk-1/evt", b"marker", qos=1)

        first = await next_message(hall)

    assert first.payload == b"marker"


async def test_the_server_gets_every_event_sent_while_it_was_away(broker: Broker) -> None:
    # More than Mosquitto's default max_queued_messages (1000), which would drop the rest.
    count = 3000
    async with server(broker, persistent=True):
        pass
    async with device(broker, "kiosk-1") as kiosk:
        # aiomqtt logs a warning per call beyond 10 pending; a burst is the point here.
        kiosk.pending_calls_threshold = count
        await asyncio.gather(*(kiosk.publish("hall/xh/dev/kiosk-1/tele", str(n).encode(), qos=1) for n in range(count)))

    received: list[bytes] = []
    async with server(broker, persistent=True) as hall:
        while len(received) < count:
            payload = (await next_message(hall)).payload
            assert isinstance(payload, bytes)
            received.append(payload)

    assert sorted(int(payload) for payload in received) == list(range(count))


async def test_the_open_broker_lets_simulators_in_without_an_account(open_broker: Broker) -> None:
    async with aiomqtt.Client(open_broker.host, open_broker.port) as anyone:
        await anyone.subscribe("sim/#", qos=1)
        await anyone.publish("sim/ping", b"pong", qos=1)
        message = await next_message(anyone)
    assert message.payload == b"pong"
