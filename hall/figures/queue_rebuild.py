"""Rebuilding a hall's figures from its event log (``hall figures rebuild``): for events logged
before the figures were kept (0010) or before a count was added to them (0013), the figures,
and their two rollups, are recounted (``queueing.recount``) and written day by day.

Each local day is written in its own transaction that replaces that day's rows: running it again
gives the same rows (idempotent), and a run stopped midway is resumed with ``after``, the last
sequence number it reported: the events are read again from the start (the waits and free spans
under way at a day's start come from the days before), but only the days after it are written.
Days from ``until`` on are left alone: today's rows are the writer's, kept live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.kernel.zones import zone
from hall.storage.database import reading
from hall.storage.log_scan import scan_log
from hall.storage.queue_tables import queue_figures, queue_figures_daily, queue_figures_hourly, queue_services
from hall.storage.tables import events
from queueing.figure_store import keep_figures
from queueing.figures import Tally, merged
from queueing.recount import SETS_TARGET, Recount, targets_before


@dataclass(frozen=True)
class Rebuilt:
    """One day written: its events' last sequence number and the figure rows it holds."""

    day: date
    last_seq: int
    rows: int


async def rebuild(
    engine: AsyncEngine,
    hall_id: int,
    timezone: str,
    *,
    until: date,
    after: int = 0,
    told: Callable[[Rebuilt], None] = lambda _: None,
) -> list[Rebuilt]:
    """Recount the hall's figures from its events and write every local day before ``until``
    whose events run past sequence ``after``; ``told`` hears of each day written."""
    async with reading(engine) as conn:
        current = {
            row.code: row.target_wait_minutes
            for row in await conn.execute(select(queue_services).where(queue_services.c.hall_id == hall_id))
        }
        settings = await conn.execute(
            select(events.c.type, events.c.data)
            .where(events.c.hall_id == hall_id, events.c.type.in_(SETS_TARGET))
            .order_by(events.c.seq)
        )
        targets = targets_before(((row.type, row.data) for row in settings), current)
    recount = Recount(timezone, targets)
    local = zone(timezone)
    written: list[Rebuilt] = []
    day: date | None = None
    tallies: list[Tally] = []
    last = 0

    # The log's order is its clock's but for a clock set back (corrected, or moved by hand): a
    # day's events may then come in more than one run of the log. The day's first run replaces
    # its rows and the later ones add to them; a run up to ``after`` was written before.
    seen: set[date] = set()

    async def flush() -> None:
        if day is None or day >= until:
            return
        if last > after:
            done = await _write(engine, hall_id, day, merged(tallies), replace=day not in seen)
            written.append(Rebuilt(day, last, done))
            told(written[-1])
        seen.add(day)

    async for seq, kind, data, at in scan_log(engine, hall_id):
        today = at.astimezone(local).date()
        if today != day:
            await flush()
            day, tallies = today, []
        tallies.extend(recount.feed(kind, data, at))
        last = seq
    await flush()
    return written


async def _write(engine: AsyncEngine, hall_id: int, day: date, tallies: tuple[Tally, ...], *, replace: bool) -> int:
    async with engine.begin() as conn:
        for table in (queue_figures, queue_figures_daily, queue_figures_hourly) if replace else ():
            await conn.execute(delete(table).where(table.c.hall_id == hall_id, table.c.day == day))
        await keep_figures(conn, [(hall_id, tally) for tally in tallies])
    return len(tallies)
