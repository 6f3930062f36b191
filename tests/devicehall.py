"""A running server with its device side on a bus, for tests that speak as devices."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from devices.bus import Connector, Incoming, Link, Will
from devices.protocol import encode, topic
from hall.kernel.events import Command
from hall.runtime import Runtime
from hall.settings import Settings
from hall.setup import initialise
from hall.storage.tables import halls, staff
from tests.factories import add_staff
from tests.site import open_all_week


@dataclass
class DeviceHall:
    runtime: Runtime
    halls: dict[str, int]
    clerk: int

    @property
    def devices(self) -> Any:
        assert self.runtime.devices is not None
        return self.runtime.devices

    async def submit(self, hall: str, name: str, actor: str = "staff:test", **args: Any) -> Any:
        return await self.runtime.writer.submit(Command(uuid.uuid4().hex, self.halls[hall], name, actor, args))

    async def register(self, device: str, kind: str, counter: int | None = None, hall: str = "xh") -> None:
        outcome = await self.submit(
            hall, "device.register", device=device, kind=kind, counter=counter, secret_hash="test-only-hash"
        )
        assert outcome.ok, outcome.result
        await self.settle()

    async def open_counter(self, counter: int, hall: str = "xh", clerk: int | None = None) -> None:
        outcome = await self.submit(hall, "counter.open", counter=counter, clerk=clerk or self.clerk)
        assert outcome.ok, outcome.result

    async def more_clerks(self, count: int, hall: str = "xh") -> list[int]:
        return await add_staff(self.runtime.engine, self.halls[hall], count, prefix="more")

    async def settle(self) -> None:
        """Let listener tasks and in-hand events finish."""
        for _ in range(5):
            await asyncio.sleep(0.02)
            await self.devices.gateway.drain()

    async def head(self, hall: str = "xh") -> int:
        read = await self.runtime.writer.read_state(self.halls[hall], "queue")
        assert read is not None
        return int(read[0])


@contextlib.asynccontextmanager
async def device_hall(
    tmp_path: Path,
    connect: Connector,
    *,
    reuse: bool = False,
    before_start: Callable[[AsyncEngine], Awaitable[None]] | None = None,
    **settings: Any,
) -> AsyncIterator[DeviceHall]:
    """A server on a fresh database in ``tmp_path``, or (``reuse``) on the one left by an earlier
    server there, as after a restart. ``before_start`` changes the database before the server
    reads it (once started, the display feeds load the halls' state at once)."""
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'hall.db'}"
    runtime = Runtime.build(Settings(db_url=db_url, secret_key="k" * 32, **settings), connect=connect)
    if reuse:
        async with runtime.engine.connect() as conn:
            ids = {row.code: row.id for row in await conn.execute(select(halls.c.code, halls.c.id))}
            clerk = (await conn.execute(select(staff.c.id).where(staff.c.roles == "clerk"))).scalars().first()
    else:
        ids, _ = await initialise(runtime.engine)
        await open_all_week(runtime.engine)
        (clerk,) = await add_staff(runtime.engine, ids["xh"], 1)
    if before_start is not None:
        await before_start(runtime.engine)
    await runtime.start()
    assert runtime.devices is not None
    async with asyncio.timeout(10):
        await runtime.devices.bus.wait_connected()
    try:
        yield DeviceHall(runtime, ids, clerk)
    finally:
        await runtime.stop()


class FakeDevice:
    """A device reduced to its wire: publish on its own topics, collect what the server sends."""

    def __init__(self, link: Link, hall: str, device: str) -> None:
        self.link = link
        self.hall = hall
        self.device = device
        self.received: dict[str, list[dict[str, Any]]] = {"cmd": [], "display": [], "reply": []}
        self._arrived = asyncio.Event()

    async def start(self) -> None:
        await self.link.subscribe([topic(self.hall, self.device, c) for c in ("cmd", "display", "reply")])

    async def pump(self) -> None:
        async for message in self.link.messages():
            channel = message.topic.rsplit("/", 1)[1]
            self.received[channel].append(json.loads(message.payload))
            self._arrived.set()

    async def send(self, channel: str, body: dict[str, Any] | bytes, *, retain: bool = False) -> None:
        payload = body if isinstance(body, bytes) else encode(body)
        await self.link.publish(topic(self.hall, self.device, channel), payload, qos=1, retain=retain)

    async def event(self, kind: str, data: dict[str, Any] | None = None, event_id: str | None = None) -> str:
        event_id = event_id or uuid.uuid4().hex[:16]
        await self.send("evt", {"id": event_id, "type": kind, "data": data or {}})
        return event_id

    async def wait_for(
        self, channel: str, match: Callable[[dict[str, Any]], bool] = lambda _: True, timeout: float = 5.0
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for item in self.received[channel]:
                    if match(item):
                        return item
                self._arrived.clear()
                await self._arrived.wait()

    async def reply(self, event_id: str, timeout: float = 5.0) -> dict[str, Any]:
        return await self.wait_for("reply", lambda r: r.get("id") == event_id, timeout)


@contextlib.asynccontextmanager
async def fake_device(connect: Connector, hall: str, device: str, *, will: bool = True) -> AsyncIterator[FakeDevice]:
    last_will = Will(topic(hall, device, "state"), encode({"status": "offline"})) if will else None
    async with connect(device, last_will) as link:
        fake = FakeDevice(link, hall, device)
        await fake.start()
        pump = asyncio.create_task(fake.pump())
        try:
            yield fake
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump


__all__ = ["DeviceHall", "FakeDevice", "Incoming", "device_hall", "fake_device"]
