"""A virtual device that speaks the hall's MQTT protocol (its kinds are in devices/virtual_kinds.py).

A ``VirtualDevice`` behaves as docs/protocols/mqtt.md asks of a device maker: it connects with
its Last Will, announces itself online (retained), reports telemetry every heartbeat, acknowledges
commands idempotently by id, shows the latest retained display content, and resends each event
with the same id until the server's reply arrives. The kinds add what their hardware does: a
kiosk prints tickets from a paper roll that runs out, a keypad sends the clerk's keys, a rating pad
rates, an ID reader reads generated resident cards.

Everything a device sends is first run through the server's own parsers (devices/protocol.py),
so a simulated device can never drift into messages the server would refuse; those messages, and
the replies and outcomes it reads and reports, are in devices/virtual_messages.py. How a session's
tasks and connection are torn down (a power cut included) is in devices/virtual_teardown.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import OrderedDict, deque
from collections.abc import Mapping
from typing import Any, Final, TypedDict

import aiomqtt

from devices.bus import Connector, Link, Will
from devices.protocol import encode, parse_topic, state_message, topic
from devices.registry import Kind
from devices.virtual_messages import (
    Outcome,
    Reply,
    ack_or_failure,
    answerable,
    checked,
    device_object,
    read_reply,
)
from devices.virtual_teardown import cancel_all, drop_connection

log = logging.getLogger(__name__)

KEYPAD_KEYS: Final = ("call", "recall", "start", "finish", "no_show", "pause", "resume")
_BACKOFF_MIN: Final = 0.2
_BACKOFF_MAX: Final = 30.0


class _Crashed(Exception):
    """Raised out of the connector's context so that an in-process broker sends the Will."""


# -- one device ------------------------------------------------------------------------------


class DeviceOptions(TypedDict, total=False):
    counter: int | None
    firmware: str
    heartbeat: float
    event_timeout: float
    event_retries: int
    rng: random.Random | None
    remembered_commands: int
    reboot_seconds: float


