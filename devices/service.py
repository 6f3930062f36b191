"""The device side of a running server, wired together: the bus, the gateway that takes what
devices send, the serial lines of wired devices, the feed that keeps displays showing the right
thing, the PC/SC ID card readers plugged into this machine, and their background loops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from devices.bus import Connector, Link, ServerBus, Will
from devices.device_events import TicketPrinter
from devices.feeds import DisplayFeed
from devices.gateway import Gateway
from devices.gateway_names import subscriptions
from devices.pcsc import PcscReaders
from devices.registry import Device
from devices.serial import Opener, SerialDevices, open_port
from devices.serial_drivers import Timing
from devices.wired_relay import WiredRelay
from hall.storage.database import is_sqlite
from hall.storage.lease import DEVICE_PRESENCE, DISPLAY_FEED, WIRED_LINES, Lease, run_leased
from hall.storage.writer import Listener, Writer


def _no_broker(client_id: str, will: Will | None) -> contextlib.AbstractAsyncContextManager[Link]:
    raise AssertionError("a server without a broker never opens the device bus")


class Devices:
    def __init__(
        self,
        engine: AsyncEngine,
        writer: Writer,
        connect: Connector | None,
        *,
        printer: TicketPrinter | None = None,
        silence_limit: float = 90.0,
        housekeeping_every: float = 5.0,
        outgoing_max: int = 50_000,
        client_id: str = "hall-server",
        serial_opener: Opener = open_port,
        serial_timing: Timing | None = None,
        pcsc_readers: Sequence[tuple[str, str]] = (),
        listen: Callable[[Listener], None] | None = None,
        shared: bool | None = None,
    ) -> None:
        """``listen`` subscribes to the stream of committed events: by default this process's
        writer's; with several server processes, the log follower's, which carries every process's
        events in order (a ticket issued at another process must reach the displays, a device
        registered there the gateway).

        ``shared`` (by default: on PostgreSQL, where several processes may share the database)
        shares the devices with the other processes on the same broker: each device message is
        taken by one process (MQTT 5 shared subscriptions), and what must run once (the display
        content, the presence timeouts, the wired devices' serial lines) runs under a lease in one
        process, moving to another when it dies (docs/deploy-district.md)."""
        self.shared = not is_sqlite(engine) if shared is None else shared
        if self.shared and client_id == "hall-server":
            # Each process its own client id: a second connection under one id would take the
            # first one's place at the broker.
            client_id = f"hall-server-{socket.gethostname()[:24]}-{os.getpid()}"
        # Without a broker (``connect`` None) the bus is never run: wired lines, the gateway and the
        # feed work all the same, and what would go to network devices is kept, not sent (a display's
        # content as the latest per topic; nothing else reaches the bus, as the API refuses commands
        # to network devices then). MQTT is one way devices reach the hall, not the only one.
        self.broker = connect is not None
        self.bus = ServerBus(
            connect or _no_broker, subscriptions(self.shared), client_id=client_id, outgoing_max=outgoing_max
        )
        self.gateway = Gateway(
            engine, writer, self.bus, silence_limit=silence_limit, printer=printer, shared=self.shared
        )
        self.presence_lease = Lease(engine, DEVICE_PRESENCE)
        self.display_lease = Lease(engine, DISPLAY_FEED)
        self.wired_lease = Lease(engine, WIRED_LINES)
        self.feed = DisplayFeed(engine, writer, self.bus, self._displays)
        # Watched only when the settings bind one: a server without PC/SC readers asks no pcscd.
        self.pcsc = PcscReaders(self.gateway, pcsc_readers) if pcsc_readers else None
        self._housekeeping_every = housekeeping_every
        self._tasks: list[asyncio.Task[None]] = []
        self.serial = SerialDevices(self.gateway, opener=serial_opener, timing=serial_timing)
        # Shared, the lines open in the process holding their lease (``start``), none before, and
        # the others hand a technician's commands to it over PostgreSQL's NOTIFY.
        self.serial.here = not self.shared
        if self.shared and not is_sqlite(engine):
            self.serial.relay = WiredRelay(engine)
        self.gateway.on_change = self._changed
        self.gateway.wired_send = self.serial.send
        self.feed.wired = self.serial.show
        subscribe = listen or writer.add_listener
        subscribe(self.gateway.on_events)
        subscribe(self.feed.on_events)
        subscribe(self.serial.on_events)

    def _changed(self, hall_id: int) -> None:
        # A device was registered, bound, wired or went on- or offline: its display content is
        # rendered again, and its line opened again if its wiring changed.
        self.feed.touch(hall_id)
        self.serial.sync()

    def _displays(self, hall_id: int) -> list[tuple[str, Device]]:
        return self.gateway.known.displays(hall_id)

    async def start(self) -> None:
        await self.gateway.known.load()
        self.serial.sync()
        if self.broker:
            self._spawn(self.bus.run(self.gateway.handle), "devices-bus")
        every = self._housekeeping_every
        self._spawn(self.gateway.run_housekeeping(every, sweep=not self.shared), "devices-housekeeping")
        if self.shared:
            # Run once across the processes, each under its lease (hall.storage.lease).
            self.feed.leading = False
            sweeps = run_leased(self.presence_lease, lambda: self.gateway.run_sweeps(every), "device presence")
            self._spawn(sweeps, "devices-presence")
            lead = run_leased(self.display_lease, lambda: self.feed.lead(self.gateway.known.hall_ids), "display feed")
            self._spawn(lead, "devices-display-lead")
            lines = run_leased(self.wired_lease, self.serial.serve, "wired lines")
            self._spawn(lines, "devices-wired-lines")
        self._spawn(self.feed.run(), "devices-displays")
        for hall_id in self.gateway.known.hall_ids():
            self.feed.touch(hall_id)
        if self.pcsc is not None:
            await self.pcsc.start()

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))

    async def stop(self) -> None:
        if self.pcsc is not None:
            await self.pcsc.stop()  # first: no card is handed to a gateway that is closing
        # Each loop finishes the unit in hand first: none is cancelled inside a database call.
        await self.bus.calm.settle()
        await self.feed.calm.settle()
        await self.gateway.calm.settle()
        await self.serial.close()
        await self.gateway.close()
        with contextlib.suppress(Exception):
            await self.gateway.flush()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
