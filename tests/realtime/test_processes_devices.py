"""A district on three server processes sharing one PostgreSQL and one Mosquitto: the devices are
everyone's, and one process is SIGKILLed while they press, call and rate.

Every process runs the device gateway against the broker. What devices say comes through the
MQTT 5 share group, so each message reaches one process; the display content and the presence
timeouts run under leases in one process. Simulated devices (real MQTT clients speaking
docs/protocols/mqtt.md, resending unanswered events) work all the time, across the kill; clerks'
browsers and kiosks' pages use the HTTP API of every process, and realtime clients follow their
topics on each. Then the process that publishes the displays is killed, and the test proves:
each device event became exactly one command, the displays show what the state says (their
retained content too), the singleton work moved, and the log has no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from devices.bus import BrokerAddress, mqtt_connector
from devices.feeds import render
from devices.registry import Kind
from devices.store import device_from_row
from devices.virtual import VirtualDevice
from devices.virtual_kinds import Keypad, Kiosk, RatingPad, device_connector
from devices.virtual_messages import Reply
from displays import board
from hall.kernel.events import Event
from hall.runtime import core_topics
from hall.storage.database import create_engine, reading
from hall.storage.device_tables import device_commands, devices
from hall.storage.lease import DISPLAY_FEED, SINGLETONS
from hall.storage.tables import events, staff
from queueing.store import QueueDomain
from realtime.topics import Topic
from tests.brokers import Broker, RawClient, own_broker
from tests.cluster import LiveClient, cluster, fresh_database, lease_holders, query
from tests.helpers import csrf_of
from tests.peers import PG_URL, missing
from tests.realtime.test_processes import Driver
from tests.serverproc import ServerProcess, login
from tests.site import open_all_week
from tests.timing import MS

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

COUNTERS = (1, 2, 3)
BEFORE_KILL = 60
AFTER_KILL = 60
# Short, so that the presence timeouts run (under their lease) within the test: a device is
# offline after this long unheard by every process.
SILENCE = 12
HEARTBEAT = 1.0


@dataclass(frozen=True)
class Said:
    """One event a device sent, and the reply it got at last (after resends, maybe elsewhere)."""

    device: str
    type: str
    reply: Reply

    @property
    def command_id(self) -> str:
        return f"dev:{self.device}:{self.reply.id}"


async def _all_events(url: str) -> list[Event]:
    engine = create_engine(url)
    try:
        async with reading(engine) as conn:
            rows = await conn.execute(select(events).order_by(events.c.hall_id, events.c.seq))
            return [Event(r.hall_id, int(r.seq), r.type, r.data, r.actor, r.at, r.command_id) for r in rows]
    finally:
        await engine.dispose()


async def _expected_displays(url: str, hall_id: int) -> dict[str, dict[str, Any]]:
    """What each display of the hall should show, made from the state in the database: the queue
    as stored, the board folded from the whole log (the servers started on an empty one)."""
    engine = create_engine(url)
    try:
        async with reading(engine) as conn:
            queue = await QueueDomain().load(conn, hall_id)
            rows = await conn.execute(select(events).where(events.c.hall_id == hall_id).order_by(events.c.seq))
            logged = [Event(r.hall_id, int(r.seq), r.type, r.data, r.actor, r.at, r.command_id) for r in rows]
            names = {
                r.id: {"name": r.display_name, "staff_no": r.staff_no}
                for r in await conn.execute(select(staff).where(staff.c.hall_id == hall_id))
            }
            shown = [
                device_from_row(r) for r in await conn.execute(select(devices).where(devices.c.hall_id == hall_id))
            ]
    finally:
        await engine.dispose()
    calls = board.fold(logged)
    return {d.id: _unsequenced(render(d, queue, calls, names)) for d in shown if d.kind is not None and d.kind.shows}


def _unsequenced(content: dict[str, Any] | None) -> dict[str, Any] | None:
    """Content without its ``seq`` (the log position it was made at, for logs) and version."""
    if content is None:
        return None
    return {k: v for k, v in content.items() if k not in ("seq", "v")}


async def _retained(broker: Broker) -> dict[str, dict[str, Any]]:
    """The display content the broker keeps, as a display that reboots now would get it."""
    account = BrokerAddress(broker.host, broker.port, broker.server_user, broker.server_password)
    found: dict[str, dict[str, Any]] = {}
    async with mqtt_connector(account)(f"probe-{random.getrandbits(32):x}", None) as link:
        await link.subscribe(["hall/+/dev/+/display"])
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                async for message in link.messages():
                    found[message.topic.split("/")[3]] = json.loads(message.payload)
    return found


@pytest.fixture
def own_mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A Mosquitto of the test's own (device accounts are added to it), as a hall runs it."""
    made = own_broker(tmp_path / "mosquitto")
    if made is None:
        missing("mosquitto")
    assert made is not None
    try:
        yield made
    finally:
        made.stop()


