"""Storage adapter for the device registry: loads a hall's devices, turns commands into rule
calls, and writes the rows of what the rules changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from devices import registry, wires
from devices.registry import CommandRecord, Device, Kind, Registry, Status
from hall.kernel.errors import DomainError
from hall.kernel.events import Command, Decision, Event
from hall.kernel.i18n import N_
from hall.storage.database import upsert
from hall.storage.device_tables import device_commands, devices
from hall.storage.tables import counters

COMMANDS = frozenset(
    {
        "device.seen_unknown",
        "device.register",
        "device.bind",
        "device.rekey",
        "device.retire",
        "device.presence",
        "device.paper",
        "device.command_done",
        "device.wire",
    }
)


def _text(command: Command, name: str, limit: int = 200, *, required: bool = True) -> str:
    value = command.args.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise DomainError(N_("{field} must be text of at most {limit} characters"), field=name, say={"limit": limit})
    return value


def _counter(command: Command) -> int | None:
    value = command.args.get("counter")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DomainError(N_("counter must be a whole number"), field="counter")
    return value


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _decide(state: Registry, command: Command, now: datetime) -> Decision[Registry]:
    device = _text(command, "device", 40)
    match command.name:
        case "device.seen_unknown":
            kind = command.args.get("kind")
            return registry.seen_unknown(
                state,
                device,
                kind if isinstance(kind, str) else None,
                _text(command, "firmware", 32, required=False),
                now,
            )
        case "device.register":
            return registry.register(
                state, device, _text(command, "kind", 32), _counter(command), _text(command, "secret_hash"), now
            )
        case "device.bind":
            return registry.bind(state, device, _counter(command))
        case "device.rekey":
            return registry.rekey(state, device, _text(command, "secret_hash"))
        case "device.retire":
            return registry.retire(state, device)
        case "device.presence":
            online = command.args.get("online")
            if not isinstance(online, bool):
                raise DomainError(N_("online must be true or false"), field="online")
            return registry.presence(state, device, online, _text(command, "firmware", 32, required=False), now)
        case "device.paper":
            return registry.paper(state, device, _text(command, "paper", 16))
        case "device.wire":
            settings = command.args.get("wire")
            if settings is not None and not isinstance(settings, dict):
                raise DomainError(N_("wire must be an object, or null to take the device off its wire"), field="wire")
            return wires.wire(state, device, settings)
        case "device.command_done":
            attempts = command.args.get("attempts", 0)
            result = command.args.get("result") or {}
            if not isinstance(attempts, int) or not isinstance(result, dict):
                raise DomainError(N_("attempts must be a number and result an object"))
            record = CommandRecord(
                id=_text(command, "id", 100),
                device=device,
                name=_text(command, "name", 32),
                status=_text(command, "status", 16),
                attempts=attempts,
                sent_at=_time(command.args.get("sent_at")),
                done_at=now,
                result=result,
            )
            return registry.command_done(state, record)
    raise DomainError(N_("unknown device command '{command}'"), say={"command": command.name})


class DevicesDomain:
    """A hall's devices, with the counters they may be bound to."""

    name = "devices"
    commands = COMMANDS

    def decide(self, state: Registry, command: Command, now: datetime) -> Decision[Registry]:
        return _decide(state, command, now)

    async def load(self, conn: AsyncConnection, hall_id: int) -> Registry:
        rows = await conn.execute(select(devices).where(devices.c.hall_id == hall_id))
        known = {row.id: device_from_row(row) for row in rows}
        numbers = await conn.execute(select(counters.c.number).where(counters.c.hall_id == hall_id))
        return Registry(known, frozenset(n for (n,) in numbers))

    async def persist(self, conn: AsyncConnection, events: Sequence[Event], changed: Sequence[tuple[int, Any]]) -> None:
        latest: dict[str, dict[str, Any]] = {}
        outcomes: list[dict[str, Any]] = []
        for hall_id, value in changed:
            if isinstance(value, Device):
                latest[value.id] = _device_row(hall_id, value)
            elif isinstance(value, CommandRecord):
                outcomes.append(_command_row(hall_id, value))
        if latest:
            await upsert(conn, devices, list(latest.values()), ["id"])
        if outcomes:
            # An upsert: a command asked for again after its end is recorded once, not refused
            # with the whole batch it came in.
            await upsert(conn, device_commands, outcomes, ["id"])


def device_from_row(row: Any) -> Device:
    return Device(
        id=row.id,
        kind=Kind(row.kind) if row.kind else None,
        status=Status(row.status),
        counter=row.counter,
        secret_hash=row.secret_hash,
        transport=row.transport,
        firmware=row.firmware,
        online=row.online,
        last_connect=row.last_connect,
        last_disconnect=row.last_disconnect,
        paper=row.paper,
        first_seen=row.first_seen,
        wire=row.wire,
    )


def _device_row(hall_id: int, device: Device) -> dict[str, Any]:
    return {
        "id": device.id,
        "hall_id": hall_id,
        "kind": device.kind.value if device.kind else None,
        "status": device.status.value,
        "counter": device.counter,
        "secret_hash": device.secret_hash,
        "transport": device.transport,
        "firmware": device.firmware,
        "online": device.online,
        "last_connect": device.last_connect,
        "last_disconnect": device.last_disconnect,
        "paper": device.paper,
        "first_seen": device.first_seen,
        "wire": dict(device.wire) if device.wire is not None else None,
    }


def _command_row(hall_id: int, record: CommandRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "hall_id": hall_id,
        "device": record.device,
        "name": record.name,
        "status": record.status,
        "attempts": record.attempts,
        "sent_at": record.sent_at,
        "done_at": record.done_at,
        "result": dict(record.result),
    }
