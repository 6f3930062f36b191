"""The device bus: an MQTT broker through aiomqtt.

``Link`` is one client's connection, the same for the server and for a simulated device:
publish, subscribe, and an iterator of incoming messages. ``MqttLink`` speaks to a real broker
(Mosquitto in production and in the tests, the demo's own in ``hall demo``: devices/embedded_broker.py);
the tests' in-process fake (tests/memory_broker.py) serves the same interface.

``ServerBus`` is the server's side: it keeps one link up (reconnecting with a backoff capped at
2.5 s, and resubscribing), queues what the server publishes while the broker is away (bounded: a caller
gets ``BusBusy`` rather than memory running out), and republishes retained display content after
every reconnect, so a broker that restarted without persistence still shows the right thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import socket
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiomqtt

from devices.calm import Calm
from hall.kernel.errors import HallError

log = logging.getLogger(__name__)


class BusBusy(HallError):
    """The outgoing queue is full (the broker has been away too long): try again later."""


@dataclass(frozen=True)
class Incoming:
    topic: str
    payload: bytes
    retain: bool = False


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes


class Link(Protocol):
    async def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None: ...

    async def subscribe(self, filters: Sequence[str]) -> None: ...

    def messages(self) -> AsyncIterator[Incoming]: ...


Connector = Callable[[str, Will | None], contextlib.AbstractAsyncContextManager[Link]]
"""Opens a link for a client id, with an optional Last Will."""


# -- a real broker ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt://user:password@host:port``"""
        parts = urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ValueError(f"a broker address looks like mqtt://user:password@host:1883, not {url!r}")
        return cls(
            parts.hostname,
            parts.port or 1883,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )

    def with_account(self, username: str, password: str) -> BrokerAddress:
        return BrokerAddress(self.host, self.port, username, password)


class _CountingQueue(asyncio.Queue[aiomqtt.Message]):
    """aiomqtt drops a message when its bounded queue is full; count those, so a flood shows."""

    dropped = 0

    def put_nowait(self, item: aiomqtt.Message) -> None:
        try:
            super().put_nowait(item)
        except asyncio.QueueFull:
            _CountingQueue.dropped += 1
            raise


class MqttLink:
    def __init__(self, client: aiomqtt.Client, queue: asyncio.Queue[aiomqtt.Message] | None = None) -> None:
        self._client = client
        self._queue = queue

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        await self._client.publish(topic, payload, qos=qos, retain=retain)

    async def subscribe(self, filters: Sequence[str]) -> None:
        for item in filters:
            granted = await self._client.subscribe(item, qos=1)
            # A broker that refuses a filter (an ACL, or no shared subscriptions) says so in its
            # SUBACK: 128 under MQTT 3.1.1, a reason code of 0x80 or more under MQTT 5. Listening
            # on without it would lose that traffic silently.
            if any((code if isinstance(code, int) else code.value) >= 0x80 for code in granted):
                raise aiomqtt.MqttError(f"the broker refused the subscription {item!r}: {list(granted)}")

    async def messages(self) -> AsyncIterator[Incoming]:
        waiting = self._client.messages
        while True:
            # aiomqtt's iterator makes a task and a wait per message, to notice a lost link: take
            # what is queued already straight from the queue, and wait through the iterator only
            # when it is empty (where a lost link shows).
            if self._queue is not None and self._queue.qsize():
                message = self._queue.get_nowait()
            else:
                message = await anext(waiting)
            payload = message.payload
            body = payload if isinstance(payload, bytes) else str(payload).encode()
            yield Incoming(str(message.topic), body, bool(message.retain))


