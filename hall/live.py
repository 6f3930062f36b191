"""The core topic kinds of the realtime hub: what each view carries, and its snapshot.

Public views never carry personal data: the queue view shows counters by number and state,
not who staffs them or why they paused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.events import Event
from hall.roles import Access, Role
from hall.tables import counters, halls, staff
from realtime.topics import Topic, TopicKind, TopicRegistry

_PUBLIC_COUNTER_FIELDS = ("counter",)


async def _counters(conn: AsyncConnection, hall_id: int, *, with_staff: bool) -> list[dict[str, Any]]:
    query = (
        select(counters, staff.c.display_name, staff.c.staff_no)
        .select_from(counters.outerjoin(staff, staff.c.id == counters.c.clerk_id))
        .where(counters.c.hall_id == hall_id)
        .order_by(counters.c.number)
    )
    out = []
    for row in await conn.execute(query):
        item: dict[str, Any] = {"number": row.number, "name": row.name, "status": row.status}
        if with_staff:
            item.update(
                clerk=row.clerk_id,
                clerk_name=row.display_name,
                staff_no=row.staff_no,
                pause_reason=row.pause_reason,
            )
        out.append(item)
    return out


async def _hall(conn: AsyncConnection, hall_id: int) -> dict[str, Any]:
    row = (await conn.execute(select(halls).where(halls.c.id == hall_id))).one_or_none()
    if row is None:
        return {"id": hall_id, "missing": True}
    return {"id": row.id, "name": row.name, "name_en": row.name_en, "level": row.level}


async def _queue_snapshot(conn: AsyncConnection, topic: Topic) -> Mapping[str, Any]:
    listed = await _counters(conn, topic.hall_id, with_staff=False)
    return {"hall": await _hall(conn, topic.hall_id), "counters": listed}


async def _wallboard_snapshot(conn: AsyncConnection, topic: Topic) -> Mapping[str, Any]:
    listed = await _counters(conn, topic.hall_id, with_staff=True)
    people = await conn.execute(
        select(staff.c.id, staff.c.display_name, staff.c.staff_no).where(staff.c.hall_id == topic.hall_id)
    )
    # Names of the hall's staff, so a counter opened later shows who opened it.
    directory = {str(p.id): {"name": p.display_name, "staff_no": p.staff_no} for p in people}
    return {"hall": await _hall(conn, topic.hall_id), "counters": listed, "staff": directory}


async def _counter_snapshot(conn: AsyncConnection, topic: Topic) -> Mapping[str, Any]:
    mine = [c for c in await _counters(conn, topic.hall_id, with_staff=True) if c["number"] == topic.arg]
    return {"hall": await _hall(conn, topic.hall_id), "counter": mine[0] if mine else None}


async def _devices_snapshot(conn: AsyncConnection, topic: Topic) -> Mapping[str, Any]:
    return {"hall": await _hall(conn, topic.hall_id), "devices": []}


def _queue_select(topic: Topic, event: Event) -> Mapping[str, Any] | None:
    if event.type.startswith("counter."):
        return {k: event.data[k] for k in _PUBLIC_COUNTER_FIELDS if k in event.data}
    return None


def _counter_select(topic: Topic, event: Event) -> Mapping[str, Any] | None:
    return event.data if event.data.get("counter") == topic.arg else None


def _wallboard_select(topic: Topic, event: Event) -> Mapping[str, Any] | None:
    return event.data


def _devices_select(topic: Topic, event: Event) -> Mapping[str, Any] | None:
    return event.data if event.type.startswith("device.") else None


def core_topics() -> TopicRegistry:
    registry = TopicRegistry()
    registry.register(TopicKind("queue", Access.anyone(), _queue_select, _queue_snapshot))
    registry.register(
        TopicKind("counter", Access.staff(Role.CLERK, Role.SUPERVISOR), _counter_select, _counter_snapshot, True)
    )
    registry.register(TopicKind("wallboard", Access.staff(Role.SUPERVISOR), _wallboard_select, _wallboard_snapshot))
    registry.register(TopicKind("devices", Access.staff(Role.TECHNICIAN), _devices_select, _devices_snapshot))
    return registry