class VirtualDevice:
    """One device on the bus. ``run()`` until ``stop()`` (clean) or ``crash()`` (the Will).

    Counters for tests: ``events_sent`` counts distinct events, ``resends`` the repeated sends of
    one, ``acks_sent`` every ack published (a repeated command is acked again),
    ``commands_seen`` the command ids received, in order (the last thousand), ``duplicate_commands`` the repeats
    among them, ``late_replies`` replies for events no longer waited for, ``bad_messages`` server
    messages the device could not read, ``connects`` sessions begun.
    """

    def __init__(
        self,
        device_id: str,
        hall: str,
        kind: Kind | str,
        connect: Connector,
        *,
        counter: int | None = None,
        firmware: str = "1.0.0",
        heartbeat: float = 30.0,
        event_timeout: float = 2.0,
        event_retries: int = 5,
        rng: random.Random | None = None,
        remembered_commands: int = 256,
        reboot_seconds: float = 0.2,
    ) -> None:
        # The server's topic parser is the judge of names, so a bad id fails here and not on the bus.
        parse_topic(topic(hall, device_id, "state"))
        if heartbeat <= 0 or event_timeout <= 0 or event_retries < 1 or remembered_commands < 1:
            raise ValueError("heartbeat and event_timeout must be positive, event_retries and memory at least 1")
        self.device_id = device_id
        self.hall = hall
        self.kind = Kind(kind)
        self.counter = counter
        self.firmware = firmware
        self.heartbeat = heartbeat
        self.event_timeout = event_timeout
        self.event_retries = event_retries
        self.reboot_seconds = reboot_seconds
        self.rng = rng or random.Random()  # noqa: S311 - simulated behaviour, not secrets
        self._connect = connect
        self._remembered = remembered_commands

        self.online = asyncio.Event()
        self.display: dict[str, Any] | None = None
        self.test_pattern: str | None = None
        self.events_sent = 0
        self.resends = 0
        self.acks_sent = 0
        self.commands_seen: deque[str] = deque(maxlen=1000)
        self.duplicate_commands = 0
        self.late_replies = 0
        self.bad_messages = 0
        self.connects = 0

        self._link: Link | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._crashed = False
        self._rebooting = False
        self._booted_at = 0.0
        # Acks by command id, as futures: a repeat that arrives while the first is still being
        # carried out waits for its outcome instead of acting again.
        self._commands: OrderedDict[str, asyncio.Future[bytes]] = OrderedDict()
        self._command_tasks: set[asyncio.Task[None]] = set()
        self._replies: dict[str, asyncio.Future[Reply]] = {}
        self._pattern_off: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.device_id} {self.kind.value}>"

    def topic(self, channel: str) -> str:
        return topic(self.hall, self.device_id, channel)

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.run(), name=f"device {self.device_id}")

    async def run(self) -> None:
        """Stay connected until ``stop()`` or ``crash()``, reconnecting with backoff when the
        broker goes away, as firmware does."""
        if self._task is not None:
            raise RuntimeError(f"{self.device_id} is running already")
        self._task = asyncio.current_task()
        will = Will(self.topic("state"), checked("state", state_message("offline")))
        delay = _BACKOFF_MIN
        try:
            while not (self._stopping or self._crashed):
                self._wake.clear()
                connects = self.connects
                try:
                    async with self._connect(self.device_id, will) as link:
                        await self._session(link)
                except (aiomqtt.MqttError, OSError, _Crashed) as exc:
                    if not self._crashed:
                        log.info("%s lost its connection: %s", self.device_id, exc)
                finally:
                    self._link = None
                    self.online.clear()
                if self._stopping or self._crashed:
                    break
                if self.connects > connects:
                    delay = _BACKOFF_MIN
                if self._rebooting:
                    self._rebooting = False
                    await self._idle(self.reboot_seconds)
                    continue
                await self._idle(delay * (0.5 + self.rng.random()))
                delay = min(delay * 2, _BACKOFF_MAX)
        finally:
            self._task = None

    async def stop(self) -> None:
        """Go offline the polite way: state offline, then a clean disconnect."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        await asyncio.shield(task)

    async def crash(self) -> None:
        """Die as a device does when its power is cut: no offline state and no DISCONNECT, so
        the broker publishes the Last Will. The device stays dead; make a new one to come back."""
        task = self._task
        if task is None:
            return
        self._crashed = True
        self._wake.set()
        await asyncio.shield(task)

    async def _idle(self, seconds: float) -> None:
        # Still set by the reboot that ended the session; stop() and crash() were checked just
        # before, with no await in between, so clearing loses neither.
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _session(self, link: Link) -> None:
        # Subscribed before announcing: a server that reacts to "online" with a command at once
        # must find someone listening.
        await link.subscribe([self.topic("cmd"), self.topic("display"), self.topic("reply")])
        online = state_message("online", kind=self.kind.value, firmware=self.firmware)
        await link.publish(self.topic("state"), checked("state", online), qos=1, retain=True)
        self._link = link
        self.connects += 1
        self._booted_at = asyncio.get_running_loop().time()
        self.online.set()
        reader = asyncio.create_task(self._read(link))
        beat = asyncio.create_task(self._beat(link))
        wake = asyncio.create_task(self._wake.wait())
        try:
            done, _ = await asyncio.wait({reader, beat, wake}, return_when=asyncio.FIRST_COMPLETED)
            self._link = None
            self.online.clear()
            if self._crashed:
                await cancel_all(beat, *self._command_tasks)
                if drop_connection(link):
                    # The reader sees the connection end and aiomqtt closes it; leaving before that
                    # would make aiomqtt try its goodbye on the dead socket.
                    with contextlib.suppress(aiomqtt.MqttError, OSError, TimeoutError):
                        async with asyncio.timeout(5):
                            await reader
                raise _Crashed(self.device_id)
            for task in done - {wake}:
                task.result()  # a lost connection shows as the reader's or the heartbeat's error
            if not self._stopping and not self._rebooting:
                raise aiomqtt.MqttError("the session ended by itself")
            # A clean DISCONNECT suppresses the Will, so a device leaving on purpose says it itself.
            offline = checked("state", state_message("offline"))
            await cancel_all(beat, *self._command_tasks)
            await link.publish(self.topic("state"), offline, qos=1, retain=True)
        finally:
            await cancel_all(reader, beat, wake, *self._command_tasks)

    # -- reading ------------------------------------------------------------------------------

    async def _read(self, link: Link) -> None:
        async for message in link.messages():
            channel = message.topic.rpartition("/")[2]
            if message.topic != self.topic(channel):
                continue
            if channel == "cmd":
                task = asyncio.create_task(self._on_command(link, message.payload))
                self._command_tasks.add(task)
                task.add_done_callback(self._command_tasks.discard)
            elif channel == "display":
                self._on_display(message.payload)
            elif channel == "reply":
                self._on_reply(message.payload)

    def _on_display(self, payload: bytes) -> None:
        if not payload:
            self.display = None  # the retained content was cleared
            self.on_display(None)
            return
        content = device_object(payload)
        if content is None:
            self.bad_messages += 1
            return
        self.display = content
        self.on_display(content)

    def on_display(self, content: dict[str, Any] | None) -> None:
        """Called with every new display content (None: cleared); override to react."""

    def _on_reply(self, payload: bytes) -> None:
        reply = read_reply(payload)
        if reply is None:
            self.bad_messages += 1
            return
        waiting = self._replies.get(reply.id)
        if waiting is None or waiting.done():
            # The reply to a resend after the first reply came, or to an event given up on.
            self.late_replies += 1
            return
        waiting.set_result(reply)

    # -- commands -----------------------------------------------------------------------------

    async def _on_command(self, link: Link, payload: bytes) -> None:
        data = device_object(payload)
        command_id = data.get("id") if data is not None else None
        if data is None or not isinstance(command_id, str) or not answerable(command_id):
            self.bad_messages += 1
            return
        self.commands_seen.append(command_id)
        known = self._commands.get(command_id)
        reboot = False
        if known is not None and not known.cancelled():
            self.duplicate_commands += 1
            ack = await asyncio.shield(known)
        else:
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            self._commands[command_id] = future
            while len(self._commands) > self._remembered:
                self._commands.popitem(last=False)
            try:
                outcome = await self._carry_out(data)
                ack = ack_or_failure(command_id, outcome)
                reboot = outcome.reboot
            except BaseException:
                future.cancel()  # cancelled half-way: a resend of this id carries it out afresh
                raise
            future.set_result(ack)
        with contextlib.suppress(aiomqtt.MqttError, OSError):
            await link.publish(self.topic("ack"), ack, qos=1)
            self.acks_sent += 1
        if reboot:
            self._rebooting = True
            self._wake.set()

    async def _carry_out(self, data: Mapping[str, Any]) -> Outcome:
        name, args = data.get("name"), data.get("args", {})
        if not isinstance(name, str) or not isinstance(args, dict):
            return Outcome.failed("bad command")
        try:
            return await self.handle_command(name, args)
        except Exception:
            log.exception("%s failed on command %s", self.device_id, name)
            return Outcome.failed("internal error")

    async def handle_command(self, name: str, args: Mapping[str, Any]) -> Outcome:
        """Carry out a command, once per id. Kinds override this and defer to it for the rest."""
        if name == "ping":
            return Outcome.done(pong=True)
        if name == "reboot":
            return Outcome(True, {"rebooting": True}, reboot=True)
        if name == "show" and self.kind.shows:
            return self._show(args)
        return Outcome.failed(f"unknown command: {name}"[:200])

    def _show(self, args: Mapping[str, Any]) -> Outcome:
        pattern = args.get("pattern", "grid")
        seconds = args.get("seconds", 10)
        if not isinstance(pattern, str) or not isinstance(seconds, int | float) or not 0 < seconds <= 600:
            return Outcome.failed("bad arguments")
        self.test_pattern = pattern
        if self._pattern_off is not None:
            self._pattern_off.cancel()
        self._pattern_off = asyncio.get_running_loop().call_later(seconds, self._end_pattern)
        return Outcome.done(shown=pattern, seconds=seconds)

    def _end_pattern(self) -> None:
        self.test_pattern = None
        self._pattern_off = None

    # -- telemetry ----------------------------------------------------------------------------

    def telemetry(self) -> dict[str, Any]:
        """This moment's telemetry; kinds add their own readings."""
        return {
            "firmware": self.firmware,
            "uptime": round(asyncio.get_running_loop().time() - self._booted_at, 1),
            "temperature": round(self.rng.gauss(41.0, 1.5), 1),
            "rssi": float(self.rng.randint(-70, -40)),
        }

    async def send_telemetry(self) -> bool:
        """Report now, outside the heartbeat (a kiosk whose paper changed); False when offline."""
        link = self._link
        if link is None:
            return False
        payload = checked("tele", encode(self.telemetry()))
        try:
            await link.publish(self.topic("tele"), payload, qos=0)
        except (aiomqtt.MqttError, OSError):
            return False
        return True

    async def _beat(self, link: Link) -> None:
        while True:
            payload = checked("tele", encode(self.telemetry()))
            # QoS 0: a lost report is replaced by the next one, and silence is what the server
            # watches for anyway.
            await link.publish(self.topic("tele"), payload, qos=0)
            await asyncio.sleep(self.heartbeat)

    # -- events -------------------------------------------------------------------------------

    async def send_event(self, type: str, data: Mapping[str, Any] | None = None) -> Reply:
        """Send an event and return the server's reply, resending it with the same id after
        ``event_timeout`` seconds, then twice, four and at most eight times as long, until the
        reply comes; ``TimeoutError`` after ``event_retries`` sends. The broker may drop a QoS 1
        message to a server that fell behind, so only the reply proves the server has it; the id
        makes the resends harmless."""
        event_id = uuid.uuid4().hex  # unique across devices and reboots, unlike the seeded rng
        payload = checked("evt", encode({"id": event_id, "type": type, "data": dict(data or {})}))
        waiting: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._replies[event_id] = waiting
        loop = asyncio.get_running_loop()
        sent = False
        try:
            for attempt in range(self.event_retries):
                # The wait doubles (to 8×) with jitter: a server behind on a flood is not buried
                # under resends of everything it has not answered yet.
                wait = self.event_timeout * min(2**attempt, 8) * (0.75 + self.rng.random() / 2)
                deadline = loop.time() + wait
                link = await self._link_until(deadline)
                if link is not None:
                    if sent:
                        self.resends += 1
                    else:
                        self.events_sent += 1
                    sent = True
                    with contextlib.suppress(aiomqtt.MqttError, OSError):
                        await link.publish(self.topic("evt"), payload, qos=1)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(deadline):
                        return await asyncio.shield(waiting)
            raise TimeoutError(f"{self.device_id}: no reply to {type} {event_id} after {self.event_retries} tries")
        finally:
            self._replies.pop(event_id, None)
            waiting.cancel()

    async def _link_until(self, deadline: float) -> Link | None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await self.online.wait()
        return self._link
