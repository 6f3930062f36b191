"""Devices over MQTT: device events that become commands end to end, and telemetry ingested, each
beside the same broker's raw throughput measured in the same run.

One Mosquitto of the bench's own (a temporary directory, a free loopback port, anonymous, no
persistence, ``max_queued_messages 100000`` because the default of 1,000 silently drops QoS 1
messages to a subscriber that falls behind, ``max_inflight_messages 20`` as hall ships it,
``sys_interval 1`` for the broker's own counters). Every flood comes from ``mosquitto_pub -l`` child
processes, one per device topic, each reading its lines (one JSON payload per line) from a file.

1. Raw baseline, before the server starts and again after it stopped (the ratios use the mean):
   one aiomqtt subscriber in this process counts a flood, timed from the first message received to
   the last, with the same publishers and payloads as the measured floods (at least 10,000
   messages): at QoS 1 from one ``mosquitto_pub -q 1`` per kiosk, at QoS 0 from one per sender.
2. The server in this process: ``Runtime.build`` with ``mqtt_url`` on a fresh SQLite file (WAL,
   synchronous=FULL), the sample halls with every service open around the clock and without a daily
   cap (号源), and in hall ``xh`` kiosks ``xh-kiosk-1..K``, a queue display ``xh-qd-1``, an LED
   ``xh-led-1`` and telemetry senders ``xh-tele-1..S`` (registered as kiosks: they report paper and
   temperature), each registered by a ``device.register`` command. It connects to the broker as in
   production (incoming queue bounded by ``mqtt_incoming_max``, 20,000).
3. Telemetry, first, on an idle server: S senders flood N messages at QoS 0; the figure is the
   rate at which the gateway counts them (``stats.received["tele"]``) from the first to the last,
   with what arrived of what was sent. Ratio: ÷ the raw QoS 0 drain rate.
4. Events end to end: the kiosks flood N ``press`` events at QoS 1 (services in turn). The gateway
   turns each into ``ticket.issue`` through the writer (group commit) and replies on the kiosk's
   ``reply`` topic; the server then renders the ticket (ESC/POS) and sends the kiosk a ``print``
   command that waits for its ack. The acks come from a responder in a CHILD process (an aiomqtt
   client subscribed to ``hall/xh/dev/+/cmd`` that acks every command id on the device's ``ack``
   topic), as a kiosk would: without it each print command would be resent and time out after
   3 tries of 3 s. The figure runs from the first event the gateway receives until all N are handled
   (``events_done + events_failed``) and the queue display's retained content, as an aiomqtt client
   here receives it from the broker, counts every ticket waiting; if the display has not caught up
   ``--wait`` seconds later, the figure runs to the last event handled and says so. Events that
   failed, that never reached the gateway, and the server's reconnects are printed. Ratio: events/s
   ÷ the raw QoS 1 drain rate.

Also printed: messages the server's bounded incoming queue dropped (``devices.bus.dropped_incoming``),
the broker's $SYS PUBLISH counters while the server ran, the outgoing queue's peak, the print
commands' outcomes, the bench process's peak RSS, how busy the machine was during each phase, and
the server's warnings (counted, not printed one by one). Times in the server come from a 1 ms poll
of the gateway's counters and from a writer listener.
``--no-print`` is a diagnostic: the gateway gets no ticket printer (no rendering, no print command).
The exit status is 1 when an event failed or was lost, the display did not catch up, or telemetry
was rejected.

Run from the repository root:

    python -m bench.mqtt            # 5,000 events, 50,000 telemetry messages: about a minute
    python -m bench.mqtt --quick    # 2,000 / 10,000: under a minute
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import pwd
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiomqtt
from sqlalchemy import update

from bench.common import machine
from devices.bus import dropped_incoming
from devices.registry import Status
from hall.kernel.events import Command, Event
from hall.runtime import Runtime
from hall.settings import Settings
from hall.setup import initialise
from hall.storage.queue_tables import queue_services

HOST = "127.0.0.1"
HALL = "xh"
SERVICES = ("soc", "fund", "hukou", "civil", "disab", "info")
ALWAYS = {str(day): ["00:00", "23:59"] for day in range(7)}
DISPLAY = f"{HALL}-qd-1"
TELEMETRY = b'{"v":1,"temperature":40.0,"paper":"ok"}'
VERBOSE = False


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_ticks(pids: Sequence[int]) -> tuple[int, list[int]]:
    """(ticks all CPUs spent busy, ticks each of the given processes spent) from /proc."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system, irq softirq steal
    each = []
    for pid in pids:
        ticks = 0
        with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/stat") as stat:
            rest = stat.read().rsplit(")", 1)[1].split()
            ticks = int(rest[11]) + int(rest[12])  # utime, stime
        each.append(ticks)
    return busy, each


