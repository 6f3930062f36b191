"""A sample network of halls for ``hall init`` and ``hall demo``: one district hall with a street
hall and a community hall below it, each with numbered counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hall.directory import create_counters, create_hall
from hall.tables import halls

SAMPLE_HALLS = [
    # code, name, English name, level, parent code, counters
    ("xh", "星河区政务服务中心", "Xinghe District Government Service Center", "district", None, 12),
    ("xh-hp", "和平街道便民服务中心", "Heping Street Service Center", "street", "xh", 4),
    ("xh-hp-ly", "柳荫社区党群服务站", "Liuyin Community Service Station", "community", "xh-hp", 2),
]


async def load_sample(conn: AsyncConnection, now: datetime) -> dict[str, int]:
    """Create the sample halls once; return their ids by code (existing ones are left alone)."""
    existing = {row.code: row.id for row in await conn.execute(select(halls.c.code, halls.c.id))}
    ids = dict(existing)
    for code, name, name_en, level, parent, count in SAMPLE_HALLS:
        if code in ids:
            continue
        hall_id = await create_hall(
            conn,
            code=code,
            name=name,
            name_en=name_en,
            level=level,
            parent_id=ids[parent] if parent else None,
            actor="system:init",
            now=now,
        )
        ids[code] = hall_id
        await create_counters(
            conn, hall_id, [(n, f"{n}号窗口") for n in range(1, count + 1)], actor="system:init", now=now
        )
    return ids