def mqtt_connector(
    address: BrokerAddress,
    *,
    incoming_max: int = 10_000,
    keepalive: int = 30,
    persistent: bool = False,
    mqtt5: bool = False,
) -> Connector:
    """``persistent`` keeps the client's session at the broker across reconnects: what devices
    publish while the server is away waits in the broker's queue for it (the server's own link
    uses it when it is the only server; devices start clean).

    ``mqtt5`` speaks MQTT 5 with a session that ends with the connection (Clean Start, no Session
    Expiry Interval: MQTT 5 §3.1.2.4, §3.1.2.11.2). The servers of a district share the devices'
    traffic through shared subscriptions (§4.8.2); a server that dies must leave its share group at
    once, not keep a session at the broker that would go on taking its part of the messages."""

    @contextlib.asynccontextmanager
    async def connect(client_id: str, will: Will | None) -> AsyncIterator[Link]:
        made: list[asyncio.Queue[aiomqtt.Message]] = []

        class _Queue(_CountingQueue):
            def __init__(self, maxsize: int = 0) -> None:
                super().__init__(maxsize)
                made.append(self)

        session: dict[str, Any] = (
            {"protocol": aiomqtt.ProtocolVersion.V5, "clean_start": True}
            if mqtt5
            else {"clean_session": not persistent}
        )
        client = aiomqtt.Client(
            address.host,
            address.port,
            username=address.username,
            password=address.password,
            identifier=client_id,
            will=aiomqtt.Will(will.topic, will.payload, qos=1, retain=True) if will else None,
            keepalive=keepalive,
            max_queued_incoming_messages=incoming_max,
            queue_type=_Queue,
            # Generous: with many publishes in flight a PUBACK may take a while, and a timeout
            # would drop the link (and what paho has taken in but not yet handed over).
            timeout=30,
            **session,
            max_inflight_messages=_IN_FLIGHT * 2,
            # Small messages both ways: Nagle's delay would cap each publish at a round trip.
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        # We keep that many publishes in flight on purpose; aiomqtt would warn about each one.
        client.pending_calls_threshold = _IN_FLIGHT * 2
        async with client:
            yield MqttLink(client, made[0] if made else None)

    return connect


def dropped_incoming() -> int:
    """Messages dropped by full incoming queues in this process since it started."""
    return _CountingQueue.dropped


# -- the server's side -----------------------------------------------------------------------


Handler = Callable[[Incoming], Awaitable[None]]


@dataclass
class _Outgoing:
    topic: str
    payload: bytes
    qos: int
    sent: asyncio.Future[None]


# The server's reconnect backoff. Devices resend an unanswered event for about half a minute
# (docs/protocols/mqtt.md), so a server that waits long between tries would leave them little of
# it after a broker restart: the wait doubles from a fifth of a second but never passes 2.5 s.
BACKOFF_FIRST = 0.2
BACKOFF_CAP = 2.5
BACKOFF_JITTER = 0.5


def reconnect_delay(
    attempt: int,
    *,
    first: float = BACKOFF_FIRST,
    cap: float = BACKOFF_CAP,
    jitter: float = BACKOFF_JITTER,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (0: the first after the link was lost):
    ``first`` doubling up to ``cap``, less a random share of up to ``jitter`` of it, so servers and
    devices that lost the broker together do not all knock at once. Never above ``cap``."""
    if attempt < 0 or first <= 0 or cap < first or not 0 <= jitter < 1:
        raise ValueError("attempt ≥ 0, 0 < first ≤ cap and 0 ≤ jitter < 1")
    base = min(cap, math.ldexp(first, min(attempt, 32)))
    return base * (1 - jitter * rand())


# Publishes in flight at once: each QoS 1 publish waits for the broker's PUBACK, so one at a time
# would cap the bus at one round trip per message.
_IN_FLIGHT = 64


class ServerBus:
    def __init__(
        self,
        connect: Connector,
        filters: Sequence[str],
        *,
        client_id: str = "hall-server",
        outgoing_max: int = 50_000,
        backoff_min: float = BACKOFF_FIRST,
        backoff_max: float = BACKOFF_CAP,
    ) -> None:
        self._connect = connect
        self._filters = list(filters)
        self._client_id = client_id
        self._outgoing: deque[_Outgoing] = deque()
        self._outgoing_max = outgoing_max
        self._wake = asyncio.Event()
        # Display content: the latest per topic, sent before anything queued and never refused.
        self._retained: dict[str, bytes] = {}
        self._unsent: OrderedDict[str, None] = OrderedDict()
        self._backoff = (backoff_min, backoff_max)
        self._up = asyncio.Event()
        self.calm = Calm()
        self.connects = 0
        self.published = 0

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    async def wait_connected(self) -> None:
        await self._up.wait()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1) -> asyncio.Future[None]:
        """Queue a message; it goes out now if the broker is there, else after the reconnect. The
        future is done once the broker has it (PUBACK at QoS 1). ``BusBusy`` when the queue is full."""
        if len(self._outgoing) >= self._outgoing_max:
            raise BusBusy(f"{len(self._outgoing)} messages wait for the broker already")
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outgoing.append(_Outgoing(topic, payload, qos, sent))
        self._wake.set()
        return sent

    def show(self, topic: str, payload: bytes) -> None:
        """Set a retained content (what a display shows): only the latest per topic is ever sent,
        ahead of the queue, and again after every reconnect."""
        self._retained[topic] = payload
        self._unsent[topic] = None
        self._unsent.move_to_end(topic)
        self._wake.set()

    def forget_shown(self) -> None:
        """Stop keeping display content: another server process publishes it now, and this one
        must not republish what it last showed after a reconnect (it would be stale)."""
        self._retained.clear()
        self._unsent.clear()

    @property
    def kept(self) -> int:
        """How many display contents are kept, to be published again after a reconnect."""
        return len(self._retained)

    @property
    def waiting(self) -> int:
        return len(self._outgoing)

    async def run(self, handler: Handler) -> None:
        """Keep the link up for as long as the server runs, handing every message to ``handler``."""
        attempt = 0
        while True:
            try:
                async with self._connect(self._client_id, None) as link:
                    await link.subscribe(self._filters)
                    self.connects += 1
                    # Republish retained content first: a broker that lost it shows it again.
                    for topic in self._retained:
                        self._unsent[topic] = None
                    self._wake.set()
                    self._up.set()
                    attempt = 0
                    log.info("device bus connected (%d)", self.connects)
                    await self._serve(link, handler)
            except (aiomqtt.MqttError, OSError) as exc:
                if self.calm.closing:
                    # The server is stopping and its reader left on purpose: nothing was lost.
                    log.info("device bus closed")
                    return
                delay = reconnect_delay(attempt, first=self._backoff[0], cap=self._backoff[1])
                log.warning("device bus lost: %s; retrying in %.1fs", exc, delay)
            finally:
                self._up.clear()
            await asyncio.sleep(delay)
            attempt += 1

    async def _serve(self, link: Link, handler: Handler) -> None:
        async def read() -> None:
            async for message in link.messages():
                if self.calm.closing:
                    return
                with self.calm.working():
                    try:
                        await handler(message)
                    except Exception:
                        # One message that trips a bug must not take the bus down with it.
                        log.exception("device message on %s not handled", message.topic[:120])

        # Whichever side fails first (a lost connection shows on either) ends the link.
        tasks = [asyncio.create_task(read()), asyncio.create_task(self._send(link))]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                await _cancelled(task)
        for task in done:
            if not task.cancelled():
                task.result()
        raise aiomqtt.MqttError("the device bus stopped reading")

    async def _send(self, link: Link) -> None:
        while True:
            while not self._outgoing and not self._unsent:
                self._wake.clear()
                await self._wake.wait()
            if self._unsent:
                topics = list(self._unsent)[:_IN_FLIGHT]
                for topic in topics:
                    del self._unsent[topic]
                try:
                    await asyncio.gather(*(link.publish(t, self._retained[t], qos=1, retain=True) for t in topics))
                except BaseException:
                    for topic in topics:  # sent again after the reconnect, if still kept
                        if topic in self._retained:
                            self._unsent[topic] = None
                    raise
                self.published += len(topics)
                continue
            batch = [self._outgoing[i] for i in range(min(_IN_FLIGHT, len(self._outgoing)))]
            await asyncio.gather(*(link.publish(m.topic, m.payload, qos=m.qos) for m in batch))
            # Only now: a batch that failed stays at the head and goes out after the reconnect
            # (devices take a repeated command or reply by its id, once).
            for item in batch:
                self._outgoing.popleft()
                if not item.sent.done():
                    item.sent.set_result(None)
            self.published += len(batch)


async def _cancelled(task: asyncio.Task[None]) -> None:
    """Cancel and wait until the task is really over: on Python 3.11 aiomqtt's publish may swallow
    a cancellation that lands as it completes, and a sender left running would wait forever."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled():
        with contextlib.suppress(aiomqtt.MqttError, OSError):
            task.result()


def connector_for(url: str, **options: Any) -> Connector:
    return mqtt_connector(BrokerAddress.parse(url), **options)