class Load:
    """Cores busy on the machine while a phase ran, and those of the server (this process), the
    broker and the ack responder; the rest is the publishers and whatever else runs."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.start = time.monotonic()
        self.ticks = cpu_ticks(self.pids)
        self.last: tuple[float, tuple[int, list[int]]] | None = None

    def mark(self) -> None:
        """Something arrived: the phase lasts at least until now (waiting for stragglers does not count)."""
        self.last = (time.monotonic(), cpu_ticks(self.pids))

    def __str__(self) -> str:
        end, (busy, each) = self.last or (time.monotonic(), cpu_ticks(self.pids))
        scale = (end - self.start) * os.sysconf("SC_CLK_TCK")
        if scale <= 0:
            return "n/a"
        parts = [f"{(now - then) / scale:.2f}" for now, then in zip(each, self.ticks[1], strict=True)]
        return (
            f"machine {(busy - self.ticks[0]) / scale:.2f} cores busy; server {parts[0]}, broker {parts[1]}, "
            f"responder {parts[2]}"
        )


class LogCount(logging.Handler):
    """The server's warnings and errors, counted by logger and message, rather than printed by the
    thousand in the middle of the figures."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[tuple[str, str]] = Counter()
        self.examples: dict[tuple[str, str], str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        key = (record.name, str(record.msg))
        self.counts[key] += 1
        self.examples.setdefault(key, record.getMessage()[:150])

    def lines(self) -> list[str]:
        return [f"{count:,} x {name}: {self.examples[(name, msg)]}" for (name, msg), count in self.counts.most_common()]


# -- the broker and the publishers -------------------------------------------------------------


def find(name: str, *places: str) -> str:
    found = shutil.which(name) or next((p for p in places if os.access(p, os.X_OK)), None)
    if found is None:
        raise SystemExit(f"bench/mqtt.py needs {name} (apt-get install -y mosquitto mosquitto-clients)")
    return found


class Mosquitto:
    def __init__(self, directory: Path) -> None:
        self.binary = find("mosquitto", "/usr/sbin/mosquitto")
        self.publisher = find("mosquitto_pub", "/usr/bin/mosquitto_pub")
        self.directory = directory
        self.port = free_port()
        lines = [
            f"listener {self.port} {HOST}",
            "allow_anonymous true",
            "persistence false",
            "max_queued_messages 100000",
            "max_inflight_messages 20",
            "sys_interval 1",
        ]
        if os.getuid() == 0:  # as root, Mosquitto would drop to the "mosquitto" user
            lines.insert(0, f"user {pwd.getpwuid(os.getuid()).pw_name}")
        self.config = directory / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.log = directory / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def version(self) -> str:
        out = subprocess.run([self.binary, "-h"], capture_output=True, text=True, check=False).stdout
        return out.split("\n", 1)[0].replace("mosquitto version ", "")

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text(errors='replace')}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), timeout=1):
                return
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not listen within 10 s")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Flood:
    """``mosquitto_pub -l`` child processes, one per topic, each sending its own file of lines."""

    def __init__(self, broker: Mosquitto, workdir: Path, batches: dict[str, list[bytes]], qos: int) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.sent = sum(len(lines) for lines in batches.values())
        name = uuid.uuid4().hex[:8]
        for index, (topic, lines) in enumerate(batches.items()):
            path = workdir / f"flood-{name}-{index}.txt"
            path.write_bytes(b"\n".join(lines) + b"\n")
            with path.open("rb") as lines_in:
                command = [broker.publisher, "-h", HOST, "-p", str(broker.port), "-q", str(qos), "-l", "-t", topic]
                self.procs.append(
                    subprocess.Popen(
                        [*command, "-i", f"bench-pub-{name}-{index}"], stdin=lines_in, stderr=subprocess.PIPE
                    )
                )
        self._checked = 0.0
        self._running = True

    def running(self) -> bool:
        """Whether a publisher is still at work (looked at no more than ten times a second)."""
        if self._running and time.monotonic() - self._checked > 0.1:
            self._checked = time.monotonic()
            self._running = any(p.poll() is None for p in self.procs)
        return self._running

    def check(self) -> list[str]:
        problems = []
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)  # its last messages are out; it is disconnecting
            if proc.poll() is None:
                proc.kill()
            _, err = proc.communicate()
            if proc.returncode != 0:
                problems.append(f"mosquitto_pub exited {proc.returncode}: {err.decode(errors='replace')[:200]}")
        return problems


