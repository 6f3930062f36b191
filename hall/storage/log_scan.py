"""A hall's event log read from its start in sequence order, a chunk per query: what the figures'
rebuilds (``hall.figures.queue_rebuild``, ``hall.figures.case_rebuild``) recount. A year of a busy hall is millions of
events, so none is held longer than its chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.storage.database import reading
from hall.storage.tables import events

# Events read per query.
CHUNK = 5000


async def scan_log(
    engine: AsyncEngine, hall_id: int, *, prefix: str | None = None, chunk: int = CHUNK
) -> AsyncIterator[tuple[int, str, dict[str, Any], datetime]]:
    """Each event of the hall's log as (seq, type, data, at), in order; with ``prefix`` only the
    types that start with it (``"case."``)."""
    after = 0
    while True:
        query = select(events.c.seq, events.c.type, events.c.data, events.c.at).where(
            events.c.hall_id == hall_id, events.c.seq > after
        )
        if prefix is not None:
            query = query.where(events.c.type.startswith(prefix, autoescape=True))
        async with reading(engine) as conn:
            rows = list(await conn.execute(query.order_by(events.c.seq).limit(chunk)))
        for row in rows:
            yield row.seq, row.type, row.data, row.at
        if len(rows) < chunk:
            return
        after = rows[-1].seq
