"""Rebuilding a hall tree's case figures from its event log (``hall figures rebuild``): for cases
logged before the figures were kept (0011), or figures that drifted from the log, the figures are
recounted (``cases.recount``) and written day by day, with their two rollups.

A tree's cases are registered at its root hall, whose log holds every case event of the tree, so
a rebuild is of a root hall and writes the rows of every hall in its tree (a step counts where it
was taken: the accepting hall or the deciding office). Each local day is written in its own
transaction that replaces that day's rows of ``case_figures`` and ``case_figures_daily`` (of the
halls its events count at) and sums
that day's month of ``case_figures_monthly`` afresh from ``case_figures``, so the three agree
after every day, and a run stopped midway leaves no month half counted. Running it again gives the
same rows; a stopped run is resumed with ``after``, the last sequence number it reported: the
events are read again from the start (a case's 补正 pauses may lie in the days before), but only
the days after it are written. Days from ``until`` on are left alone: today's rows are the
writer's, kept live.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cases.deadlines import WorkingHours
from cases.figures import Tally, merged
from cases.recount import Recount
from cases.register import root_of
from cases.store import keep_figures
from hall.storage.case_tables import CASE_FIGURE_COUNTS, case_figures, case_figures_daily, case_figures_monthly
from hall.storage.database import reading
from hall.storage.log_scan import scan_log
from hall.storage.tables import halls

_MONTH_KEY = ("hall_id", "month", "item", "department", "stage")


@dataclass(frozen=True)
class Rebuilt:
    """One day written (or one more run of its events, see ``rebuild``): its case events' last
    sequence number and the figure rows they add."""

    day: date
    last_seq: int
    rows: int


async def tree_of(engine: AsyncEngine, root: int) -> list[int]:
    """The halls whose cases are registered at ``root``: itself and every hall below it."""
    async with reading(engine) as conn:
        parents = {row.id: row.parent_id for row in await conn.execute(select(halls.c.id, halls.c.parent_id))}
    return sorted(hall for hall in parents if root_of(parents, hall) == root)


async def rebuild(
    engine: AsyncEngine,
    root: int,
    hours: WorkingHours,
    *,
    until: date,
    after: int = 0,
    told: Callable[[Rebuilt], None] = lambda _: None,
) -> list[Rebuilt]:
    """Recount the case figures of the tree under the root hall ``root`` from its events, with
    the halls' working hours, and write every local day before ``until`` whose events run past
    sequence ``after``; ``told`` hears of each day written."""
    tree = await tree_of(engine, root)
    recount = Recount(hours)
    written: list[Rebuilt] = []
    day: date | None = None
    tallies: list[Tally] = []
    last = 0
    # The log's order is its clock's but for a clock set back (corrected, or moved by hand): a
    # day's events may then come in more than one run of the log. A hall's rows of a day are
    # replaced by the first run that counts there and added to by later ones; a run up to
    # ``after`` was written before. Only the halls the events count at are touched: a hall moved
    # into this tree keeps the rows its earlier cases, logged at its old root, counted.
    replaced: set[tuple[date, int]] = set()

    async def flush() -> None:
        if day is None or day >= until:
            return
        counted = {t.key.hall for t in tallies}
        if last > after:
            fresh = sorted(h for h in counted if (day, h) not in replaced)
            # The month is summed again for the tree's halls and any other the events count at.
            done = await _write(engine, fresh, sorted(counted | set(tree)), day, merged(tallies))
            written.append(Rebuilt(day, last, done))
            told(written[-1])
        replaced.update((day, hall) for hall in counted)

    async for seq, kind, data, at in scan_log(engine, root, prefix="case."):
        # The day the writer keys the event's figures under: the halls' local day.
        today = hours.local(at).date()
        if today != day:
            await flush()
            day, tallies = today, []
        found = recount.feed(kind, data, at)
        if found is not None:
            tallies.append(found)
        last = seq
    await flush()
    return written


async def _write(
    engine: AsyncEngine, fresh: Sequence[int], counted: Sequence[int], day: date, tallies: tuple[Tally, ...]
) -> int:
    async with engine.begin() as conn:
        for table in (case_figures, case_figures_daily):
            await conn.execute(delete(table).where(table.c.hall_id.in_(fresh), table.c.day == day))
        await keep_figures(conn, tallies, monthly=False)
        await _sum_month(conn, counted, day.replace(day=1))
    return len(tallies)


async def _sum_month(conn: AsyncConnection, tree: Sequence[int], month: date) -> None:
    """The month's rollup rows of the tree's halls, summed again from ``case_figures`` (today's
    rows, the writer's, included: they are part of the month)."""
    monthly = case_figures_monthly
    await conn.execute(delete(monthly).where(monthly.c.hall_id.in_(tree), monthly.c.month == month))
    keys = [case_figures.c[name] for name in _MONTH_KEY]
    sums = [func.sum(case_figures.c[name]) for name in CASE_FIGURE_COUNTS]
    summed = select(*keys, *sums).where(case_figures.c.hall_id.in_(tree), case_figures.c.month == month).group_by(*keys)
    await conn.execute(insert(monthly).from_select([*_MONTH_KEY, *CASE_FIGURE_COUNTS], summed))