def event_batches(kiosks: int, count: int, tag: str, topic_of: Callable[[int], str]) -> dict[str, list[bytes]]:
    batches: dict[str, list[bytes]] = {topic_of(k): [] for k in range(1, kiosks + 1)}
    topics = list(batches)
    for i in range(count):
        kiosk = i % kiosks
        body = {"v": 1, "id": f"{tag}-{i:06d}", "type": "press", "data": {"service": SERVICES[i % len(SERVICES)]}}
        batches[topics[kiosk]].append(json.dumps(body, separators=(",", ":")).encode())
    return batches


def telemetry_batches(senders: int, count: int, topic_of: Callable[[int], str]) -> dict[str, list[bytes]]:
    topics = [topic_of(s) for s in range(1, senders + 1)]
    return {t: [TELEMETRY] * (count // senders + (1 if i < count % senders else 0)) for i, t in enumerate(topics)}


# -- the raw baseline ---------------------------------------------------------------------------


@dataclass
class Drain:
    sent: int
    arrived: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.arrived / self.seconds if self.seconds > 0 else 0.0


async def raw_drain(broker: Mosquitto, workdir: Path, batches: dict[str, list[bytes]], qos: int) -> Drain:
    """One aiomqtt subscriber counting a flood, first message to last (no parsing, no work)."""
    expected = sum(len(lines) for lines in batches.values())
    count = 0
    first = last = 0.0
    done = asyncio.Event()
    async with aiomqtt.Client(HOST, broker.port, identifier=f"bench-raw-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe("bench/raw/#", qos=1)

        async def reader() -> None:
            nonlocal count, first, last
            async for _ in client.messages:
                last = time.perf_counter()
                if count == 0:
                    first = last
                count += 1
                if count >= expected:
                    done.set()
                    return

        task = asyncio.create_task(reader())
        flood = Flood(broker, workdir, batches, qos)
        await wait_progress(lambda: count, done, flood)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for problem in flood.check():
            print(f"   ! {problem}")
    return Drain(expected, count, last - first)


async def wait_progress(progress: Any, done: asyncio.Event, flood: Flood, idle: float = 2.0) -> None:
    """Until ``done``, or nothing more arrived for ``idle`` seconds after the publishers finished
    (QoS 0 may lose messages), or 120 s."""
    seen, quiet_since = -1, time.monotonic()
    deadline = time.monotonic() + 120
    while not done.is_set() and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.25):
                await done.wait()
        now_seen = progress()
        if now_seen != seen or flood.running():
            seen, quiet_since = now_seen, time.monotonic()
        elif time.monotonic() - quiet_since > idle:
            return


def raw_topic(k: int) -> str:
    return f"bench/raw/{k}/x"


# -- the server ---------------------------------------------------------------------------------


def device_topic(device: str, channel: str) -> str:
    return f"hall/{HALL}/dev/{device}/{channel}"


@dataclass
class Watch:
    """What the bench sees of the server: a writer listener, the display's content as the broker
    delivers it, and the outgoing queue's peak (read by the poll)."""

    issued_at: list[float] = field(default_factory=list)  # commit time of every ticket.issued
    printed: Counter[str] = field(default_factory=Counter)  # print commands by outcome
    last_printed: float = 0.0
    waiting: int | None = None  # what the queue display shows waiting, all services
    display_at: float = 0.0
    displays: int = 0
    outgoing_peak: int = 0
    pids: list[int] = field(default_factory=list)  # this process, the broker, the responder
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_events(self, events: Sequence[Event]) -> None:
        now = time.perf_counter()
        for event in events:
            if event.type == "ticket.issued":
                self.issued_at.append(now)
            elif event.type == "device.command" and event.data.get("name") == "print":
                self.printed[str(event.data.get("status"))] += 1
                self.last_printed = now
        self.changed.set()


async def prepare(runtime: Runtime) -> dict[str, int]:
    ids, _ = await initialise(runtime.engine)
    async with runtime.engine.begin() as conn:
        # No daily cap (号源) in a throughput bench: it would refuse tickets, not measure them.
        await conn.execute(update(queue_services).values(week=ALWAYS, open_on_holidays=True, daily_cap=None))
    return ids


async def register(runtime: Runtime, hall_id: int, devices: list[tuple[str, str]]) -> None:
    for device, kind in devices:
        args = {"device": device, "kind": kind, "counter": None, "secret_hash": "bench-placeholder-hash"}
        outcome = await runtime.writer.submit(
            Command(uuid.uuid4().hex, hall_id, "device.register", "system:bench", args)
        )
        assert outcome.ok, outcome.result
    assert runtime.devices is not None
    gateway = runtime.devices.gateway
    async with asyncio.timeout(10):
        while not all((d := gateway.known.device(name)) and d.status is Status.ACTIVE for name, _ in devices):
            await asyncio.sleep(0.02)


async def watch_broker(port: int, counters: dict[str, int]) -> None:
    """The broker's PUBLISH counters as it publishes them ($SYS, every second when they change;
    kept open because a retained $SYS value expires after a minute without change)."""
    async with aiomqtt.Client(HOST, port, identifier=f"bench-sys-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe("$SYS/broker/publish/messages/+")
        async for message in client.messages:
            counters[str(message.topic).rsplit("/", 1)[1]] = int(bytes(message.payload).decode())


async def watch_display(port: int, watch: Watch) -> None:
    async with aiomqtt.Client(HOST, port, identifier=f"bench-display-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(device_topic(DISPLAY, "display"), qos=1)
        async for message in client.messages:
            content = json.loads(bytes(message.payload))
            watch.waiting = sum(content.get("waiting", {}).values())
            watch.display_at = time.perf_counter()
            watch.displays += 1
            watch.changed.set()


@dataclass
class Polled:
    first: float  # the arrival counter first moved (0.0: never)
    last: float  # it last moved
    done: float | None  # the condition held (None: it never did and everything stood still)
    moved: float = 0.0  # ``moving()`` last changed


async def poll(
    runtime: Runtime,
    watch: Watch,
    *,
    arrived: Callable[[], int],
    done: Callable[[], bool],
    moving: Callable[[], object],
    flood: Flood | None,
    quiet: float,
    limit: float = 180,
    load: Load | None = None,
) -> Polled:
    """Poll every millisecond until ``done()``, or until neither ``moving()`` changed nor a
    publisher ran for ``quiet`` seconds, or ``limit`` seconds."""
    assert runtime.devices is not None
    stats = runtime.devices.gateway.stats
    bus = runtime.devices.bus
    seen, state = arrived(), moving()
    first = last = 0.0
    still_since = time.monotonic()
    deadline = time.monotonic() + limit
    said = last_mark = moved = time.perf_counter()
    while True:
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        watch.outgoing_peak = max(watch.outgoing_peak, bus.waiting)
        got = arrived()
        if got != seen:
            seen, last = got, now
            first = first or now
        if done():
            return Polled(first, last, now, now)
        current = moving()
        if current != state:
            moved = now
            if load is not None and now - last_mark > 0.1:
                load.mark()  # what the phase cost up to its last movement, not the wait for stragglers
                last_mark = now
        if current != state or (flood is not None and flood.running()):
            state, still_since = current, time.monotonic()
        elif time.monotonic() - still_since > quiet or time.monotonic() > deadline:
            return Polled(first, last, None, moved)
        if VERBOSE and now - said > 1:
            said = now
            print(
                f"   .. received {dict(stats.received)}, events done {stats.events_done:,} "
                f"failed {stats.events_failed:,}; bus out: waiting {bus.waiting:,} published {bus.published:,}, "
                f"connects {bus.connects}; display waiting {watch.waiting}; print commands {dict(watch.printed)}",
                flush=True,
            )


@dataclass
class EventsRun:
    sent: int
    received: int
    handled: int
    failed: int
    issued: int
    first: float
    handled_at: float  # all handled (or, if some never came, the last one handled)
    shown_at: float | None  # the display showed every ticket issued (None: not within the wait)
    reconnects: int
    commands: int
    batches: int
    published: int
    first_rate: float  # tickets/s over the first and the second half of the tickets
    last_rate: float
    load: str = ""
    printed_at: float | None = None  # every print command finished (acked, failed or timed out)
    settled: bool = False  # nothing left to send and no print command in flight, within --wait
    busy: str = ""  # what was left if not
    notes: list[str] = field(default_factory=list)

    @property
    def end(self) -> float:
        return max(self.handled_at, self.shown_at or 0.0)

    @property
    def rate(self) -> float:
        return self.issued / (self.end - self.first) if self.end > self.first else 0.0


def half_rates(first: float, times: list[float]) -> tuple[float, float]:
    """Tickets committed per second over the first half of the tickets (from the first event) and
    over the second half."""
    half = len(times) // 2
    if half < 2:
        return 0.0, 0.0
    head = half / (times[half - 1] - first) if times[half - 1] > first else 0.0
    tail = (len(times) - half) / (times[-1] - times[half - 1]) if times[-1] > times[half - 1] else 0.0
    return head, tail


@dataclass
class After:
    shown: float | None  # the display showed every ticket (when the bench received that content)
    printed: float | None  # the last print command finished
    settled: float | None  # nothing left to send, no print command in flight
    busy: str


async def aftermath(runtime: Runtime, watch: Watch, wanted: int, prints: int, limit: float) -> After:
    """After the events are handled: wait (at most ``limit`` seconds) for the display to show
    ``wanted`` waiting, for ``prints`` print commands to finish and for the outgoing queue to empty."""
    assert runtime.devices is not None
    bus = runtime.devices.bus
    commands = runtime.devices.gateway.commands
    shown = printed = settled = None
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        watch.outgoing_peak = max(watch.outgoing_peak, bus.waiting)
        if shown is None and watch.waiting is not None and watch.waiting >= wanted:
            shown = watch.display_at
        if printed is None and sum(watch.printed.values()) >= prints:
            printed = watch.last_printed if prints else now
        if settled is None and bus.waiting == 0 and not commands.in_flight():
            settled = now
        if shown and printed and settled:
            break
    busy = f"{bus.waiting:,} messages queued to go out, {len(commands.in_flight()):,} print commands in flight"
    return After(shown, printed, settled, busy)


async def events_phase(runtime: Runtime, broker: Mosquitto, workdir: Path, watch: Watch, args: Any) -> EventsRun:
    assert runtime.devices is not None
    stats = runtime.devices.gateway.stats
    bus = runtime.devices.bus
    writer = runtime.writer
    n = args.events
    received0, done0, failed0 = stats.received["evt"], stats.events_done, stats.events_failed
    issued0, connects0 = len(watch.issued_at), bus.connects
    batches0, committed0, published0 = writer.batches, writer.committed, bus.published
    waiting0 = watch.waiting or 0
    tag = uuid.uuid4().hex[:8]
    batches = event_batches(args.kiosks, n, f"e{tag}", lambda k: device_topic(f"{HALL}-kiosk-{k}", "evt"))
    load = Load(watch.pids)
    flood = Flood(broker, workdir, batches, qos=1)

    def handled() -> int:
        return stats.events_done + stats.events_failed - done0 - failed0

    def received() -> int:
        return stats.received["evt"] - received0

    polled = await poll(
        runtime,
        watch,
        arrived=received,
        done=lambda: handled() >= n,
        moving=lambda: (received(), handled(), bus.connects),
        flood=flood,
        quiet=10,
        load=load,
    )
    handled_at = polled.done or polled.moved  # if some never came: when the last one was handled
    load_text = str(load)
    issued = len(watch.issued_at) - issued0
    wanted = waiting0 + issued
    # The display's update leaves through the same outgoing queue as the replies and print commands;
    # the print commands finish with their ack (or time out after 3 tries of 3 s each).
    after = await aftermath(runtime, watch, wanted, 0 if args.no_print else issued, args.wait)
    head, tail = half_rates(polled.first, watch.issued_at[issued0:])
    run = EventsRun(
        sent=n,
        received=received(),
        handled=handled(),
        failed=stats.events_failed - failed0,
        issued=issued,
        first=polled.first,
        handled_at=handled_at,
        shown_at=after.shown,
        reconnects=bus.connects - connects0,
        commands=writer.committed - committed0,
        batches=writer.batches - batches0,
        published=bus.published - published0,
        first_rate=head,
        last_rate=tail,
    )
    run.load = load_text
    run.printed_at = after.printed
    run.settled = after.settled is not None
    run.busy = after.busy
    if after.shown is None:
        run.notes.append(
            f"the display did not show {wanted:,} waiting within {args.wait:.0f} s (it showed {watch.waiting:,}; "
            f"{bus.waiting:,} messages still queued to go out): the figure runs to the last event handled"
        )
    run.notes.extend(flood.check())
    return run


@dataclass
class TeleRun:
    sent: int
    arrived: int
    seconds: float
    rejected: int
    load: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.arrived / self.seconds if self.seconds > 0 else 0.0


async def telemetry_phase(runtime: Runtime, broker: Mosquitto, workdir: Path, watch: Watch, args: Any) -> TeleRun:
    assert runtime.devices is not None
    stats = runtime.devices.gateway.stats
    n = args.telemetry
    before = stats.received["tele"]
    rejected = stats.reject_total()
    batches = telemetry_batches(args.senders, n, lambda s: device_topic(f"{HALL}-tele-{s}", "tele"))
    load = Load(watch.pids)
    flood = Flood(broker, workdir, batches, qos=0)

    def arrived() -> int:
        return stats.received["tele"] - before

    polled = await poll(
        runtime, watch, arrived=arrived, done=lambda: arrived() >= n, moving=arrived, flood=flood, quiet=3, load=load
    )
    # QoS 0 may lose some: then the figure runs to the last that arrived.
    end = polled.done if polled.done is not None else polled.last
    run = TeleRun(n, arrived(), end - polled.first, stats.reject_total() - rejected, str(load))
    run.notes.extend(flood.check())
    return run


# -- the responder in its own process -------------------------------------------------------------


async def responder(port: int, hall: str) -> None:
    """Ack every command the server sends to the hall's devices, as a kiosk does."""
    quiet = logging.getLogger("bench.responder")
    quiet.setLevel(logging.ERROR)  # aiomqtt warns about every publish past the tenth in flight
    async with aiomqtt.Client(HOST, port, identifier=f"bench-responder-{os.getpid()}", logger=quiet) as client:
        await client.subscribe(f"hall/{hall}/dev/+/cmd", qos=1)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        pending: set[asyncio.Task[None]] = set()
        async for message in client.messages:
            command = json.loads(bytes(message.payload))
            ack = json.dumps({"v": 1, "id": command["id"], "ok": True, "result": {}}, separators=(",", ":"))
            device = str(message.topic).split("/")[3]
            task = asyncio.create_task(client.publish(f"hall/{hall}/dev/{device}/ack", ack, qos=1))
            pending.add(task)
            task.add_done_callback(pending.discard)


def start_responder(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.mqtt", "_responder", str(port), HALL],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != b"ready":
        proc.kill()
        raise RuntimeError("the ack responder did not start")
    return proc


# -- the run ------------------------------------------------------------------------------------------


@dataclass
class ServerRun:
    events: EventsRun
    telemetry: TeleRun
    printed: Counter[str]
    outgoing_peak: int
    rss: list[tuple[str, float]]
    broker: dict[str, int | None]
    dropped: int
    incoming_max: int


async def server_part(broker: Mosquitto, workdir: Path, args: Any) -> ServerRun:
    settings = Settings(
        db_url=f"sqlite+aiosqlite:///{workdir / 'hall.db'}",
        secret_key="b" * 48,
        mqtt_url=f"mqtt://{HOST}:{broker.port}",
    )
    runtime = Runtime.build(settings)
    assert runtime.devices is not None
    ids = await prepare(runtime)
    watch = Watch()
    runtime.writer.add_listener(watch.on_events)
    acks = start_responder(broker.port)
    assert broker.proc is not None
    watch.pids = [os.getpid(), broker.proc.pid, acks.pid]
    display: asyncio.Task[None] | None = None
    sys_watch: asyncio.Task[None] | None = None
    sys_counters: dict[str, int] = {}
    rss = [("before the server", peak_rss_mb())]
    await runtime.start()
    bus = runtime.devices.bus
    try:
        async with asyncio.timeout(10):
            await bus.wait_connected()
        devices = [(f"{HALL}-kiosk-{k}", "kiosk") for k in range(1, args.kiosks + 1)]
        devices += [(DISPLAY, "queue_display"), (f"{HALL}-led-1", "led")]
        devices += [(f"{HALL}-tele-{s}", "kiosk") for s in range(1, args.senders + 1)]
        await register(runtime, ids[HALL], devices)
        display = asyncio.create_task(watch_display(broker.port, watch))
        sys_watch = asyncio.create_task(watch_broker(broker.port, sys_counters))
        async with asyncio.timeout(10):
            while watch.waiting is None:
                watch.changed.clear()
                await watch.changed.wait()
        await asyncio.sleep(0.5)  # let registration's display refreshes settle
        if args.no_print:
            runtime.devices.gateway.events._printer = None  # diagnostic: issued tickets are not rendered nor sent
        rss.append(("server up", peak_rss_mb()))
        await asyncio.sleep(1.5)  # a $SYS interval
        before = dict(sys_counters)

        # Telemetry first, on an idle server: the events leave work behind (messages to send, print
        # commands waiting for acks) for longer than a bench should wait.
        telemetry = await telemetry_phase(runtime, broker, workdir, watch, args)
        rss.append(("after the telemetry", peak_rss_mb()))
        events = await events_phase(runtime, broker, workdir, watch, args)
        rss.append(("after the events", peak_rss_mb()))
        await asyncio.sleep(1.5)  # a $SYS interval, so that the counters include the last messages
        after = dict(sys_counters)
        counters = {
            name: after[name] - before[name] if name in after and name in before else None
            for name in ("dropped", "received", "sent")
        }
        return ServerRun(
            events,
            telemetry,
            watch.printed,
            watch.outgoing_peak,
            rss,
            counters,
            dropped_incoming(),
            settings.mqtt_incoming_max,
        )
    finally:
        for task in (display, sys_watch):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await task
        await runtime.stop()
        acks.terminate()
        acks.wait(timeout=10)


async def baselines(broker: Mosquitto, workdir: Path, args: Any) -> tuple[Drain, Drain]:
    """The same publishers and payloads as the measured floods; at least 10,000 messages, so that
    the drain lasts long enough to time."""
    tag = uuid.uuid4().hex[:8]
    events = event_batches(args.kiosks, max(args.events, 10_000), f"r{tag}", raw_topic)
    qos1 = await raw_drain(broker, workdir, events, qos=1)
    qos0 = await raw_drain(
        broker, workdir, telemetry_batches(args.senders, max(args.telemetry, 10_000), raw_topic), qos=0
    )
    return qos1, qos0


def drain_line(label: str, runs: list[Drain]) -> tuple[str, float]:
    mean = sum(r.rate for r in runs) / len(runs)
    each = ", ".join(f"{r.arrived:,}/{r.sent:,} in {r.seconds:.2f} s = {r.rate:,.0f}/s" for r in runs)
    return f"{label}: {mean:,.0f} msg/s (before the server / after it: {each})", mean


def _n(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def report(args: Any, run: ServerRun, before: tuple[Drain, Drain], after: tuple[Drain, Drain]) -> bool:
    k, s = args.kiosks, args.senders
    line, raw1 = drain_line(f"baseline  raw QoS 1, {k} mosquitto_pub -> one aiomqtt subscriber", [before[0], after[0]])
    print(line)
    line, raw0 = drain_line(f"baseline  raw QoS 0, {s} mosquitto_pub -> one aiomqtt subscriber", [before[1], after[1]])
    print(line)
    ev, tele = run.events, run.telemetry
    what = "ticket.issue committed" + ("" if args.no_print else ", ticket printed") + ", queue display updated"
    print(
        f"events    {ev.sent:,} kiosk presses at QoS 1 from {k} kiosks ({what}): "
        f"{ev.rate:,.0f} events/s end to end over {ev.end - ev.first:.2f} s = {ev.rate / raw1:.2f}x the raw QoS 1 drain"
    )
    lost = ev.sent - ev.received
    print(
        f"          received {ev.received:,}, handled {ev.handled:,}, failed {ev.failed:,}, tickets committed "
        f"{ev.issued:,}; lost before the gateway {lost:,}; broker reconnects of the server {ev.reconnects}"
    )
    handled_s = ev.handled_at - ev.first
    shown = f"{(ev.shown_at - ev.handled_at) * 1000:,.0f} ms after that" if ev.shown_at else "never (see note)"
    print(
        f"          all handled after {handled_s:.2f} s ({ev.handled / handled_s if handled_s > 0 else 0:,.0f}/s); "
        f"the display showed them {shown}"
    )
    print(
        f"          tickets committed/s over the first half {ev.first_rate:,.0f}, the second half {ev.last_rate:,.0f} "
        f"(nobody is called: the queue grows to {ev.issued:,} waiting)"
    )
    print(
        f"          writer: {ev.commands:,} commands in {ev.batches:,} commits "
        f"(mean batch {ev.commands / max(1, ev.batches):.1f}); server published {ev.published:,} messages, "
        f"outgoing queue peak {run.outgoing_peak:,}"
    )
    print(f"          CPU while the events came in: {ev.load}")
    if not args.no_print:
        outcomes = ", ".join(f"{status} {count:,}" for status, count in sorted(run.printed.items())) or "none"
        done = (
            f"all done {ev.printed_at - ev.first:.2f} s after the first event"
            if ev.printed_at
            else f"not all done {args.wait:.0f} s after the last event handled"
        )
        print(f"          print commands: {outcomes}; {done}")
    if not ev.settled:
        ev.notes.append(f"{args.wait:.0f} s after the last event handled the server still had {ev.busy}")
    for note in ev.notes:
        print(f"          ! {note}")
    print(
        f"telemetry {tele.sent:,} messages at QoS 0 from {s} senders: {tele.rate:,.0f} msg/s ingested over "
        f"{tele.seconds:.2f} s = {tele.rate / raw0:.2f}x the raw QoS 0 drain; arrived {tele.arrived:,} of "
        f"{tele.sent:,}, rejected {tele.rejected}"
    )
    print(f"          CPU while the telemetry came in: {tele.load}")
    for note in tele.notes:
        print(f"          ! {note}")
    print(
        f"memory    server incoming queue bound {run.incoming_max:,} (mqtt_incoming_max), dropped by it "
        f"{run.dropped:,}; broker while the server ran ($SYS PUBLISH counts): dropped {_n(run.broker['dropped'])}, "
        f"received {_n(run.broker['received'])}, sent {_n(run.broker['sent'])}"
    )
    print("          peak RSS of this process: " + "; ".join(f"{label} {mb:,.0f} MB" for label, mb in run.rss))
    met = "met" if ev.rate >= 1000 else "NOT met"
    tmet = "met" if tele.rate >= 5000 else "NOT met"
    print(f"targets   events >= 1,000/s: {met} ({ev.rate:,.0f}); telemetry >= 5,000/s: {tmet} ({tele.rate:,.0f})")
    return ev.failed == 0 and lost == 0 and ev.shown_at is not None and tele.rejected == 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_responder":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(responder(int(argv[1]), argv[2]))
        return 0
    parser = argparse.ArgumentParser(
        description="Devices over MQTT: events end to end and telemetry ingested, beside the broker's raw throughput."
    )
    parser.add_argument("--quick", action="store_true", help="2,000 events and 10,000 telemetry messages")
    parser.add_argument("--events", type=int, help="kiosk presses (5,000; 2,000 with --quick)")
    parser.add_argument("--telemetry", type=int, help="telemetry messages (50,000; 10,000 with --quick)")
    parser.add_argument("--kiosks", type=int, default=20, help="kiosks, one publisher process each (20)")
    parser.add_argument("--senders", type=int, default=10, help="telemetry senders, one publisher each (10)")
    parser.add_argument(
        "--no-print", action="store_true", help="diagnostic: send kiosks no print command (no ticket rendered)"
    )
    parser.add_argument(
        "--wait", type=float, default=20, help="seconds to wait, after the events, for the display and the prints (20)"
    )
    parser.add_argument("--verbose", action="store_true", help="print the server's counters every second")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, broker log)")
    args = parser.parse_args(argv)
    global VERBOSE
    VERBOSE = args.verbose
    args.events = args.events or (2_000 if args.quick else 5_000)
    args.telemetry = args.telemetry or (10_000 if args.quick else 50_000)

    logs = LogCount()
    logging.getLogger().addHandler(logs)
    workdir = Path(tempfile.mkdtemp(prefix="hall-bench-mqtt-"))
    broker = Mosquitto(workdir)
    print(f"bench/mqtt.py · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {machine()}")
    print(
        f"Mosquitto {broker.version()}, aiomqtt {version('aiomqtt')}, paho-mqtt {version('paho-mqtt')}; broker: "
        "max_queued_messages 100000, max_inflight_messages 20, no persistence; ack responder in a child process"
        + ("; --no-print" if args.no_print else ""),
        flush=True,
    )
    started = time.monotonic()
    try:
        broker.start()
        before = asyncio.run(baselines(broker, workdir, args))
        run = asyncio.run(server_part(broker, workdir, args))
        after = asyncio.run(baselines(broker, workdir, args))
    finally:
        broker.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    clean = report(args, run, before, after)
    for line in logs.lines() or ["nothing"]:
        print(f"log       {line}")
    print(f"(run took {time.monotonic() - started:.0f} s)")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
