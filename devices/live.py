"""The devices topic on the realtime hub: every device of a hall with its presence and telemetry,
for the technician's console."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from devices.store import device_from_row
from hall.kernel.events import Event
from hall.kernel.roles import Access, Role
from hall.storage.device_tables import devices
from hall.storage.directory import hall_summary
from realtime.topics import Topic, TopicKind


async def _devices_snapshot(conn: AsyncConnection, topic: Topic) -> Mapping[str, Any]:
    rows = await conn.execute(select(devices).where(devices.c.hall_id == topic.hall_id).order_by(devices.c.id))
    listed = []
    for row in rows:
        # as_json leaves the credentials out; the measurement columns are as the gateway last flushed them.
        item = device_from_row(row).as_json()
        item.update(
            first_seen=row.first_seen.isoformat() if row.first_seen else None,
            last_seen=row.last_seen.isoformat() if row.last_seen else None,
            telemetry=row.telemetry or {},
            rejected=row.rejected or {},
        )
        listed.append(item)
    return {"hall": await hall_summary(conn, topic.hall_id), "devices": listed}


def _devices_select(topic: Topic, event: Event) -> Mapping[str, Any] | None:
    return event.data if event.type.startswith("device.") else None


TOPICS = (TopicKind("devices", Access.staff(Role.TECHNICIAN), _devices_select, _devices_snapshot),)
