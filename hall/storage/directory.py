"""Administrative changes to the hall tree, counters and staff, each logged as an event.

These run outside the command writer (``hall init``, the admin tools) in their own transaction;
they lock the hall's head row the same way, so the log stays gapless, and the writer notices the
moved head and reloads the hall's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.kernel.events import Event, Fact
from hall.kernel.zones import DEFAULT_ZONE
from hall.storage.tables import counters, events, hall_heads, halls

LEVELS = ("district", "street", "community")


async def append_events(
    conn: AsyncConnection, hall_id: int, facts: Iterable[Fact], actor: str, now: datetime
) -> list[Event]:
    """Log facts for one hall in the caller's transaction, after locking its head row."""
    head = await conn.execute(select(hall_heads.c.last_seq).where(hall_heads.c.hall_id == hall_id).with_for_update())
    seq = int(head.scalar_one())
    logged: list[Event] = []
    for fact in facts:
        seq += 1
        logged.append(Event(hall_id, seq, fact.type, fact.data, actor, now))
    if logged:
        await conn.execute(
            insert(events),
            [
                {"hall_id": e.hall_id, "seq": e.seq, "type": e.type, "data": dict(e.data), "actor": e.actor, "at": e.at}
                for e in logged
            ],
        )
        await conn.execute(update(hall_heads).where(hall_heads.c.hall_id == hall_id).values(last_seq=seq))
    return logged


async def create_hall(
    conn: AsyncConnection,
    *,
    code: str,
    name: str,
    name_en: str = "",
    level: str,
    parent_id: int | None = None,
    timezone: str = DEFAULT_ZONE,
    actor: str,
    now: datetime,
) -> int:
    if level not in LEVELS:
        raise ValueError(f"hall level must be one of {', '.join(LEVELS)}; got {level!r}")
    result = await conn.execute(
        insert(halls).values(
            code=code,
            name=name,
            name_en=name_en,
            level=level,
            parent_id=parent_id,
            timezone=timezone,
            created_at=now,
        )
    )
    hall_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    await conn.execute(insert(hall_heads).values(hall_id=hall_id, last_seq=0))
    await append_events(
        conn,
        hall_id,
        [Fact("hall.created", {"code": code, "name": name, "level": level, "parent": parent_id})],
        actor,
        now,
    )
    return hall_id


async def create_counters(
    conn: AsyncConnection, hall_id: int, numbered: Sequence[tuple[int, str]], *, actor: str, now: datetime
) -> None:
    await conn.execute(insert(counters), [{"hall_id": hall_id, "number": n, "name": name} for n, name in numbered])
    await append_events(
        conn, hall_id, [Fact("counter.created", {"counter": n, "name": name}) for n, name in numbered], actor, now
    )


async def hall_tree(conn: AsyncConnection) -> dict[int, int | None]:
    """Each hall's parent, for checking that a person of a district may see its streets."""
    rows = await conn.execute(select(halls.c.id, halls.c.parent_id))
    return {row.id: row.parent_id for row in rows}


async def hall_summary(conn: AsyncConnection, hall_id: int) -> dict[str, Any]:
    """A hall as the live views name it: id, names and level (``missing`` for an unknown id)."""
    row = (await conn.execute(select(halls).where(halls.c.id == hall_id))).one_or_none()
    if row is None:
        return {"id": hall_id, "missing": True}
    return {"id": row.id, "name": row.name, "name_en": row.name_en, "level": row.level}