async def test_three_processes_share_the_devices_of_one_broker_and_survive_a_kill(
    tmp_path: Path, own_mosquitto: Broker
) -> None:
    broker = own_mosquitto
    try:
        await query(PG_URL, "SELECT 1")
    except (OSError, Exception) as exc:
        missing(f"PostgreSQL at {PG_URL} ({type(exc).__name__})")
    server_url = f"mqtt://{broker.server_user}:{broker.server_password}@{broker.host}:{broker.port}"
    async with fresh_database(PG_URL) as url:
        env = {"HALL_MQTT_URL": server_url, "HALL_DEVICE_SILENCE": str(SILENCE)}
        servers = cluster(tmp_path, url, 3, env)
        try:
            await _run(servers, url, broker)
        finally:
            for server in servers:
                server.stop()


async def _register(
    servers: list[ServerProcess], user: str, password: str, specs: list[tuple[str, str, int | None]]
) -> dict[str, str]:
    """Each device registered by the technician at a process of its own; its secret returned."""
    secrets_by_device: dict[str, str] = {}
    for index, (device, kind, counter) in enumerate(specs):
        with httpx.Client(base_url=servers[index % len(servers)].url, timeout=20) as client:
            token = login(client, user, password)
            answer = client.post(
                "/api/v1/halls/1/devices",
                json={"device": device, "kind": kind, "counter": counter},
                headers={"X-CSRF-Token": token},
            )
            assert answer.status_code == 201, answer.text
            secrets_by_device[device] = answer.json()["secret"]
    return secrets_by_device


