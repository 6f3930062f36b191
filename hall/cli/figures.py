"""``hall figures rebuild``: the statistics figures of the queue and of the cases recounted from
the event log, day by day, resumable."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from hall.kernel.errors import SettingsError
from hall.settings import Settings
from hall.storage.database import create_engine
from hall.storage.migrate import is_current
from hall.storage.tables import halls

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


async def rebuild_figures(settings: Settings, args: argparse.Namespace) -> None:
    """Recount the queue's figures from each hall's event log and the case figures from each
    root hall's, every local day before today (today's are the writer's, kept live); each day
    written is printed with its last sequence number, which ``--after`` takes to resume."""
    from hall.figures.queue_rebuild import Rebuilt, rebuild

    if args.after and not args.hall:
        raise SettingsError("--after resumes one hall's rebuild: name it with --hall")
    engine = create_engine(settings.db_url)
    try:
        if not await is_current(engine):
            raise SettingsError(f"the database {settings.db_url} has no current hall schema; run `hall init` first")
        async with engine.connect() as conn:
            every = list(await conn.execute(select(halls.c.id, halls.c.code, halls.c.parent_id).order_by(halls.c.id)))
        found = [row for row in every if not args.hall or row.code == args.hall]
        if not found:
            raise SettingsError(f"no hall with code {args.hall!r}")
        today = datetime.now(settings.zone).date()
        if args.only != "cases":
            for hall_id, code, _parent in found:

                def told(day: Rebuilt, code: str = code) -> None:
                    print(f"{code} {day.day}: {day.rows} figure rows, events up to seq {day.last_seq}", flush=True)

                done = await rebuild(engine, hall_id, str(settings.zone), until=today, after=args.after, told=told)
                print(f"{code}: {len(done)} days rebuilt")
        if args.only != "queue":
            # Resuming the queue's figures (``--after`` alone) rebuilds the case figures whole:
            # the printed sequence number was the queue's.
            after = args.after if args.only == "cases" else 0
            await _rebuild_case_figures(engine, settings, every, found, until=today, after=after)
    finally:
        await engine.dispose()


async def _rebuild_case_figures(
    engine: AsyncEngine, settings: Settings, every: Sequence[Any], found: Sequence[Any], *, until: date, after: int
) -> None:
    """The case figures of the trees of the ``found`` halls, each rebuilt from its root's log."""
    from cases.deadlines import DEFAULT_HOURS
    from cases.register import root_of
    from hall.figures.case_rebuild import Rebuilt, rebuild

    codes = {row.id: row.code for row in every}
    parents = {row.id: row.parent_id for row in every}
    roots: list[int] = []
    for row in found:
        root = root_of(parents, row.id)
        if root != row.id and len(found) == 1:
            # One hall found that is no root: the one named with --hall; say whose tree is rebuilt.
            print(f"{row.code}: its cases are registered at {codes[root]}; rebuilding the case figures of its tree")
        if root not in roots:
            roots.append(root)
    # The working hours the server decides cases with (hall.runtime): the calendar in the halls' zone.
    hours = replace(DEFAULT_HOURS, tz=settings.zone)
    for root in roots:
        code = codes[root]

        def told(day: Rebuilt, code: str = code) -> None:
            print(f"{code} cases {day.day}: {day.rows} case figure rows, events up to seq {day.last_seq}", flush=True)

        done = await rebuild(engine, root, hours, until=until, after=after, told=told)
        print(f"{code}: {len({day.day for day in done})} days of case figures rebuilt")
