"""Commands to devices, with acknowledgement: sent at QoS 1 with an id, awaited for the device's
ack, resent with the same id when none comes (devices treat ids idempotently, so a resend never
acts twice), and their outcome logged like a device-management platform's RPC: queued, sent,
then succeeded, failed, timed out (no ack after every try) or expired (the broker never came
back in time)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from devices.bus import BusBusy, ServerBus
from devices.protocol import Ack, command_message, topic

log = logging.getLogger(__name__)


class Status(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    EXPIRED = "expired"


@dataclass
class DeviceCommand:
    id: str
    hall_id: int
    hall: str
    device: str
    name: str
    args: Mapping[str, Any]
    status: Status = Status.QUEUED
    attempts: int = 0
    sent_at: datetime | None = None
    result: dict[str, Any] = field(default_factory=dict)
    acked: asyncio.Future[Ack] | None = None
    over: asyncio.Event = field(default_factory=asyncio.Event)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "device": self.device,
            "name": self.name,
            "status": self.status.value,
            "attempts": self.attempts,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "result": self.result,
        }


Recorder = Callable[[DeviceCommand], Awaitable[None]]


class DeviceCommands:
    def __init__(
        self,
        bus: ServerBus,
        record: Recorder,
        *,
        ack_timeout: float = 3.0,
        tries: int = 3,
        expire_after: float = 60.0,
    ) -> None:
        self._bus = bus
        self._record = record
        self.ack_timeout = ack_timeout
        self.tries = tries
        self.expire_after = expire_after
        self._pending: dict[str, DeviceCommand] = {}
        # Ids finished lately: a device that acked both tries of a resend is not misbehaving.
        self._finished: OrderedDict[str, str] = OrderedDict()

    def in_flight(self, device: str | None = None) -> list[dict[str, Any]]:
        return [c.as_json() for c in self._pending.values() if device is None or c.device == device]

    async def send(
        self,
        hall_id: int,
        hall: str,
        device: str,
        name: str,
        args: Mapping[str, Any],
        *,
        command_id: str | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> DeviceCommand:
        """Send a command and wait for its outcome. ``on_sent`` is called once, as soon as the
        broker has the command (or when it ends without having been sent)."""
        told = on_sent or (lambda: None)
        running = self._pending.get(command_id) if command_id else None
        if running is not None and running.device == device:
            # The caller asks again with the same id (a retried request): the same command, once.
            told()
            await running.over.wait()
            return running
        command = DeviceCommand(command_id or uuid.uuid4().hex, hall_id, hall, device, name, dict(args))
        command.acked = asyncio.get_running_loop().create_future()
        self._pending[command.id] = command
        try:
            await self._deliver(command, told)
        finally:
            if command.sent_at is None:
                told()
            command.over.set()
            self._pending.pop(command.id, None)
            self._finished[command.id] = device
            while len(self._finished) > 10_000:
                self._finished.popitem(last=False)
        try:
            await self._record(command)
        except Exception:
            log.exception("could not record the outcome of command %s", command.id)
        return command

    async def _deliver(self, command: DeviceCommand, on_sent: Callable[[], None]) -> None:
        assert command.acked is not None
        if not self._bus.connected:
            try:
                async with asyncio.timeout(self.expire_after):
                    await self._bus.wait_connected()
            except TimeoutError:
                command.status = Status.EXPIRED
                command.result = {"error": "the device bus was away for too long"}
                return
        payload = command_message(command.id, command.name, command.args)
        for _ in range(self.tries):
            try:
                sent = self._bus.publish(topic(command.hall, command.device, "cmd"), payload, qos=1)
            except BusBusy as exc:
                command.status = Status.FAILED
                command.result = {"error": str(exc)}
                return
            command.attempts += 1
            # The ack's time starts when the broker has the command, not while it waits in line.
            try:
                async with asyncio.timeout(self.expire_after):
                    await asyncio.shield(sent)
            except TimeoutError:
                command.status = Status.EXPIRED
                command.result = {"error": "the command waited too long for the device bus"}
                return
            command.status = Status.SENT
            if command.sent_at is None:
                command.sent_at = datetime.now(UTC)
                on_sent()
            try:
                async with asyncio.timeout(self.ack_timeout):
                    ack = await asyncio.shield(command.acked)
            except TimeoutError:
                continue
            command.status = Status.SUCCEEDED if ack.ok else Status.FAILED
            command.result = dict(ack.result) if ack.ok else {"error": ack.error or "refused", **ack.result}
            return
        command.status = Status.TIMED_OUT
        command.result = {"error": f"no acknowledgement after {command.attempts} tries"}

    def acknowledge(self, device: str, ack: Ack) -> Literal["taken", "late", "unknown"]:
        """Hand an ack to the command waiting for it. "late" is a repeat of an ack already
        taken; "unknown" is an ack for no command sent to this device."""
        command = self._pending.get(ack.id)
        if command is None or command.device != device or command.acked is None:
            return "late" if self._finished.get(ack.id) == device else "unknown"
        if command.acked.done():
            return "late"
        command.acked.set_result(ack)
        return "taken"
