"""An in-process stand-in for a broker, for tests that need the device bus but not a network:
topics with wildcards, retained messages and Last Will, behind the same ``Connector`` as a real
broker's (devices/bus.py). The demo and production use real brokers; this is a fake."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from paho.mqtt.client import topic_matches_sub

from devices.bus import Connector, Incoming, Link, Will


@dataclass
class _Subscriber:
    client_id: str
    filters: list[str] = field(default_factory=list)
    inbox: asyncio.Queue[Incoming] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))


class MemoryBroker:
    """Enough of MQTT for one process: wildcards, retained messages, Last Will. QoS is moot in
    memory; a full inbox drops the message, as a broker's queue limit would."""

    def __init__(self) -> None:
        self._subscribers: dict[str, _Subscriber] = {}
        self._retained: OrderedDict[str, bytes] = OrderedDict()
        self.dropped = 0

    def deliver(self, topic: str, payload: bytes, retain: bool) -> None:
        if retain:
            if payload:
                self._retained[topic] = payload
            else:
                self._retained.pop(topic, None)
        for sub in list(self._subscribers.values()):
            if any(topic_matches_sub(f, topic) for f in sub.filters):
                try:
                    sub.inbox.put_nowait(Incoming(topic, payload, False))
                except asyncio.QueueFull:
                    self.dropped += 1

    def _subscribe(self, sub: _Subscriber, filters: Sequence[str]) -> None:
        sub.filters.extend(filters)
        for topic, payload in self._retained.items():
            if any(topic_matches_sub(f, topic) for f in filters):
                with contextlib.suppress(asyncio.QueueFull):
                    sub.inbox.put_nowait(Incoming(topic, payload, True))

    def connector(self) -> Connector:
        @contextlib.asynccontextmanager
        async def connect(client_id: str, will: Will | None) -> AsyncIterator[Link]:
            sub = _Subscriber(client_id)
            self._subscribers[client_id] = sub
            clean = False
            try:
                yield _MemoryLink(self, sub)
                clean = True
            finally:
                self._subscribers.pop(client_id, None)
                if will is not None and not clean:
                    self.deliver(will.topic, will.payload, True)

        return connect


class _MemoryLink:
    def __init__(self, broker: MemoryBroker, sub: _Subscriber) -> None:
        self._broker = broker
        self._sub = sub

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        self._broker.deliver(topic, payload, retain)
        await asyncio.sleep(0)

    async def subscribe(self, filters: Sequence[str]) -> None:
        self._broker._subscribe(self._sub, filters)

    async def messages(self) -> AsyncIterator[Incoming]:
        while True:
            yield await self._sub.inbox.get()