async def _run(servers: list[ServerProcess], url: str, broker: Broker) -> None:
    first = servers[0]
    first.init()
    for number in COUNTERS:
        first.add_staff(f"qc{number}", "clerk")
    first.add_staff("tech", "technician")
    engine = create_engine(url)
    await open_all_week(engine)
    await engine.dispose()
    for server in servers:
        server.passwords = first.passwords
        server.start()

    def session(user: str, at: int = 0) -> tuple[dict[str, str], str]:
        with httpx.Client(base_url=servers[at].url) as client:
            token = login(client, user, first.passwords[user])
            return dict(client.cookies), token

    specs: list[tuple[str, str, int | None]] = [(f"xh-kiosk-{i}", "kiosk", None) for i in range(3)]
    for number in COUNTERS:
        specs += [
            (f"xh-c{number}-keypad", "keypad", number),
            (f"xh-c{number}-rating", "rating_pad", number),
            (f"xh-c{number}-window", "window", number),
        ]
    specs += [("xh-led-1", "led", None), ("xh-queue-1", "queue_display", None), ("xh-c1-reader", "id_reader", 1)]
    passwords = await _register(servers, "tech", first.passwords["tech"], specs)
    for device, secret in passwords.items():
        broker.add_account(device, secret)

    # Clerks open their counters, each at another process.
    for number in COUNTERS:
        clerk = Driver(servers, number % 3, *session(f"qc{number}", number % 3))
        opened = await clerk.post(f"/api/v1/halls/1/counters/{number}/open", {})
        assert opened.get("ok", True), opened
        await clerk.aclose()

    # Realtime clients on every process: the public queue and the technician's device topic.
    tech_cookies, _ = session("tech")
    cookie = "; ".join(f"{k}={v}" for k, v in tech_cookies.items())
    stop_clients = asyncio.Event()
    clients: list[LiveClient] = []
    for own in range(3):
        urls = [s.url for s in servers[own:] + servers[:own]]
        clients += [LiveClient("hall/1/queue", urls), LiveClient("hall/1/devices", urls, cookie)]
    listening = [asyncio.create_task(c.run(stop_clients)) for c in clients]
    async with asyncio.timeout(20_000 * MS):
        while not all(c.resumes for c in clients):
            await asyncio.sleep(0.02)

    # The devices: real MQTT clients with their own accounts, resending unanswered events.
    connect = device_connector(BrokerAddress(broker.host, broker.port), passwords)
    options: dict[str, Any] = {"heartbeat": HEARTBEAT, "event_timeout": 1.0, "event_retries": 8}
    kiosks = [Kiosk(f"xh-kiosk-{i}", "xh", connect, rng=random.Random(i), **options) for i in range(3)]
    keypads = {n: Keypad(f"xh-c{n}-keypad", "xh", connect, counter=n, **options) for n in COUNTERS}
    pads = {n: RatingPad(f"xh-c{n}-rating", "xh", connect, counter=n, **options) for n in COUNTERS}
    displays = [VirtualDevice(f"xh-c{n}-window", "xh", Kind.WINDOW, connect, counter=n, **options) for n in COUNTERS]
    displays += [
        VirtualDevice("xh-led-1", "xh", Kind.LED, connect, **options),
        VirtualDevice("xh-queue-1", "xh", Kind.QUEUE_DISPLAY, connect, **options),
    ]
    everyone: list[VirtualDevice] = [*kiosks, *keypads.values(), *pads.values(), *displays]
    running = [device.start() for device in everyone]
    async with asyncio.timeout(20_000 * MS):
        for device in everyone:
            await device.online.wait()

    said: list[Said] = []
    http_tickets: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def kiosk_loop(kiosk: Kiosk) -> None:
        while not stop.is_set():
            reply = await kiosk.press("soc")
            said.append(Said(kiosk.device_id, "press", reply))
            await asyncio.sleep(0.1)

    async def counter_loop(number: int) -> None:
        keypad, pad = keypads[number], pads[number]
        while not stop.is_set():
            done = True
            for key in ("call", "start", "finish"):
                reply = await keypad.key(key)
                said.append(Said(keypad.device_id, key, reply))
                if not reply.ok:
                    done = False
                    break
            if done:
                reply = await pad.rate(random.randint(1, 5))
                said.append(Said(pad.device_id, "rate", reply))
            else:
                await asyncio.sleep(0.1)

    async def page_loop(own: int) -> None:
        # A kiosk's web page at every process: queue commands beside the devices' ones.
        with httpx.Client(base_url=servers[own].url) as page:
            token = csrf_of(page.get("/login").text)
            driver = Driver(servers, own, dict(page.cookies), token)
        try:
            while not stop.is_set():
                http_tickets.append(await driver.post("/api/v1/halls/1/tickets", {"service": "fund"}))
                await asyncio.sleep(0.3)
        finally:
            await driver.aclose()

    work = [asyncio.create_task(kiosk_loop(k)) for k in kiosks]
    work += [asyncio.create_task(counter_loop(n)) for n in COUNTERS]
    work += [asyncio.create_task(page_loop(own)) for own in range(3)]
    async with asyncio.timeout(90_000 * MS):
        while len(said) < BEFORE_KILL:
            assert not any(task.done() for task in work), next(t for t in work if t.done()).exception()
            await asyncio.sleep(0.02)

    # The process that publishes the displays dies mid-flight.
    async with asyncio.timeout(20_000 * MS):
        while set(holders := await lease_holders(url)) != set(SINGLETONS.values()):
            await asyncio.sleep(0.05)
    pids = {s.proc.pid: i for i, s in enumerate(servers) if s.proc is not None}
    victim = pids[holders[DISPLAY_FEED]]
    servers[victim].kill9()
    killed_at = time.monotonic()
    said_at_kill = len(said)
    survivors = {s.proc.pid for s in servers if s.proc is not None}
    async with asyncio.timeout(60_000 * MS):
        while True:
            moved = await lease_holders(url)
            if set(moved) == set(SINGLETONS.values()) and set(moved.values()) <= survivors:
                break
            await asyncio.sleep(0.05)
    takeover = time.monotonic() - killed_at

    # A reader that says it is online and then falls silent without a Will: the presence timeout,
    # now run by a survivor, takes it offline.
    reader = await RawClient.connect(broker, "xh-c1-reader", "xh-c1-reader", passwords["xh-c1-reader"])
    await reader.publish("hall/xh/dev/xh-c1-reader/state", b'{"v":1,"status":"online","kind":"id_reader"}', retain=True)
    await asyncio.sleep(0.5)
    reader.abort()
    silent_from = time.monotonic()

    async with asyncio.timeout(120_000 * MS):
        while len(said) < said_at_kill + AFTER_KILL:
            assert not any(task.done() for task in work), next(t for t in work if t.done()).exception()
            await asyncio.sleep(0.02)
    async with asyncio.timeout((SILENCE + 30) * 1000 * MS):
        while not any(
            e.type == "device.offline" and e.data.get("device") == "xh-c1-reader" for e in await _all_events(url)
        ):
            await asyncio.sleep(0.5)
    silenced = time.monotonic() - silent_from
    stop.set()
    await asyncio.gather(*work)

    log = await _all_events(url)
    by_hall: dict[int, list[Event]] = defaultdict(list)
    for event in log:
        by_hall[event.hall_id].append(event)

    # No sequence gap and no duplicate, in any hall; no ticket number given twice.
    for hall_id, logged in by_hall.items():
        assert [e.seq for e in logged] == list(range(1, len(logged) + 1)), f"hall {hall_id}"
    issued = [e.data["number"] for e in by_hall[1] if e.type == "ticket.issued"]
    assert len(issued) == len(set(issued)), Counter(issued).most_common(3)
    assert {t["ticket"]["number"] for t in http_tickets} <= set(issued)

    # Each device event became exactly one command: its events are one commit's (consecutive, no
    # type twice), a done event has them and a refused one none, and no other device command
    # is in the log. A kiosk's press is one ticket, the one its reply names.
    runs: dict[str, list[Event]] = defaultdict(list)
    for event in by_hall[1]:
        if event.command_id and event.command_id.startswith("dev:"):
            runs[event.command_id].append(event)
    sent = {s.command_id: s for s in said}
    assert len(sent) == len(said)  # every event its own id
    assert set(runs) <= set(sent), set(runs) - set(sent)
    for command_id, run in runs.items():
        seqs = [e.seq for e in run]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (command_id, seqs)
        assert len({e.type for e in run}) == len(run), (command_id, [e.type for e in run])
    for item in said:
        run = runs.get(item.command_id, [])
        if not item.reply.ok:
            assert run == [], (item, run)
        elif item.type == "press":
            assert [e.type for e in run] == ["ticket.issued"], (item, run)
            assert run[0].data["number"] == item.reply.result["number"]
        else:
            assert run, item
    presses = [s for s in said if s.type == "press"]
    assert presses and all(s.reply.ok for s in presses)
    assert sum(1 for s in said if s.type == "rate" and s.reply.ok) > 0
    # Every ticket pressed for was printed at its kiosk, once: the reply waits until the broker has
    # the print, and a resend that reaches a survivor sends it again under the same id.
    async with asyncio.timeout(20_000 * MS):
        while any(k.prints < sum(1 for s in presses if s.device == k.device_id) for k in kiosks):
            await asyncio.sleep(0.1)
    assert [k.prints for k in kiosks] == [sum(1 for s in presses if s.device == k.device_id) for k in kiosks]
    printed = [p.ticket for k in kiosks for p in k.printed]
    assert len(printed) == len(set(printed))
    assert set(printed) <= {s.reply.result["ticket"] for s in presses}

    # Devices heard by some process all along stayed online: only the silent reader went offline.
    offline = [e.data["device"] for e in by_hall[1] if e.type == "device.offline"]
    assert offline == ["xh-c1-reader"], offline

    # The displays show what the state says, calls made after the kill included, and so does
    # the content the broker keeps for a display that reboots now.
    calls_after_kill = [
        e
        for e in by_hall[1]
        if e.type == "ticket.called" and e.command_id and e.command_id in set(list(sent)[said_at_kill:])
    ]
    assert calls_after_kill
    expected = await _expected_displays(url, 1)
    assert set(expected) == {d.device_id for d in displays}
    async with asyncio.timeout(20_000 * MS):
        while {d.device_id: _unsequenced(d.display) for d in displays} != expected:
            await asyncio.sleep(0.1)
    retained = await _retained(broker)
    assert {device: _unsequenced(content) for device, content in retained.items()} == expected

    # Every realtime client saw every event of its topic once, in order; those of the killed
    # process resumed on a survivor.
    registry = core_topics()
    async with asyncio.timeout(30_000 * MS):
        for index, client in enumerate(clients):
            topic = Topic.parse(client.topic)
            kind = registry.kind_of(topic)
            assert client.snapshot_seq is not None
            wanted = [
                e.seq
                for e in by_hall.get(topic.hall_id, [])
                if e.seq > client.snapshot_seq and kind.select(topic, e) is not None
            ]
            while client.seqs[-1:] != wanted[-1:]:
                assert not listening[index].done(), listening[index]
                await asyncio.sleep(0.02)
            assert client.seqs == wanted, client.topic
    stop_clients.set()
    await asyncio.gather(*listening)
    moved_clients = [c for c in clients if len(c.resumes) > 1]
    assert len(moved_clients) == 2  # the killed process's two

    # The survivors' own words: one of them runs each piece of singleton work now.
    for name in SINGLETONS:
        assert any(f"this process runs the {name}" in s.log() for i, s in enumerate(servers) if i != victim), name

    # Commands to devices are sent once, by the process asked, and their acks find it among the
    # three: the prints of issued tickets, and a technician's pings from each survivor's console.
    engine = create_engine(url)
    try:
        async with reading(engine) as conn:
            prints = Counter(
                r.status for r in await conn.execute(select(device_commands).where(device_commands.c.name == "print"))
            )
    finally:
        await engine.dispose()
    assert set(prints) == {"succeeded"} and prints["succeeded"] > 0, prints
    led = next(d for d in displays if d.device_id == "xh-led-1")
    for index, server in enumerate(servers):
        if index == victim:
            continue
        cookies, token = session("tech", index)
        # Asynchronously: the devices answer in this same event loop.
        async with httpx.AsyncClient(base_url=server.url, cookies=cookies, timeout=30) as console:
            answer = await console.post(
                "/api/v1/halls/1/devices/xh-led-1/commands", json={"name": "ping"}, headers={"X-CSRF-Token": token}
            )
        assert answer.status_code == 200, answer.text
        ping = answer.json()
        assert (ping["status"], ping["result"]) == ("succeeded", {"pong": True}), ping
        assert list(led.commands_seen).count(ping["id"]) == ping["attempts"]

    # Each message reached one process: a device got at most one reply per send (were every
    # process subscribed plainly, each would answer every send, and most replies would be late).
    resends = sum(d.resends for d in everyone)
    late = sum(d.late_replies for d in everyone)
    assert late <= resends, (late, resends)
    for device in everyone:
        await device.stop()
    await asyncio.gather(*running)
    print(
        f"\n{len(said)} device events ({resends} resends, {late} late replies), "
        f"{len(http_tickets)} page tickets, {len(log)} events; "
        f"leases moved {takeover:.2f} s after SIGKILL; a silent device offline after {silenced:.1f} s "
        f"(limit {SILENCE} s)"
    )
