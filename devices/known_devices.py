"""The registry as the gateway holds it in memory: the halls by code, each registered device with
when it was last heard and what it last measured, and which devices changed since they were read.

Apart from the gateway because it is the gateway's one view of the registry's tables: it reads a
device's row again when the registry changes, and writes what was heard back to the measurement
columns (``flush``); the message path only asks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from devices.registry import Device, Kind, Status
from devices.store import device_from_row
from hall.storage.database import reading
from hall.storage.device_tables import devices
from hall.storage.tables import halls


@dataclass
class Seen:
    """What the gateway knows of one device between flushes."""

    device: Device
    hall_id: int
    hall: str
    last_seen: datetime | None = None
    telemetry: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False


class KnownDevices:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._halls: dict[str, int] = {}
        self._codes: dict[int, str] = {}
        self._known: dict[str, Seen] = {}
        # Devices changed in the registry since they were read here: read again before use.
        self.stale: set[str] = set()

    async def load(self) -> None:
        async with reading(self._engine) as conn:
            for row in await conn.execute(select(halls.c.id, halls.c.code)):
                self._halls[row.code] = row.id
                self._codes[row.id] = row.code
            for row in await conn.execute(select(devices)):
                self._known[row.id] = Seen(device_from_row(row), row.hall_id, self._codes.get(row.hall_id, ""))

    def get(self, device_id: str) -> Seen | None:
        return self._known.get(device_id)

    def all(self) -> Iterable[Seen]:
        return self._known.values()

    async def current(self, device_id: str) -> Seen | None:
        """The device as known here, read again first when it is not known or changed since."""
        seen = self._known.get(device_id)
        if seen is None or device_id in self.stale:
            seen = await self.refresh(device_id)
        return seen

    async def refresh(self, device_id: str) -> Seen | None:
        self.stale.discard(device_id)
        async with reading(self._engine) as conn:
            row = (await conn.execute(select(devices).where(devices.c.id == device_id))).one_or_none()
            if row is not None and row.hall_id not in self._codes:
                hall_row = (await conn.execute(select(halls.c.code).where(halls.c.id == row.hall_id))).one()
                self._halls[hall_row.code] = row.hall_id
                self._codes[row.hall_id] = hall_row.code
        if row is None:
            self._known.pop(device_id, None)
            return None
        old = self._known.get(device_id)
        seen = Seen(device_from_row(row), row.hall_id, self._codes[row.hall_id])
        if old is not None:
            seen.last_seen, seen.telemetry, seen.dirty = old.last_seen, old.telemetry, old.dirty
        self._known[device_id] = seen
        return seen

    async def hall_id(self, code: str) -> int | None:
        if code in self._halls:
            return self._halls[code]
        async with reading(self._engine) as conn:
            row = (await conn.execute(select(halls.c.id).where(halls.c.code == code))).one_or_none()
        if row is not None:
            self._halls[code] = row.id
            self._codes[row.id] = code
            return int(row.id)
        return None

    def hall_ids(self) -> list[int]:
        return sorted(self._codes)

    def displays(self, hall_id: int) -> list[tuple[str, Device]]:
        return [
            (seen.hall, seen.device)
            for seen in self._known.values()
            if seen.hall_id == hall_id and seen.device.kind is not None and seen.device.kind.shows
        ]

    def device(self, device_id: str) -> Device | None:
        seen = self._known.get(device_id)
        return seen.device if seen else None

    def telemetry(self, device_id: str) -> dict[str, Any]:
        seen = self._known.get(device_id)
        if seen is None:
            return {}
        return {"last_seen": seen.last_seen.isoformat() if seen.last_seen else None, **seen.telemetry}

    def wired(self) -> list[tuple[int, Device]]:
        """The active wired devices with their hall, for the serial side to open their lines."""
        return [
            (seen.hall_id, seen.device)
            for seen in self._known.values()
            if seen.device.status is Status.ACTIVE and seen.device.wire is not None
        ]

    def kiosk_reader(self, hall_id: int, reader: str) -> Device | None:
        """An active ID reader of the hall that stands beside a kiosk (bound to no counter)."""
        seen = self._known.get(reader)
        if seen is None or seen.hall_id != hall_id:
            return None
        device = seen.device
        if device.kind is not Kind.ID_READER or device.counter is not None or device.status is not Status.ACTIVE:
            return None
        return device

    # -- what the sweep and the flush read and write -----------------------------------------

    def silent_since(self, limit: datetime) -> list[Seen]:
        """The active devices online in the registry that were last heard here before ``limit``."""
        silent = []
        for seen in list(self._known.values()):
            if seen.device.online and seen.device.status is Status.ACTIVE:
                heard = seen.last_seen or seen.device.last_connect
                if heard is None or heard < limit:
                    silent.append(seen)
        return silent

    async def heard_elsewhere(self, silent: Iterable[Seen]) -> dict[str, datetime]:
        """When the devices were last heard, as the registry's rows say (by whichever process)."""
        async with reading(self._engine) as conn:
            rows = await conn.execute(
                select(devices.c.id, devices.c.last_seen).where(devices.c.id.in_([s.device.id for s in silent]))
            )
            return {row.id: row.last_seen for row in rows if row.last_seen is not None}

    async def flush(self, rejected: Mapping[str, Mapping[str, int]]) -> None:
        """Write last-seen times, telemetry and rejection counts to the registry's rows. A
        last-seen time only moves forward: another process may have heard the device later."""
        rows = []
        for seen in self._known.values():
            if seen.dirty:
                seen.dirty = False
                counted = dict(rejected.get(seen.device.id, {}))
                rows.append({"d": seen.device.id, "seen": seen.last_seen, "tele": dict(seen.telemetry), "rej": counted})
        if not rows:
            return
        later = case(
            (devices.c.last_seen.is_(None), bindparam("seen")),
            (devices.c.last_seen < bindparam("seen"), bindparam("seen")),
            else_=devices.c.last_seen,
        )
        statement = (
            update(devices)
            .where(devices.c.id == bindparam("d"))
            .values(last_seen=later, telemetry=bindparam("tele"), rejected=bindparam("rej"))
        )
        async with self._engine.begin() as conn:
            await conn.execute(statement, rows)
